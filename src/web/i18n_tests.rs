//! Tests of locale negotiation and of the page texts in both languages.
//! Compiled only as the `#[cfg(test)]` module of its parent file, so unwraps here never reach a request.

use chrono::TimeZone;

use super::*;
use crate::domain::term::PeriodUnit;
use Locale::{De, En};

fn every(count: u32, unit: PeriodUnit) -> Period {
    Period { count, unit }
}

fn header(value: &str) -> Locale {
    Locale::negotiate(None, Some(value))
}

#[test]
fn codes_and_names_are_the_languages_own() {
    assert_eq!((En.code(), De.code()), ("en", "de"));
    assert_eq!((En.name(), De.name()), ("English", "Deutsch"));
    for locale in Locale::ALL {
        assert_eq!(Locale::parse(locale.code()), Some(locale));
    }
}

#[test]
fn tags_parse_by_their_primary_language_in_any_case() {
    for tag in ["de", "de-DE", "DE-at", "de_CH", " de ", "de-Latn-DE-1996"] {
        assert_eq!(Locale::parse(tag), Some(De), "{tag}");
    }
    for tag in ["en", "en-US", "EN-gb", "en_US"] {
        assert_eq!(Locale::parse(tag), Some(En), "{tag}");
    }
}

#[test]
fn unsupported_or_malformed_tags_do_not_parse() {
    for tag in ["", "fr", "fr-CH", "deu", "d", "de-", "de--DE", "de-toolongsubtag", "de-DÉ", "*", "en;q=1", "-de"] {
        assert_eq!(Locale::parse(tag), None, "{tag:?}");
    }
}

#[test]
fn an_explicit_supported_locale_wins_over_the_header() {
    assert_eq!(Locale::negotiate(Some("de"), Some("en-US,en;q=0.9")), De);
    assert_eq!(Locale::negotiate(Some("en"), Some("de")), En);
}

#[test]
fn an_unsupported_explicit_locale_falls_back_to_the_header() {
    assert_eq!(Locale::negotiate(Some("fr"), Some("de")), De);
    assert_eq!(Locale::negotiate(Some(""), None), En);
}

#[test]
fn the_header_is_ranked_by_q_values() {
    assert_eq!(header("fr-CH, fr;q=0.9, de;q=0.8, en;q=0.7"), De);
    assert_eq!(header("de;q=0.5, en;q=0.6"), En);
    assert_eq!(header("en;q=0.001, de;q=0.0001"), En);
    assert_eq!(header("de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7"), De);
    assert_eq!(header("en;q=0.5, de-AT;q=0.9, de;q=0.1"), De);
}

#[test]
fn equal_q_values_go_to_the_range_listed_first() {
    assert_eq!(header("de, en"), De);
    assert_eq!(header("en, de"), En);
    assert_eq!(header("fr, de;q=0.8, en;q=0.8"), De);
}

#[test]
fn q_zero_rules_a_language_out() {
    assert_eq!(header("de;q=0"), En);
    assert_eq!(header("de;q=0.000, fr"), En);
    assert_eq!(header("en;q=0, de;q=0.1"), De);
}

#[test]
fn a_wildcard_stands_for_the_languages_not_named() {
    assert_eq!(header("*"), En);
    assert_eq!(header("en;q=0, *"), De);
    assert_eq!(header("fr, *;q=0.5"), En);
    assert_eq!(header("de;q=0.5, *;q=0.9"), En);
    assert_eq!(header("en;q=0, de;q=0, *"), En);
    assert_eq!(header("*;q=0"), En);
}

#[test]
fn malformed_headers_are_ignored_entry_by_entry() {
    assert_eq!(header("de;q=2, en;q=0.5"), En);
    assert_eq!(header("de;q=abc"), En);
    assert_eq!(header("de;q=0.1234, de;q=0.5x, en;q=0.1"), En);
    assert_eq!(header("de;q=-1"), En);
    assert_eq!(header("de;q=1.5"), En);
    assert_eq!(header("de;q=1.000"), De);
    assert_eq!(header(",,;;;=,de;Q=0.9;level=1"), De);
    assert_eq!(header("de;q"), De);
    assert_eq!(header("ünïcödé, 😀;q=0.5, de"), De);
}

#[test]
fn an_empty_or_missing_header_means_english() {
    assert_eq!(Locale::negotiate(None, None), En);
    assert_eq!(header(""), En);
    assert_eq!(header("   "), En);
    assert_eq!(header("fr, es;q=0.9"), En);
}

#[test]
fn only_the_first_ranges_of_a_huge_header_are_read() {
    let long = format!("{}de", "fr,".repeat(MAX_RANGES));
    assert_eq!(header(&long), En);
    let huge = "x;q=0.5,".repeat(100_000);
    assert_eq!(header(&huge), En);
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

#[test]
fn qvalues_are_read_in_thousandths() {
    assert_eq!(qvalue("1"), Some(1000));
    assert_eq!(qvalue("1."), Some(1000));
    assert_eq!(qvalue("0.8"), Some(800));
    assert_eq!(qvalue("0.85"), Some(850));
    assert_eq!(qvalue("0.125"), Some(125));
    assert_eq!(qvalue("0"), Some(0));
    for bad in ["", ".5", "1.001", "0.1234", "2", "01", "0.+1", "0,5", "q"] {
        assert_eq!(qvalue(bad), None, "{bad:?}");
    }
}
