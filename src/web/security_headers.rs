//! Security headers on every response, and the per-response CSP nonce that inline scripts need.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// A fresh nonce for this response's Content-Security-Policy; templates put it on inline `<script>` tags.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

pub async fn layer(State(state): State<crate::state::AppState>, mut req: Request, next: Next) -> Response {
    let nonce = crate::domain::ids::token();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(req).await;
    // A page that mounts a payment provider's element (Stripe) names exactly what it needs.
    let extra = response.extensions().get::<crate::payments::stripe::config::CspSources>().cloned();
    let (script, frame, connect) = match &extra {
        Some(e) => (format!(" {}", e.script), format!("frame-src {}; ", e.frame), format!(" {}", e.connect)),
        None => (String::new(), String::new(), String::new()),
    };
    let headers = response.headers_mut();
    let csp = format!(
        "default-src 'none'; script-src 'self' 'nonce-{nonce}'{script}; style-src 'self' 'nonce-{nonce}'; img-src 'self' data: https:; \
         font-src 'self'; connect-src 'self'{connect}; {frame}form-action 'self' http: https:; base-uri 'none'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    // Served over https (the public URL says so): browsers keep to https for a year.
    if state.secure_cookies {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    // Pages and answers are about one customer or merchant and change as they act: never kept
    // by a browser or proxy unless the handler says otherwise (the static files do).
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
