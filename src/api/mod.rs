//! The merchant JSON API under `/api/v1`: bearer auth, idempotency, and one module per resource.

pub mod auth;
pub mod checkout;
pub mod checkout_links;
pub mod checkout_sessions;
pub mod contract_actions;
pub mod contract_response;
pub mod contract_templates;
pub mod contracts;
pub mod coupons;
pub mod customers;
pub mod discounts;
pub mod extract;
pub mod idempotency;
pub mod invoices;
pub mod list;
pub mod onetimes;
pub mod openapi;
pub mod preview;
pub mod preview_links;
pub mod price_spec;
pub mod product_pricings;
pub mod products;
pub mod quote_spec;
pub mod webhook_endpoints;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::error::{ApiError, ErrorType};
use crate::state::AppState;

/// Every `/api/v1` route. Authentication runs first, then the idempotency layer, then the handler.
pub fn router(state: AppState) -> Router<AppState> {
    let company = "/api/v1/companies/{company_id}";
    Router::new()
        .route(&format!("{company}/products"), post(products::create).get(products::list))
        .route(&format!("{company}/products/{{id}}"), get(products::get))
        .route(&format!("{company}/products/{{id}}/archive"), post(products::archive))
        .route(&format!("{company}/product_pricings"), post(product_pricings::create).get(product_pricings::list))
        .route(&format!("{company}/product_pricings/{{id}}"), get(product_pricings::get))
        .route(&format!("{company}/product_pricings/{{id}}/archive"), post(product_pricings::archive))
        .route(&format!("{company}/coupons"), post(coupons::create).get(coupons::list))
        .route(&format!("{company}/coupons/{{id}}"), get(coupons::get))
        .route(&format!("{company}/coupons/{{id}}/archive"), post(coupons::archive))
        .route(&format!("{company}/customers"), post(customers::create).get(customers::list))
        .route(&format!("{company}/customers/{{id}}"), get(customers::get))
        .route(&format!("{company}/customers/{{id}}/archive"), post(customers::archive))
        .route(&format!("{company}/pricing/preview"), post(preview::preview))
        .route(&format!("{company}/checkout"), post(checkout::create).get(checkout::list))
        .route(&format!("{company}/checkout/{{id}}"), get(checkout::get))
        .route(&format!("{company}/checkout/{{id}}/expire"), post(checkout::expire))
        .route(&format!("{company}/checkout/{{id}}/preview_link"), post(preview_links::checkout))
        .route(&format!("{company}/checkout_links"), post(checkout_links::create).get(checkout_links::list))
        .route(&format!("{company}/checkout_links/{{id}}"), get(checkout_links::get).post(checkout_links::update))
        .route(&format!("{company}/checkout_links/{{id}}/disable"), post(checkout_links::disable))
        .route(&format!("{company}/checkout_links/{{id}}/preview_link"), post(preview_links::checkout_link))
        .route(&format!("{company}/contract_templates"), post(contract_templates::create).get(contract_templates::list))
        .route(&format!("{company}/contract_templates/{{id}}"), get(contract_templates::get))
        .route(&format!("{company}/contract_templates/{{id}}/archive"), post(contract_templates::archive))
        .route(&format!("{company}/contracts"), post(contracts::create).get(contract_actions::list))
        .route(&format!("{company}/contracts/{{id}}"), get(contract_actions::get))
        .route(&format!("{company}/contracts/{{id}}/finalize"), post(contract_actions::finalize))
        .route(&format!("{company}/contracts/{{id}}/void"), post(contract_actions::void))
        .route(&format!("{company}/contracts/{{id}}/mark_signed_offline"), post(contract_actions::mark_signed_offline))
        .route(&format!("{company}/contracts/{{id}}/files/{{file_id}}"), get(contract_actions::file))
        .route(
            &format!("{company}/contracts/{{id}}/counter_signatories"),
            post(contract_actions::add_counter_signatories),
        )
        .route(
            &format!("{company}/contracts/{{id}}/counter_signatories/{{signatory_id}}"),
            axum::routing::delete(contract_actions::remove_counter_signatory),
        )
        .route(&format!("{company}/contracts/{{id}}/preview_link"), post(preview_links::contract))
        .route(&format!("{company}/one_times"), post(onetimes::create))
        .route(&format!("{company}/invoices"), get(invoices::list).post(invoices::create))
        .route(&format!("{company}/invoices/{{id}}"), get(invoices::get))
        .route(&format!("{company}/invoices/{{id}}/void"), post(invoices::void))
        .route(&format!("{company}/invoices/{{id}}/mark_paid"), post(invoices::mark_paid))
        .route("/api/v1/checkout-sessions", post(checkout_sessions::create).get(checkout_sessions::list))
        .route("/api/v1/checkout-sessions/{id}", get(checkout_sessions::get))
        .route("/api/v1/checkout-sessions/{id}/cancel", post(checkout_sessions::cancel))
        .merge(webhook_endpoints::routes())
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
