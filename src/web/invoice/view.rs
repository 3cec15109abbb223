//! What the hosted invoice page shows, computed from a stored invoice and its customer: the lines
//! and totals in the page's language, the bill-to block, the status badge, the receipt; and the
//! check of the card fields a customer posts before anything is charged.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::db::billing::Invoice;
use crate::db::customers::Customer;
use crate::domain::billing::InvoiceStatus;
use crate::domain::countries::COUNTRY_NAMES;
use crate::domain::money::Currency;
use crate::i18n::format;
use crate::i18n::{self, Locale, Texts};
use crate::web::checkout::view::Form as FormView;
use crate::web::invoice::i18n::InvoiceTexts;

/// One row of the lines table.
pub struct LineRow {
    pub name: String,
    pub description: Option<String>,
    pub quantity: String,
    pub amount: String,
}

/// The totals under the lines.
pub struct Totals {
    pub subtotal: String,
    /// (name, "−€5.00") per discount line.
    pub discounts: Vec<(String, String)>,
    pub total: String,
    pub amount_due: String,
}

/// Who the invoice is addressed to; every part optional, as customers are created with little.
#[derive(Default)]
pub struct BillTo {
    pub name: Option<String>,
    pub org: Option<String>,
    pub email: Option<String>,
    /// Address lines, in the order they are written on an envelope.
    pub address: Vec<String>,
}

impl BillTo {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.org.is_none() && self.email.is_none() && self.address.is_empty()
    }
}

/// The badge beside the heading.
pub struct Badge {
    pub text: &'static str,
    /// CSS class: `open`, `overdue`, `paid` or `void`.
    pub class: &'static str,
}

/// What a paid invoice shows instead of the form.
pub struct Receipt {
    pub paid_on: Option<String>,
    pub amount: String,
    /// The id of the payment that paid it; none when the merchant marked it paid by hand.
    pub reference: Option<String>,
}

/// An invoice is overdue once the whole due day has passed (in UTC, the zone every date on the
/// page is written in): an invoice "due on receipt" is due the day it is issued, not late a second
/// after.
pub fn is_overdue(invoice: &Invoice, now: DateTime<Utc>) -> bool {
    invoice.status == InvoiceStatus::Open.as_str()
        && invoice.amount_due > 0
        && invoice.due_at.is_some_and(|due| now.date_naive() > due.date_naive())
}

pub fn badge(invoice: &Invoice, it: &InvoiceTexts, overdue: bool) -> Badge {
    let class = match InvoiceStatus::parse(&invoice.status) {
        Some(InvoiceStatus::Paid) => "paid",
        Some(InvoiceStatus::Void) => "void",
        _ if overdue => "overdue",
        _ => "open",
    };
    Badge { text: it.status_name(&invoice.status, overdue), class }
}

/// The stored lines JSON (`{"lines": [...], "discounts": [...]}`) as rows and discount lines. The
/// JSON was written by us, but by several writers over time: a missing or odd field shows as
/// blank rather than failing the page, which must stay readable.
pub fn lines(json: &str, currency: Currency, locale: Locale, t: &Texts) -> (Vec<LineRow>, Vec<(String, String)>) {
    let stored: Value = serde_json::from_str(json).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "an invoice's lines are unreadable");
        Value::Null
    });
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::trim).unwrap_or("").to_string();
    let list = |key: &str| stored.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    let rows = list("lines")
        .iter()
        .map(|line| {
            let metered = line.get("metered").and_then(Value::as_bool).unwrap_or(false);
            let amount = line.get("amount").and_then(Value::as_i64).unwrap_or(0);
            let description = text(line, "description");
            // A usage-based line is billed later: its 0 here is no price, so the row says why.
            let description = if metered {
                Some(
                    [description.as_str(), t.usage_based]
                        .iter()
                        .filter(|s| !s.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" · "),
                )
            } else {
                Some(description).filter(|d| !d.is_empty())
            };
            LineRow {
                name: text(line, "name"),
                description,
                quantity: line
                    .get("quantity")
                    .and_then(Value::as_i64)
                    .map(|q| format::number(q, locale))
                    .unwrap_or_default(),
                amount: if metered { "—".to_string() } else { format::money(amount, currency, locale) },
            }
        })
        .collect();
    let discounts = list("discounts")
        .iter()
        .filter_map(|d| {
            let amount = d.get("amount").and_then(Value::as_i64).filter(|a| *a > 0)?;
            Some((text(d, "name"), format!("−{}", format::money(amount, currency, locale))))
        })
        .collect();
    (rows, discounts)
}

