//! The webhook events Kasse sends: one payload type per event type, each built in one place
//! from the rows it reports, so an event of a type carries the same fields wherever it is raised;
//! [`raise`] queues one in the transaction of the change it reports.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::billing::{Invoice, Payment};
use crate::db::checkouts::CheckoutSession;
use crate::db::contracts::{Contract, Signer};
use crate::db::tx::Tx;
use crate::db::{self, DbResult};

/// An event and its payload. The serde tag is the `type` endpoints subscribe to
/// ([`super::outbox::EVENT_TYPES`] lists the same names); the content is the envelope's `data`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    #[serde(rename = "checkout.completed")]
    CheckoutCompleted(CheckoutCompleted),
    #[serde(rename = "checkout.expired")]
    CheckoutExpired(CheckoutExpired),
    #[serde(rename = "invoice.created")]
    InvoiceCreated(InvoiceEvent),
    #[serde(rename = "invoice.paid")]
    InvoicePaid(InvoiceEvent),
    #[serde(rename = "invoice.voided")]
    InvoiceVoided(InvoiceEvent),
    #[serde(rename = "payment.failed")]
    PaymentFailed(PaymentFailed),
    #[serde(rename = "payment.refunded")]
    PaymentRefunded(PaymentRefunded),
    #[serde(rename = "payment.requires_refund")]
    PaymentRequiresRefund(PaymentRequiresRefund),
    #[serde(rename = "contract.sent")]
    ContractSent(ContractSent),
    #[serde(rename = "contract.viewed")]
    ContractViewed(ContractViewed),
    #[serde(rename = "contract.signed")]
    ContractSigned(ContractSigned),
    #[serde(rename = "contract.declined")]
    ContractDeclined(ContractDeclined),
    #[serde(rename = "contract.completed")]
    ContractCompleted(ContractCompleted),
    #[serde(rename = "contract.voided")]
    ContractVoided(ContractClosed),
    #[serde(rename = "contract.expired")]
    ContractExpired(ContractClosed),
}

/// Each event type and the name of its payload type (its OpenAPI schema), in the order
/// `docs/webhooks.md` lists them; the serde tags of [`Event`] are the same names.
pub const PAYLOADS: &[(&str, &str)] = &[
    ("checkout.completed", "CheckoutCompleted"),
    ("checkout.expired", "CheckoutExpired"),
    ("invoice.created", "InvoiceEvent"),
    ("invoice.paid", "InvoiceEvent"),
    ("invoice.voided", "InvoiceEvent"),
    ("payment.failed", "PaymentFailed"),
    ("payment.refunded", "PaymentRefunded"),
    ("payment.requires_refund", "PaymentRequiresRefund"),
    ("contract.sent", "ContractSent"),
    ("contract.viewed", "ContractViewed"),
    ("contract.signed", "ContractSigned"),
    ("contract.declined", "ContractDeclined"),
    ("contract.completed", "ContractCompleted"),
    ("contract.voided", "ContractClosed"),
    ("contract.expired", "ContractClosed"),
];

/// Queue `event` of `company_id` for every endpoint subscribed to its type, inside `tx`.
pub async fn raise(tx: &mut Tx, company_id: &str, event: Event, now: DateTime<Utc>) -> DbResult<String> {
    let tagged = serde_json::to_value(&event).map_err(|e| db::DbError::Corrupt(format!("event payload: {e}")))?;
    let serde_json::Value::Object(mut tagged) = tagged else {
        return Err(db::DbError::Corrupt("an event serialized to a non-object".into()));
    };
    let kind = match tagged.remove("type") {
        Some(serde_json::Value::String(kind)) => kind,
        _ => return Err(db::DbError::Corrupt("an event without its type".into())),
    };
    let data = tagged.remove("data").unwrap_or_default();
    db::webhooks::enqueue(tx, company_id, &kind, data, now)
}

/// `checkout.completed`: a customer finished a checkout, paid or with an open invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutCompleted {
    pub checkout_id: String,
    /// CHECKOUT, SESSION or LINK: which API created the session.
    pub source: String,
    pub link_id: Option<String>,
    pub customer_id: String,
    pub subscription_id: Option<String>,
    pub invoice_id: String,
    /// The payment that paid it; null when nothing was due or payment is manual.
    pub payment_id: Option<String>,
    pub currency: String,
    /// Minor units taken now; 0 when the invoice stays open.
    pub amount_paid: i64,
    /// The session's `metadata`, as the merchant set it.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

/// `checkout.expired`: a session passed its expiry without being completed.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutExpired {
    pub checkout_id: String,
    pub customer_id: Option<String>,
    pub source: String,
}

