//! The normalized types every provider speaks (what a page shows, a charge, its outcome) and the
//! provider trait itself.

use std::future::Future;

/// Metadata key under which a provider's payment object carries our payment id.
pub const PAYMENT_METADATA_KEY: &str = "kasse_payment_id";

/// Which provider a checkout uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Built-in test cards; the offline default.
    Sandbox,
    /// No card: an open invoice with payment instructions (bank transfer).
    Manual,
    /// Stripe's Payment Element on our page; confirmed server-side and by Stripe's webhooks.
    Stripe,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Sandbox => "sandbox",
            ProviderKind::Manual => "manual",
            ProviderKind::Stripe => "stripe",
        }
    }

    pub fn parse(value: &str) -> Option<ProviderKind> {
        match value {
            "sandbox" => Some(ProviderKind::Sandbox),
            "manual" => Some(ProviderKind::Manual),
            "stripe" => Some(ProviderKind::Stripe),
            _ => None,
        }
    }
}

/// What the payment step of a page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PagePayment {
    /// Card fields posted to Kasse (sandbox).
    CardForm { test_mode: bool },
    /// No card is collected; the customer gets an invoice with these instructions.
    Instructions { text: String },
    /// The card is entered on the provider's secure element on the next step (Stripe).
    Element,
}

/// The card details a sandbox form posts. Real providers never send card data to Kasse.
#[derive(Clone, Debug, Default)]
pub struct CardInput {
    pub number: String,
    pub expiry: String,
    pub cvc: String,
}

/// A request to collect money.
#[derive(Clone, Debug, Default)]
pub struct ChargeRequest<'a> {
    /// Our payment id; also the idempotency key toward the provider.
    pub payment_id: &'a str,
    pub amount: i64,
    pub currency: &'a str,
    pub card: Option<&'a CardInput>,
    /// Charge a payment method saved earlier (off-session), by the provider's handle.
    pub saved_method: Option<&'a SavedMethod>,
    /// Who pays, for providers that keep customers (Stripe mirrors ours).
    pub payer: Payer<'a>,
    /// Our ids the provider keeps with the payment (checkout, contract, invoice), so its
    /// records and webhooks lead back to ours.
    pub metadata: &'a [(&'static str, &'a str)],
    /// Keep the payment method for later off-session charges (subscriptions, saved cards).
    pub save_for_later: bool,
}

/// The customer behind a payment, as far as we know them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Payer<'a> {
    /// Our customer id, when the customer exists already.
    pub customer_id: Option<&'a str>,
    /// The provider's handle for this customer, when they were mirrored before.
    pub provider_customer: Option<&'a str>,
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
}

/// A payment method the customer agreed to save, as the provider lets us keep it: a handle
/// and what a page may show ("Visa ending 4242"), never the card number.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedMethod {
    pub provider: ProviderKind,
    pub provider_ref: String,
    /// The provider's customer the method is attached to (Stripe charges by both).
    pub provider_customer: Option<String>,
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
}

impl SavedMethod {
    /// As a payment row keeps it until its payment succeeds (`payments.keep_method`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// `None` for anything unreadable: a method not kept is asked for again, never invented.
    pub fn from_json(stored: &str) -> Option<SavedMethod> {
        serde_json::from_str(stored).ok()
    }
}

/// What happened, in our words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Succeeded {
        reference: String,
    },
    /// Accepted, settles later (bank transfer, some debits).
    Pending {
        reference: String,
    },
    /// The customer must do something first (a 3-D Secure challenge): send them to `url`.
    RequiresAction {
        reference: String,
        url: String,
    },
    /// Refused, with a reason fit to show the customer.
    Failed {
        reason: String,
    },
}

/// The provider could not be asked (network, timeout): retry with the same payment id.
#[derive(Debug, thiserror::Error)]
#[error("payment provider unavailable: {0}")]
pub struct ProviderError(pub String);

/// A payment provider. Implementations are cheap to construct per request.
pub trait PaymentProvider: Send + Sync {
    fn kind(&self) -> ProviderKind;
    /// What the page shows for the payment step.
    fn prepare(&self, amount: i64, currency: &str) -> PagePayment;
    /// Collect `amount`; with `amount == 0` only check and keep the payment method.
    fn charge(&self, request: &ChargeRequest<'_>) -> impl Future<Output = Result<Outcome, ProviderError>> + Send;
    /// Settle an action the customer finished (approved or denied a challenge).
    fn confirm(&self, reference: &str, approved: bool) -> impl Future<Output = Result<Outcome, ProviderError>> + Send;
}
