//! Discounts as the API writes them (the seeds' shape) and as coupons store them, turned into engine discounts.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::validate;
use crate::db::coupons::{Coupon, PromoCode};
use crate::domain::money::Currency;
use crate::domain::order::{Money, OrderDiscount};
use crate::domain::pricing::{Discount, DiscountDuration, DiscountScope, DiscountValue};
use crate::error::ApiError;

/// An amount with its currency, as the seeds write money.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyBody {
    /// ISO 4217 code.
    #[schema(min_length = 3, max_length = 3)]
    pub currency: String,
    /// Minor units of `currency` (cents for USD, yen for JPY, fils for BHD).
    pub value_in_cents: i64,
}

// The discount's type and duration are the stored order's own enums (`domain::order`): the
// API's words for them are the stored ones, documented here.
pub use crate::domain::order::{DiscountType, DurationKind};

impl utoipa::PartialSchema for DiscountType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        super::extract::status_schema(["DISCOUNT_PERCENT", "DISCOUNT_AMOUNT"]).into()
    }
}
impl ToSchema for DiscountType {}

impl utoipa::PartialSchema for DurationKind {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        super::extract::status_schema(["ONCE", "FOREVER", "REPEATING"]).into()
    }
}
impl ToSchema for DurationKind {}

impl From<&MoneyBody> for Money {
    fn from(m: &MoneyBody) -> Money {
        Money { currency: m.currency.clone(), value_in_cents: m.value_in_cents }
    }
}

/// A discount given inline with a quote, checkout or contract (the seeds' `discounts[]`).
/// Fields the seeds carry for other systems (`import_ref`, `proposal_id`, …) are accepted and ignored.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountBody {
    #[serde(rename = "type")]
    pub kind: DiscountType,
    /// DISCOUNT_PERCENT: the share as a fraction, `0.5` = 50 %.
    #[schema(value_type = Option<f64>)]
    pub percent: Option<serde_json::Number>,
    /// DISCOUNT_AMOUNT: the amount taken off each charge it applies to.
    pub amount: Option<MoneyBody>,
    /// The most this discount takes off one charge.
    pub cap: Option<MoneyBody>,
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// Apply a stored coupon instead of describing the discount inline.
    #[schema(max_length = 64)]
    pub coupon_id: Option<String>,
    #[schema(max_length = 64)]
    pub product_id: Option<String>,
    #[schema(max_length = 64)]
    pub product_pricing_id: Option<String>,
    #[schema(max_length = 64)]
    pub item_pricing_id: Option<String>,
    #[schema(max_length = 100)]
    pub onetime_billable_id: Option<String>,
    /// Not applied to charges on or after this date (a date means the end of that day, UTC).
    #[schema(max_length = 35)]
    pub expiration_date: Option<String>,
    /// ONCE, FOREVER (default) or REPEATING.
    pub duration: Option<DurationKind>,
    /// REPEATING: how many charges.
    pub duration_periods: Option<i64>,
    #[schema(max_length = 64)]
    pub customer_id: Option<String>,
    #[schema(max_length = 200)]
    pub subscription_id: Option<String>,
    #[schema(max_length = 200)]
    pub proposal_id: Option<String>,
    #[schema(max_length = 40)]
    pub state: Option<String>,
    #[schema(max_length = 200)]
    pub import_created_at_ref: Option<String>,
    #[schema(max_length = 200)]
    pub import_ref: Option<String>,
    #[schema(max_length = 200)]
    pub imported_from: Option<String>,
}

/// A timestamp given as RFC 3339 or as a plain date (the end of that day, UTC).
pub fn parse_expiry(param: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value.trim()) {
        return validate::date_in_range(param, t.with_timezone(&Utc));
    }
    let t = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.succ_opt())
        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
        .ok_or_else(|| {
            ApiError::invalid(param, format!("`{param}` must be a date (2026-12-31) or an RFC 3339 timestamp."))
        })?;
    validate::date_in_range(param, t)
}

