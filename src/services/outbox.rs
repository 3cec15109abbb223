//! Background delivery of signed merchant webhooks from the `webhook_deliveries` queue, with retries.
//!
//! Every `outbox_poll` the worker claims due deliveries ([`db::webhooks::claim_due`], safe with
//! several Kasse processes on one PostgreSQL), POSTs each stored event payload, byte for byte, to
//! its endpoint with these headers:
//!
//! - `Content-Type: application/json`
//! - `Kasse-Event-Id: evt_…` (the same on every attempt; receivers deduplicate on it)
//! - `Kasse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (see [`sign`])
//!
//! # Retry schedule
//!
//! A 2xx answer delivers. Anything else — another status, a network error, no answer within
//! the HTTP client's 10 s timeout — is a failed attempt. After the attempt numbered `n`
//! (counting from 1) fails, the next one is due `30 s × 2^(n-1)` later, capped at 6 hours:
//! 30 s, 1 min, 2 min, 4 min, 8 min, 16 min, 32 min, ~1 h 4 min, ~2 h 8 min, ~4 h 16 min, then
//! every 6 h. A delivery whose attempt fails when 3 days or more have passed since its event
//! was created is given up (status FAILED) and never attempted again, so an endpoint gets
//! retries for at least 3 days — about 20 attempts in all.
//!
//! Deliveries live in the database, so they survive restarts; a delivery claimed by a process
//! that died is attempted again once its claim ([`LEASE`]) runs out. Delivery is therefore
//! at least once: a receiver may see an event twice, never zero times while it keeps answering
//! within those 3 days.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::task::{JoinHandle, JoinSet};

use crate::db::webhooks::{Attempted, Due, Next};
use crate::db::{self, DbResult};
use crate::state::AppState;

/// Every event type Kasse emits; endpoints may subscribe to any subset.
pub const EVENT_TYPES: &[&str] = &[
    "checkout.completed",
    "checkout.expired",
    "invoice.created",
    "invoice.paid",
    "invoice.voided",
    "payment.failed",
    "payment.refunded",
    "payment.requires_refund",
    "contract.sent",
    "contract.viewed",
    "contract.signed",
    "contract.declined",
    "contract.completed",
    "contract.voided",
    "contract.expired",
];

/// How long a claimed delivery stays ours. Longer than the HTTP timeout (10 s) plus the time to
/// record the outcome, so a live worker never loses a claim mid-attempt.
pub const LEASE: Duration = Duration::seconds(60);
/// Deliveries claimed per round; a full round is followed at once by another.
pub const BATCH: i64 = 64;
/// The wait after the first failed attempt; it doubles with each further one.
pub const FIRST_RETRY: Duration = Duration::seconds(30);
/// The longest wait between two attempts.
pub const MAX_RETRY: Duration = Duration::hours(6);
/// How long after its event a delivery is still retried.
pub const GIVE_UP_AFTER: Duration = Duration::days(3);
/// How far a signature's timestamp may be from the receiver's clock in [`verify`]'s reference use.
pub const DEFAULT_TOLERANCE: Duration = Duration::minutes(5);

type HmacSha256 = Hmac<Sha256>;

/// Start the worker: it runs until aborted (see [`AbortOnDrop`]).
pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.outbox_poll);
        // After a slow round, wait a full interval rather than firing the missed ticks at once.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            loop {
                match run_once(&state).await {
                    // A full batch suggests more are due: go on without waiting.
                    Ok(n) if n >= BATCH as usize => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming webhook deliveries failed");
                        break;
                    }
                }
            }
        }
    })
}

