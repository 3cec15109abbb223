//! A reusable checkout link's definition as stored (`checkout_links.spec`): its items, options
//! and after-checkout action. Separate from the API's wire types, like the stored order.

use serde::{Deserialize, Serialize};

/// `product`: added with its fixed quantity. `plan`: added, and the customer picks the quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkItemType {
    Product,
    Plan,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkItem {
    #[serde(rename = "type")]
    pub kind: LinkItemType,
    pub product_pricing_id: String,
    /// The quantity (`product`), or the starting quantity (`plan`); default 1.
    pub quantity: Option<i64>,
    /// `plan`: the range the customer may choose in (default 1 to 1000).
    pub min_quantity: Option<i64>,
    pub max_quantity: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkOptions {
    pub coupons_allowed: Option<bool>,
    pub force_company: Option<bool>,
    pub quantity_editable: Option<bool>,
    pub trial_days: Option<i64>,
}

/// After checkout: `redirect` to `redirect_url`, or show `confirmation_message`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkAction {
    Redirect,
    ConfirmationMessage,
}

/// A link's definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSpec {
    pub items: Vec<LinkItem>,
    #[serde(default)]
    pub options: LinkOptions,
    pub action: LinkAction,
    pub redirect_url: Option<String>,
    pub confirmation_message: Option<String>,
    pub back_url: Option<String>,
    #[serde(default)]
    pub requires_customer_address: bool,
    pub locale: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn every_stored_link_loads_and_round_trips() {
        let stored: Value = serde_json::from_str(include_str!("../../tests/fixtures/stored_shapes.json")).unwrap();
        let links = stored["checkout_links"].as_array().unwrap();
        assert!(!links.is_empty(), "the fixture holds the demo's link");
        for link in links {
            let spec: LinkSpec = serde_json::from_value(link.clone()).unwrap();
            assert_eq!(&serde_json::to_value(&spec).unwrap(), link);
        }
    }
}
