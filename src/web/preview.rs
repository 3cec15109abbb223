//! Signed, expiring preview links for sales reps: the exact customer page with a banner, where
//! nothing can be submitted and nothing is recorded.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn mac(secret: &[u8], token: &str, expires: i64) -> String {
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(secret) else { return String::new() };
    m.update(format!("preview:{token}:{expires}").as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// The `preview` query value for `token`, valid until `expires`.
pub fn sign(secret: &[u8], token: &str, expires: DateTime<Utc>) -> String {
    let at = expires.timestamp();
    format!("{at}.{}", mac(secret, token, at))
}

/// Whether `value` is a preview signature for `token` that has not expired at `now`.
pub fn verify(secret: &[u8], token: &str, value: &str, now: DateTime<Utc>) -> bool {
    let Some((at, sig)) = value.split_once('.') else { return false };
    let Ok(at) = at.parse::<i64>() else { return false };
    let expected = mac(secret, token, at);
    at > now.timestamp()
        && expected.len() == sig.len()
        && expected.bytes().zip(sig.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_preview_signature_holds_for_its_token_until_it_expires() {
        let now = Utc::now();
        let sig = sign(b"secret", "tok", now + Duration::hours(1));
        assert!(verify(b"secret", "tok", &sig, now));
        assert!(!verify(b"secret", "other", &sig, now));
        assert!(!verify(b"other-secret", "tok", &sig, now));
        assert!(!verify(b"secret", "tok", &sig, now + Duration::hours(2)));
        assert!(!verify(b"secret", "tok", "garbage", now));
    }
}