/// Subtotal, discount lines, total and amount due, in the page's language. Discounts the JSON
/// does not itemise still show, as one "Discounts" line, so the totals always add up on paper.
pub fn totals(
    invoice: &Invoice,
    mut discounts: Vec<(String, String)>,
    currency: Currency,
    locale: Locale,
    it: &InvoiceTexts,
) -> Totals {
    let m = |v: i64| format::money(v, currency, locale);
    if discounts.is_empty() && invoice.discount_total > 0 {
        discounts.push((it.discounts.to_string(), format!("−{}", m(invoice.discount_total))));
    }
    // A void invoice keeps its amount due in the database, but nothing is owed any more.
    let due = if invoice.status == InvoiceStatus::Void.as_str() { 0 } else { invoice.amount_due };
    Totals { subtotal: m(invoice.subtotal), discounts, total: m(invoice.total), amount_due: m(due) }
}

/// The customer as the invoice addresses them, the address in the order of their country's post
/// (postal code before the town in most of Europe, after it in the UK and North America); the
/// country named in the page's language.
pub fn bill_to(customer: &Customer, locale: Locale) -> BillTo {
    let clean = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let country = clean(&customer.address_country).map(|c| c.to_ascii_uppercase());
    let (postal, city, state) =
        (clean(&customer.address_postal_code), clean(&customer.address_city), clean(&customer.address_state));
    let joined = |parts: &[Option<&str>], sep: &str| {
        Some(parts.iter().flatten().copied().collect::<Vec<_>>().join(sep)).filter(|s| !s.is_empty())
    };
    let mut address: Vec<String> =
        [&customer.address_line1, &customer.address_line2].into_iter().filter_map(clean).collect();
    match country.as_deref() {
        // "Springfield, IL 62701"
        Some("US" | "CA" | "AU") => {
            let region = joined(&[state.as_deref(), postal.as_deref()], " ");
            address.extend(joined(&[city.as_deref(), region.as_deref()], ", "));
        }
        // The post town, then the postcode on a line of its own.
        Some("GB" | "IE") => address.extend([city, state, postal].into_iter().flatten()),
        _ => {
            address.extend(joined(&[postal.as_deref(), city.as_deref()], " "));
            address.extend(state);
        }
    }
    if let Some(code) = country {
        let named = COUNTRY_NAMES.iter().find(|(c, _, _)| *c == code);
        address.push(match (named, locale) {
            (Some((_, _, de)), Locale::De) => de.to_string(),
            (Some((_, en, _)), _) => en.to_string(),
            (None, _) => code,
        });
    }
    BillTo { name: clean(&customer.name), org: clean(&customer.org_name), email: clean(&customer.email), address }
}

/// The receipt of a PAID invoice: when, how much, and the payment that paid it (the last one that
/// succeeded, should a provider ever have answered twice).
/// The receipt of a paid invoice; `paid_by` is the newest succeeded payment (id, amount), none
/// when the merchant marked it paid.
pub fn receipt(invoice: &Invoice, paid_by: Option<(&str, i64)>, currency: Currency, locale: Locale) -> Receipt {
    Receipt {
        paid_on: invoice.paid_at.map(|at| crate::web::invoice::i18n::paid_on(locale, at)),
        amount: format::money(paid_by.map(|(_, amount)| amount).unwrap_or(invoice.total), currency, locale),
        reference: paid_by.map(|(id, _)| id.to_string()),
    }
}

