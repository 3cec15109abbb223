//! The background sweeper every instance runs: expiry of sessions and contracts, the limiter's
//! old counters, and the reconciler. Each pass is safe to run on several instances at once.

use std::time::Duration;

use crate::state::AppState;

/// Every `every`, expire the sessions and contracts whose time ran out (so `checkout.expired`
/// goes out even if nobody opens them again), drop old limiter counters and reconcile payments.
/// Several instances may sweep at once: every step is a compare-and-set.
pub fn spawn_sweeper(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            crate::services::expiry::sweep(&state).await;
            crate::services::contracts::sweep(&state).await;
            crate::services::attempts::sweep(&state).await;
            crate::services::reconcile::sweep(&state).await;
        }
    })
}
