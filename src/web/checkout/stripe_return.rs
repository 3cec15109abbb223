//! `GET /checkout/{token}/challenge/{payment_id}/return`: Stripe sent the customer back; the
//! intent is read back from Stripe and settled, never trusting the query string.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};

use crate::db;
use crate::services::error::Refusal;
use crate::services::stripe_settlement::{self, Settled};
use crate::web::checkout::page::{checkout_place, load, session_payment};
use crate::web::context::{PageCtx, PageResult};
use crate::web::payment::stripe_step::{page, problem, unavailable};

/// `GET /checkout/{token}/challenge/{payment_id}/return`: Stripe sent the customer back.
pub(crate) async fn checkout_return(
    PageCtx { state, nonce, headers }: PageCtx,
    Path((token, payment_id)): Path<(String, String)>,
) -> PageResult {
    // Not refreshed: a session paid just before its expiry must still complete.
    let loaded = load(&state, &token, &headers, false).await?;
    let payment = session_payment(&state, &loaded, &payment_id).await?;
    let t = loaded.t();
    Ok(match stripe_settlement::settle(&state, &payment).await {
        Ok(Settled::Done) => {
            match db::checkouts::get(&state.db, &loaded.session.company_id, &loaded.session.id).await {
                Ok(Some(session)) => crate::web::checkout::pay::finish(&state, &loaded, session, &nonce).await,
                _ => Redirect::to(&loaded.action()).into_response(),
            }
        }
        Ok(Settled::Waiting { failure }) => {
            let alert = Some(failure.unwrap_or_else(|| t.payment_not_completed.to_string()));
            let place = checkout_place(&loaded, &payment);
            page(&state, place, &payment, nonce.clone(), alert).await
        }
        Ok(Settled::Failed) => Redirect::to(&loaded.action()).into_response(),
        Err(e) if e.code == stripe_settlement::INTENT_MISMATCH => {
            problem(checkout_place(&loaded, &payment), nonce.clone(), StatusCode::CONFLICT, t.payment_mismatch, false)
        }
        // Paid for an order that changed meanwhile: not fulfilled, and the customer is told the
        // truth (the money was taken) and whom to ask for it back.
        Err(e) if e.refusal == Refusal::Conflict => {
            problem(checkout_place(&loaded, &payment), nonce.clone(), StatusCode::CONFLICT, t.paid_order_changed, false)
        }
        Err(e) if e.refusal == Refusal::Unavailable => unavailable(checkout_place(&loaded, &payment), nonce.clone()),
        Err(e) => crate::web::errors::server_error(e.message),
    })
}
