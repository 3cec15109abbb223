//! `POST …/{checkout|checkout_links|contracts}/{id}/preview_link`: a signed, expiring URL to the
//! customer's page in preview mode, for a sales rep. One answer for the three things a rep
//! can preview; the handlers only say which.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::extract::CompanyCtx;
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// How long a preview link stays valid.
#[derive(Debug, Default, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct PreviewLinkRequest {
    /// Hours until the preview link expires: 1 to 720, default 168 (a week).
    #[validate(range(min = 1, max = 720))]
    pub expires_in_hours: Option<i64>,
}

/// A signed, expiring URL to the customer's page in preview mode.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// Read an optional JSON body (a POST without a body is the common case here).
pub fn optional_body<T: serde::de::DeserializeOwned + Default>(bytes: &[u8]) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) { Ok(T::default()) } else { super::extract::parse_json(bytes) }
}

/// What a preview link shows; its name is the URL's `/preview/{kind}/` segment.
#[derive(Clone, Copy, Debug)]
pub enum Previewed {
    Checkout,
    Link,
    Contract,
}

/// A preview-link request as it arrives: the company, the id in the path, the optional body.
pub struct PreviewAsk {
    state: AppState,
    company: CompanyCtx,
    id: String,
    request: PreviewLinkRequest,
}

impl FromRequest<AppState> for PreviewAsk {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let company = CompanyCtx::from_request_parts(&mut parts, state).await?;
        let params = RawPathParams::from_request_parts(&mut parts, state)
            .await
            .map_err(|_| ApiError::internal("preview route without path parameters"))?;
        let id = params.iter().find(|(name, _)| *name == "id").map(|(_, v)| v.to_string()).unwrap_or_default();
        let bytes = axum::body::Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| ApiError::bad_request("body_unreadable", e.body_text()))?;
        let request: PreviewLinkRequest = optional_body(&bytes)?;
        request.validate().map_err(super::extract::invalid_fields)?;
        Ok(PreviewAsk { state: state.clone(), company, id, request })
    }
}

impl PreviewAsk {
    /// The preview URL of the `what` this request names, if the company owns it.
    pub async fn answer(self, what: Previewed) -> ApiResult<Json<PreviewLink>> {
        let (db, company, id) = (&self.state.db, self.company.id(), self.id.as_str());
        let (kind, found) = match what {
            Previewed::Checkout => ("checkout", db::checkouts::get(db, company, id).await?.map(|s| s.id)),
            Previewed::Link => ("link", db::links::get(db, company, id).await?.map(|l| l.id)),
            Previewed::Contract => ("contract", db::contracts::get(db, company, id).await?.map(|c| c.id)),
        };
        let what = if kind == "link" { "checkout link" } else { kind };
        let id = found.ok_or_else(|| ApiError::not_found(what, id))?;
        Ok(Json(link(&self.state, kind, &id, &self.request)))
    }
}

/// A preview URL of `kind` for `id`.
fn link(state: &AppState, kind: &str, id: &str, request: &PreviewLinkRequest) -> PreviewLink {
    let expires_at = state.clock.now() + Duration::hours(request.expires_in_hours.unwrap_or(168));
    let query = crate::services::preview_links::query(&state.secret, id, expires_at);
    PreviewLink { url: format!("{}/preview/{kind}/{id}?{query}", state.public_url), expires_at }
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/checkout/{id}/preview_link", tag = "checkout",
    params(("company_id" = String, Path), ("id" = String, Path)), request_body = Option<PreviewLinkRequest>,
    responses((status = 200, body = PreviewLink), (status = 404, body = ErrorBody)))]
pub async fn checkout(ask: PreviewAsk) -> ApiResult<Json<PreviewLink>> {
    ask.answer(Previewed::Checkout).await
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/checkout_links/{id}/preview_link", tag = "checkout",
    params(("company_id" = String, Path), ("id" = String, Path)), request_body = Option<PreviewLinkRequest>,
    responses((status = 200, body = PreviewLink), (status = 404, body = ErrorBody)))]
pub async fn checkout_link(ask: PreviewAsk) -> ApiResult<Json<PreviewLink>> {
    ask.answer(Previewed::Link).await
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/contracts/{id}/preview_link", tag = "contracts",
    params(("company_id" = String, Path), ("id" = String, Path)), request_body = Option<PreviewLinkRequest>,
    responses((status = 200, body = PreviewLink), (status = 404, body = ErrorBody)))]
pub async fn contract(ask: PreviewAsk) -> ApiResult<Json<PreviewLink>> {
    ask.answer(Previewed::Contract).await
}
