//! The payment-provider adapter: one trait with normalized types, so no provider's own types
//! leak into fulfilment or pages.
//!
//! A provider is asked to `prepare` what the payment step of a page needs, then to `charge`
//! (or, with nothing due today, to `save` a payment method). A decline is an `Ok` outcome the
//! customer can act on; an `Err` is a failure to reach the provider, retried with the same
//! idempotency key (our payment id) so a retry never charges twice. A client-side flow
//! (Stripe's Payment Element) returns `RequiresAction` with where to send the customer and
//! completes through `confirm` or a verified provider webhook.

pub mod manual;
pub mod sandbox;
#[cfg(feature = "stripe")]
pub mod stripe;
pub mod stripe_config;
pub mod stripe_events;
pub mod stripe_signature;

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

/// The provider a checkout uses, chosen per session. An enum rather than a trait object: the
/// trait's `async fn`s make it not object-safe, and the set of providers is closed.
pub enum Provider {
    Sandbox(sandbox::Sandbox),
    Manual(manual::Manual),
    #[cfg(feature = "stripe")]
    Stripe(stripe::StripeProvider),
    /// Chosen but not usable here (Stripe without keys, or a build without Stripe): every
    /// attempt answers "unavailable", so nothing is charged and the page says so.
    Unavailable(ProviderKind),
}

/// The connections to providers a process holds, made once at start.
#[derive(Clone, Default)]
pub struct Connections {
    /// The connected Stripe account, when `STRIPE_SECRET_KEY` is set.
    #[cfg(feature = "stripe")]
    pub stripe: Option<std::sync::Arc<stripe::StripeClient>>,
}

impl Provider {
    /// The provider of `kind`. `action_base` is the page under which a customer completes an
    /// action: `{action_base}/{payment_id}` (the sandbox's challenge, Stripe's Payment Element).
    pub fn new(
        connections: &Connections,
        kind: ProviderKind,
        action_base: String,
        instructions: Option<String>,
        sepa_debit: bool,
    ) -> Provider {
        match kind {
            ProviderKind::Sandbox => Provider::Sandbox(sandbox::Sandbox { challenge_base: action_base }),
            ProviderKind::Manual => Provider::Manual(manual::Manual { instructions: instructions.unwrap_or_default() }),
            #[cfg(feature = "stripe")]
            ProviderKind::Stripe => match &connections.stripe {
                Some(client) => {
                    Provider::Stripe(stripe::StripeProvider { client: client.clone(), action_base, sepa_debit })
                }
                None => Provider::Unavailable(kind),
            },
            #[cfg(not(feature = "stripe"))]
            ProviderKind::Stripe => {
                let _ = (connections, sepa_debit);
                Provider::Unavailable(kind)
            }
        }
    }

    pub fn kind(&self) -> ProviderKind {
        match self {
            Provider::Sandbox(p) => p.kind(),
            Provider::Manual(p) => p.kind(),
            #[cfg(feature = "stripe")]
            Provider::Stripe(p) => p.kind(),
            Provider::Unavailable(kind) => *kind,
        }
    }

    pub fn prepare(&self, amount: i64, currency: &str) -> PagePayment {
        match self {
            Provider::Sandbox(p) => p.prepare(amount, currency),
            Provider::Manual(p) => p.prepare(amount, currency),
            #[cfg(feature = "stripe")]
            Provider::Stripe(p) => p.prepare(amount, currency),
            Provider::Unavailable(_) => PagePayment::Element,
        }
    }

    pub async fn charge(&self, request: &ChargeRequest<'_>) -> Result<Outcome, ProviderError> {
        match self {
            Provider::Sandbox(p) => p.charge(request).await,
            Provider::Manual(p) => p.charge(request).await,
            #[cfg(feature = "stripe")]
            Provider::Stripe(p) => p.charge(request).await,
            Provider::Unavailable(kind) => Err(unavailable(*kind)),
        }
    }

    pub async fn confirm(&self, reference: &str, approved: bool) -> Result<Outcome, ProviderError> {
        match self {
            Provider::Sandbox(p) => p.confirm(reference, approved).await,
            Provider::Manual(p) => p.confirm(reference, approved).await,
            #[cfg(feature = "stripe")]
            Provider::Stripe(p) => p.confirm(reference, approved).await,
            Provider::Unavailable(kind) => Err(unavailable(*kind)),
        }
    }
}

fn unavailable(kind: ProviderKind) -> ProviderError {
    ProviderError(format!("the {} provider is not configured on this server", kind.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_method_reads_back_as_it_was_and_anything_else_is_no_method() {
        let method = SavedMethod {
            provider: ProviderKind::Sandbox,
            provider_ref: "pm_sbx_3184".into(),
            provider_customer: None,
            brand: "Visa".into(),
            last4: "3184".into(),
            exp_month: 12,
            exp_year: 2034,
        };
        let stored = method.to_json();
        assert!(stored.contains("\"provider\":\"sandbox\""), "{stored}");
        assert_eq!(SavedMethod::from_json(&stored), Some(method));
        assert_eq!(SavedMethod::from_json("{\"provider\":\"paypal\"}"), None);
        assert_eq!(SavedMethod::from_json(""), None);
    }
}
