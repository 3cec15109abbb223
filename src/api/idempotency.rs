//! The `Idempotency-Key` layer: a POST retried with the same key gets the first answer, byte for byte.
//!
//! The request's fingerprint is SHA-256 over method, path and body. Same key and fingerprint →
//! the stored status and body; another fingerprint → 422 `idempotency_error`; the first request
//! still running → 409. Results are kept 24 hours per company. A 5xx is not stored, so the
//! client may retry the same key after a failure on our side.

use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::extract::Tenant;
use crate::db::idempotency::{self, Claim};
use crate::db::request;
use crate::error::{ApiError, ErrorType};
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";

/// What the authentication found stored under the request's key (read with the company).
#[derive(Clone)]
pub struct Looked {
    pub key: String,
    /// `None`: nothing stored under it.
    pub stored: Option<idempotency::Row>,
}

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
    let (mut parts, body) = req.into_parts();
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
    let in_transaction =
        parts.extensions.get::<MatchedPath>().is_some_and(|p| CLAIMED_IN_TRANSACTION.contains(&p.as_str()));
    if in_transaction {
        // Read with the company by the authentication, when it saw this very key.
        let looked = parts.extensions.remove::<Looked>().filter(|l| l.key == key);
        let found = match looked {
            Some(l) => idempotency::judge(&state.db, &company.id, &key, &fingerprint, l.stored, now).await,
            None => idempotency::existing(&state.db, &company.id, &key, &fingerprint, now).await,
        }
        .map_err(|e| ApiError::from(e).into_response())?;
        match found {
            None => {
                let claim = request::Claim { company_id: company.id.clone(), key, request_hash: fingerprint, now };
                return in_its_transaction(&state, claim, Request::from_parts(parts, Body::from(bytes)), next).await;
            }
            Some(Claim::Acquired) => {}
            Some(other) => return Ok(found_answer(other)),
        }
    } else {
        match idempotency::claim(&state.db, &company.id, &key, &fingerprint, now)
            .await
            .map_err(|e| ApiError::from(e).into_response())?
        {
            Claim::Acquired => {}
            other => return Ok(found_answer(other)),
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

/// Routes whose handler writes only in one transaction, reads nothing after it, and does nothing
/// outside the store: their key (looked up with the API key by `auth`) is written with the answer
/// in that transaction, which commits with it — one commit for the whole POST instead of three
/// (claim, work, answer). Two requests racing with one key both run; the second to commit finds
/// the key taken, rolls back whole and answers as the first. Any statement after the parked
/// commit commits it at once (`db::request::flush`), so nothing reads around its own work.
const CLAIMED_IN_TRANSACTION: &[&str] = &[
    "/api/v1/companies/{company_id}/checkout",
    "/api/v1/checkout-sessions",
    "/api/v1/companies/{company_id}/pricing/preview",
];

/// Run a request whose key nobody holds yet, with its claim armed for its first transaction.
async fn in_its_transaction(
    state: &AppState,
    claim: request::Claim,
    req: Request,
    next: Next,
) -> Result<Response, Response> {
    let (company, key, hash) = (claim.company_id.clone(), claim.key.clone(), claim.request_hash.clone());
    request::arm(claim);
    let response = next.run(req).await;
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX)
        .await
        .map_err(|e| ApiError::internal(format!("reading response body: {e}")).into_response());
    let now = state.clock.now();
    let failed = parts.status.is_server_error();
    match request::outcome() {
        request::Outcome::Parked(parked) => {
            let finish = match &body {
                Ok(b) if !failed => request::Finish::Answer(request::Answer {
                    status: parts.status.as_u16(),
                    body: b.to_vec(),
                    at: now,
                }),
                _ => request::Finish::TakeBack,
            };
            // The handler's own work commits here, with the answer: a failure is a failure of it.
            match parked(finish).await {
                Ok(true) => {}
                // Another request with this key committed first; ours rolled back: answer as it.
                Ok(false) => return Ok(conflicted(state, &company, &key, &hash, now).await),
                Err(e) => return Err(ApiError::from(crate::db::DbError::from(e)).into_response()),
            }
        }
        request::Outcome::Committed => {
            let stored = match &body {
                Ok(b) if !failed => {
                    idempotency::complete(&state.db, &company, &key, parts.status.as_u16(), b, now).await
                }
                _ => idempotency::release(&state.db, &company, &key).await,
            };
            if let Err(e) = stored {
                tracing::error!(error = %e, "storing idempotent response failed");
            }
        }
        request::Outcome::Conflict => return Ok(conflicted(state, &company, &key, &hash, now).await),
        request::Outcome::Unclaimed => {
            if let Ok(b) = &body
                && !failed
            {
                match idempotency::answered(&state.db, &company, &key, &hash, parts.status.as_u16(), b, now).await {
                    Ok(true) => {}
                    Ok(false) => {
                        // Stored by a concurrent request with the same key meanwhile: answer as it.
                        if let Ok(Some(other)) = idempotency::existing(&state.db, &company, &key, &hash, now).await
                            && !matches!(other, Claim::Acquired)
                        {
                            return Ok(found_answer(other));
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "storing idempotent response failed"),
                }
            }
        }
    }
    Ok(Response::from_parts(parts, Body::from(body?)))
}

/// The answer when another request with the same key committed first: its answer (or 409 while
/// it still runs).
async fn conflicted(
    state: &AppState,
    company: &str,
    key: &str,
    hash: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    match idempotency::existing(&state.db, company, key, hash, now).await {
        Ok(Some(Claim::Acquired) | None) => found_answer(Claim::InFlight),
        Ok(Some(other)) => found_answer(other),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The answer for a key that is already in use.
fn found_answer(claim: Claim) -> Response {
    match claim {
        Claim::Replay { status, body } => replay(status, body),
        Claim::Mismatch => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::IdempotencyError,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request. Use a new key for a new request.",
        )
        .with_param("Idempotency-Key")
        .into_response(),
        Claim::InFlight | Claim::Acquired => ApiError::new(
            StatusCode::CONFLICT,
            ErrorType::IdempotencyError,
            "idempotency_key_in_use",
            "A request with this Idempotency-Key is still being processed. Retry in a moment.",
        )
        .with_param("Idempotency-Key")
        .into_response(),
    }
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
