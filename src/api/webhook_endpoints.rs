//! `…/webhook_endpoints`: where a company receives signed event notifications; create, get, list, disable.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{ApiJson, ApiQuery, CompanyCtx, ListQuery};
use super::list::List;
use crate::db::{self, webhooks::Endpoint};
use crate::domain::ids::{self, prefix};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::services::outbox::EVENT_TYPES;
use crate::services::validate;
use crate::state::AppState;

/// Longest endpoint URL accepted.
pub const URL_MAX: usize = 2000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpoint {
    /// Where events are POSTed: an `http://` or `https://` URL of at most 2000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub url: String,
    /// The event types to send here (`checkout.completed`, `invoice.paid`, …); absent or empty
    /// means every type, including types added later.
    #[schema(value_type = Option<Vec<super::extract::EventTypeName>>, inline)]
    pub event_types: Option<Vec<String>>,
    /// Your own note on what this endpoint is for.
    #[schema(max_length = 5000)]
    pub description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointResponse {
    pub id: String,
    pub url: String,
    /// The event types sent here; empty means every type.
    pub event_types: Vec<String>,
    pub description: Option<String>,
    /// Disabled endpoints receive nothing, not even deliveries queued before they were disabled.
    pub enabled: bool,
    /// The signing secret (`whsec_` + 64 hex characters). Present only in the response that
    /// creates the endpoint: store it then; it is never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookEndpointResponse {
    /// The endpoint as every response but the creating one shows it: without its secret.
    fn public(e: Endpoint) -> Self {
        WebhookEndpointResponse {
            id: e.id,
            url: e.url,
            event_types: e.event_types,
            description: e.description,
            enabled: e.enabled,
            secret: None,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/webhook_endpoints", tag = "webhooks",
    params(("company_id" = String, Path)), request_body = CreateWebhookEndpoint,
    responses((status = 200, description = "The endpoint, with its signing secret (shown only here)",
        body = WebhookEndpointResponse), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiJson(body): ApiJson<CreateWebhookEndpoint>,
) -> ApiResult<Json<WebhookEndpointResponse>> {
    let now = state.clock.now();
    let endpoint = Endpoint {
        id: ids::new_id(prefix::WEBHOOK_ENDPOINT, now),
        company_id: ctx.id().to_string(),
        url: endpoint_url(&body.url)?,
        event_types: event_types(body.event_types.as_deref().unwrap_or_default())?,
        secret: new_secret(),
        description: validate::opt_text("description", body.description.as_deref(), validate::TEXT_MAX)?,
        enabled: true,
        created_at: now,
        updated_at: now,
    };
    db::webhooks::insert_endpoint(&state.db, &endpoint).await?;
    let secret = endpoint.secret.clone();
    Ok(Json(WebhookEndpointResponse { secret: Some(secret), ..WebhookEndpointResponse::public(endpoint) }))
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/webhook_endpoints/{id}", tag = "webhooks",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = WebhookEndpointResponse), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<WebhookEndpointResponse>> {
    let endpoint = db::webhooks::get_endpoint(&state.db, ctx.id(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook endpoint", &id))?;
    Ok(Json(WebhookEndpointResponse::public(endpoint)))
}

/// Enabled and disabled endpoints alike, newest first (`include_archived` has no effect here).
#[utoipa::path(get, path = "/api/v1/companies/{company_id}/webhook_endpoints", tag = "webhooks",
    params(("company_id" = String, Path), ListQuery),
    responses((status = 200, body = List<WebhookEndpointResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<List<WebhookEndpointResponse>>> {
    let page = query.page()?;
    let rows = db::webhooks::list_endpoints(&state.db, ctx.id(), &page).await?;
    Ok(Json(List::from_rows(rows, &page, |e| &e.id, |e| Ok(WebhookEndpointResponse::public(e)))?))
}

/// Stop sending events to an endpoint, including deliveries already queued for it. Disabling
/// again answers the endpoint unchanged.
#[utoipa::path(post, path = "/api/v1/companies/{company_id}/webhook_endpoints/{id}/disable", tag = "webhooks",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = WebhookEndpointResponse), (status = 404, body = ErrorBody)))]
pub async fn disable(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<WebhookEndpointResponse>> {
    let endpoint = db::webhooks::disable_endpoint(&state.db, ctx.id(), &id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("webhook endpoint", &id))?;
    Ok(Json(WebhookEndpointResponse::public(endpoint)))
}

/// An absolute `http://` or `https://` URL with a host, at most [`URL_MAX`] characters, stored as given.
fn endpoint_url(value: &str) -> ApiResult<String> {
    let value = value.trim();
    let bad =
        || ApiError::invalid("url", "`url` must be an http:// or https:// URL such as https://example.com/hooks.");
    if value.is_empty() {
        return Err(ApiError::invalid("url", "`url` must not be empty."));
    }
    if value.chars().count() > URL_MAX {
        return Err(ApiError::invalid("url", format!("`url` must be at most {URL_MAX} characters.")));
    }
    // The URL parser would quietly percent-encode or drop these; a URL holding them is a mistake.
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let parsed = reqwest::Url::parse(value).map_err(|_| bad())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    Ok(value.to_string())
}

/// Known event types, each once, in the order given.
fn event_types(values: &[String]) -> ApiResult<Vec<String>> {
    validate::list_len("event_types", values)?;
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        if !EVENT_TYPES.contains(&value.as_str()) {
            return Err(ApiError::invalid(
                format!("event_types[{i}]"),
                format!("`event_types[{i}]` must be one of: {}.", EVENT_TYPES.join(", ")),
            ));
        }
        if !out.contains(value) {
            out.push(value.clone());
        }
    }
    Ok(out)
}

/// A new signing secret: `whsec_` and 256 random bits as 64 hex characters.
pub fn new_secret() -> String {
    format!("whsec_{}{}", ids::token(), ids::token())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_or_https_with_a_host() {
        assert_eq!(endpoint_url(" https://example.com/hooks ").unwrap(), "https://example.com/hooks");
        assert!(endpoint_url("http://127.0.0.1:8080/x?y=1").is_ok());
        for bad in ["", "ftp://example.com", "javascript:alert(1)", "example.com/hooks", "https://", "http://a b"] {
            assert_eq!(endpoint_url(bad).unwrap_err().param.as_deref(), Some("url"), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(URL_MAX));
        assert!(endpoint_url(&long).is_err());
    }

    #[test]
    fn event_types_are_checked_and_deduplicated() {
        let given = ["invoice.paid".to_string(), "checkout.completed".to_string(), "invoice.paid".to_string()];
        assert_eq!(event_types(&given).unwrap(), ["invoice.paid", "checkout.completed"]);
        let unknown = ["invoice.paid".to_string(), "invoice.exploded".to_string()];
        assert_eq!(event_types(&unknown).unwrap_err().param.as_deref(), Some("event_types[1]"));
    }

    #[test]
    fn secrets_are_whsec_and_64_hex() {
        let s = new_secret();
        let hex = s.strip_prefix("whsec_").unwrap();
        assert_eq!(hex.len(), 64);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(s, new_secret());
    }
}
