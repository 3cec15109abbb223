//! The Stripe adapter (feature `stripe`): PaymentIntents and SetupIntents through
//! `async-stripe`, our customers mirrored as Stripe Customers, and what Stripe says about an
//! intent turned into our words. No Stripe type leaves this module.
//!
//! Every create call carries an `Idempotency-Key` derived from our payment id, so a retry
//! after a timeout gets the intent Stripe already made instead of a second one.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::customer::CreateCustomer;
use stripe_core::payment_intent::{CreatePaymentIntent, CreatePaymentIntentOffSession, RetrievePaymentIntent};
use stripe_core::setup_intent::{CreateSetupIntent, CreateSetupIntentUsage, RetrieveSetupIntent};
use stripe_core::{PaymentIntent, PaymentIntentAllowedPaymentMethodTypes, PaymentIntentSetupFutureUsage, SetupIntent};

use super::config::StripeSettings;
use crate::payments::provider::{
    ChargeRequest, Outcome, PagePayment, Payer, PaymentProvider, ProviderError, ProviderKind, SavedMethod,
};

/// Metadata key under which every intent carries our payment id.
const PAYMENT_KEY: &str = crate::payments::provider::PAYMENT_METADATA_KEY;

/// One Stripe account: a pooled client and its settings. Shared by the whole process.
pub struct StripeClient {
    client: Client,
    pub settings: StripeSettings,
}

impl StripeClient {
    pub fn new(settings: StripeSettings) -> Result<StripeClient, String> {
        let client = ClientBuilder::new(settings.secret_key.clone())
            .url(format!("{}/", settings.api_base.trim_end_matches('/')))
            // A stuck Stripe must not hold a customer's request: the page says "try again", and
            // the retry reuses the payment id, hence the idempotency key.
            .timeout(settings.timeout)
            .app_info("Kasse", Some(env!("CARGO_PKG_VERSION").to_string()), None)
            .build()
            .map_err(|e| format!("cannot create the Stripe client: {e}"))?;
        Ok(StripeClient { client, settings })
    }

    /// The Stripe Customer for `payer`: the mirrored one, or a new one (idempotent on `key`).
    pub async fn customer(&self, payer: &Payer<'_>, key: &str) -> Result<String, CustomerError> {
        if let Some(existing) = payer.provider_customer {
            return Ok(existing.to_string());
        }
        let mut create = CreateCustomer::new();
        if let Some(email) = payer.email {
            create = create.email(email);
        }
        if let Some(name) = payer.name {
            create = create.name(name);
        }
        if let Some(id) = payer.customer_id {
            create = create.metadata(HashMap::from([("kasse_customer_id".to_string(), id.to_string())]));
        }
        let strategy = idempotent(key).map_err(CustomerError::Other)?;
        let customer = create.customize().request_strategy(strategy).send(&self.client).await;
        customer.map(|c| c.id.to_string()).map_err(CustomerError::Refused)
    }

    /// What Stripe holds for intent `reference` (`pi_…` or `seti_…`), with its payment method.
    pub async fn retrieve(&self, reference: &str) -> Result<IntentState, ProviderError> {
        let expand = vec!["payment_method".to_string()];
        if reference.starts_with("seti_") {
            let intent = RetrieveSetupIntent::new(reference).expand(expand).send(&self.client).await;
            Ok(setup_state(intent.map_err(unreachable)?))
        } else {
            let intent = RetrievePaymentIntent::new(reference).expand(expand).send(&self.client).await;
            Ok(payment_state(intent.map_err(unreachable)?))
        }
    }
}

/// Why no Stripe Customer came back: Stripe's own answer (judged like an intent's), or ours.
#[derive(Debug)]
pub enum CustomerError {
    Refused(StripeError),
    Other(ProviderError),
}

