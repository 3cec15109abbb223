//! Discounts as the API writes them (the seeds' shape), converted into the stored order's discounts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::order::{Money, OrderDiscount};
use crate::error::ApiError;
use crate::services::validate;
// The rules live in the coupon service; the API handlers name them through here.
pub use crate::services::coupons::{
    PromoRejection, coupon_duration, coupon_scope, coupon_usable, from_body, from_coupon, money_in, parse_expiry,
    parse_percent, parse_start, promo_usable,
};

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
