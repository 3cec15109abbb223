//! The order as the API's requests write it (the seeds' `config_items`, `onetime_items`, …),
//! converted at the edge into the stored order (`domain::order`) that quotes are made from.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::discounts::{self, DiscountBody, MoneyBody};
use super::price_spec::PeriodBody;
use crate::domain::order::{self, Order};
use crate::error::ApiResult;

/// The range of quantities a customer may choose (seed `quantity_config`).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuantityConfig {
    /// Whether the customer may change the quantity on the hosted page.
    pub allow_custom_quantity: Option<bool>,
    pub min_quantity: Option<i64>,
    pub max_quantity: Option<i64>,
}

/// A quantity for items of a plan (seed `config_items[]`).
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigItem {
    /// The plan the item belongs to; must be one of `product_pricing_ids`.
    #[schema(max_length = 64)]
    pub product_pricing_id: Option<String>,
    /// The item pricing this quantity is for; without it, the quantity applies to every
    /// licensed item of `product_pricing_id`.
    #[schema(max_length = 64)]
    pub product_metric_pricing_id: Option<String>,
    /// The quantity (seats, licenses, units).
    pub num_licenses: Option<i64>,
    /// The least quantity allowed.
    pub minimum_units: Option<i64>,
    pub quantity_config: Option<QuantityConfig>,
    /// CUSTOMER_CHOSEN items: the amount chosen, in minor units (default: the preset).
    pub custom_amount: Option<i64>,
    /// Accepted for compatibility; Kasse does not offer upsells.
    #[schema(max_length = 64)]
    pub upsell_product_metric_pricing_id: Option<String>,
}

/// A custom one-time price (seed `onetime_items[].custom_price`).
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomPrice {
    pub amount: MoneyBody,
    /// Shown as the line's name; default: the product's name.
    #[schema(max_length = 200)]
    pub description: Option<String>,
    #[schema(min_length = 1, max_length = 64)]
    pub product_id: String,
}

/// A one-time charge (seed `onetime_items[]`): a one-time product pricing or a custom price.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OneTimeItem {
    /// The quantity.
    pub aggregate: Option<i64>,
    #[schema(max_length = 64)]
    pub product_pricing_id: Option<String>,
    pub custom_price: Option<CustomPrice>,
    pub quantity_config: Option<QuantityConfig>,
    /// A reference of your choosing; a discount with the same `onetime_billable_id` applies to this item only.
    #[schema(max_length = 100)]
    pub onetime_billable_id: Option<String>,
}

impl From<&QuantityConfig> for order::QuantityConfig {
    fn from(q: &QuantityConfig) -> Self {
        order::QuantityConfig {
            allow_custom_quantity: q.allow_custom_quantity,
            min_quantity: q.min_quantity,
            max_quantity: q.max_quantity,
        }
    }
}

impl From<&ConfigItem> for order::ConfigItem {
    fn from(c: &ConfigItem) -> Self {
        order::ConfigItem {
            product_pricing_id: c.product_pricing_id.clone(),
            product_metric_pricing_id: c.product_metric_pricing_id.clone(),
            num_licenses: c.num_licenses,
            minimum_units: c.minimum_units,
            quantity_config: c.quantity_config.as_ref().map(Into::into),
            custom_amount: c.custom_amount,
        }
    }
}

impl From<&CustomPrice> for order::CustomPrice {
    fn from(cp: &CustomPrice) -> Self {
        order::CustomPrice {
            amount: (&cp.amount).into(),
            description: cp.description.clone(),
            product_id: cp.product_id.clone(),
        }
    }
}

impl From<&OneTimeItem> for order::OneTimeItem {
    fn from(o: &OneTimeItem) -> Self {
        order::OneTimeItem {
            aggregate: o.aggregate,
            product_pricing_id: o.product_pricing_id.clone(),
            custom_price: o.custom_price.as_ref().map(Into::into),
            quantity_config: o.quantity_config.as_ref().map(Into::into),
            onetime_billable_id: o.onetime_billable_id.clone(),
        }
    }
}

/// Declares a request body that carries an order (checkout creation, contract creation, the
/// pricing preview): the order's fields, the same in every such body, then the body's own, and
/// `order()`, the stored order they ask for. A macro because `#[serde(flatten)]` cannot be
/// combined with `deny_unknown_fields`, which every request body has.
macro_rules! order_body {
    ($(#[$meta:meta])* pub struct $name:ident { $($own:tt)* }) => {
        $(#[$meta])*
        pub struct $name {
            /// The plans bought; all in one currency.
            #[serde(default)]
            #[schema(value_type = Vec<crate::api::extract::IdRef>, inline)]
            pub product_pricing_ids: Vec<String>,
            /// Quantities (and chosen amounts) for the plans' items.
            #[serde(default)]
            pub config_items: Vec<crate::api::quote_spec::ConfigItem>,
            #[serde(default)]
            pub onetime_items: Vec<crate::api::quote_spec::OneTimeItem>,
            #[serde(default)]
            pub discounts: Vec<crate::api::discounts::DiscountBody>,
            /// Kasse: stored coupons to apply.
            #[serde(default)]
            #[schema(value_type = Vec<crate::api::extract::IdRef>, inline)]
            pub coupon_ids: Vec<String>,
            /// The contract length.
            pub term: Option<crate::api::price_spec::PeriodBody>,
            /// Whether to apply `trial_term`; absent means "if `trial_term` is given".
            pub trial: Option<bool>,
            pub trial_term: Option<crate::api::price_spec::PeriodBody>,
            $($own)*
        }

        impl $name {
            /// The order as it is stored; fails only on a discount's over-long seed-only field.
            pub fn order(&self) -> crate::error::ApiResult<crate::domain::order::Order> {
                crate::api::quote_spec::stored_order(
                    &self.product_pricing_ids,
                    &self.config_items,
                    &self.onetime_items,
                    &self.discounts,
                    &self.coupon_ids,
                    [self.term, self.trial_term],
                    self.trial,
                )
            }
        }
    };
}
pub(crate) use order_body;

/// The stored order for the order fields of a request body (see [`order_body`]).
pub fn stored_order(
    product_pricing_ids: &[String],
    config_items: &[ConfigItem],
    onetime_items: &[OneTimeItem],
    discounts: &[DiscountBody],
    coupon_ids: &[String],
    [term, trial_term]: [Option<PeriodBody>; 2],
    trial: Option<bool>,
) -> ApiResult<Order> {
    Ok(Order {
        product_pricing_ids: product_pricing_ids.to_vec(),
        config_items: config_items.iter().map(Into::into).collect(),
        onetime_items: onetime_items.iter().map(Into::into).collect(),
        discounts: discounts::to_stored(discounts)?,
        coupon_ids: coupon_ids.to_vec(),
        term: term.map(Into::into),
        trial,
        trial_term: trial_term.map(Into::into),
        start_date: None,
    })
}