/// The idempotency key of the Stripe Customer for a charge: one per Kasse customer (or, before
/// the order made one, per checkout or invoice) and what it is created with, so every attempt
/// of one buyer reuses one Stripe Customer instead of leaving one behind per try.
fn customer_key(request: &ChargeRequest<'_>) -> String {
    use sha2::{Digest, Sha256};
    let owner = request
        .payer
        .customer_id
        .or_else(|| request.metadata.iter().find(|(k, _)| *k == "checkout_id" || *k == "invoice_id").map(|(_, v)| *v))
        .unwrap_or(request.payment_id);
    // Stripe refuses a key reused with other parameters: a changed email gets its own key.
    let fields = format!("{}\n{}", request.payer.email.unwrap_or_default(), request.payer.name.unwrap_or_default());
    let digest = hex::encode(&Sha256::digest(fields.as_bytes())[..8]);
    format!("customer-{owner}-{digest}")
}

/// Stripe's view of one intent, in our words: what the return handler and the webhook act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntentState {
    pub reference: String,
    pub status: IntentStatus,
    /// Minor units and the lowercase ISO code as Stripe holds them (0 and "" for SetupIntents).
    pub amount: i64,
    pub currency: String,
    /// Our payment id from the intent's metadata.
    pub payment_id: Option<String>,
    pub client_secret: Option<String>,
    pub customer: Option<String>,
    /// The card (or debit) used, as far as it can be kept for later charges.
    pub method: Option<SavedMethod>,
    /// The last decline, fit to show the customer.
    pub failure: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntentStatus {
    Succeeded,
    /// Accepted, settles later (SEPA debits).
    Processing,
    /// Waiting for the customer: card details, another card, or authentication.
    AwaitingCustomer,
    Canceled,
}

fn status(value: &str) -> IntentStatus {
    match value {
        "succeeded" => IntentStatus::Succeeded,
        "processing" => IntentStatus::Processing,
        "canceled" => IntentStatus::Canceled,
        // requires_payment_method, requires_confirmation, requires_action, requires_capture
        _ => IntentStatus::AwaitingCustomer,
    }
}

fn payment_state(intent: PaymentIntent) -> IntentState {
    let customer = intent.customer.as_ref().map(|c| c.id().to_string());
    let method = intent.payment_method.as_ref().and_then(|m| m.as_object()).and_then(|m| saved(m, &customer));
    IntentState {
        reference: intent.id.to_string(),
        status: status(intent.status.as_str()),
        amount: intent.amount,
        currency: intent.currency.to_string(),
        payment_id: intent.metadata.get(PAYMENT_KEY).cloned(),
        client_secret: intent.client_secret.clone(),
        customer,
        method,
        failure: intent.last_payment_error.as_ref().and_then(|e| e.message.clone()),
    }
}

fn setup_state(intent: SetupIntent) -> IntentState {
    let customer = intent.customer.as_ref().map(|c| c.id().to_string());
    let method = intent.payment_method.as_ref().and_then(|m| m.as_object()).and_then(|m| saved(m, &customer));
    IntentState {
        reference: intent.id.to_string(),
        status: status(intent.status.as_str()),
        amount: 0,
        currency: String::new(),
        payment_id: intent.metadata.as_ref().and_then(|m| m.get(PAYMENT_KEY).cloned()),
        client_secret: intent.client_secret.clone(),
        customer,
        method,
        failure: intent.last_setup_error.as_ref().and_then(|e| e.message.clone()),
    }
}

/// What a page may show of a payment method, and the handles to charge it again.
fn saved(method: &stripe_shared::PaymentMethod, customer: &Option<String>) -> Option<SavedMethod> {
    let (brand, last4, exp_month, exp_year) = match (&method.card, &method.sepa_debit) {
        (Some(card), _) => (capitalised(&card.brand), card.last4.clone(), card.exp_month as i32, card.exp_year as i32),
        (None, Some(sepa)) => ("SEPA Direct Debit".to_string(), sepa.last4.clone().unwrap_or_default(), 0, 0),
        _ => return None,
    };
    Some(SavedMethod {
        provider: ProviderKind::Stripe,
        provider_ref: method.id.to_string(),
        provider_customer: customer.clone(),
        brand,
        last4,
        exp_month,
        exp_year,
    })
}

fn capitalised(brand: &str) -> String {
    match brand {
        "visa" => "Visa".into(),
        "mastercard" => "Mastercard".into(),
        "amex" => "American Express".into(),
        other => {
            let mut chars = other.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
        }
    }
}

