//! The total a pay form showed the customer, carried in the form (`shown_amount` in minor units,
//! `shown_currency`), so that a payment is taken only for the amount the customer saw.
//!
//! A form can post other changes with Pay (a quantity typed but not updated), and the order can
//! change elsewhere meanwhile: the server prices again and, when the total differs from the one
//! shown, charges nothing and shows the page with the new total. A post without the fields (a
//! script, not our page) is priced by the server alone, as before.

use std::collections::HashMap;

pub const AMOUNT: &str = "shown_amount";
pub const CURRENCY: &str = "shown_currency";

/// Whether the total the form showed is `amount` in `currency` (or the form showed none).
pub fn holds(fields: &HashMap<String, String>, amount: i64, currency: &str) -> bool {
    let shown_amount = fields.get(AMOUNT).map(|s| s.trim());
    let shown_currency = fields.get(CURRENCY).map(|s| s.trim());
    match (shown_amount, shown_currency) {
        (None, None) => true,
        (Some(a), c) => a.parse::<i64>().ok() == Some(amount) && c.is_none_or(|c| c.eq_ignore_ascii_case(currency)),
        (None, Some(c)) => c.eq_ignore_ascii_case(currency),
    }
}

/// The amount the form showed, for a check made later under a lock: `None` when the form showed
/// none; an unreadable one is `Some(-1)`, which no amount due equals.
pub fn amount(fields: &HashMap<String, String>) -> Option<i64> {
    fields.get(AMOUNT).map(|a| a.trim().parse::<i64>().unwrap_or(-1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_shown_total_holds_only_for_the_same_amount_and_currency() {
        assert!(holds(&form(&[("shown_amount", "3000"), ("shown_currency", "USD")]), 3000, "USD"));
        assert!(holds(&form(&[("shown_amount", "3000"), ("shown_currency", "usd")]), 3000, "USD"));
        assert!(!holds(&form(&[("shown_amount", "3000"), ("shown_currency", "USD")]), 40000, "USD"));
        assert!(!holds(&form(&[("shown_amount", "3000"), ("shown_currency", "EUR")]), 3000, "USD"));
        assert!(!holds(&form(&[("shown_amount", "30.00")]), 3000, "USD"));
        assert!(!holds(&form(&[("shown_amount", "")]), 0, "USD"));
    }

    #[test]
    fn a_form_without_a_shown_total_is_priced_by_the_server_alone() {
        assert!(holds(&form(&[]), 3000, "USD"));
    }
}
