//! How many SQL statements and transactions the current request sent: counted where every
//! statement passes (`on_db!`, `on_tx!`, `Db::begin`), so tests and the benchmark read the real
//! numbers instead of estimates.
//!
//! A statement is one query we send (`BEGIN` and `COMMIT` are not counted as statements: they
//! are counted once per transaction instead). The counts live in a task-local that `app.rs`
//! opens around each request; outside one (background workers, the CLI) counting does nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// What one request sent to the store.
#[derive(Debug, Default)]
pub struct Tally {
    statements: AtomicU32,
    transactions: AtomicU32,
}

impl Tally {
    pub fn statements(&self) -> u32 {
        self.statements.load(Ordering::Relaxed)
    }
    pub fn transactions(&self) -> u32 {
        self.transactions.load(Ordering::Relaxed)
    }
}

tokio::task_local! {
    static TALLY: Arc<Tally>;
}

/// One statement sent to the store.
pub fn count() {
    let _ = TALLY.try_with(|t| t.statements.fetch_add(1, Ordering::Relaxed));
}

/// One transaction begun.
pub fn count_transaction() {
    let _ = TALLY.try_with(|t| t.transactions.fetch_add(1, Ordering::Relaxed));
}

/// Run `fut`, counting what it sends into `tally`.
pub async fn counted<F: std::future::Future>(tally: Arc<Tally>, fut: F) -> F::Output {
    TALLY.scope(tally, fut).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn statements_are_counted_inside_a_scope_and_ignored_outside() {
        count();
        let tally = Arc::new(Tally::default());
        counted(tally.clone(), async {
            count();
            count_transaction();
            count();
        })
        .await;
        assert_eq!((tally.statements(), tally.transactions()), (2, 1));
    }
}
