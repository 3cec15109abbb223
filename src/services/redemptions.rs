//! Holding a checkout's promo code and coupon redemptions: counted under their
//! `max_redemptions` before anything is charged, kept when the checkout completes, given back
//! when its payment is refused or the checkout closes unpaid.
//!
//! The count itself is the guard (a conditional `UPDATE` that must change one row), so two
//! checkouts racing for the last redemption — on one instance or several — never both get it.

use chrono::{DateTime, Utc};

use crate::db::checkouts::CheckoutSession;
use crate::db::tx::Tx;
use crate::db::{self};
use crate::domain::redemption::Redemption;
use crate::services::error::ServiceResult;
use crate::state::AppState;

/// What `session` counts now, as stored.
pub fn counted(session: &CheckoutSession) -> Option<Redemption> {
    session.redemption_counted.as_deref().and_then(Redemption::from_json)
}

/// Make the session count exactly `wanted`, in the caller's transaction: give back what it
/// counts if that differs, then count `wanted`. False when a limit is reached (or another
/// request changed the session's count meanwhile): the caller must roll back.
pub async fn hold_in(
    tx: &mut Tx,
    session: &CheckoutSession,
    wanted: Option<&Redemption>,
    now: DateTime<Utc>,
) -> ServiceResult<bool> {
    let current = counted(session);
    if current.as_ref() == wanted {
        return Ok(true);
    }
    if let Some(c) = &current
        && !db::coupons::release_redemption(tx, &session.id, c, now).await?
    {
        return Ok(false);
    }
    match wanted {
        Some(w) => Ok(db::coupons::count_redemption(tx, &session.id, w, now).await?),
        None => Ok(true),
    }
}

/// [`hold_in`] in a transaction of its own, committed only when the hold succeeded.
pub async fn hold(state: &AppState, session: &CheckoutSession, wanted: Option<&Redemption>) -> ServiceResult<bool> {
    if counted(session).as_ref() == wanted {
        return Ok(true);
    }
    let mut tx = state.db.begin().await?;
    let held = hold_in(&mut tx, session, wanted, state.clock.now()).await?;
    if held {
        tx.commit().await?;
    }
    Ok(held)
}

/// Give back what session `session_id` counts (a refused payment, a checkout closed unpaid),
/// in the caller's transaction, reading the count there: a copy read earlier may predate the
/// hold its own attempt took.
pub async fn release_in(tx: &mut Tx, session_id: &str, now: DateTime<Utc>) -> ServiceResult<()> {
    let stored = db::checkouts::redemption_counted(tx, session_id).await?;
    if let Some(c) = stored.as_deref().and_then(Redemption::from_json) {
        db::coupons::release_redemption(tx, session_id, &c, now).await?;
    }
    Ok(())
}

/// [`release_in`] in a transaction of its own.
pub async fn release(state: &AppState, session_id: &str) -> ServiceResult<()> {
    let mut tx = state.db.begin().await?;
    release_in(&mut tx, session_id, state.clock.now()).await?;
    tx.commit().await?;
    Ok(())
}
