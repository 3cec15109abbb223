//! `GET /checkout/{token}/challenge/{payment_id}/return`: Stripe sent the customer back; the
//! intent is read back from Stripe and settled, never trusting the query string.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::db;
use crate::services::error::Refusal;
use crate::services::stripe_settlement::{self, Settled};
use crate::state::AppState;
use crate::web::checkout::page::checkout_place;
use crate::web::payment::stripe_step::{page, problem, unavailable};
use crate::web::security_headers::CspNonce;

/// `GET /checkout/{token}/challenge/{payment_id}/return`: Stripe sent the customer back.
pub(crate) async fn checkout_return(
    State(state): State<AppState>,
    Path((token, payment_id)): Path<(String, String)>,
    Extension(nonce): Extension<CspNonce>,
    headers: HeaderMap,
) -> Response {
    // Not refreshed: a session paid just before its expiry must still complete.
    let loaded = match crate::web::checkout::page::load(&state, &token, &headers, false).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let payment = db::billing::get_payment(&state.db, &payment_id).await.ok().flatten();
    let Some(payment) = payment.filter(|p| p.checkout_id.as_deref() == Some(loaded.session.id.as_str())) else {
        return crate::web::errors::not_found();
    };
    let t = loaded.t();
    match stripe_settlement::settle(&state, &payment).await {
        Ok(Settled::Done) => {
            match db::checkouts::get(&state.db, &loaded.session.company_id, &loaded.session.id).await {
                Ok(Some(session)) => crate::web::checkout::pay::finish(&state, &loaded, session, &nonce.0).await,
                _ => Redirect::to(&loaded.action()).into_response(),
            }
        }
        Ok(Settled::Waiting { failure }) => {
            let alert = Some(failure.unwrap_or_else(|| t.payment_not_completed.to_string()));
            let place = checkout_place(&loaded, &payment);
            page(&state, place, &payment, nonce.0, alert).await
        }
        Ok(Settled::Failed) => Redirect::to(&loaded.action()).into_response(),
        Err(e) if e.code == stripe_settlement::INTENT_MISMATCH => {
            problem(checkout_place(&loaded, &payment), nonce.0, StatusCode::CONFLICT, t.payment_mismatch, false)
        }
        // Paid for an order that changed meanwhile: not fulfilled, and the customer is told the
        // truth (the money was taken) and whom to ask for it back.
        Err(e) if e.refusal == Refusal::Conflict => {
            problem(checkout_place(&loaded, &payment), nonce.0, StatusCode::CONFLICT, t.paid_order_changed, false)
        }
        Err(e) if e.refusal == Refusal::Unavailable => unavailable(checkout_place(&loaded, &payment), nonce.0),
        Err(e) => crate::web::errors::server_error(e.message),
    }
}
