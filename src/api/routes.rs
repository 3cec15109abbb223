//! Every `/api/v1` route and the layers around them. Each route is declared once: its path and
//! method come from the handler's `#[utoipa::path]`, so the router and the OpenAPI document
//! (`api::openapi`) are made from the same list and cannot disagree.

use axum::Router;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    auth, checkout, checkout_links, checkout_sessions, contract_actions, contract_templates, contracts, coupons,
    customers, idempotency, invoices, onetimes, preview, preview_links, product_pricings, products, webhook_endpoints,
};
use crate::error::{ApiError, ErrorType};
use crate::state::AppState;

/// The routes with their documentation; handlers of one path share a `routes!`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(products::create, products::list))
        .routes(routes!(products::get))
        .routes(routes!(products::archive))
        .routes(routes!(product_pricings::create, product_pricings::list))
        .routes(routes!(product_pricings::get))
        .routes(routes!(product_pricings::archive))
        .routes(routes!(coupons::create, coupons::list))
        .routes(routes!(coupons::get))
        .routes(routes!(coupons::archive))
        .routes(routes!(customers::create, customers::list))
        .routes(routes!(customers::get))
        .routes(routes!(customers::archive))
        .routes(routes!(preview::preview))
        .routes(routes!(checkout::create, checkout::list))
        .routes(routes!(checkout::get))
        .routes(routes!(checkout::expire))
        .routes(routes!(preview_links::checkout))
        .routes(routes!(checkout_links::create, checkout_links::list))
        .routes(routes!(checkout_links::get, checkout_links::update))
        .routes(routes!(checkout_links::disable))
        .routes(routes!(preview_links::checkout_link))
        .routes(routes!(contract_templates::create, contract_templates::list))
        .routes(routes!(contract_templates::get))
        .routes(routes!(contract_templates::archive))
        .routes(routes!(contracts::create, contract_actions::list))
        .routes(routes!(contract_actions::get))
        .routes(routes!(contract_actions::finalize))
        .routes(routes!(contract_actions::void))
        .routes(routes!(contract_actions::mark_signed_offline))
        .routes(routes!(contract_actions::file))
        .routes(routes!(contract_actions::add_counter_signatories))
        .routes(routes!(contract_actions::remove_counter_signatory))
        .routes(routes!(preview_links::contract))
        .routes(routes!(onetimes::create))
        .routes(routes!(invoices::list, invoices::create))
        .routes(routes!(invoices::get))
        .routes(routes!(invoices::void))
        .routes(routes!(invoices::mark_paid))
        .routes(routes!(checkout_sessions::create, checkout_sessions::list))
        .routes(routes!(checkout_sessions::get))
        .routes(routes!(checkout_sessions::cancel))
        .routes(routes!(webhook_endpoints::create, webhook_endpoints::list))
        .routes(routes!(webhook_endpoints::get_one))
        .routes(routes!(webhook_endpoints::disable))
}

/// Every `/api/v1` route (`api::routes`). Authentication runs first, then the idempotency layer, then the handler.
pub fn router(state: AppState) -> Router<AppState> {
    let (router, _) = routes().split_for_parts();
    router
        .layer(from_fn_with_state(state.clone(), idempotency::layer))
        .layer(from_fn_with_state(state, auth::require_api_key))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn(envelope))
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorType::InvalidRequestError,
        "method_not_allowed",
        "This route does not take that HTTP method.",
    )
}

/// Layers outside the handlers (timeout, panic catcher, body limit) answer with empty or
/// plain-text bodies; under `/api` every error is the JSON envelope, so rewrite those.
async fn envelope(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if (!status.is_client_error() && !status.is_server_error()) || is_json {
        return response;
    }
    let (kind, code) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorType::InvalidRequestError, "body_too_large"),
        StatusCode::REQUEST_TIMEOUT => (ErrorType::ApiError, "timeout"),
        s if s.is_server_error() => (ErrorType::ApiError, "internal_error"),
        _ => (ErrorType::InvalidRequestError, "invalid_request"),
    };
    let message = status.canonical_reason().unwrap_or("Error").to_string();
    ApiError::new(status, kind, code, message).into_response()
}
