//! Verifying Stripe's webhook signatures (`Stripe-Signature`), before anything of the body is
//! read or stored: only `v1` signatures count, any matching `v1` passes (Stripe signs with the
//! old and the new secret while a secret rolls, and a server may hold several), the timestamp
//! must be within the tolerance of our clock, and every comparison is constant-time.
//!
//! The signed payload is `"{t}.{raw body}"`, HMAC-SHA256 keyed with the endpoint's whole
//! secret string (`whsec_…`), hex-encoded.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far Stripe's timestamp may be from our clock, in seconds (Stripe's own default).
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a webhook was refused; each is a 400 and nothing is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the Stripe-Signature header is missing or unreadable")]
    Malformed,
    #[error("the Stripe-Signature header carries no v1 signature")]
    NoV1,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    #[error("no v1 signature matches a configured webhook secret")]
    Mismatch,
}

/// What the header says: the timestamp and every `v1` signature in it (hex, as sent).
struct Header<'a> {
    timestamp: i64,
    v1: Vec<&'a str>,
}

fn parse(header: &str) -> Result<Header<'_>, Refusal> {
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(Refusal::Malformed)?;
        match key {
            "t" => timestamp = Some(value.parse::<i64>().map_err(|_| Refusal::Malformed)?),
            "v1" => v1.push(value),
            // v0 (a test scheme) and anything newer are ignored, never trusted.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Refusal::Malformed)?;
    if v1.is_empty() {
        return Err(Refusal::NoV1);
    }
    Ok(Header { timestamp, v1 })
}

/// Check `header` against the raw `body` with any of `secrets`, at `now` (Unix seconds).
pub fn verify(header: &str, body: &[u8], secrets: &[&str], now: i64) -> Result<(), Refusal> {
    let header = parse(header)?;
    // `abs_diff`: a timestamp near i64's ends must not overflow.
    if now.abs_diff(header.timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(Refusal::Stale);
    }
    let prefix = format!("{}.", header.timestamp);
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { continue };
        mac.update(prefix.as_bytes());
        mac.update(body);
        for candidate in &header.v1 {
            // A signature that is not hex cannot match; decoding it is not secret-dependent.
            let Ok(bytes) = hex::decode(candidate) else { continue };
            // `verify_slice` compares in constant time.
            if mac.clone().verify_slice(&bytes).is_ok() {
                return Ok(());
            }
        }
    }
    Err(Refusal::Mismatch)
}

/// The `Stripe-Signature` header Stripe would send for `body` at `timestamp` (tests, and the
/// local Stripe double that speaks its protocol).
pub fn sign(body: &[u8], secret: &str, timestamp: i64) -> String {
    let signature = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(format!("{timestamp}.").as_bytes());
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC takes keys of any length; this arm is unreachable in practice.
        Err(_) => String::new(),
    };
    format!("t={timestamp},v1={signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const NOW: i64 = 1_790_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    #[test]
    fn a_signature_made_with_the_secret_passes() {
        let header = sign(BODY, SECRET, NOW);
        assert_eq!(verify(&header, BODY, &[SECRET], NOW), Ok(()));
        assert_eq!(verify(&header, BODY, &[SECRET], NOW + TOLERANCE_SECONDS), Ok(()));
    }

    /// Stripe's published example: the signature is over "t.body" with the whole secret as key.
    #[test]
    fn the_payload_is_the_timestamp_a_dot_and_the_raw_body() {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(b"1790000000.");
        mac.update(BODY);
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(sign(BODY, SECRET, NOW), format!("t=1790000000,v1={expected}"));
    }

    #[test]
    fn a_wrong_secret_a_tampered_body_and_a_stale_timestamp_are_refused() {
        let header = sign(BODY, SECRET, NOW);
        assert_eq!(verify(&header, BODY, &["whsec_other"], NOW), Err(Refusal::Mismatch));
        assert_eq!(
            verify(&header, br#"{"id":"evt_1","type":"charge.refunded"}"#, &[SECRET], NOW),
            Err(Refusal::Mismatch)
        );
        assert_eq!(verify(&header, BODY, &[SECRET], NOW + TOLERANCE_SECONDS + 1), Err(Refusal::Stale));
        assert_eq!(verify(&header, BODY, &[SECRET], NOW - TOLERANCE_SECONDS - 1), Err(Refusal::Stale));
        assert_eq!(verify(&header, BODY, &[], NOW), Err(Refusal::Mismatch));
        assert_eq!(verify(&header, BODY, &[""], NOW), Err(Refusal::Mismatch), "an empty secret verifies nothing");
    }

    #[test]
    fn only_v1_counts_and_any_matching_v1_passes() {
        let good = sign(BODY, SECRET, NOW);
        let signature = good.split("v1=").nth(1).unwrap();
        // A v0 signature alone, even a correct one, is refused.
        assert_eq!(verify(&format!("t={NOW},v0={signature}"), BODY, &[SECRET], NOW), Err(Refusal::NoV1));
        // While a secret rolls, Stripe sends one v1 per secret: the second one matching is enough.
        let old = sign(BODY, "whsec_old", NOW);
        let old_signature = old.split("v1=").nth(1).unwrap();
        let both = format!("t={NOW},v1={old_signature},v1={signature},v0=ignored");
        assert_eq!(verify(&both, BODY, &[SECRET], NOW), Ok(()));
        // And a server holding the old and the new secret accepts either.
        assert_eq!(verify(&old, BODY, &[SECRET, "whsec_old"], NOW), Ok(()));
    }

    #[test]
    fn unreadable_headers_are_refused_not_panicked_on() {
        for header in ["", "t", "t=abc,v1=00", "v1=00", "garbage", "t=1,,v1=00", "t=99999999999999999999,v1=00"] {
            assert_eq!(verify(header, BODY, &[SECRET], NOW), Err(Refusal::Malformed), "{header:?}");
        }
        assert_eq!(verify(&format!("t={NOW},v1=zz"), BODY, &[SECRET], NOW), Err(Refusal::Mismatch));
        assert_eq!(verify(&format!("t={},v1=00", i64::MIN), BODY, &[SECRET], NOW), Err(Refusal::Stale));
        assert_eq!(verify(&format!("t={NOW},v1="), BODY, &[SECRET], NOW), Err(Refusal::Mismatch));
    }
}
