//! A small fixed-window rate limiter for promo-code attempts, per session and per client address.
//!
//! It lives in each process: with several instances a client gets each instance's allowance,
//! which still bounds guessing to a few dozen tries per window.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

pub struct RateLimiter {
    window: Duration,
    max: u32,
    hits: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
}

impl RateLimiter {
    pub fn new(window: Duration, max: u32) -> RateLimiter {
        RateLimiter { window, max, hits: Mutex::new(HashMap::new()) }
    }

    /// Count one attempt for `key`; false when the key has used up its window.
    pub fn allow(&self, key: &str, now: DateTime<Utc>) -> bool {
        // A poisoned map still holds valid counts.
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        if hits.len() > 100_000 {
            hits.retain(|_, (start, _)| now - *start < self.window);
        }
        let entry = hits.entry(key.to_string()).or_insert((now, 0));
        if now - entry.0 >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_max_attempts_per_window_then_a_fresh_window() {
        let limiter = RateLimiter::new(Duration::minutes(10), 3);
        let t0 = Utc::now();
        assert!((0..3).all(|_| limiter.allow("s", t0)));
        assert!(!limiter.allow("s", t0));
        assert!(limiter.allow("other", t0));
        assert!(limiter.allow("s", t0 + Duration::minutes(11)));
    }
}
