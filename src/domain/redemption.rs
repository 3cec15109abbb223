//! The promo code and coupons one order counts in their `times_redeemed`: what a checkout holds
//! from before its charge until it completes (kept) or closes unpaid (given back).

use serde::{Deserialize, Serialize};

/// The redemptions of one order. A promo code's own coupon is among `coupon_ids`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    pub promo_code_id: Option<String>,
    pub coupon_ids: Vec<String>,
}

impl Redemption {
    /// What an order redeems, or `None` when it uses no promo code and no stored coupon.
    pub fn of(promo_code_id: Option<&str>, coupon_ids: &[String]) -> Option<Redemption> {
        let mut coupon_ids = coupon_ids.to_vec();
        coupon_ids.sort();
        coupon_ids.dedup();
        (promo_code_id.is_some() || !coupon_ids.is_empty())
            .then(|| Redemption { promo_code_id: promo_code_id.map(str::to_string), coupon_ids })
    }

    /// As stored in `checkout_sessions.redemption_counted`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A stored value; an unreadable one reads as nothing counted.
    pub fn from_json(s: &str) -> Option<Redemption> {
        serde_json::from_str(s).ok()
    }

    /// Whether this counts `promo_code_id`.
    pub fn counts_promo(&self, promo_code_id: &str) -> bool {
        self.promo_code_id.as_deref() == Some(promo_code_id)
    }

    /// Whether this counts the coupon `coupon_id`.
    pub fn counts_coupon(&self, coupon_id: &str) -> bool {
        self.coupon_ids.iter().any(|c| c == coupon_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_without_codes_or_coupons_redeems_nothing() {
        assert_eq!(Redemption::of(None, &[]), None);
    }

    #[test]
    fn a_redemption_round_trips_and_lists_each_coupon_once() {
        let r = Redemption::of(Some("pc_1"), &["cp_b".into(), "cp_a".into(), "cp_b".into()]).unwrap();
        assert_eq!(r.coupon_ids, vec!["cp_a".to_string(), "cp_b".to_string()]);
        assert_eq!(Redemption::from_json(&r.to_json()), Some(r.clone()));
        assert!(r.counts_promo("pc_1") && !r.counts_promo("pc_2") && r.counts_coupon("cp_a"));
        assert_eq!(Redemption::from_json("not json"), None);
    }
}
