//! The one error page of the customer pages: what went wrong, in the visitor's language, in the
//! merchant's colours where the page knows them, with the request id the customer can quote.
//!
//! Handlers answer a failure with a [`PageError`] (a status and what they know: locale, merchant);
//! the [`layer`] around every route renders it, because only the layer sees the request id and
//! the visitor's `Accept-Language`. It also turns the bare answers of the framework (a form that
//! does not parse, a body too large, a timeout, a caught panic) into the same page, so no
//! customer ever sees a `text/plain` line.

use std::any::Any;

use askama::Template;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorType};
use crate::i18n::{Locale, Texts, texts};
use crate::web::checkout::view::Merchant;
use crate::web::security_headers::CspNonce;

/// A failed page, rendered by [`layer`].
#[derive(Clone)]
pub struct PageError {
    status: StatusCode,
    locale: Option<Locale>,
    merchant: Option<Merchant>,
}

impl PageError {
    pub fn new(status: StatusCode) -> PageError {
        PageError { status, locale: None, merchant: None }
    }

    /// The page in `locale` (the page's own, rather than the browser's), with `merchant`'s colours.
    pub fn of(mut self, locale: Locale, merchant: Merchant) -> PageError {
        self.locale = Some(locale);
        self.merchant = Some(merchant);
        self
    }
}

/// A form posted without this browser's CSRF token: refused before anything happened.
pub fn forbidden(locale: Locale, merchant: Merchant) -> Response {
    // Logged, so a customer quoting the reference can be told why.
    tracing::warn!("form refused: its CSRF token does not belong to this browser");
    PageError::new(StatusCode::FORBIDDEN).of(locale, merchant).into_response()
}

pub fn not_found() -> Response {
    PageError::new(StatusCode::NOT_FOUND).into_response()
}

/// A failure on our side: the cause goes to the log (with the request id of its span), the
/// customer sees the page with that id.
pub fn server_error(cause: impl std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "page failed");
    PageError::new(StatusCode::INTERNAL_SERVER_ERROR).into_response()
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

#[derive(Template)]
#[template(path = "errors/page.html")]
struct ErrorPage {
    t: &'static Texts,
    lang: &'static str,
    nonce: String,
    merchant: Option<Merchant>,
    title: &'static str,
    hint: &'static str,
    request_id: String,
}

/// What the page says for each status.
fn words(t: &'static Texts, status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::FORBIDDEN => (t.forbidden_title, t.session_expired),
        StatusCode::NOT_FOUND => (t.not_found, t.not_found_hint),
        StatusCode::GONE => (t.link_inactive, t.start_again_hint),
        StatusCode::TOO_MANY_REQUESTS => (t.too_many_title, t.too_many_hint),
        s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT => (t.error_title, t.error_hint),
        _ => (t.bad_request_title, t.bad_request_hint),
    }
}

/// Paths whose answers are for programs, not people: they keep their own formats.
fn for_programs(uri: &Uri) -> bool {
    let path = uri.path();
    path.starts_with("/api/") || path.starts_with("/webhooks/") || path == "/healthz" || path == "/readyz"
}

/// A caught panic: marked, so [`layer`] answers it in the format of the path (the cause is logged).
pub fn panicked(cause: Box<dyn Any + Send + 'static>) -> Response {
    let message = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = %message, "request handler panicked");
    PageError::new(StatusCode::INTERNAL_SERVER_ERROR).into_response()
}

/// Renders every failed answer of a page as the error page (see the module comment).
pub async fn layer(req: Request, next: Next) -> Response {
    let programs = for_programs(req.uri());
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
    let accept = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let nonce = req.extensions().get::<CspNonce>().map(|n| n.0.clone()).unwrap_or_default();
    let response = next.run(req).await;
    let marked = response.extensions().get::<PageError>().cloned();
    if programs {
        // Only a panic reaches here marked: answer it in the API's envelope.
        return match marked {
            Some(e) if e.status.is_server_error() => ApiError::new(
                e.status,
                ErrorType::ApiError,
                "internal_error",
                format!("Something went wrong on our side; quote request id {request_id}."),
            )
            .into_response(),
            _ => response,
        };
    }
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let failed = response.status().is_client_error() || response.status().is_server_error();
    let error = match marked {
        Some(e) => e,
        None if failed && !is_html => PageError::new(response.status()),
        None => return response,
    };
    let locale = error.locale.unwrap_or_else(|| Locale::negotiate(None, accept.as_deref()));
    let t = texts(locale);
    let (title, hint) = words(t, error.status);
    let page = ErrorPage { t, lang: locale.code(), nonce, merchant: error.merchant, title, hint, request_id };
    let html = match page.render() {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "the error page did not render");
            format!("{title}. {}: {}", t.error_reference, page.request_id)
        }
    };
    let (mut parts, _) = response.into_parts();
    parts.status = error.status;
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(html))
}

/// Unknown routes: the JSON envelope under `/api`, the error page everywhere else.
pub async fn fallback(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorType::InvalidRequestError,
            "route_not_found",
            format!("No API route {}. See /api/openapi.json for the routes.", uri.path()),
        )
        .into_response()
    } else {
        not_found()
    }
}