impl CheckoutExpired {
    pub fn of(session: &CheckoutSession) -> Self {
        Self {
            checkout_id: session.id.clone(),
            customer_id: session.customer_id.clone(),
            source: session.source.clone(),
        }
    }
}

/// `invoice.created`, `invoice.paid` and `invoice.voided`: the invoice as it is now.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceEvent {
    pub invoice_id: String,
    pub number: String,
    /// OPEN, PAID or VOID.
    pub status: String,
    pub customer_id: String,
    pub subscription_id: Option<String>,
    pub checkout_id: Option<String>,
    pub currency: String,
    pub total: i64,
    pub amount_due: i64,
    /// The payment that paid it (`invoice.paid` through Kasse); otherwise null.
    pub payment_id: Option<String>,
    /// The merchant's note when it was marked paid or voided through the API; otherwise null.
    pub note: Option<String>,
}

impl InvoiceEvent {
    pub fn of(i: &Invoice) -> Self {
        Self {
            invoice_id: i.id.clone(),
            number: i.number.clone(),
            status: i.status.clone(),
            customer_id: i.customer_id.clone(),
            subscription_id: i.subscription_id.clone(),
            checkout_id: i.checkout_id.clone(),
            currency: i.currency.clone(),
            total: i.total,
            amount_due: i.amount_due,
            payment_id: None,
            note: None,
        }
    }

    pub fn paid_by(self, payment_id: Option<&str>) -> Self {
        Self { payment_id: payment_id.map(str::to_string), ..self }
    }

    pub fn noted(self, note: Option<&str>) -> Self {
        Self { note: note.map(str::to_string), ..self }
    }
}

/// `payment.failed`: an attempt was declined or failed, or an automatic charge could not be
/// attempted. Sent once per attempt, from the checkout page, the invoice page, an automatic
/// charge and the provider's report alike.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentFailed {
    /// The declined attempt; null when none was made (no saved payment method).
    pub payment_id: Option<String>,
    pub checkout_id: Option<String>,
    pub invoice_id: Option<String>,
    /// Null for a checkout by a customer Kasse did not know yet.
    pub customer_id: Option<String>,
    /// What the attempt asked for, in minor units.
    pub amount: i64,
    pub currency: String,
    /// Why, in words for the merchant (the provider's reason where it gave one).
    pub reason: String,
}

impl PaymentFailed {
    /// A declined attempt, of the customer `customer_id` (of its invoice or checkout).
    pub fn of(payment: &Payment, customer_id: Option<&str>, reason: &str) -> Self {
        Self {
            payment_id: Some(payment.id.clone()),
            checkout_id: payment.checkout_id.clone(),
            invoice_id: payment.invoice_id.clone(),
            customer_id: customer_id.map(str::to_string),
            amount: payment.amount,
            currency: payment.currency.clone(),
            reason: reason.to_string(),
        }
    }

    /// A charge of `invoice` that could not even be tried.
    pub fn not_attempted(invoice: &Invoice, reason: &str) -> Self {
        Self {
            payment_id: None,
            checkout_id: None,
            invoice_id: Some(invoice.id.clone()),
            customer_id: Some(invoice.customer_id.clone()),
            amount: invoice.amount_due,
            currency: invoice.currency.clone(),
            reason: reason.to_string(),
        }
    }
}

/// `payment.refunded`: money was returned on a payment in the provider's dashboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentRefunded {
    pub payment_id: String,
    pub checkout_id: Option<String>,
    pub invoice_id: Option<String>,
    pub amount: i64,
    /// Refunded so far, in minor units; equal to `amount` once refunded in full.
    pub amount_refunded: i64,
    pub currency: String,
}

impl PaymentRefunded {
    pub fn of(p: &Payment, amount_refunded: i64) -> Self {
        Self {
            payment_id: p.id.clone(),
            checkout_id: p.checkout_id.clone(),
            invoice_id: p.invoice_id.clone(),
            amount: p.amount,
            amount_refunded,
            currency: p.currency.clone(),
        }
    }
}

/// `payment.requires_refund`: a payment took money for an order Kasse could not complete.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentRequiresRefund {
    pub payment_id: String,
    pub checkout_id: Option<String>,
    pub invoice_id: Option<String>,
    /// The payment adapter: `test` or `stripe`.
    pub provider: String,
    /// The provider's id of the payment (Stripe's `pi_…`).
    pub provider_ref: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub reason: String,
}

