//! A checkout session's behaviour (options), what the customer has entered, and the quote the
//! two come to. Shared by the merchant API (which shows the quote) and the hosted page.

use serde::{Deserialize, Serialize};

use crate::db::checkouts::CheckoutSession;
pub use crate::domain::order::Entered;
use crate::domain::order::Order;
use crate::domain::pricing::{self, Quote};
use crate::domain::redemption::Redemption;
use crate::payments::ProviderKind;
use crate::services::error::{Error, ServiceResult};
use crate::services::quote::{self as quote_spec, QuoteSpec, ResolvedQuote};
use crate::state::AppState;

/// What happens after a completed checkout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompletionAction {
    /// Show the confirmation message and the order summary.
    #[default]
    ConfirmationMessage,
    /// 303 to `redirect_url` with the checkout's ids in the query.
    Redirect,
}

/// How the hosted page behaves, fixed when the session is created.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Options {
    #[serde(default)]
    pub allow_promo_code: bool,
    #[serde(default)]
    pub completion_action: CompletionAction,
    pub confirmation_message: Option<String>,
    pub redirect_url: Option<String>,
    /// The "back to merchant" link.
    pub back_url: Option<String>,
    #[serde(default)]
    pub requires_customer_address: bool,
    #[serde(default)]
    pub requires_phone: bool,
    /// Ask for a company name; `require_company` makes it mandatory (business purchases).
    #[serde(default)]
    pub collect_company: bool,
    #[serde(default)]
    pub require_company: bool,
    /// `sandbox` (cards) or `manual` (invoice with instructions).
    #[serde(default = "default_provider")]
    pub provider: String,
    pub payment_instructions: Option<String>,
    /// Keep the card for later charges.
    #[serde(default)]
    pub save_payment_method: bool,
    pub billing_day_anchor: Option<u32>,
    /// Days until payment is due for manual invoices.
    pub net_terms: Option<u32>,
}

fn default_provider() -> String {
    ProviderKind::Sandbox.as_str().to_string()
}

impl Options {
    /// Manual when the session takes no card; otherwise the company's card provider (its
    /// current choice, so switching a company to Stripe also moves its open sessions).
    pub fn provider(&self, company_provider: &str) -> ProviderKind {
        if self.provider == ProviderKind::Manual.as_str() {
            ProviderKind::Manual
        } else {
            ProviderKind::parse(company_provider).unwrap_or(ProviderKind::Sandbox)
        }
    }
}

/// A session's order and options, read from their stored JSON.
#[derive(Clone)]
pub struct Parsed {
    pub order: Order,
    pub options: Options,
    pub entered: Entered,
}

fn corrupt(what: &str, session: &CheckoutSession) -> Error {
    Error::internal(format!("checkout {} has unreadable {what}", session.id))
}

pub fn parse(session: &CheckoutSession) -> ServiceResult<Parsed> {
    Ok(Parsed {
        order: serde_json::from_str(&session.order_spec).map_err(|_| corrupt("order_spec", session))?,
        options: serde_json::from_str(&session.options).map_err(|_| corrupt("options", session))?,
        entered: serde_json::from_str(&session.entered).map_err(|_| corrupt("entered", session))?,
    })
}

/// A quantity the customer may change on the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjustable {
    /// The key in `Entered::quantities`: an item pricing id, or a product pricing id.
    pub key: String,
    pub min: i64,
    pub max: i64,
}

/// The key under which the customer's quantity for config item `c` is kept: its item, else its
/// plan, else the order's only plan (as `quote_spec` reads such an item).
pub fn config_key(order: &Order, c: &crate::domain::order::ConfigItem) -> Option<String> {
    c.product_metric_pricing_id.clone().or_else(|| c.product_pricing_id.clone()).or_else(|| {
        match order.product_pricing_ids.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        }
    })
}

fn adjustable_config(c: &crate::domain::order::ConfigItem) -> bool {
    c.quantity_config.is_some_and(|q| q.allow_custom_quantity == Some(true))
}