/// A start moment given as RFC 3339 or as a plain date (the start of that day, UTC).
pub fn parse_start(param: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value.trim()) {
        return validate::date_in_range(param, t.with_timezone(&Utc));
    }
    let t = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map(|d| d.and_time(NaiveTime::MIN).and_utc()).map_err(
        |_| ApiError::invalid(param, format!("`{param}` must be a date (2026-12-31) or an RFC 3339 timestamp.")),
    )?;
    validate::date_in_range(param, t)
}

/// A percent fraction: above 0, at most 1.
pub fn parse_percent(param: &str, n: &serde_json::Number) -> Result<Decimal, ApiError> {
    let d = Decimal::from_str(&n.to_string())
        .or_else(|_| Decimal::from_scientific(&n.to_string()))
        .map_err(|_| ApiError::invalid(param, format!("`{param}` must be a number.")))?;
    if d <= Decimal::ZERO || d > Decimal::ONE {
        return Err(ApiError::invalid(param, format!("`{param}` is a fraction above 0 and at most 1 (0.25 = 25 %).")));
    }
    Ok(d.normalize())
}

/// Money in `currency`: the currency must match the quote's, the amount must be sane.
pub fn money_in(param: &str, money: &Money, currency: Currency) -> Result<i64, ApiError> {
    let given = validate::currency(&format!("{param}.currency"), &money.currency)?;
    if given != currency {
        return Err(ApiError::invalid(
            format!("{param}.currency"),
            format!("This amount is in {given}, but the prices are in {currency}."),
        )
        .with_code("currency_mismatch"));
    }
    validate::amount(&format!("{param}.value_in_cents"), money.value_in_cents)
}

fn duration(param: &str, kind: Option<DurationKind>, periods: Option<i64>) -> Result<DiscountDuration, ApiError> {
    match (kind.unwrap_or(DurationKind::Forever), periods) {
        (DurationKind::Once | DurationKind::Forever, Some(_)) => Err(ApiError::invalid(
            validate::join(param, "duration_periods"),
            "`duration_periods` applies only to duration REPEATING.",
        )),
        (DurationKind::Once, None) => Ok(DiscountDuration::Once),
        (DurationKind::Forever, None) => Ok(DiscountDuration::Forever),
        (DurationKind::Repeating, None) => Err(ApiError::missing(validate::join(param, "duration_periods"))),
        (DurationKind::Repeating, Some(n)) => {
            let n = validate::count(&validate::join(param, "duration_periods"), n, 1, 1000)?;
            Ok(DiscountDuration::Periods(u32::try_from(n).unwrap_or(1)))
        }
    }
}

/// The scope named by at most one of the id fields.
fn scope(
    param: &str,
    product: Option<&str>,
    pricing: Option<&str>,
    item: Option<&str>,
    onetime: Option<&str>,
) -> Result<DiscountScope, ApiError> {
    let given: Vec<_> = [
        ("product_id", product.map(|s| DiscountScope::Product(s.to_string()))),
        ("product_pricing_id", pricing.map(|s| DiscountScope::ProductPricing(s.to_string()))),
        ("item_pricing_id", item.map(|s| DiscountScope::Item(s.to_string()))),
        ("onetime_billable_id", onetime.map(|s| DiscountScope::OneTimeBillable(s.to_string()))),
    ]
    .into_iter()
    .filter_map(|(name, s)| s.map(|s| (name, s)))
    .collect();
    match given.as_slice() {
        [] => Ok(DiscountScope::All),
        [(_, s)] => Ok(s.clone()),
        [_, (name, _), ..] => Err(ApiError::invalid(
            validate::join(param, name),
            "A discount applies to one product, product pricing, item or one-time item: name at most one.",
        )),
    }
}

