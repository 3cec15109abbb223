//! The clock every timestamp comes from, so tests can move time instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// Wall-clock time plus an offset that only tests change.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
}

impl Clock {
    /// Now, to the microsecond: PostgreSQL keeps no more, and a value we answer with must
    /// equal the one read back later.
    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now() + Duration::seconds(self.offset_secs.load(Ordering::Relaxed));
        DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
    }

    /// Move this clock (and every clone of it) forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.offset_secs.fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}
