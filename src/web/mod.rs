//! Customer-facing pages and static assets; template structs live beside their handlers.

pub mod checkout;
pub mod client;
pub mod context;
pub mod contract;
pub mod csrf;
pub mod errors;
pub mod invoice;
pub mod payment;
pub mod security_headers;
#[cfg(feature = "stripe")]
pub mod stripe_webhook;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// The stylesheet is compiled into the binary, so `kasse` runs from any directory.
const APP_CSS: &str = include_str!("../../static/app.css");
/// Progressive enhancement only: every page works without it.
const APP_JS: &str = include_str!("../../static/app.js");
/// Mounts Stripe's Payment Element on the payment step (Stripe pages only).
const ELEMENT_JS: &str = include_str!("../../static/element.js");

pub fn router() -> Router<AppState> {
    let router = Router::new()
        .route("/", get(home))
        .route("/static/app.css", get(app_css))
        .route("/static/app.js", get(app_js))
        .route("/static/element.js", get(element_js))
        .merge(checkout::router())
        .merge(contract::router())
        .merge(invoice::router());
    #[cfg(feature = "stripe")]
    let router = router.merge(stripe_webhook::router());
    router
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage;

/// `GET /`: what Kasse is and where its API is described.
async fn home() -> HomePage {
    HomePage
}

async fn app_css() -> Response {
    let mut response = APP_CSS.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}

async fn app_js() -> Response {
    script(APP_JS)
}

async fn element_js() -> Response {
    script(ELEMENT_JS)
}

fn script(source: &'static str) -> Response {
    let mut response = source.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}
