//! Signed, expiring preview links for sales reps: the exact customer page with a banner, where
//! nothing can be submitted and nothing is recorded.
//!
//! A preview URL names the checkout (or link) by id and carries `expires` and an HMAC over
//! both: it never contains the customer's token, so sharing a preview cannot hand anyone the
//! power to pay or change the real session.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn mac(secret: &[u8], id: &str, expires: i64) -> String {
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(secret) else { return String::new() };
    m.update(format!("preview:{id}:{expires}").as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// The query string (`expires=…&signature=…`) of a preview of `id`, valid until `expires`.
pub fn query(secret: &[u8], id: &str, expires: DateTime<Utc>) -> String {
    let at = expires.timestamp();
    format!("expires={at}&signature={}", mac(secret, id, at))
}

/// The query of a preview URL.
#[derive(Debug, serde::Deserialize)]
pub struct PreviewQuery {
    expires: Option<i64>,
    signature: Option<String>,
}

impl PreviewQuery {
    /// Whether this query is a valid, unexpired preview of `id`.
    pub fn holds_for(&self, state: &crate::state::AppState, id: &str) -> bool {
        match (self.expires, self.signature.as_deref()) {
            (Some(expires), Some(sig)) => verify(&state.secret, id, expires, sig, state.clock.now()),
            _ => false,
        }
    }
}

/// Whether `signature` is a preview signature for `id` and `expires` that holds at `now`.
pub fn verify(secret: &[u8], id: &str, expires: i64, signature: &str, now: DateTime<Utc>) -> bool {
    let expected = mac(secret, id, expires);
    expires > now.timestamp()
        && expected.len() == signature.len()
        && expected.bytes().zip(signature.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn parts(q: &str) -> (i64, String) {
        let mut expires = 0;
        let mut sig = String::new();
        for pair in q.split('&') {
            match pair.split_once('=') {
                Some(("expires", v)) => expires = v.parse().unwrap(),
                Some(("signature", v)) => sig = v.to_string(),
                _ => {}
            }
        }
        (expires, sig)
    }

    #[test]
    fn a_preview_signature_holds_for_its_id_until_it_expires() {
        let now = Utc::now();
        let (expires, sig) = parts(&query(b"secret", "chk_1", now + Duration::hours(1)));
        assert!(verify(b"secret", "chk_1", expires, &sig, now));
        assert!(!verify(b"secret", "chk_2", expires, &sig, now));
        assert!(!verify(b"other-secret", "chk_1", expires, &sig, now));
        assert!(!verify(b"secret", "chk_1", expires + 1, &sig, now));
        assert!(!verify(b"secret", "chk_1", expires, &sig, now + Duration::hours(2)));
        assert!(!verify(b"secret", "chk_1", expires, "garbage", now));
    }
}