fn idempotent(key: &str) -> Result<RequestStrategy, ProviderError> {
    IdempotencyKey::new(key)
        .map(RequestStrategy::Idempotent)
        .map_err(|e| ProviderError(format!("idempotency key '{key}': {e:?}")))
}

/// A failure to get an answer from Stripe (network, timeout, 5xx, a refused key): retry later
/// with the same key. Declines are not errors; they are handled where a charge is made.
fn unreachable(e: StripeError) -> ProviderError {
    match e {
        StripeError::Stripe(errors, status) => {
            ProviderError(format!("Stripe answered {status}: {}", errors.message.as_deref().unwrap_or("no message")))
        }
        other => ProviderError(other.to_string()),
    }
}

/// Whether an intent in `currency` also offers SEPA Direct Debit: euros, and the company
/// activated it (Stripe refuses a method type the account has not).
fn offers_sepa(currency: &str, sepa_debit: bool) -> bool {
    sepa_debit && currency.eq_ignore_ascii_case("EUR")
}

/// The payment method types a PaymentIntent offers: cards, plus SEPA Direct Debit when offered.
fn method_types(currency: &str, sepa_debit: bool) -> Vec<PaymentIntentAllowedPaymentMethodTypes> {
    let mut types = vec![PaymentIntentAllowedPaymentMethodTypes::Card];
    if offers_sepa(currency, sepa_debit) {
        types.push(PaymentIntentAllowedPaymentMethodTypes::SepaDebit);
    }
    types
}

/// The same for a SetupIntent (nothing due today), so a trial collects what a payment would.
fn setup_method_types(currency: &str, sepa_debit: bool) -> Vec<stripe_shared::SetupIntentAllowedPaymentMethodTypes> {
    let mut types = vec![stripe_shared::SetupIntentAllowedPaymentMethodTypes::Card];
    if offers_sepa(currency, sepa_debit) {
        types.push(stripe_shared::SetupIntentAllowedPaymentMethodTypes::SepaDebit);
    }
    types
}

/// What Stripe answered when it refused to create an intent: permanent refusals (invalid
/// parameters, a method type not activated, an amount below Stripe's minimum, an unsupported
/// currency: a 400 or 404) fail the attempt with Stripe's reason; anything else (network,
/// timeout, 5xx, rate limits, a refused key) is worth retrying with the same key.
fn refused_or_unreachable(e: StripeError) -> Result<Outcome, ProviderError> {
    match e {
        StripeError::Stripe(error, status @ (400 | 404)) => {
            let detail = error.message.clone().unwrap_or_else(|| format!("Stripe answered {status}"));
            tracing::warn!(status, code = ?error.code, detail, "Stripe refused to create an intent");
            Ok(Outcome::Failed { reason: format!("This payment cannot be made: {detail}") })
        }
        other => Err(unreachable(other)),
    }
}

fn metadata(request: &ChargeRequest<'_>) -> HashMap<String, String> {
    let mut map: HashMap<String, String> =
        request.metadata.iter().map(|(k, v)| (format!("kasse_{k}"), v.to_string())).collect();
    map.insert(PAYMENT_KEY.to_string(), request.payment_id.to_string());
    map
}

/// The adapter as the pages see it: Stripe plus where its Payment Element page lives.
pub struct StripeProvider {
    pub client: Arc<StripeClient>,
    /// `{action_base}/{payment_id}` is the page that mounts the Payment Element.
    pub action_base: String,
    /// The company offers SEPA Direct Debit for euros.
    pub sepa_debit: bool,
}

impl StripeProvider {
    fn action(&self, payment_id: &str, reference: String) -> Outcome {
        Outcome::RequiresAction { url: format!("{}/{payment_id}", self.action_base), reference }
    }

