//! The order as Kasse stores it with a checkout session (`checkout_sessions.order_spec`), and
//! what the customer has entered on the page (`checkout_sessions.entered`).
//!
//! These are the stored shapes, separate from the API's wire types: the API converts its
//! requests into them at the edge, so an API field can be renamed without making stored sessions
//! unreadable. They read every shape stored so far (`tests/fixtures/stored_shapes.json`, checked
//! by the tests below); unknown fields are ignored, so a field dropped here still loads.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::term::PeriodUnit;

/// The range of quantities a customer may choose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantityConfig {
    /// Whether the customer may change the quantity on the hosted page.
    pub allow_custom_quantity: Option<bool>,
    pub min_quantity: Option<i64>,
    pub max_quantity: Option<i64>,
}

/// A quantity for items of a plan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigItem {
    /// The plan the item belongs to.
    pub product_pricing_id: Option<String>,
    /// The item pricing this quantity is for; without it, every licensed item of the plan.
    pub product_metric_pricing_id: Option<String>,
    pub num_licenses: Option<i64>,
    /// The least quantity allowed.
    pub minimum_units: Option<i64>,
    pub quantity_config: Option<QuantityConfig>,
    /// CUSTOMER_CHOSEN items: the amount chosen, in minor units.
    pub custom_amount: Option<i64>,
}

/// An amount with its currency code, as the order was given it (checked when it is priced).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub currency: String,
    pub value_in_cents: i64,
}

/// A custom one-time price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomPrice {
    pub amount: Money,
    /// The line's name; default: the product's name.
    pub description: Option<String>,
    pub product_id: String,
}

/// A one-time charge: a one-time product pricing or a custom price.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeItem {
    /// The quantity.
    pub aggregate: Option<i64>,
    pub product_pricing_id: Option<String>,
    pub custom_price: Option<CustomPrice>,
    pub quantity_config: Option<QuantityConfig>,
    /// A discount with the same `onetime_billable_id` applies to this item only.
    pub onetime_billable_id: Option<String>,
}

/// Whether a discount takes a share or a fixed amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DiscountType {
    DiscountPercent,
    DiscountAmount,
}

/// How many charges a discount applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DurationKind {
    /// The first charge only.
    Once,
    /// Every charge.
    Forever,
    /// The first `duration_periods` charges.
    Repeating,
}

impl DurationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DurationKind::Once => "ONCE",
            DurationKind::Forever => "FOREVER",
            DurationKind::Repeating => "REPEATING",
        }
    }
}

/// A discount given with the order, or a stored coupon named by `coupon_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDiscount {
    #[serde(rename = "type")]
    pub kind: DiscountType,
    /// DISCOUNT_PERCENT: the share as a fraction, `0.5` = 50 %, exactly as given.
    pub percent: Option<serde_json::Number>,
    /// DISCOUNT_AMOUNT: the amount taken off each charge it applies to.
    pub amount: Option<Money>,
    /// The most this discount takes off one charge.
    pub cap: Option<Money>,
    pub name: Option<String>,
    pub coupon_id: Option<String>,
    pub product_id: Option<String>,
    pub product_pricing_id: Option<String>,
    pub item_pricing_id: Option<String>,
    pub onetime_billable_id: Option<String>,
    /// Not applied to charges on or after this date (a date means the end of that day, UTC).
    pub expiration_date: Option<String>,
    pub duration: Option<DurationKind>,
    pub duration_periods: Option<i64>,
}

/// A span of time as the order gives it: `count` × `frequency` (checked when it is priced).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub count: i64,
    pub frequency: PeriodUnit,
}

