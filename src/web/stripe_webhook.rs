//! `POST /webhooks/stripe` (feature `stripe`): Stripe's events about our payments. The raw body
//! is verified against `Stripe-Signature` before anything is stored; each event is stored once
//! by its id, so a redelivery answers 200 and does nothing; the work itself is the same
//! exactly-once settlement the return handler uses.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

use crate::db::{self, billing::Payment, provider_events};
use crate::domain::billing::PaymentStatus;
use crate::payments::stripe::events::{self, EventKind, StripeEvent};
use crate::payments::stripe::signature;
use crate::services::error::{Refusal, ServiceResult};
use crate::services::events::{Event, PaymentFailed, PaymentRefunded, raise};
use crate::state::AppState;

/// Stripe's events are a few KiB; anything near this is not Stripe.
const BODY_LIMIT: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/stripe", post(receive).layer(DefaultBodyLimit::max(BODY_LIMIT)))
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": {"message": message}}))).into_response()
}

async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(client) = state.payments.stripe.as_ref() else {
        return refuse(StatusCode::NOT_FOUND, "Stripe is not configured on this server.");
    };
    let header = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    let secrets: Vec<&str> = client.settings.webhook_secrets.iter().map(String::as_str).collect();
    if let Err(refusal) = signature::verify(header, &body, &secrets, state.clock.now().timestamp()) {
        tracing::warn!(?refusal, "refused a Stripe webhook");
        return refuse(StatusCode::BAD_REQUEST, "The Stripe-Signature header does not verify.");
    }
    let Some(event) = events::parse(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "The body is not a Stripe event.");
    };
    let payload = String::from_utf8_lossy(&body);
    let new = provider_events::NewEvent {
        id: &event.id,
        provider: "stripe",
        kind: &event.event_type,
        object_id: event.object_id.as_deref(),
        payment_id: event.payment_id.as_deref(),
        payload: &payload,
    };
    match provider_events::store(&state.db, &new, state.clock.now()).await {
        Ok(provider_events::Stored::Handled) => {
            return Json(json!({"received": true, "duplicate": true})).into_response();
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "storing a Stripe event failed");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "The event could not be stored; retry.");
        }
    }
    match handle(&state, &event).await {
        Ok(()) => Json(json!({"received": true})).into_response(),
        // Left unhandled: Stripe retries, and the retry handles it (the work is idempotent).
        Err(e) => {
            tracing::warn!(error = %e.message, event = event.id, "handling a Stripe event failed; Stripe will retry");
            refuse(StatusCode::SERVICE_UNAVAILABLE, "The event could not be handled yet; retry.")
        }
    }
}

/// Our payment the event is about: by the id in its metadata, else by the intent's id.
async fn payment_of(state: &AppState, event: &StripeEvent, intent: Option<&str>) -> ServiceResult<Option<Payment>> {
    if let Some(id) = &event.payment_id
        && let Some(p) = db::billing::get_payment(&state.db, id).await?
    {
        return Ok(Some(p));
    }
    match intent {
        Some(reference) => Ok(db::billing::payment_by_provider_ref(&state.db, reference).await?),
        None => Ok(None),
    }
}

async fn handle(state: &AppState, event: &StripeEvent) -> ServiceResult<()> {
    let now = state.clock.now();
    match &event.kind {
        EventKind::IntentChanged => {
            if let Some(payment) = payment_of(state, event, event.object_id.as_deref()).await? {
                // Read back from Stripe: the same check and the same exactly-once path as
                // the customer's return, whichever comes first.
                match crate::services::stripe_settlement::settle(state, &payment).await {
                    // Paid for an order that changed meanwhile: recorded and logged for a refund;
                    // Stripe's retries could not change that.
                    Ok(_) => {}
                    Err(e) if e.refusal == Refusal::Conflict => {}
                    Err(e) => return Err(e),
                }
            }
            mark_handled(state, event).await
        }
        EventKind::PaymentFailed { reason } => {
            // Only a failure that still stands is news: Stripe does not order its events, so an
            // attempt's decline may arrive after the payment succeeded, and a decline we were
            // answered synchronously (an off-session charge) was recorded and reported then.
            let payment = payment_of(state, event, event.object_id.as_deref()).await?.filter(|p| {
                matches!(
                    PaymentStatus::parse(&p.status),
                    Some(PaymentStatus::RequiresAction | PaymentStatus::Processing)
                )
            });
            let mut tx = state.db.begin().await?;
            if provider_events::mark_handled(&mut tx, &event.id, now).await?
                && let Some(p) = &payment
            {
                // The intent stays usable: the customer may try another card on the same page.
                let customer = db::billing::customer_of_payment(&mut tx, p).await?;
                let data = PaymentFailed::of(p, customer.as_deref(), reason);
                raise(&mut tx, &p.company_id, Event::PaymentFailed(data), now).await?;
            }
            tx.commit().await?;
            // The status stays what it was (the customer may still finish); the reason is recorded.
            if let Some((p, status)) = payment.and_then(|p| PaymentStatus::parse(&p.status).map(|s| (p, s))) {
                let from = [PaymentStatus::RequiresAction, PaymentStatus::Processing];
                db::billing::set_payment_status(&state.db, &p.id, &from, status, None, Some(reason), now).await?;
            }
            Ok(())
        }
        EventKind::Refunded { payment_intent, amount_refunded } => {
            let payment = payment_of(state, event, payment_intent.as_deref()).await?;
            let mut tx = state.db.begin().await?;
            if provider_events::mark_handled(&mut tx, &event.id, now).await?
                && let Some(p) = &payment
                && db::billing::record_refund(&mut tx, &p.id, *amount_refunded, now).await?
            {
                let data = PaymentRefunded::of(p, *amount_refunded);
                raise(&mut tx, &p.company_id, Event::PaymentRefunded(data), now).await?;
            }
            tx.commit().await?;
            Ok(())
        }
        EventKind::Other(_) => mark_handled(state, event).await,
    }
}

/// Mark the event handled in a transaction of its own.
async fn mark_handled(state: &AppState, event: &StripeEvent) -> ServiceResult<()> {
    let mut tx = state.db.begin().await?;
    provider_events::mark_handled(&mut tx, &event.id, state.clock.now()).await?;
    tx.commit().await?;
    Ok(())
}
