//! Limits on repeated attempts — promo codes tried on a checkout — per checkout and per client
//! address, counted in the database so every instance (and a restart) sees the same counts.
//!
//! The client address is the one behind trusted proxies (`KASSE_TRUSTED_PROXIES`, see
//! `domain::client_addr`); without them a proxy's own address would stand for all its clients.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};

use crate::db;
use crate::services::error::ServiceResult;
use crate::state::AppState;

/// At most `max` attempts per `window` under keys starting with `prefix`.
pub struct Limit {
    prefix: &'static str,
    max: i64,
    window_minutes: i64,
}

/// Promo codes one checkout may try: enough for typos, too few to guess codes.
pub const PROMO_PER_CHECKOUT: Limit = Limit { prefix: "promo:checkout", max: 10, window_minutes: 10 };
/// Promo codes one client address may try over all its checkouts (an office behind one
/// address shares it, so it is larger than a checkout's).
pub const PROMO_PER_ADDRESS: Limit = Limit { prefix: "promo:address", max: 50, window_minutes: 10 };

impl Limit {
    fn window(&self) -> Duration {
        Duration::minutes(self.window_minutes)
    }

    /// Count one attempt for `subject`; the wait until the next is allowed when over the limit.
    async fn hit(&self, state: &AppState, subject: &str, now: DateTime<Utc>) -> ServiceResult<Option<Duration>> {
        let key = format!("{}:{subject}", self.prefix);
        let (hits, start) = db::rate_limits::hit(&state.db, &key, now, self.window()).await?;
        Ok((hits > self.max).then(|| start + self.window() - now))
    }
}

/// Count a promo code tried on checkout `checkout_id` from `client`. `Some(wait)` refuses it:
/// the longest wait of the limits it passed.
pub async fn promo_code(state: &AppState, checkout_id: &str, client: IpAddr) -> ServiceResult<Option<Duration>> {
    let now = state.clock.now();
    let by_checkout = PROMO_PER_CHECKOUT.hit(state, checkout_id, now).await?;
    let by_address = PROMO_PER_ADDRESS.hit(state, &client.to_string(), now).await?;
    Ok(by_checkout.max(by_address))
}

/// Drop the counts of windows long over (called by the sweeper).
pub async fn sweep(state: &AppState) {
    let longest = PROMO_PER_CHECKOUT.window().max(PROMO_PER_ADDRESS.window());
    if let Err(e) = db::rate_limits::forget_before(&state.db, state.clock.now() - longest).await {
        tracing::warn!(error = %e, "forgetting old attempt counts failed");
    }
}

/// Whole minutes to wait, rounded up, at least one: what the customer is told.
pub fn minutes_to_wait(wait: Duration) -> i64 {
    ((wait.num_seconds() + 59) / 60).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_told_in_whole_minutes_rounded_up() {
        assert_eq!(minutes_to_wait(Duration::seconds(600)), 10);
        assert_eq!(minutes_to_wait(Duration::seconds(61)), 2);
        assert_eq!(minutes_to_wait(Duration::seconds(1)), 1);
        assert_eq!(minutes_to_wait(Duration::zero()), 1);
    }
}