/// The error summary's entries for the card fields: (field id, "Label: message").
pub fn card_errors(form: &FormView, t: &Texts) -> Vec<(String, String)> {
    [("card_number", t.card_number), ("card_expiry", t.card_expiry), ("card_cvc", t.card_cvc)]
        .into_iter()
        .filter_map(|(name, label)| form.error(name).map(|e| (name.to_string(), format!("{label}: {e}"))))
        .collect()
}

/// The pay button: "Pay €96.00" / "96,00 € bezahlen".
pub fn pay_button(invoice: &Invoice, currency: Currency, locale: Locale) -> String {
    i18n::pay_amount(locale, &format::money(invoice.amount_due, currency, locale))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::i18n::texts;
    use crate::web::invoice::i18n as invoice_i18n;

    fn invoice() -> Invoice {
        let at = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
        Invoice {
            id: "inv_1".into(),
            company_id: "cmp_1".into(),
            customer_id: "cus_1".into(),
            subscription_id: None,
            checkout_id: None,
            number: "INV-2026-000001".into(),
            token: "0".repeat(32),
            status: InvoiceStatus::Open.as_str().into(),
            currency: "EUR".into(),
            subtotal: 12000,
            discount_total: 2400,
            total: 9600,
            amount_due: 9600,
            lines: String::new(),
            payment_instructions: None,
            notes: None,
            issued_at: at,
            due_at: Some(at),
            paid_at: None,
            paying_until: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn an_invoice_is_overdue_only_after_its_whole_due_day_and_only_while_open() {
        let inv = invoice();
        let same_day = Utc.with_ymd_and_hms(2026, 3, 10, 23, 59, 59).unwrap();
        let next_day = Utc.with_ymd_and_hms(2026, 3, 11, 0, 0, 0).unwrap();
        assert!(!is_overdue(&inv, same_day));
        assert!(is_overdue(&inv, next_day));
        assert!(!is_overdue(&Invoice { status: InvoiceStatus::Paid.as_str().into(), ..invoice() }, next_day));
        assert!(!is_overdue(&Invoice { due_at: None, ..invoice() }, next_day));
        let it = invoice_i18n::texts(Locale::En);
        assert_eq!(badge(&inv, it, true).text, "Overdue");
        assert_eq!(
            badge(&Invoice { status: InvoiceStatus::Void.as_str().into(), ..invoice() }, it, true).class,
            "void"
        );
    }

    #[test]
    fn stored_lines_become_rows_and_odd_json_stays_readable() {
        let t = texts(Locale::De);
        let json = r#"{"lines": [
            {"name": "Training day", "description": "Per unit", "quantity": 2, "amount": 12000},
            {"name": "API calls", "description": null, "quantity": 0, "amount": 0, "metered": true},
            {"amount": "oops"}
        ], "discounts": [{"name": "LAUNCH20", "amount": 2400}, {"name": "used up", "amount": 0}]}"#;
        let (rows, discounts) = lines(json, eur(), Locale::De, t);
        assert_eq!(rows.len(), 3);
        assert_eq!(
            (rows[0].name.as_str(), rows[0].quantity.as_str(), rows[0].amount.as_str()),
            ("Training day", "2", "120,00 €")
        );
        assert_eq!(rows[1].amount, "—");
        assert_eq!(rows[1].description.as_deref(), Some(t.usage_based));
        assert_eq!((rows[2].name.as_str(), rows[2].amount.as_str()), ("", "0,00 €"));
        assert_eq!(discounts, vec![("LAUNCH20".to_string(), "−24,00 €".to_string())]);
        assert_eq!(lines("not json", eur(), Locale::En, t).0.len(), 0);
        let it = invoice_i18n::texts(Locale::En);
        let summed = totals(&invoice(), Vec::new(), eur(), Locale::En, it);
        assert_eq!(summed.discounts, vec![("Discounts".to_string(), "−€24.00".to_string())]);
        assert_eq!((summed.total.as_str(), summed.amount_due.as_str()), ("€96.00", "€96.00"));
        let void = Invoice { status: InvoiceStatus::Void.as_str().into(), ..invoice() };
        assert_eq!(totals(&void, Vec::new(), eur(), Locale::En, it).amount_due, "€0.00");
    }

    #[test]
    fn the_bill_to_block_skips_blanks_and_names_the_country_in_the_page_language() {
        let customer = Customer {
            name: Some("Ada Lovelace".into()),
            org_name: Some("  ".into()),
            address_line1: Some("1 Engine Way".into()),
            address_postal_code: Some("10115".into()),
            address_city: Some("Berlin".into()),
            address_country: Some("de".into()),
            ..Default::default()
        };
        let b = bill_to(&customer, Locale::De);
        assert_eq!((b.name.as_deref(), b.org.as_deref()), (Some("Ada Lovelace"), None));
        assert_eq!(b.address, vec!["1 Engine Way", "10115 Berlin", "Deutschland"]);
        assert!(bill_to(&Customer::default(), Locale::En).is_empty());
        let uk = Customer {
            address_postal_code: Some("SW1Y 4JH".into()),
            address_city: Some("London".into()),
            address_country: Some("GB".into()),
            ..Default::default()
        };
        assert_eq!(bill_to(&uk, Locale::En).address, vec!["London", "SW1Y 4JH", "United Kingdom"]);
        let us = Customer {
            address_postal_code: Some("62701".into()),
            address_city: Some("Springfield".into()),
            address_state: Some("IL".into()),
            address_country: Some("US".into()),
            ..Default::default()
        };
        assert_eq!(bill_to(&us, Locale::En).address, vec!["Springfield, IL 62701", "United States"]);
    }

    #[test]
    fn card_fields_are_checked_like_the_checkout_page_does() {
        let t = texts(Locale::En);
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
        let check = |number: &str, expiry: &str, cvc: &str| {
            let fields: std::collections::HashMap<String, String> =
                [("card_number", number), ("card_expiry", expiry), ("card_cvc", cvc)]
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .into();
            let mut form = FormView::default();
            crate::web::payment::card::check_card(&fields, &mut form, t, now);
            card_errors(&form, t)
        };
        assert!(check("4242 4242 4242 4242", "03/26", "123").is_empty());
        assert!(check("4242-4242-4242-4242", "12/2034", "1234").is_empty());
        let errors = check("4242 4242 4242 4241", "02/26", "12a");
        assert_eq!(
            errors,
            vec![
                ("card_number".to_string(), "Card number: Enter a valid card number".to_string()),
                ("card_expiry".to_string(), "Expiry (MM/YY): This card has expired".to_string()),
                ("card_cvc".to_string(), "Security code: Enter a valid security code".to_string()),
            ]
        );
        assert_eq!(check("", "13/30", "")[0].1, "Card number: This field is required");
        assert_eq!(check("", "13/30", "")[1].1, "Expiry (MM/YY): Enter a valid expiry date");
    }

    #[test]
    fn the_receipt_names_the_payment_that_succeeded() {
        let at = Utc.with_ymd_and_hms(2026, 3, 12, 9, 0, 0).unwrap();
        let paid =
            Invoice { status: InvoiceStatus::Paid.as_str().into(), amount_due: 0, paid_at: Some(at), ..invoice() };
        let r = receipt(&paid, Some(("pay_2", 9600)), eur(), Locale::En);
        assert_eq!(r.paid_on.as_deref(), Some("Paid on March 12, 2026"));
        assert_eq!((r.amount.as_str(), r.reference.as_deref()), ("€96.00", Some("pay_2")));
        // Marked paid by the merchant: no payment to name, the total was paid.
        assert_eq!(receipt(&paid, None, eur(), Locale::En).reference, None);
        assert_eq!(pay_button(&invoice(), eur(), Locale::De), "96,00 € bezahlen");
    }
}