impl DiscountBody {
    /// The discount as an order stores it; the fields kept only for the seeds are checked for
    /// their documented length and dropped.
    pub fn to_stored(&self, param: &str) -> Result<OrderDiscount, ApiError> {
        validate::ignored(
            param,
            &[
                ("customer_id", self.customer_id.as_deref(), 64),
                ("subscription_id", self.subscription_id.as_deref(), 200),
                ("proposal_id", self.proposal_id.as_deref(), 200),
                ("state", self.state.as_deref(), 40),
                ("import_created_at_ref", self.import_created_at_ref.as_deref(), 200),
                ("import_ref", self.import_ref.as_deref(), 200),
                ("imported_from", self.imported_from.as_deref(), 200),
            ],
        )?;
        Ok(OrderDiscount {
            kind: self.kind,
            percent: self.percent.clone(),
            amount: self.amount.as_ref().map(Into::into),
            cap: self.cap.as_ref().map(Into::into),
            name: self.name.clone(),
            coupon_id: self.coupon_id.clone(),
            product_id: self.product_id.clone(),
            product_pricing_id: self.product_pricing_id.clone(),
            item_pricing_id: self.item_pricing_id.clone(),
            onetime_billable_id: self.onetime_billable_id.clone(),
            expiration_date: self.expiration_date.clone(),
            duration: self.duration,
            duration_periods: self.duration_periods,
        })
    }
}

/// Every discount of a request as an order stores it.
pub fn to_stored(discounts: &[DiscountBody]) -> Result<Vec<OrderDiscount>, ApiError> {
    discounts.iter().enumerate().map(|(i, d)| d.to_stored(&format!("discounts[{i}]"))).collect()
}

/// An inline discount in the quote's `currency`. (A body naming `coupon_id` is resolved by the caller.)
pub fn from_body(param: &str, body: &OrderDiscount, currency: Currency) -> Result<Discount, ApiError> {
    // The seeds send `amount` and `percent` together whatever the type; the type decides which counts.
    let value = match body.kind {
        DiscountType::DiscountPercent => {
            let n = body.percent.as_ref().ok_or_else(|| ApiError::missing(format!("{param}.percent")))?;
            DiscountValue::Percent(parse_percent(&format!("{param}.percent"), n)?)
        }
        DiscountType::DiscountAmount => {
            let m = body.amount.as_ref().ok_or_else(|| ApiError::missing(format!("{param}.amount")))?;
            DiscountValue::Amount(money_in(&format!("{param}.amount"), m, currency)?)
        }
    };
    let cap = match &body.cap {
        Some(c) => Some(money_in(&format!("{param}.cap"), c, currency)?),
        None => None,
    };
    let name = validate::opt_text(&format!("{param}.name"), body.name.as_deref(), validate::NAME_MAX)?
        .unwrap_or_else(|| default_name(&value, currency));
    let expires_at = match body.expiration_date.as_deref() {
        Some(d) => Some(parse_expiry(&format!("{param}.expiration_date"), d)?),
        None => None,
    };
    Ok(Discount {
        name,
        value,
        cap,
        scope: scope(
            param,
            body.product_id.as_deref(),
            body.product_pricing_id.as_deref(),
            body.item_pricing_id.as_deref(),
            body.onetime_billable_id.as_deref(),
        )?,
        expires_at,
        duration: duration(param, body.duration, body.duration_periods)?,
    })
}

fn default_name(value: &DiscountValue, currency: Currency) -> String {
    match value {
        DiscountValue::Percent(p) => format!("{}% off", (p * Decimal::ONE_HUNDRED).normalize()),
        DiscountValue::Amount(a) => format!("{a} {currency} minor units off"),
    }
}

/// Why a promo code cannot be used; the message is fit to show a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromoRejection {
    Unknown,
    Inactive,
    Expired,
    Exhausted,
    WrongCurrency,
}

impl PromoRejection {
    pub fn code(self) -> &'static str {
        match self {
            PromoRejection::Unknown => "promo_code_unknown",
            PromoRejection::Inactive => "promo_code_inactive",
            PromoRejection::Expired => "promo_code_expired",
            PromoRejection::Exhausted => "promo_code_exhausted",
            PromoRejection::WrongCurrency => "promo_code_not_applicable",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            PromoRejection::Unknown => "This promo code does not exist. Check the spelling.",
            PromoRejection::Inactive => "This promo code is no longer active.",
            PromoRejection::Expired => "This promo code has expired.",
            PromoRejection::Exhausted => "This promo code has been used up.",
            PromoRejection::WrongCurrency => "This promo code does not apply to this purchase.",
        }
    }
}

