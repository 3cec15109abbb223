//! The sandbox card form's fields (number, expiry, security code), checked the same way on
//! every page that takes a card, before anything is sent to the provider.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};

use crate::i18n::Texts;
use crate::payments::sandbox;
use crate::web::checkout::view::Form as FormView;

/// The card fields a payment needs, checked as the checkout page checks them, before anything is
/// sent to the provider; errors go beside their fields in `form`.
pub fn check_card(fields: &HashMap<String, String>, form: &mut FormView, t: &Texts, now: DateTime<Utc>) {
    let number = sandbox::digits(fields.get("card_number").map(String::as_str).unwrap_or(""));
    if number.is_empty() {
        form.fail("card_number", t.required);
    } else if !sandbox::luhn_ok(&number) {
        form.fail("card_number", t.invalid_card_number);
    }
    match parse_expiry(fields.get("card_expiry").map(|s| s.trim()).unwrap_or("")) {
        None => form.fail("card_expiry", t.invalid_expiry),
        Some(expiry) if expiry < (now.year(), now.month()) => form.fail("card_expiry", t.card_expired),
        Some(_) => {}
    }
    let cvc = fields.get("card_cvc").map(|s| s.trim()).unwrap_or("");
    if !(3..=4).contains(&cvc.len()) || !cvc.bytes().all(|b| b.is_ascii_digit()) {
        form.fail("card_cvc", t.invalid_cvc);
    }
}

/// `MM/YY` or `MM/YYYY` → (year, month).
fn parse_expiry(s: &str) -> Option<(i32, u32)> {
    let (m, y) = s.split_once('/')?;
    let month: u32 = m.trim().parse().ok()?;
    let year: i32 = y.trim().parse().ok()?;
    let year = if year < 100 { 2000 + year } else { year };
    ((1..=12).contains(&month) && (2000..=2100).contains(&year)).then_some((year, month))
}
