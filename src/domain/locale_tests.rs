//! Tests of locale negotiation.
//! Compiled only as the `#[cfg(test)]` module of its parent file, so unwraps here never reach a request.

use super::*;
use Locale::{De, En};

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
