//! Tests of the page formatting, with the exact strings a customer sees.
//! Compiled only as the `#[cfg(test)]` module of its parent file, so unwraps here never reach a request.

use super::*;
use crate::domain::term::Frequency;
use Locale::{De, En};

fn cur(code: &str) -> Currency {
    Currency::parse(code).unwrap()
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn every(count: u32, unit: PeriodUnit) -> Period {
    Period { count, unit }
}

const MONTHLY: Frequency = Frequency::Every(Period { count: 1, unit: PeriodUnit::Month });

fn item(model: PriceModel, frequency: Frequency) -> PricedItem {
    PricedItem {
        item_pricing_id: "ip_1".into(),
        product_id: "prd_1".into(),
        product_pricing_id: "pp_1".into(),
        name: "Team plan".into(),
        model,
        frequency,
        included_units: 0,
        minimum_spend: None,
        metered: false,
    }
}

fn tier(up_to: Option<i64>, unit_amount: &str, flat_amount: i64) -> Tier {
    Tier { up_to, unit_amount: dec(unit_amount), flat_amount }
}

fn three_tiers() -> Vec<Tier> {
    vec![tier(Some(10), "1500", 0), tier(Some(50), "1200", 0), tier(None, "900", 1000)]
}

fn describe(model: PriceModel, locale: Locale, label: Option<&str>) -> String {
    describe_item(&item(model, MONTHLY), cur("USD"), locale, label)
}

#[test]
fn two_decimal_currencies_use_symbols_and_thousands_separators() {
    assert_eq!(money(123_456, cur("USD"), En), "$1,234.56");
    assert_eq!(money(123_456, cur("EUR"), En), "€1,234.56");
    assert_eq!(money(900, cur("GBP"), En), "£9.00");
    assert_eq!(money(123_456, cur("EUR"), De), "1.234,56 €");
    assert_eq!(money(123_456, cur("USD"), De), "1.234,56 $");
}

#[test]
fn currencies_without_a_well_known_symbol_show_their_code() {
    assert_eq!(money(1200, cur("CHF"), En), "CHF 12.00");
    assert_eq!(money(1200, cur("CHF"), De), "12,00 CHF");
    assert_eq!(money(99_900, cur("SEK"), En), "SEK 999.00");
}

#[test]
fn zero_decimal_currencies_have_no_decimal_separator() {
    assert_eq!(money(1235, cur("JPY"), En), "¥1,235");
    assert_eq!(money(1235, cur("JPY"), De), "1.235 ¥");
    assert_eq!(money(7, cur("KRW"), En), "₩7");
    assert_eq!(money(0, cur("CLP"), De), "0 CLP");
}

#[test]
fn three_decimal_currencies_show_three_decimals() {
    assert_eq!(money(1235, cur("BHD"), En), "BHD 1.235");
    assert_eq!(money(1235, cur("BHD"), De), "1,235 BHD");
    assert_eq!(money(5, cur("KWD"), En), "KWD 0.005");
    assert_eq!(money(1_234_567_890, cur("KWD"), De), "1.234.567,890 KWD");
}

#[test]
fn four_decimal_currencies_show_four_decimals() {
    assert_eq!(money(12_345_678, cur("CLF"), En), "CLF 1,234.5678");
    assert_eq!(money(1, cur("CLF"), De), "0,0001 CLF");
    assert_eq!(money(10_000, cur("UYW"), En), "UYW 1.0000");
}

#[test]
fn small_amounts_keep_a_leading_zero() {
    assert_eq!(money(0, cur("USD"), En), "$0.00");
    assert_eq!(money(5, cur("USD"), En), "$0.05");
    assert_eq!(money(99, cur("EUR"), De), "0,99 €");
}

#[test]
fn separators_are_placed_every_three_digits() {
    assert_eq!(money(100_000, cur("USD"), En), "$1,000.00");
    assert_eq!(money(10_000_000, cur("USD"), En), "$100,000.00");
    assert_eq!(money(100_000_000_000_000, cur("EUR"), De), "1.000.000.000.000,00 €");
    assert_eq!(money(99_999, cur("USD"), En), "$999.99");
}

#[test]
fn negatives_put_the_minus_sign_first() {
    assert_eq!(money(-500, cur("USD"), En), "-$5.00");
    assert_eq!(money(-500, cur("EUR"), De), "-5,00 €");
    assert_eq!(money(-1200, cur("CHF"), En), "-CHF 12.00");
    assert_eq!(money(-1, cur("JPY"), De), "-1 ¥");
}

#[test]
fn i64_extremes_are_formatted_exactly_without_overflow() {
    assert_eq!(money(i64::MAX, cur("USD"), En), "$92,233,720,368,547,758.07");
    assert_eq!(money(i64::MIN, cur("USD"), En), "-$92,233,720,368,547,758.08");
    assert_eq!(money(i64::MIN, cur("JPY"), De), "-9.223.372.036.854.775.808 ¥");
    assert_eq!(money(i64::MIN, cur("CLF"), En), "-CLF 922,337,203,685,477.5808");
    assert_eq!(number(i64::MIN, De), "-9.223.372.036.854.775.808");
}

#[test]
fn unit_amounts_show_fractions_of_a_minor_unit_without_trailing_zeros() {
    assert_eq!(unit_amount(dec("0.2"), cur("USD"), En), "$0.002");
    assert_eq!(unit_amount(dec("0.2500"), cur("USD"), En), "$0.0025");
    assert_eq!(unit_amount(dec("900"), cur("USD"), En), "$9.00");
    assert_eq!(unit_amount(dec("900.000"), cur("EUR"), De), "9,00 €");
    assert_eq!(unit_amount(dec("123456.7"), cur("EUR"), De), "1.234,567 €");
    assert_eq!(unit_amount(dec("0.5"), cur("JPY"), En), "¥0.5");
    assert_eq!(unit_amount(dec("3"), cur("JPY"), En), "¥3");
    assert_eq!(unit_amount(dec("0.1"), cur("CLF"), En), "CLF 0.00001");
    assert_eq!(unit_amount(dec("-150"), cur("USD"), En), "-$1.50");
    assert_eq!(unit_amount(dec("-0.000"), cur("USD"), En), "$0.00");
}

#[test]
fn unit_amounts_at_decimal_extremes_do_not_panic() {
    assert_eq!(unit_amount(Decimal::MAX, cur("USD"), En), "$792,281,625,142,643,375,935,439,503.35");
    assert_eq!(unit_amount(Decimal::MIN, cur("CLF"), De), "-7.922.816.251.426.433.759.354.395,0335 CLF");
    let tiny = Decimal::new(1, 28);
    assert_eq!(unit_amount(tiny, cur("CLF"), En), format!("CLF 0.{}1", "0".repeat(31)));
}

#[test]
fn numbers_are_grouped_by_locale() {
    assert_eq!(number(0, En), "0");
    assert_eq!(number(999, En), "999");
    assert_eq!(number(10_000, En), "10,000");
    assert_eq!(number(10_000, De), "10.000");
    assert_eq!(number(-1_234_567, En), "-1,234,567");
}

#[test]
fn period_words_drop_the_count_of_one() {
    assert_eq!(period_words(every(1, PeriodUnit::Month), En), "month");
    assert_eq!(period_words(every(3, PeriodUnit::Month), En), "3 months");
    assert_eq!(period_words(every(1, PeriodUnit::Year), En), "year");
    assert_eq!(period_words(every(1, PeriodUnit::Week), En), "week");
    assert_eq!(period_words(every(1, PeriodUnit::Day), En), "day");
    assert_eq!(period_words(every(12, PeriodUnit::Hour), En), "12 hours");
    assert_eq!(period_words(every(1, PeriodUnit::Month), De), "Monat");
    assert_eq!(period_words(every(3, PeriodUnit::Month), De), "3 Monate");
    assert_eq!(period_words(every(1, PeriodUnit::Year), De), "Jahr");
    assert_eq!(period_words(every(2, PeriodUnit::Year), De), "2 Jahre");
    assert_eq!(period_words(every(1, PeriodUnit::Week), De), "Woche");
    assert_eq!(period_words(every(2, PeriodUnit::Week), De), "2 Wochen");
    assert_eq!(period_words(every(1, PeriodUnit::Day), De), "Tag");
    assert_eq!(period_words(every(1, PeriodUnit::Hour), De), "Stunde");
}

#[test]
fn period_lengths_always_carry_their_count() {
    assert_eq!(period_length(every(1, PeriodUnit::Month), En), "1 month");
    assert_eq!(period_length(every(14, PeriodUnit::Day), De), "14 Tage");
    assert_eq!(period_length(every(u32::MAX, PeriodUnit::Day), En), "4,294,967,295 days");
}

#[test]
fn per_period_says_per_for_one_and_every_for_more() {
    assert_eq!(per_period(every(1, PeriodUnit::Month), En), "per month");
    assert_eq!(per_period(every(3, PeriodUnit::Month), En), "every 3 months");
    assert_eq!(per_period(every(1, PeriodUnit::Year), De), "pro Jahr");
    assert_eq!(per_period(every(2, PeriodUnit::Week), De), "alle 2 Wochen");
}

#[test]
fn flat_prices_read_as_an_amount_per_period() {
    assert_eq!(describe(PriceModel::Flat { amount: 2900 }, En, None), "$29.00 per month");
    assert_eq!(describe(PriceModel::Flat { amount: 2900 }, De, None), "29,00 $ pro Monat");
    let quarterly = Frequency::Every(every(3, PeriodUnit::Month));
    let flat = item(PriceModel::Flat { amount: 2900 }, quarterly);
    assert_eq!(describe_item(&flat, cur("EUR"), De, None), "29,00 € alle 3 Monate");
}

#[test]
fn one_time_prices_say_so_and_have_no_period() {
    let setup = item(PriceModel::Flat { amount: 49_900 }, Frequency::OneTime);
    assert_eq!(describe_item(&setup, cur("USD"), En, None), "one-time: $499.00");
    assert_eq!(describe_item(&setup, cur("USD"), De, None), "einmalig: 499,00 $");
}

#[test]
fn per_unit_prices_name_the_merchants_unit() {
    let model = || PriceModel::PerUnit { unit_amount: dec("900") };
    assert_eq!(describe(model(), En, Some("seat")), "$9.00 per seat per month");
    assert_eq!(describe(model(), De, Some("Sitz")), "9,00 $ pro Sitz pro Monat");
    assert_eq!(describe(model(), En, None), "$9.00 per unit per month");
    assert_eq!(describe(model(), De, Some("  ")), "9,00 $ pro Einheit pro Monat");
}

#[test]
fn package_prices_name_the_package_size() {
    let model = || PriceModel::Package { package_size: 100, amount: 500 };
    assert_eq!(describe(model(), En, Some("call")), "$5.00 per 100 calls per month");
    assert_eq!(describe(model(), De, Some("Aufruf")), "5,00 $ pro 100er-Paket pro Monat");
    let single = PriceModel::Package { package_size: 1, amount: 500 };
    assert_eq!(describe(single, En, Some("call")), "$5.00 per call per month");
}

#[test]
fn graduated_prices_mention_the_first_tier_and_that_later_units_cost_less() {
    let model = || PriceModel::Graduated { tiers: three_tiers() };
    assert_eq!(describe(model(), En, Some("seat")), "$15.00 per seat per month for the first 10 seats, then less");
    assert_eq!(describe(model(), De, Some("Sitz")), "15,00 $ pro Sitz pro Monat für die ersten 10, danach günstiger");
}

#[test]
fn graduated_prices_that_rise_point_to_the_tier_table() {
    let rising = PriceModel::Graduated { tiers: vec![tier(Some(1), "100", 0), tier(None, "200", 0)] };
    assert_eq!(
        describe(rising.clone(), En, Some("seat")),
        "$1.00 per seat per month for the first 1 seat, then see the price tiers"
    );
    assert_eq!(describe(rising, De, None), "1,00 $ pro Einheit pro Monat für die ersten 1, danach siehe Preisstaffel");
}

#[test]
fn graduated_prices_with_a_free_first_tier_read_as_an_allowance() {
    let model = || PriceModel::Graduated { tiers: vec![tier(Some(1000), "0", 0), tier(None, "0.2", 0)] };
    assert_eq!(describe(model(), En, Some("call")), "the first 1,000 calls free, then $0.002 per call per month");
    assert_eq!(
        describe(model(), De, Some("Aufruf")),
        "die ersten 1.000 kostenlos, danach 0,002 $ pro Aufruf pro Monat"
    );
}

#[test]
fn a_tiered_model_with_one_tier_is_that_tiers_price() {
    let graduated = PriceModel::Graduated { tiers: vec![tier(None, "500", 0)] };
    assert_eq!(describe(graduated, En, Some("seat")), "$5.00 per seat per month");
    let volume = PriceModel::Volume { tiers: vec![tier(None, "0", 0)] };
    assert_eq!(describe(volume, De, None), "kostenlos");
    let stair = PriceModel::StairStep { tiers: vec![tier(None, "0", 4900)] };
    assert_eq!(describe(stair, En, None), "$49.00 per month");
}

#[test]
fn volume_prices_start_from_the_cheapest_tier() {
    let model = || PriceModel::Volume { tiers: vec![tier(Some(10), "1500", 0), tier(None, "900", 0)] };
    assert_eq!(describe(model(), En, Some("seat")), "from $9.00 per seat per month, price depends on the total");
    assert_eq!(describe(model(), De, Some("Sitz")), "ab 9,00 $ pro Sitz pro Monat, Preis abhängig von der Gesamtmenge");
}

#[test]
fn stair_step_prices_name_the_first_step() {
    let model = || PriceModel::StairStep { tiers: vec![tier(Some(10), "0", 4900), tier(None, "0", 9900)] };
    assert_eq!(describe(model(), En, Some("seat")), "$49.00 per month up to 10 seats");
    assert_eq!(describe(model(), De, Some("Sitz")), "49,00 $ pro Monat bis zu einer Menge von 10");
}

#[test]
fn customer_chosen_prices_give_the_range() {
    let model = || PriceModel::CustomerChosen { min: 500, max: 50_000, preset: 1000 };
    let donation = item(model(), Frequency::OneTime);
    assert_eq!(describe_item(&donation, cur("USD"), En, None), "one-time: pay what you want, $5.00 to $500.00");
    assert_eq!(describe(model(), De, None), "Betrag frei wählbar, 5,00 $ bis 500,00 $ pro Monat");
}

#[test]
fn metered_items_say_usage_based_and_name_the_included_units() {
    let mut calls = item(PriceModel::PerUnit { unit_amount: dec("0.2") }, MONTHLY);
    calls.metered = true;
    calls.included_units = 10_000;
    assert_eq!(
        describe_item(&calls, cur("USD"), En, Some("call")),
        "usage-based: $0.002 per call per month, 10,000 calls included"
    );
    assert_eq!(
        describe_item(&calls, cur("USD"), De, Some("Aufruf")),
        "nutzungsbasiert: 0,002 $ pro Aufruf pro Monat, 10.000 inklusive"
    );
}

#[test]
fn included_units_and_minimum_spend_are_appended() {
    let mut seats = item(PriceModel::PerUnit { unit_amount: dec("900") }, MONTHLY);
    seats.included_units = 1;
    seats.minimum_spend = Some(5000);
    assert_eq!(
        describe_item(&seats, cur("USD"), En, Some("seat")),
        "$9.00 per seat per month, 1 seat included, minimum $50.00 per month"
    );
    assert_eq!(
        describe_item(&seats, cur("EUR"), De, Some("Sitz")),
        "9,00 € pro Sitz pro Monat, 1 inklusive, mindestens 50,00 € pro Monat"
    );
    seats.frequency = Frequency::OneTime;
    seats.included_units = 0;
    assert_eq!(describe_item(&seats, cur("USD"), En, Some("seat")), "one-time: $9.00 per seat, minimum $50.00");
}

#[test]
fn a_zero_minimum_spend_is_not_mentioned() {
    let mut flat = item(PriceModel::Flat { amount: 100 }, MONTHLY);
    flat.minimum_spend = Some(0);
    assert_eq!(describe_item(&flat, cur("USD"), En, None), "$1.00 per month");
}

#[test]
fn tiered_models_without_tiers_still_describe_something() {
    for model in [
        PriceModel::Graduated { tiers: vec![] },
        PriceModel::Volume { tiers: vec![] },
        PriceModel::StairStep { tiers: vec![] },
    ] {
        assert_eq!(describe(model.clone(), En, None), "tiered pricing");
        assert_eq!(describe(model.clone(), De, None), "gestaffelter Preis");
        assert!(tier_table(&model, cur("USD"), En, None).is_empty());
    }
}

#[test]
fn english_plurals_cover_common_endings() {
    assert_eq!(english_plural("seat"), "seats");
    assert_eq!(english_plural("API call"), "API calls");
    assert_eq!(english_plural("box"), "boxes");
    assert_eq!(english_plural("license"), "licenses");
    assert_eq!(english_plural("company"), "companies");
    assert_eq!(english_plural("day"), "days");
    assert_eq!(english_plural("GBs"), "GBs");
    assert_eq!(english_plural("pass"), "passes");
    assert_eq!(english_plural("Größe"), "Größes");
}

#[test]
fn graduated_tier_rows_show_ranges_and_unit_prices_with_flat_amounts() {
    let rows = tier_rows(&three_tiers(), TierKind::Graduated, cur("USD"), En, Some("seat"));
    let expected = [("1–10", "$15.00 per seat"), ("11–50", "$12.00 per seat"), ("51+", "$9.00 per seat + $10.00 flat")];
    let expected: Vec<TierRow> =
        expected.iter().map(|(range, price)| TierRow { range: (*range).into(), price: (*price).into() }).collect();
    assert_eq!(rows, expected);
}

#[test]
fn german_tier_rows_say_ab_for_the_open_tier() {
    let rows = tier_rows(&three_tiers(), TierKind::Volume, cur("EUR"), De, Some("Sitz"));
    let ranges: Vec<&str> = rows.iter().map(|row| row.range.as_str()).collect();
    let prices: Vec<&str> = rows.iter().map(|row| row.price.as_str()).collect();
    assert_eq!(ranges, ["1–10", "11–50", "ab 51"]);
    assert_eq!(prices, ["15,00 € pro Sitz", "12,00 € pro Sitz", "9,00 € pro Sitz + 10,00 € pauschal"]);
}

#[test]
fn stair_step_tier_rows_show_the_flat_amount_of_each_step() {
    let tiers = [tier(Some(10), "0", 4900), tier(Some(11), "0", 5900), tier(Some(1000), "0", 9900), tier(None, "0", 0)];
    let rows = tier_table(&PriceModel::StairStep { tiers: tiers.to_vec() }, cur("USD"), En, None);
    let cells: Vec<(&str, &str)> = rows.iter().map(|row| (row.range.as_str(), row.price.as_str())).collect();
    assert_eq!(cells, [("1–10", "$49.00"), ("11", "$59.00"), ("12–1,000", "$99.00"), ("1,001+", "$0.00")]);
}

#[test]
fn tier_rows_say_free_and_flat_only_when_that_is_the_price() {
    let tiers = [tier(Some(5), "0", 0), tier(None, "0", 2500)];
    let rows = tier_rows(&tiers, TierKind::Graduated, cur("USD"), En, None);
    assert_eq!((rows[0].price.as_str(), rows[1].price.as_str()), ("Free", "$25.00 flat"));
    let rows = tier_rows(&tiers, TierKind::Graduated, cur("USD"), De, None);
    assert_eq!((rows[0].price.as_str(), rows[1].price.as_str()), ("Kostenlos", "25,00 $ pauschal"));
}

#[test]
fn malformed_tiers_render_without_panicking() {
    let tiers = [tier(Some(i64::MAX), "1", 0), tier(Some(3), "1", 0), tier(None, "1", 0)];
    let rows = tier_rows(&tiers, TierKind::Volume, cur("USD"), En, None);
    let ranges: Vec<&str> = rows.iter().map(|row| row.range.as_str()).collect();
    assert_eq!(ranges, ["1–9,223,372,036,854,775,807", "9,223,372,036,854,775,807–3", "4+"]);
    assert!(tier_table(&PriceModel::Flat { amount: 1 }, cur("USD"), En, None).is_empty());
}
