//! CSRF protection for every form: a random cookie per browser, and in each form the HMAC of
//! it under the server secret. A cross-site page can neither read the cookie nor compute the
//! HMAC, so it cannot make a valid POST.

use axum::http::{HeaderMap, HeaderValue, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::state::AppState;

pub const FIELD: &str = "csrf";

/// `__Host-` pins the cookie to our origin, but needs Secure, so plain-http development uses a plain name.
fn cookie_name(state: &AppState) -> &'static str {
    if state.secure_cookies { "__Host-kasse_csrf" } else { "kasse_csrf" }
}

fn mac(state: &AppState, value: &str) -> String {
    // HMAC takes keys of any length; this cannot fail.
    let mut m = match Hmac::<Sha256>::new_from_slice(&state.secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    m.update(b"csrf:");
    m.update(value.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

fn cookie_value<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    let name = cookie_name(state);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == name && v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|(_, v)| v)
}

/// The token for this browser's forms, and the `Set-Cookie` to send when it has no cookie yet.
pub fn token(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(value) = cookie_value(state, headers) {
        return (mac(state, value), None);
    }
    let value = crate::domain::ids::token();
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{}={value}; Path=/; HttpOnly; SameSite=Lax{secure}", cookie_name(state));
    (mac(state, &value), HeaderValue::from_str(&cookie).ok())
}

/// Whether a posted form token belongs to this browser's cookie (compared in constant time).
pub fn verify(state: &AppState, headers: &HeaderMap, posted: Option<&str>) -> bool {
    let (Some(value), Some(posted)) = (cookie_value(state, headers), posted) else { return false };
    let expected = mac(state, value);
    expected.len() == posted.len() && expected.bytes().zip(posted.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}
