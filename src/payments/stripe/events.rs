//! Stripe webhook events, read from their (already verified) JSON into what Kasse acts on.
//! Pure and crate-free: only the few fields we need, so a new Stripe API version cannot
//! break the endpoint, and an event we do not handle is stored and acknowledged.

use serde_json::Value;

/// A verified event, in our words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StripeEvent {
    /// `evt_…`: the key that makes a redelivery a no-op.
    pub id: String,
    /// Stripe's event type as sent, e.g. `payment_intent.succeeded` (stored with the event).
    pub event_type: String,
    pub kind: EventKind,
    /// The event's object id (`pi_…`, `seti_…`, `ch_…`).
    pub object_id: Option<String>,
    /// Our payment id from the object's metadata, when it carries one.
    pub payment_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// `payment_intent.succeeded`, `payment_intent.processing`, `setup_intent.succeeded`:
    /// something to verify with Stripe and fulfil.
    IntentChanged,
    /// `payment_intent.payment_failed`: a decline, with Stripe's message.
    PaymentFailed { reason: String },
    /// `charge.refunded`: money returned on the charge of intent `payment_intent`.
    Refunded { payment_intent: Option<String>, amount_refunded: i64 },
    /// Anything else: stored, acknowledged, not acted on.
    Other(String),
}

/// Read an event body. `None` when it is not a Stripe event at all (no id or type).
pub fn parse(body: &[u8]) -> Option<StripeEvent> {
    let event: Value = serde_json::from_slice(body).ok()?;
    let id = event.get("id")?.as_str()?.to_string();
    let event_type = event.get("type")?.as_str()?.to_string();
    let object = event.get("data").and_then(|d| d.get("object")).cloned().unwrap_or(Value::Null);
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let kind = match event_type.as_str() {
        "payment_intent.succeeded" | "payment_intent.processing" | "setup_intent.succeeded" => EventKind::IntentChanged,
        "payment_intent.payment_failed" => EventKind::PaymentFailed {
            reason: object
                .get("last_payment_error")
                .and_then(|e| text(e, "message"))
                .unwrap_or_else(|| "The payment was declined.".to_string()),
        },
        "charge.refunded" => EventKind::Refunded {
            payment_intent: text(&object, "payment_intent"),
            amount_refunded: object.get("amount_refunded").and_then(Value::as_i64).unwrap_or(0),
        },
        other => EventKind::Other(other.to_string()),
    };
    Some(StripeEvent {
        id,
        event_type,
        kind,
        object_id: text(&object, "id"),
        payment_id: object.get("metadata").and_then(|m| text(m, crate::payments::provider::PAYMENT_METADATA_KEY)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(kind: &str, object: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({"id": "evt_1", "object": "event", "type": kind, "data": {"object": object}}))
            .unwrap()
    }

    #[test]
    fn intent_events_carry_our_payment_id() {
        let e =
            parse(&body("payment_intent.succeeded", json!({"id": "pi_1", "metadata": {"kasse_payment_id": "pay_1"}})))
                .unwrap();
        assert_eq!(e.kind, EventKind::IntentChanged);
        assert_eq!((e.object_id.as_deref(), e.payment_id.as_deref()), (Some("pi_1"), Some("pay_1")));
        let e = parse(&body("setup_intent.succeeded", json!({"id": "seti_1", "metadata": {}}))).unwrap();
        assert_eq!((e.kind, e.payment_id), (EventKind::IntentChanged, None));
    }

    #[test]
    fn failures_and_refunds_keep_what_we_report() {
        let failed = json!({"id": "pi_1", "last_payment_error": {"message": "Your card was declined."}});
        let e = parse(&body("payment_intent.payment_failed", failed)).unwrap();
        assert_eq!(e.kind, EventKind::PaymentFailed { reason: "Your card was declined.".into() });
        let refund = json!({"id": "ch_1", "payment_intent": "pi_1", "amount_refunded": 500});
        let e = parse(&body("charge.refunded", refund)).unwrap();
        assert_eq!(e.kind, EventKind::Refunded { payment_intent: Some("pi_1".into()), amount_refunded: 500 });
    }

    #[test]
    fn other_events_are_kept_and_garbage_is_refused() {
        assert_eq!(
            parse(&body("customer.created", json!({"id": "cus_1"}))).unwrap().kind,
            EventKind::Other("customer.created".into())
        );
        assert!(parse(b"not json").is_none());
        assert!(parse(br#"{"type": "payment_intent.succeeded"}"#).is_none());
    }
}
