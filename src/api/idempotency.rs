//! The `Idempotency-Key` layer: a POST retried with the same key gets the first answer, byte for byte.
//!
//! The request's fingerprint is SHA-256 over method, path and body. Same key and fingerprint →
//! the stored status and body; another fingerprint → 422 `idempotency_error`; the first request
//! still running → 409. Results are kept 24 hours per company. A 5xx is not stored, so the
//! client may retry the same key after a failure on our side.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::extract::Tenant;
use crate::db::idempotency::{self, Claim};
use crate::error::{ApiError, ErrorType};
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    match run(state, key.clone(), req, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn run(state: AppState, key: HeaderValue, req: Request, next: Next) -> Result<Response, Response> {
    // Visible ASCII only (0x21–0x7E): a space or TAB would make two keys look alike in logs.
    let visible = |k: &&str| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic());
    let key = key.to_str().ok().filter(visible).map(str::to_string).ok_or_else(|| {
        ApiError::bad_request("idempotency_key_invalid", "`Idempotency-Key` must be 1 to 255 visible ASCII characters.")
            .with_param("Idempotency-Key")
            .into_response()
    })?;
    let Some(Tenant(company)) = req.extensions().get::<Tenant>().cloned() else {
        return Err(ApiError::internal("idempotency layer ran before authentication").into_response());
    };
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, state.body_limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorType::InvalidRequestError,
            "body_too_large",
            "The request body is too large.",
        )
        .into_response()
    })?;
    let fingerprint = fingerprint(parts.method.as_str(), parts.uri.path(), &bytes);

    let now = state.clock.now();
    let claim = idempotency::claim(&state.db, &company.id, &key, &fingerprint, now)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    match claim {
        Claim::Acquired => {}
        Claim::Replay { status, body } => return Ok(replay(status, body)),
        Claim::Mismatch => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorType::IdempotencyError,
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different request. Use a new key for a new request.",
            )
            .with_param("Idempotency-Key")
            .into_response());
        }
        Claim::InFlight => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorType::IdempotencyError,
                "idempotency_key_in_use",
                "A request with this Idempotency-Key is still being processed. Retry in a moment.",
            )
            .with_param("Idempotency-Key")
            .into_response());
        }
    }

    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let (parts, body) = response.into_parts();
    let body = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            let _ = idempotency::release(&state.db, &company.id, &key).await;
            return Err(ApiError::internal(format!("reading response body: {e}")).into_response());
        }
    };
    let stored = if parts.status.is_server_error() {
        idempotency::release(&state.db, &company.id, &key).await
    } else {
        idempotency::complete(&state.db, &company.id, &key, parts.status.as_u16(), &body, state.clock.now()).await
    };
    if let Err(e) = stored {
        // The work is done; only the record of it failed. Say so in the log, answer the client.
        tracing::error!(error = %e, "storing idempotent response failed");
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

/// What makes two requests "the same": method, path and body bytes.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

fn replay(status: u16, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