/// The quantities the customer may change: config items with `allow_custom_quantity`.
pub fn adjustable(order: &Order) -> Vec<Adjustable> {
    order
        .config_items
        .iter()
        .filter(|c| adjustable_config(c))
        .filter_map(|c| {
            let key = config_key(order, c)?;
            let q = c.quantity_config?;
            let min = q.min_quantity.into_iter().chain(c.minimum_units).max().unwrap_or(0);
            Some(Adjustable { key, min, max: q.max_quantity.unwrap_or(crate::services::validate::QUANTITY_MAX) })
        })
        .collect()
}

/// The order with the customer's quantities applied to the adjustable config items.
pub fn with_quantities(order: &Order, entered: &Entered) -> Order {
    let mut out = order.clone();
    for (c, original) in out.config_items.iter_mut().zip(&order.config_items) {
        if !adjustable_config(original) {
            continue;
        }
        if let Some(q) = config_key(order, original).and_then(|k| entered.quantities.get(&k)) {
            c.num_licenses = Some(*q);
        }
    }
    out
}

/// A session priced as the customer sees it now.
pub struct Priced {
    pub quote: Quote,
    pub resolved: ResolvedQuote,
    /// The customer's promo code was refused: why (shown beside the field). The quote is then without it.
    pub promo_error: Option<Error>,
    /// The customer's waiting one-time charges (NEXT) this quote includes in today's charge;
    /// fulfilment puts exactly these on the checkout's invoice.
    pub billables: Vec<String>,
}

impl Priced {
    /// Whether the payment method is kept for later charges: the customer agreed (the
    /// option), or a subscription will charge it again.
    pub fn keeps_method(&self, options: &Options) -> bool {
        options.save_payment_method || !self.quote.recurring.is_empty()
    }

    /// The promo code and stored coupons this order redeems, which it must hold before it is paid.
    pub fn redemption(&self) -> Option<Redemption> {
        Redemption::of(self.resolved.promo.as_ref().map(|(id, _)| id.as_str()), &self.resolved.coupons)
    }
}

/// Price the session with what the customer entered. An error names the field at fault
/// (`config_items[0].num_licenses` for a quantity out of bounds).
pub async fn price(
    state: &AppState,
    session: &CheckoutSession,
    order: &Order,
    entered: &Entered,
) -> ServiceResult<Priced> {
    let order = with_quantities(order, entered);
    // (A contract's order is paid as signed: a code entered on it is never applied.)
    let promo = entered.promo_code.as_deref().filter(|c| !c.trim().is_empty() && session.source != "CONTRACT");
    // The redemptions this session already holds do not count against their own limits.
    let counted = crate::services::redemptions::counted(session);
    let spec = |promo| QuoteSpec {
        counted: counted.as_ref(),
        cache_version: session.cache_version,
        ..quote_spec::of_order(&order, promo)
    };
    let (resolved, promo_error) = match quote_spec::resolve(state, &session.company_id, &spec(promo)).await {
        Ok(r) => (r, None),
        Err(e) if promo.is_some() && e.field.as_deref() == Some("promo_code") => {
            (quote_spec::resolve(state, &session.company_id, &spec(None)).await?, Some(e))
        }
        Err(e) => return Err(e),
    };
    let mut quote = pricing::quote(&resolved.input).map_err(crate::services::quote::pricing_error)?;
    let billables = match waiting_charges_of(session) {
        Some(customer_id) => {
            let waiting = crate::db::onetimes::pending(&state.db, customer_id, &session.currency).await?;
            quote_spec::add_to_quote(&mut quote, &waiting);
            waiting.into_iter().map(|b| b.id).collect()
        }
        None => Vec::new(),
    };
    Ok(Priced { quote, resolved, promo_error, billables })
}

/// Whether the customer may enter a promo code on this session's page: the merchant allowed it,
/// and it is not a contract's payment step (a signed order is paid as signed, never lower).
pub fn takes_promo_code(session: &CheckoutSession, options: &Options) -> bool {
    options.allow_promo_code && session.source != "CONTRACT"
}

/// Whose waiting one-time charges a session's first invoice takes: a known customer's, on a
/// plain checkout. A contract's order is what was signed, so its charges wait for another.
fn waiting_charges_of(session: &CheckoutSession) -> Option<&str> {
    session.customer_id.as_deref().filter(|_| session.source != "CONTRACT")
}
