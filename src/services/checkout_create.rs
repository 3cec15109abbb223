//! Creating a checkout session, whichever way it is asked for (the API's checkout, seed-001
//! sessions, a link visit, a contract): the customer and locale checked, the whole order priced
//! once, the session stored.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::db;
use crate::db::checkouts::CheckoutSession;
use crate::domain::checkout::Status;
use crate::domain::ids::{self, prefix};
use crate::domain::order::Order;
use crate::services::checkout::{Entered, Options};
use crate::services::error::{Error, ServiceResult};
use crate::services::validate;
use crate::state::AppState;

/// Hosted URL of a session.
pub fn session_url(state: &AppState, token: &str) -> String {
    format!("{}/checkout/{token}", state.public_url)
}

/// An absolute http(s) URL a customer may be sent to.
pub fn check_url(param: &str, url: &str) -> ServiceResult<String> {
    let url = url.trim();
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.starts_with('/')
                && url.len() <= 2000
                && !url.contains(char::is_whitespace) =>
        {
            Ok(url.to_string())
        }
        _ => Err(Error::invalid(param, format!("`{param}` must be an http:// or https:// URL."))),
    }
}

/// Everything a new session needs, whichever API made it.
pub struct NewSession {
    pub source: &'static str,
    pub link_id: Option<String>,
    pub customer_id: Option<String>,
    pub order: Order,
    pub promo_code: Option<String>,
    pub options: Options,
    pub extra: serde_json::Value,
    pub metadata: serde_json::Value,
    pub locale: Option<String>,
    /// Hours until expiry; 0 = never.
    pub expires_in_hours: i64,
    /// The company's `cache_version` when the caller read the company (the API's tenant):
    /// the order's pricings may then come from memory.
    pub cache_version: Option<i64>,
}

/// Check a new session (customer, catalog ids, quantities, discounts, promo code: the whole
/// order is priced once) and store it.
pub async fn create_session(state: &AppState, company_id: &str, new: NewSession) -> ServiceResult<CheckoutSession> {
    let (session, _) = build_session(state, company_id, new).await?;
    db::checkouts::insert(&state.db, &session).await?;
    Ok(session)
}

/// Check a new session as [`create_session`] does, without storing it; also returns its quote
/// (a contract stores the session with itself, and shows the quote's values).
pub async fn build_session(
    state: &AppState,
    company_id: &str,
    new: NewSession,
) -> ServiceResult<(CheckoutSession, crate::domain::pricing::Quote)> {
    let customer_id = match &new.customer_id {
        Some(id) => {
            let c = db::customers::get(&state.db, company_id, id)
                .await?
                .ok_or_else(|| Error::unknown_ref("customer_id", "customer", id))?;
            if c.archived_at.is_some() {
                return Err(Error::invalid("customer_id", "This customer is archived."));
            }
            Some(c.id)
        }
        None => None,
    };
    let expires_in_hours = validate::count("expires_in_hours", new.expires_in_hours, 0, 24 * 365)?;
    let locale = validate::locale("locale", new.locale.as_deref())?;
    let spec = crate::services::quote::QuoteSpec {
        cache_version: new.cache_version,
        ..crate::services::quote::of_order(&new.order, new.promo_code.as_deref())
    };
    let resolved = crate::services::quote::resolve(state, company_id, &spec).await?;
    let quote = crate::domain::pricing::quote(&resolved.input).map_err(crate::services::quote::pricing_error)?;

    let now = state.clock.now();
    let checked = Checked {
        customer_id,
        currency: resolved.input.currency.code().to_string(),
        entered: Entered { promo_code: resolved.promo.as_ref().map(|(_, code)| code.clone()), ..Entered::default() },
        locale,
        expires_at: (expires_in_hours > 0).then(|| now + Duration::hours(expires_in_hours)),
    };
    let session = session_row(company_id, new, checked, now);
    Ok((session, quote))
}

/// What checking a new session found, beside the order it was asked for.
pub struct Checked {
    pub customer_id: Option<String>,
    pub currency: String,
    pub entered: Entered,
    pub locale: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The row of a new session: stored by [`create_session`], kept in memory by a link's preview.
pub fn session_row(company_id: &str, new: NewSession, checked: Checked, now: DateTime<Utc>) -> CheckoutSession {
    CheckoutSession {
        id: ids::new_id(prefix::CHECKOUT, now),
        company_id: company_id.to_string(),
        token: ids::token(),
        source: new.source.to_string(),
        link_id: new.link_id,
        status: Status::Created.as_str().to_string(),
        customer_id: checked.customer_id,
        currency: checked.currency,
        order_spec: json(&new.order),
        options: json(&new.options),
        entered: json(&checked.entered),
        extra: new.extra.to_string(),
        metadata: new.metadata.to_string(),
        locale: checked.locale,
        expires_at: checked.expires_at,
        paying_until: None,
        completed_at: None,
        subscription_id: None,
        invoice_id: None,
        payment_id: None,
        created_at: now,
        updated_at: now,
        redemption_counted: None,
        cache_version: None,
    }
}

/// JSON of our own plain structs (maps with string keys, options, numbers), which always serialize.
fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string())
}
