//! Closing open checkout sessions: expiry (checked on every request and by a periodic
//! sweeper, which emits `checkout.expired`) and the merchant's expire and cancel.

use chrono::{DateTime, Utc};

use crate::db::tx::Tx;
use crate::db::{self, checkouts::CheckoutSession};
use crate::domain::checkout::Status;
use crate::services::error::{Error, ServiceResult};
use crate::services::events::{self, CheckoutExpired, Event};
use crate::state::AppState;

/// The merchant's expire or cancel: refused for a contract's session, which ends with its
/// contract (`…/contracts/{id}/void`), so the two never disagree.
pub async fn close_by_merchant(
    state: &AppState,
    session: CheckoutSession,
    to: Status,
) -> ServiceResult<CheckoutSession> {
    if session.source == "CONTRACT" && session.status().is_open() {
        return Err(Error::conflict(
            "contract_checkout",
            "This checkout belongs to a contract; void the contract instead (POST …/contracts/{id}/void).",
        ));
    }
    close(state, session, to).await
}

/// The session as it stands now: an open session past `expires_at` is expired first.
pub async fn refresh(state: &AppState, session: CheckoutSession) -> ServiceResult<CheckoutSession> {
    let overdue = session.expires_at.is_some_and(|t| t <= state.clock.now());
    if !(session.status().is_open() && overdue) {
        return Ok(session);
    }
    match close(state, session.clone(), Status::Expired).await {
        // Paid just before its time ran out: it stays open until its order is completed.
        Err(e) if e.code == "payment_succeeded" => Ok(session),
        other => other,
    }
}

/// Move an open session to EXPIRED or CANCELLED. Doing it again is a no-op; a session that
/// already ended otherwise (completed, or the other one) is a 409.
pub async fn close(state: &AppState, session: CheckoutSession, to: Status) -> ServiceResult<CheckoutSession> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    if close_in(&mut tx, &session.id, to, now).await? {
        if to == Status::Expired {
            let event = Event::CheckoutExpired(CheckoutExpired::of(&session));
            events::raise(&mut tx, &session.company_id, event, now).await?;
        }
        tx.commit().await?;
    } else {
        drop(tx);
    }
    let current = db::checkouts::get(&state.db, &session.company_id, &session.id)
        .await?
        .ok_or_else(|| Error::internal(format!("checkout {} vanished", session.id)))?;
    if current.status() == to {
        Ok(current)
    } else {
        Err(Error::conflict(
            "checkout_closed",
            format!("This checkout is already {} and cannot become {}.", current.status, to.as_str()),
        ))
    }
}

/// Close an open session unpaid (EXPIRED or CANCELLED) in the caller's transaction, giving
/// back the promo code and coupon redemptions it held. False when it was no longer open, or a
/// payment is in progress (see `db::checkouts::finish`); a 409 `payment_succeeded` when a
/// payment of it took money that no order records yet.
pub async fn close_in(tx: &mut Tx, session_id: &str, to: Status, now: DateTime<Utc>) -> ServiceResult<bool> {
    // Money taken for this order is never kept by closing it: the order is completed (by the
    // customer's page or the reconciler) instead.
    if let Some(payment) = db::billing::unsettled_success_of_checkout(tx, session_id).await? {
        return Err(Error::conflict(
            "payment_succeeded",
            format!("Payment {payment} for this checkout succeeded; the order is being completed, so it cannot close."),
        ));
    }
    if !db::checkouts::finish(tx, session_id, to, now).await? {
        return Ok(false);
    }
    crate::services::redemptions::release_in(tx, session_id, now).await?;
    Ok(true)
}

/// One pass of the sweeper; returns how many sessions it expired.
pub async fn sweep(state: &AppState) -> usize {
    let overdue = match db::checkouts::overdue(&state.db, state.clock.now(), 100).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "listing expired checkouts failed");
            return 0;
        }
    };
    let mut expired = 0;
    for session in overdue {
        match close(state, session, Status::Expired).await {
            Ok(_) => expired += 1,
            // Completed in the meantime: nothing to do.
            Err(e) if e.is_refusal() => {}
            Err(e) => tracing::warn!(error = %e, "expiring a checkout failed"),
        }
    }
    expired
}