/// An order: what the merchant asked for. The customer's own choices (quantities, promo code)
/// are applied on top each time it is priced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    #[serde(default)]
    pub product_pricing_ids: Vec<String>,
    #[serde(default)]
    pub config_items: Vec<ConfigItem>,
    #[serde(default)]
    pub onetime_items: Vec<OneTimeItem>,
    #[serde(default)]
    pub discounts: Vec<OrderDiscount>,
    #[serde(default)]
    pub coupon_ids: Vec<String>,
    pub term: Option<Span>,
    pub trial: Option<bool>,
    pub trial_term: Option<Span>,
    /// When the order's subscription starts (a contract's `start_date`); absent, when it is paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<DateTime<Utc>>,
}

/// A postal address as entered; `country` is an ISO 3166-1 alpha-2 code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// What the customer has entered on the page so far, kept between requests.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entered {
    /// Chosen quantities by item pricing id (or product pricing id for a plan-wide quantity).
    #[serde(default)]
    pub quantities: BTreeMap<String, i64>,
    pub promo_code: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub company: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Address,
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    /// The stored JSON of every checkout session a demo run made (the demo checkout paid with a
    /// promo code and an address, a link visit, a seed-001 session, a merchant checkout with
    /// discounts, custom prices, term and trial, a signed contract's payment step).
    const STORED: &str = include_str!("../../tests/fixtures/stored_shapes.json");

    /// `value` without the keys whose value is null: absent and null mean the same here.
    fn without_nulls(value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
            other => other.clone(),
        }
    }

    /// The fields the API accepted for the seeds' sake and never used: stored by older versions,
    /// no longer kept.
    fn without_ignored(value: &Value) -> Value {
        const IGNORED: [&str; 8] = [
            "upsell_product_metric_pricing_id",
            "customer_id",
            "subscription_id",
            "proposal_id",
            "state",
            "import_created_at_ref",
            "import_ref",
            "imported_from",
        ];
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(k, _)| !IGNORED.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), without_ignored(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(without_ignored).collect()),
            other => other.clone(),
        }
    }

    #[test]
    fn every_stored_order_and_entry_loads_and_round_trips() {
        let stored: Value = serde_json::from_str(STORED).unwrap();
        let sessions = stored["checkout_sessions"].as_array().unwrap();
        assert!(sessions.len() >= 5, "the fixture holds the demo flows");
        let mut discounts = 0;
        for session in sessions {
            let order: Order = serde_json::from_value(session["order_spec"].clone())
                .unwrap_or_else(|e| panic!("order_spec of a {} session: {e}", session["source"]));
            discounts += order.discounts.len();
            let again = serde_json::to_value(&order).unwrap();
            // Nothing the order means is dropped; only the ignored seed fields are.
            assert_eq!(
                without_nulls(&again),
                without_nulls(&without_ignored(&session["order_spec"])),
                "{}",
                session["source"]
            );
            assert_eq!(serde_json::from_value::<Order>(again).unwrap(), order);

            let entered: Entered = serde_json::from_value(session["entered"].clone()).unwrap();
            let again = serde_json::to_value(&entered).unwrap();
            assert_eq!(without_nulls(&again), without_nulls(&session["entered"]));
        }
        assert!(discounts >= 2, "the fixture's merchant checkout carries discounts");
        let paid = sessions.iter().find(|s| s["status"] == "COMPLETED").unwrap();
        let entered: Entered = serde_json::from_value(paid["entered"].clone()).unwrap();
        assert_eq!(entered.address.postal_code.as_deref(), Some("94103"));
        assert_eq!(entered.promo_code.as_deref(), Some("LAUNCH20"));
    }

    #[test]
    fn an_order_with_fields_this_version_does_not_know_still_loads() {
        let order: Order = serde_json::from_str(
            r#"{"product_pricing_ids": ["pp_1"], "config_items": [{"product_pricing_id": "pp_1",
                "num_licenses": 3, "upsell_product_metric_pricing_id": null, "future": 1}],
                "term": {"count": 12, "frequency": "MONTH"}}"#,
        )
        .unwrap();
        assert_eq!(order.config_items[0].num_licenses, Some(3));
        assert_eq!(order.term, Some(Span { count: 12, frequency: PeriodUnit::Month }));
    }
}
