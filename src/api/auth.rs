//! Bearer authentication of the merchant API: an API key resolves to exactly one company.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use super::extract::Tenant;
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

/// Reject the request with 401 unless it carries a valid `Authorization: Bearer <key>`;
/// otherwise put the key's company in the request for the handlers.
pub async fn require_api_key(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let header = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some(header) = header else {
        return Err(ApiError::unauthorized("No API key given. Send it as `Authorization: Bearer <key>`."));
    };
    let key = match header.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") && !key.trim().is_empty() => key.trim(),
        _ => return Err(ApiError::unauthorized("The Authorization header must be `Bearer <key>`.")),
    };
    // An idempotent POST reads its key's stored answer with the company: one round trip.
    let idem_key = (req.method() == axum::http::Method::POST)
        .then(|| req.headers().get(super::idempotency::HEADER).and_then(|v| v.to_str().ok()))
        .flatten()
        .map(str::to_string);
    let company = match idem_key {
        Some(idem_key) => {
            let found = db::idempotency::company_and_key(&state.db, key, &idem_key).await?;
            let (company, stored) = found.ok_or_else(|| ApiError::unauthorized("Invalid API key."))?;
            req.extensions_mut().insert(super::idempotency::Looked { key: idem_key, stored });
            company
        }
        None => db::companies::company_for_key(&state.db, key)
            .await?
            .ok_or_else(|| ApiError::unauthorized("Invalid API key."))?,
    };
    req.extensions_mut().insert(Tenant(Arc::new(company)));
    Ok(next.run(req).await)
}
