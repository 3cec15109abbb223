//! Coupon and promo-code rules: when a coupon or code may be redeemed, and the engine discount a
//! stored coupon or an order's discount describes. Shared by quotes, checkouts, contracts and
//! the coupon API.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;

use super::validate;
use crate::db::coupons::{Coupon, PromoCode};
use crate::domain::money::Currency;
use crate::domain::order::{DiscountType, DurationKind, Money, OrderDiscount};
use crate::domain::pricing::{Discount, DiscountDuration, DiscountScope, DiscountValue};
use crate::services::error::Error;

/// A timestamp given as RFC 3339 or as a plain date (the end of that day, UTC).
pub fn parse_expiry(param: &str, value: &str) -> Result<DateTime<Utc>, Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value.trim()) {
        return validate::date_in_range(param, t.with_timezone(&Utc));
    }
    let t = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.succ_opt())
        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
        .ok_or_else(|| {
            Error::invalid(param, format!("`{param}` must be a date (2026-12-31) or an RFC 3339 timestamp."))
        })?;
    validate::date_in_range(param, t)
}

/// A start moment given as RFC 3339 or as a plain date (the start of that day, UTC).
pub fn parse_start(param: &str, value: &str) -> Result<DateTime<Utc>, Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value.trim()) {
        return validate::date_in_range(param, t.with_timezone(&Utc));
    }
    let t = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map(|d| d.and_time(NaiveTime::MIN).and_utc()).map_err(
        |_| Error::invalid(param, format!("`{param}` must be a date (2026-12-31) or an RFC 3339 timestamp.")),
    )?;
    validate::date_in_range(param, t)
}

/// A percent fraction: above 0, at most 1.
pub fn parse_percent(param: &str, n: &serde_json::Number) -> Result<Decimal, Error> {
    let d = Decimal::from_str(&n.to_string())
        .or_else(|_| Decimal::from_scientific(&n.to_string()))
        .map_err(|_| Error::invalid(param, format!("`{param}` must be a number.")))?;
    if d <= Decimal::ZERO || d > Decimal::ONE {
        return Err(Error::invalid(param, format!("`{param}` is a fraction above 0 and at most 1 (0.25 = 25 %).")));
    }
    Ok(d.normalize())
}

/// Money in `currency`: the currency must match the quote's, the amount must be sane.
pub fn money_in(param: &str, money: &Money, currency: Currency) -> Result<i64, Error> {
    let given = validate::currency(&format!("{param}.currency"), &money.currency)?;
    if given != currency {
        return Err(Error::invalid(
            format!("{param}.currency"),
            format!("This amount is in {given}, but the prices are in {currency}."),
        )
        .with_code("currency_mismatch"));
    }
    validate::amount(&format!("{param}.value_in_cents"), money.value_in_cents)
}

fn duration(param: &str, kind: Option<DurationKind>, periods: Option<i64>) -> Result<DiscountDuration, Error> {
    match (kind.unwrap_or(DurationKind::Forever), periods) {
        (DurationKind::Once | DurationKind::Forever, Some(_)) => Err(Error::invalid(
            validate::join(param, "duration_periods"),
            "`duration_periods` applies only to duration REPEATING.",
        )),
        (DurationKind::Once, None) => Ok(DiscountDuration::Once),
        (DurationKind::Forever, None) => Ok(DiscountDuration::Forever),
        (DurationKind::Repeating, None) => Err(Error::missing(validate::join(param, "duration_periods"))),
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
) -> Result<DiscountScope, Error> {
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
        [_, (name, _), ..] => Err(Error::invalid(
            validate::join(param, name),
            "A discount applies to one product, product pricing, item or one-time item: name at most one.",
        )),
    }
}

/// An inline discount in the quote's `currency`. (A body naming `coupon_id` is resolved by the caller.)
pub fn from_body(param: &str, body: &OrderDiscount, currency: Currency) -> Result<Discount, Error> {
    // The seeds send `amount` and `percent` together whatever the type; the type decides which counts.
    let value = match body.kind {
        DiscountType::DiscountPercent => {
            let n = body.percent.as_ref().ok_or_else(|| Error::missing(format!("{param}.percent")))?;
            DiscountValue::Percent(parse_percent(&format!("{param}.percent"), n)?)
        }
        DiscountType::DiscountAmount => {
            let m = body.amount.as_ref().ok_or_else(|| Error::missing(format!("{param}.amount")))?;
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
) -> Result<(DurationKind, Option<i32>), Error> {
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
) -> Result<DiscountScope, Error> {
    scope(param, product, pricing, item, None)
}
