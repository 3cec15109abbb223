//! `GET /invoices/{token}/challenge/{payment_id}/return`: Stripe sent the customer back to an
//! invoice; the intent is read back from Stripe and settled, never trusting the query string.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::services::error::Refusal;
use crate::services::stripe_settlement::{self, Settled};
use crate::state::AppState;
use crate::web::invoice::page::invoice_place;
use crate::web::payment::stripe_step::{page, problem, unavailable};
use crate::web::security_headers::CspNonce;

/// `GET /invoices/{token}/challenge/{payment_id}/return`.
pub(crate) async fn invoice_return(
    State(state): State<AppState>,
    Path((token, payment_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    Extension(nonce): Extension<CspNonce>,
    headers: HeaderMap,
) -> Response {
    let loaded = match crate::web::invoice::page::load(&state, &token, &headers, query.as_deref()).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let payment = match crate::web::invoice::page::invoice_payment(&state, &loaded, &payment_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let t = loaded.t();
    match stripe_settlement::settle(&state, &payment).await {
        Ok(Settled::Done | Settled::Failed) => Redirect::to(&loaded.url()).into_response(),
        Ok(Settled::Waiting { failure }) => {
            let alert = Some(failure.unwrap_or_else(|| t.payment_not_completed.to_string()));
            page(&state, invoice_place(&loaded, &payment), &payment, nonce.0, alert).await
        }
        Err(e) if e.refusal == Refusal::Unavailable => unavailable(invoice_place(&loaded, &payment), nonce.0),
        Err(e) if e.code == stripe_settlement::INTENT_MISMATCH => {
            problem(invoice_place(&loaded, &payment), nonce.0, StatusCode::CONFLICT, t.payment_mismatch, false)
        }
        Err(e) => crate::web::errors::server_error(e.message),
    }
}