    /// Charge a saved method without the customer (a one-time invoice's automatic charge).
    async fn off_session(&self, request: &ChargeRequest<'_>, method: &SavedMethod) -> Result<Outcome, ProviderError> {
        let Some(customer) = method.provider_customer.as_deref() else {
            return Ok(Outcome::Failed { reason: "The saved payment method is not usable any more.".into() });
        };
        let create = CreatePaymentIntent::new(request.amount, currency(request.currency))
            .customer(customer)
            .payment_method(method.provider_ref.as_str())
            .off_session(CreatePaymentIntentOffSession::Bool(true))
            .confirm(true)
            .metadata(metadata(request));
        let sent = create.customize().request_strategy(idempotent(request.payment_id)?).send(&self.client.client).await;
        match sent {
            Ok(intent) => Ok(self.outcome(request.payment_id, payment_state(intent))),
            // Declines and "authentication required" come back as 402 card errors that carry
            // the intent: the customer can finish it on the hosted invoice page.
            Err(StripeError::Stripe(error, 402)) => {
                let reason = error.message.clone().unwrap_or_else(|| "Your card was declined.".into());
                let needs_customer = error.code.as_ref().is_some_and(|c| c.as_str() == "authentication_required");
                match error.payment_intent {
                    Some(intent) if needs_customer => Ok(self.action(request.payment_id, intent.id.to_string())),
                    _ => Ok(Outcome::Failed { reason }),
                }
            }
            Err(e) => Err(unreachable(e)),
        }
    }

    /// Our outcome for an intent after a server-side confirmation.
    fn outcome(&self, payment_id: &str, state: IntentState) -> Outcome {
        match state.status {
            IntentStatus::Succeeded => Outcome::Succeeded { reference: state.reference },
            IntentStatus::Processing => Outcome::Pending { reference: state.reference },
            IntentStatus::Canceled => Outcome::Failed { reason: "The payment was canceled.".into() },
            IntentStatus::AwaitingCustomer => match state.failure {
                Some(reason) => Outcome::Failed { reason },
                None => self.action(payment_id, state.reference),
            },
        }
    }
}

fn currency(code: &str) -> stripe_types::Currency {
    // Infallible: an unknown code becomes `Unknown`, which Stripe then refuses by name.
    match stripe_types::Currency::from_str(&code.to_ascii_lowercase()) {
        Ok(c) => c,
        Err(never) => match never {},
    }
}

impl PaymentProvider for StripeProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Stripe
    }

    fn prepare(&self, _amount: i64, _currency: &str) -> PagePayment {
        PagePayment::Element
    }

    /// On-session: create the intent for exactly `amount` and send the customer to the page that
    /// mounts the Payment Element with its client secret. Off-session: confirm it right away.
    async fn charge(&self, request: &ChargeRequest<'_>) -> Result<Outcome, ProviderError> {
        if let Some(method) = request.saved_method {
            return self.off_session(request, method).await;
        }
        let customer = match self.client.customer(&request.payer, &customer_key(request)).await {
            Ok(c) => c,
            Err(CustomerError::Refused(e)) => return refused_or_unreachable(e),
            Err(CustomerError::Other(e)) => return Err(e),
        };
        let key = idempotent(request.payment_id)?;
        let sent = if request.amount == 0 {
            // Nothing due today (a trial, a 100 % discount): collect the method for later.
            let create = CreateSetupIntent::new()
                .customer(customer)
                .usage(CreateSetupIntentUsage::OffSession)
                .allowed_payment_method_types(setup_method_types(request.currency, self.sepa_debit))
                .metadata(metadata(request));
            create.customize().request_strategy(key).send(&self.client.client).await.map(|i| i.id.to_string())
        } else {
            let mut create = CreatePaymentIntent::new(request.amount, currency(request.currency))
                .customer(customer)
                .allowed_payment_method_types(method_types(request.currency, self.sepa_debit))
                .metadata(metadata(request));
            if request.save_for_later {
                create = create.setup_future_usage(PaymentIntentSetupFutureUsage::OffSession);
            }
            create.customize().request_strategy(key).send(&self.client.client).await.map(|i| i.id.to_string())
        };
        match sent {
            Ok(reference) => Ok(self.action(request.payment_id, reference)),
            Err(e) => refused_or_unreachable(e),
        }
    }

    /// Stripe confirms on the customer's side; here we only read back what happened.
    async fn confirm(&self, reference: &str, _approved: bool) -> Result<Outcome, ProviderError> {
        let state = self.client.retrieve(reference).await?;
        let payment_id = state.payment_id.clone().unwrap_or_default();
        Ok(self.outcome(&payment_id, state))
    }
}