/// Whether a coupon may still be applied at `now`.
pub fn coupon_usable(coupon: &Coupon, now: DateTime<Utc>) -> Result<(), PromoRejection> {
    if coupon.archived_at.is_some() {
        return Err(PromoRejection::Inactive);
    }
    if coupon.expires_at.is_some_and(|t| t <= now) {
        return Err(PromoRejection::Expired);
    }
    if coupon.max_redemptions.is_some_and(|max| coupon.times_redeemed >= max) {
        return Err(PromoRejection::Exhausted);
    }
    Ok(())
}

/// Whether a promo code (and its coupon) may be redeemed at `now`.
pub fn promo_usable(promo: &PromoCode, coupon: &Coupon, now: DateTime<Utc>) -> Result<(), PromoRejection> {
    if promo.archived_at.is_some() {
        return Err(PromoRejection::Inactive);
    }
    if promo.expires_at.is_some_and(|t| t <= now) {
        return Err(PromoRejection::Expired);
    }
    if promo.max_redemptions.is_some_and(|max| promo.times_redeemed >= max) {
        return Err(PromoRejection::Exhausted);
    }
    coupon_usable(coupon, now)
}

/// The engine discount a stored coupon describes, in the quote's `currency`.
pub fn from_coupon(coupon: &Coupon, currency: Currency) -> Result<Discount, PromoRejection> {
    let corrupt = || {
        tracing::error!(coupon = %coupon.id, "coupon row is unreadable");
        PromoRejection::Inactive
    };
    if let Some(code) = &coupon.currency
        && Currency::parse(code).map_err(|_| corrupt())? != currency
    {
        return Err(PromoRejection::WrongCurrency);
    }
    let value = match coupon.discount_type.as_str() {
        "PERCENT" => {
            let p = coupon.percent.as_deref().and_then(|p| Decimal::from_str(p).ok()).ok_or_else(corrupt)?;
            DiscountValue::Percent(p)
        }
        "AMOUNT" => DiscountValue::Amount(coupon.amount.ok_or_else(corrupt)?),
        _ => return Err(corrupt()),
    };
    let id = coupon.scope_id.clone().unwrap_or_default();
    let scope = match coupon.scope_type.as_str() {
        "ALL" => DiscountScope::All,
        "PRODUCT" => DiscountScope::Product(id),
        "PRODUCT_PRICING" => DiscountScope::ProductPricing(id),
        "ITEM_PRICING" => DiscountScope::Item(id),
        _ => return Err(corrupt()),
    };
    let duration = match (coupon.duration.as_str(), coupon.duration_periods) {
        ("ONCE", _) => DiscountDuration::Once,
        ("FOREVER", _) => DiscountDuration::Forever,
        ("REPEATING", Some(n)) => DiscountDuration::Periods(u32::try_from(n).map_err(|_| corrupt())?),
        _ => return Err(corrupt()),
    };
    Ok(Discount { name: coupon.name.clone(), value, cap: coupon.cap, scope, expires_at: coupon.expires_at, duration })
}

/// Validate the `duration`/`duration_periods` pair of a coupon; shared with `from_body`.
pub fn coupon_duration(
    param: &str,
    kind: Option<DurationKind>,
    periods: Option<i64>,
) -> Result<(DurationKind, Option<i32>), ApiError> {
    let kind = kind.unwrap_or(DurationKind::Forever);
    match duration(param, Some(kind), periods)? {
        DiscountDuration::Periods(n) => Ok((kind, Some(i32::try_from(n).unwrap_or(1)))),
        _ => Ok((kind, None)),
    }
}

/// Validate a coupon's scope fields: at most one id.
pub fn coupon_scope(
    param: &str,
    product: Option<&str>,
    pricing: Option<&str>,
    item: Option<&str>,
) -> Result<DiscountScope, ApiError> {
    scope(param, product, pricing, item, None)
}
