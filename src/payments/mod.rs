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
pub mod provider;
pub mod sandbox;
pub mod stripe;

pub use provider::*;

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