impl PaymentRequiresRefund {
    pub fn of(p: &Payment, reason: &str) -> Self {
        Self {
            payment_id: p.id.clone(),
            checkout_id: p.checkout_id.clone(),
            invoice_id: p.invoice_id.clone(),
            provider: p.provider.clone(),
            provider_ref: p.provider_ref.clone(),
            amount: p.amount,
            currency: p.currency.clone(),
            reason: reason.to_string(),
        }
    }
}

/// A signatory or counter-signatory as contract events show them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Signatory {
    pub id: String,
    /// SIGNATORY or COUNTER.
    pub role: String,
    pub position: i64,
    pub name: String,
    pub email: Option<String>,
    pub title: Option<String>,
    /// Their personal signing page.
    pub signature_link: String,
}

impl Signatory {
    pub fn of(s: &Signer, signature_link: String) -> Self {
        Self {
            id: s.id.clone(),
            role: s.role.clone(),
            position: s.position,
            name: s.name.clone(),
            email: s.email.clone(),
            title: s.title.clone(),
            signature_link,
        }
    }
}

/// `contract.sent`: the contract was finalized and its signing links are live.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractSent {
    pub contract_id: String,
    pub customer_id: String,
    pub title: String,
    /// SHA-256 of the frozen document, hex.
    pub document_hash: String,
    pub signatories: Vec<Signatory>,
}

/// `contract.viewed`: a signatory opened their page (views a few minutes apart count once).
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractViewed {
    pub contract_id: String,
    pub customer_id: String,
    pub signatory: Signatory,
    pub viewed_at: DateTime<Utc>,
}

/// `contract.signed`: one signatory signed on their page, or the merchant marked the contract
/// signed offline (`signed_offline`, without a signatory).
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractSigned {
    pub contract_id: String,
    pub customer_id: String,
    /// Who signed; null when signed offline.
    pub signatory: Option<Signatory>,
    /// The name they typed; null when signed offline.
    pub signed_name: Option<String>,
    pub signed_at: DateTime<Utc>,
    /// The hash of the document they saw; null when signed offline.
    pub document_hash: Option<String>,
    pub signed_offline: bool,
    /// The uploaded signed copy, when signed offline with one.
    pub signed_file_id: Option<String>,
}

impl ContractSigned {
    pub fn online(c: &Contract, signatory: Signatory, name: &str, hash: &str, at: DateTime<Utc>) -> Self {
        Self {
            contract_id: c.id.clone(),
            customer_id: c.customer_id.clone(),
            signatory: Some(signatory),
            signed_name: Some(name.to_string()),
            signed_at: at,
            document_hash: Some(hash.to_string()),
            signed_offline: false,
            signed_file_id: None,
        }
    }

    pub fn offline(c: &Contract, file_id: Option<String>, at: DateTime<Utc>) -> Self {
        Self {
            contract_id: c.id.clone(),
            customer_id: c.customer_id.clone(),
            signatory: None,
            signed_name: None,
            signed_at: at,
            document_hash: None,
            signed_offline: true,
            signed_file_id: file_id,
        }
    }
}

/// `contract.declined`: a signatory declined; the contract is over.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractDeclined {
    pub contract_id: String,
    pub customer_id: String,
    pub signatory: Signatory,
    pub reason: String,
    pub declined_at: DateTime<Utc>,
}

/// `contract.completed`: every signature is in and the order was fulfilled.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractCompleted {
    pub contract_id: String,
    pub customer_id: String,
    pub subscription_id: Option<String>,
    pub invoice_id: String,
    pub checkout_id: String,
    /// COMPLETE.
    pub status: String,
}

/// `contract.voided` and `contract.expired`: the contract ended unsigned.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractClosed {
    pub contract_id: String,
    pub customer_id: String,
    /// VOID or EXPIRED.
    pub status: String,
}

impl ContractClosed {
    pub fn of(c: &Contract, status: &str) -> Self {
        Self { contract_id: c.id.clone(), customer_id: c.customer_id.clone(), status: status.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_is_the_type_and_the_payload_the_data() {
        let e = Event::CheckoutExpired(CheckoutExpired {
            checkout_id: "chk_1".into(),
            customer_id: None,
            source: "LINK".into(),
        });
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "checkout.expired");
        assert_eq!(v["data"], serde_json::json!({"checkout_id": "chk_1", "customer_id": null, "source": "LINK"}));
    }

    #[test]
    fn every_event_type_an_endpoint_can_subscribe_to_has_a_payload() {
        let kinds: Vec<&str> = PAYLOADS.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(kinds, crate::services::outbox::EVENT_TYPES);
    }
}