/// A task handle that aborts its task when dropped, so a worker ends with whatever owns it.
pub struct AbortOnDrop(pub JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Claim what is due now (one statement), attempt each delivery concurrently (at most [`BATCH`]
/// at once), and record the round's outcomes in one transaction; returns how many were attempted.
pub async fn run_once(state: &AppState) -> DbResult<usize> {
    let due = db::webhooks::claim_due(&state.db, state.clock.now(), BATCH, LEASE).await?;
    let count = due.len();
    // Dropping the set (when the worker is aborted) aborts the attempts in flight; their claims
    // expire and the deliveries are attempted again.
    let mut attempts = JoinSet::new();
    for delivery in due {
        let state = state.clone();
        attempts.spawn(async move { attempt(&state, delivery).await });
    }
    let mut outcomes = Vec::with_capacity(count);
    while let Some(result) = attempts.join_next().await {
        match result {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => tracing::warn!(error = %e, "a webhook delivery task ended abnormally"),
        }
    }
    if let Err(e) = db::webhooks::record(&state.db, &outcomes).await {
        // The claims run out and the deliveries are attempted again: at least once still holds.
        tracing::warn!(error = %e, "recording webhook deliveries failed");
    }
    Ok(count)
}

/// Send one delivery; what happened, to record.
async fn attempt(state: &AppState, due: Due) -> (String, Attempted, DateTime<Utc>) {
    let sent_at = state.clock.now();
    let signature = sign(&due.secret, sent_at.timestamp(), due.payload.as_bytes());
    let result = state
        .http
        .post(&due.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Kasse-Event-Id", &due.event_id)
        .header("Kasse-Signature", signature)
        .body(due.payload.clone())
        .send()
        .await;
    let now = state.clock.now();
    let (http_status, error) = match result {
        Ok(response) if response.status().is_success() => {
            tracing::info!(delivery = %due.id, event = %due.event_id, status = response.status().as_u16(), "webhook delivered");
            return (due.id, Attempted::Delivered { http_status: response.status().as_u16() }, now);
        }
        Ok(response) => (Some(response.status().as_u16()), format!("endpoint answered HTTP {}", response.status())),
        // Without the URL: it belongs to the merchant and may carry credentials.
        Err(e) => (None, e.without_url().to_string()),
    };
    let next = after_failure(due.attempts + 1, due.event_created_at, now);
    tracing::info!(delivery = %due.id, event = %due.event_id, attempts = due.attempts + 1, ?next, %error,
        "webhook delivery failed");
    (due.id, Attempted::Failed { http_status, error, next }, now)
}

/// The wait after `attempts` failed attempts (1 or more): 30 s doubling, capped at 6 h.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0);
    // 2^10 × 30 s already exceeds the cap; stop doubling before the arithmetic could overflow.
    if doublings >= 10 {
        return MAX_RETRY;
    }
    (FIRST_RETRY * 2i32.pow(doublings)).min(MAX_RETRY)
}

/// What follows the failure of attempt number `attempts` at `now`, for an event created at `created`.
pub fn after_failure(attempts: i32, created: DateTime<Utc>, now: DateTime<Utc>) -> Next {
    if now >= created + GIVE_UP_AFTER { Next::Dead } else { Next::RetryAt(now + backoff(attempts)) }
}

/// The `Kasse-Signature` header value for `body` sent at `timestamp` (unix seconds):
/// `t=<timestamp>,v1=<hex HMAC-SHA256 keyed with the whole secret string, over "<t>.<body>">`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mac = signed_content_mac(secret, timestamp, body);
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn signed_content_mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail; the fallback keeps it total.
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| HmacSha256::new(&Default::default()));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Check a `Kasse-Signature` header against `body` as a receiver should: the timestamp is within
/// `tolerance` of `now` (which stops replays of old deliveries), and some `v1` signature equals the
/// HMAC of `"<t>.<body>"`, compared in constant time. Unknown schemes (`v0=…`) are ignored.
pub fn verify(secret: &str, header: &str, body: &[u8], now: DateTime<Utc>, tolerance: Duration) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.push(value),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else { return false };
    if (now.timestamp() - timestamp).abs() > tolerance.num_seconds() {
        return false;
    }
    let expected = signed_content_mac(secret, timestamp, body);
    signatures.iter().filter_map(|s| hex::decode(s).ok()).any(|sig| expected.clone().verify_slice(&sig).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn backoff_doubles_from_thirty_seconds_and_caps_at_six_hours() {
        let secs: Vec<i64> = (1..=12).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600]);
        assert_eq!(backoff(i32::MAX), MAX_RETRY);
        assert_eq!(backoff(0), FIRST_RETRY);
    }

    #[test]
    fn failures_are_retried_for_three_days_then_given_up() {
        let created = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let soon = created + Duration::seconds(1);
        assert_eq!(after_failure(1, created, soon), Next::RetryAt(soon + Duration::seconds(30)));
        let almost = created + GIVE_UP_AFTER - Duration::seconds(1);
        assert_eq!(after_failure(20, created, almost), Next::RetryAt(almost + MAX_RETRY));
        assert_eq!(after_failure(21, created, created + GIVE_UP_AFTER), Next::Dead);
    }

    #[test]
    fn the_schedule_makes_about_twenty_attempts_over_three_days() {
        let created = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let mut now = created;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match after_failure(attempts, created, now) {
                Next::RetryAt(at) => now = at,
                Next::Dead => break,
            }
        }
        assert!(now >= created + GIVE_UP_AFTER);
        assert!(now < created + GIVE_UP_AFTER + MAX_RETRY);
        assert!((18..=24).contains(&attempts), "{attempts} attempts");
    }

    #[test]
    fn a_signature_verifies_with_its_secret_only_and_within_the_tolerance() {
        let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let header = sign("whsec_abc", now.timestamp(), body);
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(header.len(), "t=1700000000,v1=".len() + 64);
        assert!(verify("whsec_abc", &header, body, now, DEFAULT_TOLERANCE));
        assert!(verify("whsec_abc", &header, body, now + Duration::minutes(5), DEFAULT_TOLERANCE));
        assert!(!verify("whsec_abc", &header, body, now + Duration::minutes(6), DEFAULT_TOLERANCE));
        assert!(!verify("whsec_abd", &header, body, now, DEFAULT_TOLERANCE));
        assert!(!verify("whsec_abc", &header, b"{}", now, DEFAULT_TOLERANCE));
        assert!(!verify("whsec_abc", "v1=00", body, now, DEFAULT_TOLERANCE));
        assert!(!verify("whsec_abc", "t=1700000000", body, now, DEFAULT_TOLERANCE));
        // Another signature beside ours (as during a secret rotation) does not get in the way.
        let both = format!("{header},v1=deadbeef,v0=zz");
        assert!(verify("whsec_abc", &both, body, now, DEFAULT_TOLERANCE));
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Computed independently: printf '1.{}' | openssl dgst -sha256 -hmac key
        assert_eq!(sign("key", 1, b"{}"), "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224");
    }
}
