//! `GET /invoices/{token}/challenge/{payment_id}/return`: Stripe sent the customer back to an
//! invoice; the intent is read back from Stripe and settled, never trusting the query string.

use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};

use crate::services::error::Refusal;
use crate::services::stripe_settlement::{self, Settled};
use crate::web::context::{PageCtx, PageResult};
use crate::web::invoice::page::invoice_place;
use crate::web::payment::stripe_step::{page, problem, unavailable};

/// `GET /invoices/{token}/challenge/{payment_id}/return`.
pub(crate) async fn invoice_return(
    PageCtx { state, nonce, headers }: PageCtx,
    Path((token, payment_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let loaded = crate::web::invoice::page::load(&state, &token, &headers, query.as_deref()).await?;
    let payment = crate::web::invoice::page::invoice_payment(&state, &loaded, &payment_id).await?;
    let t = loaded.t();
    Ok(match stripe_settlement::settle(&state, &payment).await {
        Ok(Settled::Done | Settled::Failed) => Redirect::to(&loaded.url()).into_response(),
        Ok(Settled::Waiting { failure }) => {
            let alert = Some(failure.unwrap_or_else(|| t.payment_not_completed.to_string()));
            page(&state, invoice_place(&loaded, &payment), &payment, nonce.clone(), alert).await
        }
        Err(e) if e.refusal == Refusal::Unavailable => unavailable(invoice_place(&loaded, &payment), nonce.clone()),
        Err(e) if e.code == stripe_settlement::INTENT_MISMATCH => {
            problem(invoice_place(&loaded, &payment), nonce.clone(), StatusCode::CONFLICT, t.payment_mismatch, false)
        }
        Err(e) => crate::web::errors::server_error(e.message),
    })
}
