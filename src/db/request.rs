//! What the store keeps for the request being served: how many statements and transactions it
//! sent (counted where every statement passes: `on_db!`, `on_tx!`, `Db::begin`, so tests and the
//! benchmark read real numbers), and the one commit it may defer — the transaction that carries
//! the request's `Idempotency-Key` claim waits for the response, so the claim, the work and the
//! stored response are one commit.
//!
//! A statement is one query we send (`BEGIN` and `COMMIT` are counted once per transaction
//! instead). The scope is a task-local that `app.rs` opens around each request; outside one
//! (background workers, the CLI) nothing is counted and nothing deferred.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};

/// One request's scope.
#[derive(Default)]
pub struct Scope {
    statements: AtomicU32,
    transactions: AtomicU32,
    deferred: Mutex<Deferred>,
}

impl Scope {
    pub fn statements(&self) -> u32 {
        self.statements.load(Ordering::Relaxed)
    }
    pub fn transactions(&self) -> u32 {
        self.transactions.load(Ordering::Relaxed)
    }
}

/// An `Idempotency-Key` claim to make in the request's first transaction (`db::idempotency`).
#[derive(Clone, Debug)]
pub struct Claim {
    pub company_id: String,
    pub key: String,
    pub request_hash: String,
    pub now: DateTime<Utc>,
}

/// The response to store under a claim.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    pub at: DateTime<Utc>,
}

/// How a parked transaction ends: it always commits (its handler asked for that).
pub enum Finish {
    /// With the answer stored under the claim.
    Answer(Answer),
    /// With the claim taken back: a failure on our side, which the client may retry.
    TakeBack,
    /// With the claim still waiting for its answer (stored later on its own).
    Keep,
}

/// A transaction that carries the claim, committed by its handler, waiting for the answer.
/// It answers false (and rolled back) when another request took the key meanwhile.
pub type Parked = Box<dyn FnOnce(Finish) -> Pin<Box<dyn Future<Output = Result<bool, sqlx::Error>> + Send>> + Send>;

/// Where the request's claim stands.
#[derive(Default)]
struct Deferred {
    /// Armed by the idempotency layer, not yet taken by a transaction.
    claim: Option<Claim>,
    /// The transaction that took the claim, committed by its handler, waiting for the answer.
    parked: Option<Parked>,
    /// The claim was committed without the answer (something ran after the parked commit).
    committed: bool,
    /// The claim's transaction found the key taken by another request.
    conflict: bool,
}

tokio::task_local! {
    static SCOPE: Arc<Scope>;
}

/// Run `fut` inside `scope`.
pub async fn scoped<F: Future>(scope: Arc<Scope>, fut: F) -> F::Output {
    SCOPE.scope(scope, fut).await
}

/// One statement sent to the store.
pub fn count() {
    let _ = SCOPE.try_with(|s| s.statements.fetch_add(1, Ordering::Relaxed));
}

/// One transaction begun.
pub fn count_transaction() {
    let _ = SCOPE.try_with(|s| s.transactions.fetch_add(1, Ordering::Relaxed));
}

fn with_deferred<T>(f: impl FnOnce(&mut Deferred) -> T) -> Option<T> {
    SCOPE.try_with(|s| f(&mut s.deferred.lock().unwrap_or_else(PoisonError::into_inner))).ok()
}

/// The idempotency layer: make `claim` in the request's first transaction.
pub fn arm(claim: Claim) {
    with_deferred(|d| d.claim = Some(claim));
}

/// `Db::begin`: the claim this transaction is to carry, if it is the request's first.
pub fn take_claim() -> Option<Claim> {
    with_deferred(|d| d.claim.take()).flatten()
}

/// `Tx::commit` of the transaction carrying the claim: keep it open for the answer.
pub fn park(parked: Parked) {
    with_deferred(|d| d.parked = Some(parked));
}

/// Before any other statement of the request: a parked transaction is committed first (the claim
/// still without its answer), so nothing ever reads around its own uncommitted work.
pub async fn flush() -> Result<(), sqlx::Error> {
    let Some(parked) = with_deferred(|d| d.parked.take()).flatten() else {
        return Ok(());
    };
    if parked(Finish::Keep).await? {
        with_deferred(|d| d.committed = true);
    } else {
        // Rolled back: what the handler reads next may miss its own work, and its answer
        // gives way to the other request's.
        with_deferred(|d| d.conflict = true);
    }
    Ok(())
}

/// What the idempotency layer finds after the handler.
pub enum Outcome {
    /// The claim's transaction waits for the answer.
    Parked(Parked),
    /// The claim was committed without the answer: store it on its own.
    Committed,
    /// Another request holds the key.
    Conflict,
    /// No claim was ever stored (nothing written, or rolled back).
    Unclaimed,
}

/// After the handler: where its claim ended up.
pub fn outcome() -> Outcome {
    with_deferred(|d| {
        d.claim = None;
        match d.parked.take() {
            Some(p) => Outcome::Parked(p),
            None if d.conflict => Outcome::Conflict,
            None if d.committed => Outcome::Committed,
            None => Outcome::Unclaimed,
        }
    })
    .unwrap_or(Outcome::Unclaimed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn statements_are_counted_inside_a_scope_and_ignored_outside() {
        count();
        let scope = Arc::new(Scope::default());
        scoped(scope.clone(), async {
            count();
            count_transaction();
            count();
        })
        .await;
        assert_eq!((scope.statements(), scope.transactions()), (2, 1));
    }
}
