//! Tests of the page texts in both languages.
//! Compiled only as the `#[cfg(test)]` module of its parent file, so unwraps here never reach a request.

use chrono::TimeZone;

use super::texts::DE;
use super::*;
use crate::domain::term::Period;
use crate::domain::term::PeriodUnit;
use Locale::{De, En};
use chrono::{DateTime, Utc};

fn every(count: u32, unit: PeriodUnit) -> Period {
    Period { count, unit }
}

#[test]
fn texts_differ_by_language_and_none_is_empty() {
    assert_eq!(texts(En).pay_button, "Pay");
    assert_eq!(texts(De).pay_button, "Jetzt bezahlen");
    assert_eq!(texts(De).order_summary, "Bestellübersicht");
    assert_eq!(texts(De).due_today, "Heute fällig");
    assert_eq!(texts(De).promo_code, "Gutscheincode");
    assert_eq!(texts(De).apply, "Einlösen");
    assert_eq!(texts(En).preview_notice, "Preview — this page cannot be submitted");
    // Every field of both instances is non-empty; Debug lists each as `name: "text"`.
    for locale in Locale::ALL {
        let debug = format!("{:?}", texts(locale));
        assert!(!debug.contains(": \"\""), "{locale:?} has an empty text");
        assert!(debug.matches(": \"").count() >= 100, "{locale:?}");
    }
}

#[test]
fn german_long_texts_are_joined_with_single_spaces() {
    for text in [DE.bank_transfer_note, DE.not_found_hint, DE.error_hint] {
        assert!(!text.contains("  "), "{text}");
    }
}

#[test]
fn then_every_names_the_amount_and_period() {
    let monthly = every(1, PeriodUnit::Month);
    assert_eq!(then_every(En, "$29.00", monthly), "then $29.00 every month");
    assert_eq!(then_every(En, "$29.00", every(3, PeriodUnit::Month)), "then $29.00 every 3 months");
    assert_eq!(then_every(De, "29,00 $", monthly), "danach 29,00 $ pro Monat");
    assert_eq!(then_every(De, "29,00 $", every(3, PeriodUnit::Month)), "danach 29,00 $ alle 3 Monate");
}

#[test]
fn trials_read_in_days_weeks_and_months() {
    assert_eq!(trial_days(En, every(14, PeriodUnit::Day)), "14 days free");
    assert_eq!(trial_days(De, every(14, PeriodUnit::Day)), "14 Tage kostenlos");
    assert_eq!(trial_days(En, every(1, PeriodUnit::Month)), "1 month free");
    assert_eq!(trial_days(De, every(2, PeriodUnit::Week)), "2 Wochen kostenlos");
    assert_eq!(free_trial(En, every(30, PeriodUnit::Day)), "Free trial: 30 days");
    assert_eq!(free_trial(De, every(1, PeriodUnit::Week)), "Kostenlose Testphase: 1 Woche");
    assert_eq!(term_length(De, every(12, PeriodUnit::Month)), "Laufzeit: 12 Monate");
    assert_eq!(term_length(En, every(1, PeriodUnit::Year)), "Term: 1 year");
}

#[test]
fn dates_are_written_out_in_each_language() {
    let day = Utc.with_ymd_and_hms(2026, 12, 21, 23, 59, 59).unwrap();
    assert_eq!(date(En, day), "December 21, 2026");
    assert_eq!(date(De, day), "21. Dezember 2026");
    let march = Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap();
    assert_eq!(date(De, march), "1. März 2027");
    assert_eq!(first_charge_on(En, march), "First charge on March 1, 2027");
    assert_eq!(first_charge_on(De, march), "Erste Zahlung am 1. März 2027");
    assert_eq!(trial_ends_on(De, day), "Testphase endet am 21. Dezember 2026");
    assert_eq!(trial_ends_on(En, day), "Trial ends on December 21, 2026");
}

#[test]
fn dates_at_the_ends_of_chrono_do_not_panic() {
    assert!(date(En, DateTime::<Utc>::MIN_UTC).starts_with("January 1, "));
    assert!(date(De, DateTime::<Utc>::MAX_UTC).ends_with("Dezember 262142"));
}

#[test]
fn field_errors_carry_their_bounds() {
    assert_eq!(quantity_range(En, 1, 10_000), "Enter a quantity between 1 and 10,000");
    assert_eq!(quantity_range(De, 1, 10_000), "Geben Sie eine Menge zwischen 1 und 10.000 ein");
    assert_eq!(amount_range(En, "$5.00", "$500.00"), "Enter an amount between $5.00 and $500.00");
    assert_eq!(amount_range(De, "5,00 €", "500,00 €"), "Geben Sie einen Betrag zwischen 5,00 € und 500,00 € ein");
}

#[test]
fn texts_with_values_put_them_in_place() {
    assert_eq!(back_to(En, "Acme"), "Back to Acme");
    assert_eq!(back_to(De, "Acme"), "Zurück zu Acme");
    assert_eq!(payment_declined(En, "insufficient funds"), "Your payment was declined: insufficient funds");
    assert_eq!(payment_declined(De, "Karte gesperrt"), "Ihre Zahlung wurde abgelehnt: Karte gesperrt");
    assert_eq!(pay_amount(En, "$29.00"), "Pay $29.00");
    assert_eq!(pay_amount(De, "29,00 $"), "29,00 $ bezahlen");
    assert_eq!(per_unit(En, "seat"), "per seat");
    assert_eq!(per_unit(De, "Sitz"), "pro Sitz");
}
