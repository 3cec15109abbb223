//! What every customer page handler starts from — the state, this response's CSP nonce, the
//! visitor's headers (language, cookies) — and `?` for pages, whose failure is already the page
//! to answer (`web::errors` renders it).

use std::collections::HashMap;
use std::convert::Infallible;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::i18n::Locale;
use crate::services::preview_links::PreviewQuery;
use crate::state::AppState;
use crate::web::checkout::view::Merchant;
use crate::web::csrf;
use crate::web::errors::{forbidden, not_found, server_error};
use crate::web::security_headers::CspNonce;

/// A page handler's answer: the page, or the error page that says what went wrong.
pub type PageResult<T = Response> = Result<T, Failed>;

/// A page that failed: the error page to answer instead. Boxed, because a response is large and
/// every `?` on a page path moves it.
pub struct Failed(Box<Response>);

impl From<Response> for Failed {
    fn from(page: Response) -> Self {
        Failed(Box::new(page))
    }
}

impl From<Failed> for Response {
    fn from(failed: Failed) -> Self {
        *failed.0
    }
}

impl IntoResponse for Failed {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// The request around a page: the state, the nonce its inline script and style must carry, and
/// the visitor's headers.
pub struct PageCtx {
    pub state: AppState,
    pub nonce: String,
    pub headers: HeaderMap,
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        // Set by `security_headers::layer` around every page; without it the CSP allows no inline code.
        let nonce = parts.extensions.get::<CspNonce>().map(|n| n.0.clone()).unwrap_or_default();
        Ok(PageCtx { state: state.clone(), nonce, headers: parts.headers.clone() })
    }
}

impl PageCtx {
    /// This browser's CSRF token for the page's form, and the cookie that carries it if new.
    pub fn csrf(&self) -> (String, Option<HeaderValue>) {
        csrf::token(&self.state, &self.headers)
    }

    /// A posted form's fields, refused with the 403 page (in the page's language and colours)
    /// unless its CSRF token belongs to this browser: nothing happens on a forged post.
    pub fn checked_form(
        &self,
        pairs: Vec<(String, String)>,
        locale: Locale,
        merchant: Merchant,
    ) -> PageResult<HashMap<String, String>> {
        let fields: HashMap<String, String> = pairs.into_iter().collect();
        self.check_csrf(fields.get(csrf::FIELD).map(String::as_str), locale, merchant)?;
        Ok(fields)
    }

    /// The 403 page unless `posted` is this browser's CSRF token.
    pub fn check_csrf(&self, posted: Option<&str>, locale: Locale, merchant: Merchant) -> PageResult<()> {
        if csrf::verify(&self.state, &self.headers, posted) { Ok(()) } else { Err(forbidden(locale, merchant).into()) }
    }
}

/// A signed preview of a page (`/preview/{kind}/{id}?expires=…&signature=…`): anything but a
/// valid, unexpired signature for this id is the 404 page, so previews reveal nothing unsigned.
pub struct Preview {
    pub page: PageCtx,
    pub id: String,
}

impl FromRequestParts<AppState> for Preview {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Ok(page) = PageCtx::from_request_parts(parts, state).await;
        let Path(id) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| not_found())?;
        let Query(query) = Query::<PreviewQuery>::from_request_parts(parts, state).await.map_err(|_| not_found())?;
        if !query.holds_for(state, &id) {
            return Err(not_found());
        }
        Ok(Preview { page, id })
    }
}

/// `.found()?` on a lookup: no row is the 404 page, a failed query the 500 page.
pub trait Found<T> {
    fn found(self) -> PageResult<T>;
}

impl<T, E: std::fmt::Display> Found<T> for Result<Option<T>, E> {
    fn found(self) -> PageResult<T> {
        self.map_err(server_error)?.ok_or_else(|| not_found().into())
    }
}

/// A page token is 32 hex digits (`domain::ids::token`); anything else names nothing and is not
/// worth a query.
pub fn well_formed(token: &str) -> PageResult<()> {
    if token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()) { Ok(()) } else { Err(not_found().into()) }
}

/// A preview is for the sales rep who holds the link: never cached, never indexed.
pub fn as_preview(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}

/// `response` with the CSRF cookie `cookie` (when the browser has none yet). Pages carry
/// per-customer data and a CSRF token: never cached.
pub fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
