//! Tests of the pricing engine: hand-computed worked examples first, then proptest properties.
//! Compiled only as the `#[cfg(test)]` module of its parent file, so unwraps here never reach a request.

use super::super::term::PeriodUnit;
use super::*;
use chrono::{TimeDelta, TimeZone};
use proptest::prelude::*;

const MONTHLY: Frequency = Frequency::Every(Period { count: 1, unit: PeriodUnit::Month });
const WEEKLY: Frequency = Frequency::Every(Period { count: 1, unit: PeriodUnit::Week });
const YEARLY: Frequency = Frequency::Every(Period { count: 1, unit: PeriodUnit::Year });

/// A decimal from its text, e.g. d("0.5").
fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn date(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap()
}

/// Jan 31 of a leap year, so monthly dates exercise end-of-month clamping.
fn now() -> DateTime<Utc> {
    date(2024, 1, 31)
}

fn item(id: &str, model: PriceModel, frequency: Frequency) -> PricedItem {
    PricedItem {
        item_pricing_id: format!("item-{id}"),
        product_id: format!("prod-{id}"),
        product_pricing_id: format!("pp-{id}"),
        name: id.to_owned(),
        model,
        frequency,
        included_units: 0,
        minimum_spend: None,
        metered: false,
    }
}

fn sel(item: PricedItem, quantity: i64) -> Selection {
    Selection { item, quantity, chosen_amount: None, onetime_billable_id: None }
}

fn flat(id: &str, amount: i64, frequency: Frequency) -> Selection {
    sel(item(id, PriceModel::Flat { amount }, frequency), 1)
}

fn input(selections: Vec<Selection>, discounts: Vec<Discount>) -> QuoteInput {
    let currency = Currency::parse("USD").unwrap();
    QuoteInput { currency, selections, discounts, now: now(), trial: None, term: None }
}

fn discount(value: DiscountValue, scope: DiscountScope, duration: DiscountDuration) -> Discount {
    Discount { name: "promo".to_owned(), value, cap: None, scope, expires_at: None, duration }
}

fn percent(p: Decimal) -> Discount {
    discount(DiscountValue::Percent(p), DiscountScope::All, DiscountDuration::Forever)
}

fn off(amount: i64) -> Discount {
    discount(DiscountValue::Amount(amount), DiscountScope::All, DiscountDuration::Forever)
}

/// The amount of one one-time line of `model` at `quantity`.
fn price(model: &PriceModel, quantity: i64) -> Result<i64, PricingError> {
    let q = quote(&input(vec![sel(item("x", model.clone(), Frequency::OneTime), quantity)], vec![]))?;
    Ok(q.lines[0].amount)
}

/// Discount amounts per charge: today's first, then each recurring charge's.
fn taken(q: &Quote) -> Vec<Vec<i64>> {
    let charges = std::iter::once(&q.due_today).chain(q.recurring.iter().map(|r| &r.charge));
    charges.map(|c| c.discounts.iter().map(|d| d.amount).collect()).collect()
}

/// Tiers 1–10 at 1.00 + 3.00 flat, 11–20 at 0.80 + 5.00 flat, 21+ at 0.50 + 10.00 flat (in cents).
fn tiers(unit_amounts: [Decimal; 3]) -> Vec<Tier> {
    let [a, b, c] = unit_amounts;
    vec![
        Tier { up_to: Some(10), unit_amount: a, flat_amount: 300 },
        Tier { up_to: Some(20), unit_amount: b, flat_amount: 500 },
        Tier { up_to: None, unit_amount: c, flat_amount: 1000 },
    ]
}

#[test]
fn per_unit_prices_round_once_half_away_from_zero() {
    let half_cent = PriceModel::PerUnit { unit_amount: d("0.5") };
    assert_eq!(price(&half_cent, 3), Ok(2)); // 1.5 → 2
    assert_eq!(price(&half_cent, 5), Ok(3)); // 2.5 → 3
    assert_eq!(price(&PriceModel::PerUnit { unit_amount: d("0.49") }, 1), Ok(0));
    assert_eq!(price(&PriceModel::PerUnit { unit_amount: d("999") }, 7), Ok(6993));
}

#[test]
fn packages_round_up_to_whole_packages() {
    let tens = PriceModel::Package { package_size: 10, amount: 500 };
    let amounts: Vec<_> = [0, 1, 10, 11, 25].iter().map(|&q| price(&tens, q)).collect();
    assert_eq!(amounts, [Ok(0), Ok(500), Ok(500), Ok(1000), Ok(1500)]);
}

#[test]
fn graduated_volume_and_stair_step_differ_on_the_same_tiers() {
    let units = [d("100"), d("80"), d("50")];
    let graduated = PriceModel::Graduated { tiers: tiers(units) };
    let volume = PriceModel::Volume { tiers: tiers(units) };
    let stair_step = PriceModel::StairStep { tiers: tiers([Decimal::ZERO; 3]) };
    let at = |model: &PriceModel| [0, 5, 10, 15, 20, 25].map(|q| price(model, q).unwrap());
    // 15 graduated = 10×100 + 300 + 5×80 + 500; 25 = 10×100 + 300 + 10×80 + 500 + 5×50 + 1000.
    assert_eq!(at(&graduated), [0, 800, 1300, 2200, 2600, 3850]);
    // 15 volume = 15×80 + 500; 25 = 25×50 + 1000.
    assert_eq!(at(&volume), [0, 800, 1300, 1700, 2100, 2250]);
    assert_eq!(at(&stair_step), [0, 300, 300, 500, 500, 1000]);
}

#[test]
fn flat_prices_ignore_the_quantity_but_zero_costs_nothing() {
    let flat = PriceModel::Flat { amount: 4900 };
    assert_eq!([0, 1, 7].map(|q| price(&flat, q)), [Ok(0), Ok(4900), Ok(4900)]);
}

#[test]
fn customer_chosen_takes_the_preset_or_a_chosen_amount_in_range() {
    let model = PriceModel::CustomerChosen { min: 500, max: 5000, preset: 1000 };
    let with = |chosen| {
        let selection = Selection { chosen_amount: chosen, ..sel(item("tip", model.clone(), Frequency::OneTime), 1) };
        quote(&input(vec![selection], vec![])).map(|q| q.lines[0].amount)
    };
    assert_eq!(with(None), Ok(1000));
    assert_eq!(with(Some(2500)), Ok(2500));
    assert_eq!(with(Some(5000)), Ok(5000));
    let out_of_range = Err(PricingError::ChosenAmountOutOfRange { selection: 0, min: 500, max: 5000 });
    assert_eq!(with(Some(499)), out_of_range);
    assert_eq!(with(Some(5001)), out_of_range);
}

#[test]
fn a_chosen_amount_on_another_model_is_rejected() {
    let selection = Selection { chosen_amount: Some(100), ..flat("a", 100, Frequency::OneTime) };
    let result = quote(&input(vec![flat("ok", 1, Frequency::OneTime), selection], vec![]));
    assert_eq!(result, Err(PricingError::UnexpectedChosenAmount { selection: 1 }));
}

#[test]
fn included_units_are_free() {
    let mut seats = item("seat", PriceModel::PerUnit { unit_amount: d("250") }, MONTHLY);
    seats.included_units = 3;
    let line = |quantity| quote(&input(vec![sel(seats.clone(), quantity)], vec![])).unwrap().lines.remove(0);
    let five = line(5);
    assert_eq!((five.billed_quantity, five.amount), (2, 500));
    assert_eq!(five.description, "2 units, per unit (+3 units included)");
    let two = line(2);
    assert_eq!((two.billed_quantity, two.amount), (0, 0));
}

#[test]
fn minimum_spend_raises_a_line_with_quantity() {
    let mut api = item("api", PriceModel::PerUnit { unit_amount: d("100") }, MONTHLY);
    api.minimum_spend = Some(1000);
    let amount =
        |api: &PricedItem, quantity| quote(&input(vec![sel(api.clone(), quantity)], vec![])).unwrap().lines[0].amount;
    assert_eq!(amount(&api, 3), 1000);
    assert_eq!(amount(&api, 20), 2000);
    assert_eq!(amount(&api, 0), 0);
    api.included_units = 5; // all 3 units free, but the minimum is still owed
    assert_eq!(amount(&api, 3), 1000);
}

#[test]
fn metered_lines_are_shown_but_in_no_charge() {
    let mut calls = item("calls", PriceModel::PerUnit { unit_amount: d("10") }, MONTHLY);
    calls.metered = true;
    let q =
        quote(&input(vec![sel(calls, 100), flat("setup", 5000, Frequency::OneTime)], vec![percent(d("1"))])).unwrap();
    assert_eq!((q.lines[0].amount, q.lines[0].due_today), (0, false));
    assert_eq!(q.lines[0].description, "100 units, metered, billed in arrears");
    assert_eq!(q.due_today.subtotal, 5000);
    assert_eq!(q.due_today.discounts[0].line_indexes, [1]);
    assert!(q.recurring.is_empty());
    assert_eq!(q.first_recurring_charge_at, None);
}

#[test]
fn a_metered_line_whose_notional_amount_is_huge_still_prices_the_order() {
    // 10^9 calls at 10 000 minor units each would be 10^13: never charged, so never too large.
    let mut calls = item("calls", PriceModel::PerUnit { unit_amount: d("10000") }, MONTHLY);
    calls.metered = true;
    let q = quote(&input(vec![sel(calls, 1_000_000_000), flat("setup", 5000, Frequency::OneTime)], vec![])).unwrap();
    assert_eq!(q.lines[0].amount, 0);
    assert_eq!(q.due_today.total, 5000);
}

#[test]
fn a_trial_moves_recurring_lines_to_its_end_and_keeps_one_time_lines_today() {
    let mut request = input(vec![flat("setup", 5000, Frequency::OneTime), flat("plan", 2000, MONTHLY)], vec![]);
    request.trial = Some(Period { count: 14, unit: PeriodUnit::Day });
    let q = quote(&request).unwrap();
    let trial_end = date(2024, 2, 14);
    assert_eq!(q.trial_ends_at, Some(trial_end));
    assert_eq!(q.due_today.subtotal, 5000);
    assert_eq!([q.lines[0].due_today, q.lines[1].due_today], [true, false]);
    assert_eq!(q.recurring.len(), 1);
    assert_eq!((q.recurring[0].charge.at, q.recurring[0].charge.subtotal), (trial_end, 2000));
    assert_eq!(q.first_recurring_charge_at, Some(trial_end));
}

#[test]
fn recurring_charges_fall_one_period_on_clamped_to_the_month_end() {
    let selections = vec![flat("y", 10000, YEARLY), flat("m", 1000, MONTHLY), flat("w", 300, WEEKLY)];
    let mut request = input(selections, vec![]);
    request.term = Some(Period { count: 12, unit: PeriodUnit::Month });
    let q = quote(&request).unwrap();
    assert_eq!(q.due_today.subtotal, 11300);
    let next: Vec<_> = q.recurring.iter().map(|r| (r.period.unit, r.charge.at, r.charge.subtotal)).collect();
    assert_eq!(
        next,
        [
            (PeriodUnit::Week, date(2024, 2, 7), 300),
            (PeriodUnit::Month, date(2024, 2, 29), 1000),
            (PeriodUnit::Year, date(2025, 1, 31), 10000),
        ]
    );
    assert_eq!(q.first_recurring_charge_at, Some(date(2024, 2, 7)));
    assert_eq!(q.term_ends_at, Some(date(2025, 1, 31)));

    request.now = date(2023, 1, 31);
    assert_eq!(quote(&request).unwrap().recurring[1].charge.at, date(2023, 2, 28));
}

#[test]
fn a_percent_discount_rounds_and_stops_at_its_cap() {
    let q = quote(&input(vec![flat("a", 999, Frequency::OneTime)], vec![percent(d("0.15"))])).unwrap();
    assert_eq!((q.due_today.discount_total, q.due_today.total), (150, 849)); // 149.85 → 150

    let capped = Discount { cap: Some(1500), ..percent(d("0.2")) };
    let q = quote(&input(vec![flat("a", 10000, Frequency::OneTime)], vec![capped])).unwrap();
    assert_eq!((q.due_today.discount_total, q.due_today.total), (1500, 8500)); // 2000 capped
}

#[test]
fn an_amount_discount_larger_than_its_scope_takes_only_the_scope() {
    let q = quote(&input(vec![flat("a", 3000, Frequency::OneTime)], vec![off(5000)])).unwrap();
    assert_eq!((q.due_today.discount_total, q.due_today.total), (3000, 0));
}

#[test]
fn scoped_discounts_take_only_from_their_lines() {
    let lines = || {
        let mut billable = flat("b", 3000, Frequency::OneTime);
        billable.onetime_billable_id = Some("ob-b".to_owned());
        vec![flat("a", 1000, Frequency::OneTime), billable, flat("c", 2000, MONTHLY)]
    };
    let take = |scope, value| {
        let q = quote(&input(lines(), vec![discount(value, scope, DiscountDuration::Forever)])).unwrap();
        (q.due_today.discounts[0].line_indexes.clone(), taken(&q))
    };
    let half = DiscountValue::Percent(d("0.5"));
    assert_eq!(take(DiscountScope::Product("prod-a".into()), half.clone()), (vec![0], vec![vec![500], vec![]]));
    let pp = DiscountScope::ProductPricing("pp-b".into());
    assert_eq!(take(pp, DiscountValue::Amount(700)), (vec![1], vec![vec![700], vec![]]));
    let tenth = DiscountValue::Percent(d("0.1"));
    assert_eq!(take(DiscountScope::Item("item-c".into()), tenth), (vec![2], vec![vec![200], vec![200]]));
    let billable = DiscountScope::OneTimeBillable("ob-b".into());
    assert_eq!(take(billable, DiscountValue::Percent(Decimal::ONE)), (vec![1], vec![vec![3000], vec![]]));
    assert_eq!(take(DiscountScope::All, half), (vec![0, 1, 2], vec![vec![3000], vec![1000]]));

    let nothing =
        discount(DiscountValue::Amount(100), DiscountScope::Item("item-zz".into()), DiscountDuration::Forever);
    let q = quote(&input(lines(), vec![nothing])).unwrap();
    assert_eq!(taken(&q), [Vec::<i64>::new(), Vec::new()]);
}

#[test]
fn an_expired_discount_is_not_applied() {
    let expired = Discount { expires_at: Some(now()), ..off(100) };
    let q = quote(&input(vec![flat("a", 1000, MONTHLY)], vec![expired])).unwrap();
    assert_eq!(taken(&q), [Vec::<i64>::new(), Vec::new()]);
}

#[test]
fn a_discount_expiring_before_the_next_charge_applies_today_only() {
    let tomorrow = Discount { expires_at: Some(now() + TimeDelta::days(1)), ..off(100) };
    let q = quote(&input(vec![flat("a", 1000, MONTHLY)], vec![tomorrow])).unwrap();
    assert_eq!(taken(&q), [vec![100], vec![]]);
    assert_eq!(q.recurring[0].charge.total, 1000);
}

#[test]
fn durations_decide_which_charges_a_discount_reaches() {
    let duration_gives = |duration, trial: bool, selections: Vec<Selection>| {
        let mut request = input(selections, vec![Discount { duration, ..off(100) }]);
        request.trial = trial.then_some(Period { count: 7, unit: PeriodUnit::Day });
        taken(&quote(&request).unwrap())
    };
    let plan = || vec![flat("plan", 1000, MONTHLY)];
    let with_setup = || vec![flat("setup", 500, Frequency::OneTime), flat("plan", 1000, MONTHLY)];
    use DiscountDuration::{Forever, Once, Periods};
    // No trial: today is the plan's period 1, the next charge its period 2.
    assert_eq!(duration_gives(Once, false, plan()), [vec![100], vec![]]);
    assert_eq!(duration_gives(Periods(1), false, plan()), [vec![100], vec![]]);
    assert_eq!(duration_gives(Periods(2), false, plan()), [vec![100], vec![100]]);
    assert_eq!(duration_gives(Forever, false, plan()), [vec![100], vec![100]]);
    // Trial: nothing of the plan is due today, so its first charge is at the trial's end.
    assert_eq!(duration_gives(Once, true, plan()), [vec![], vec![100]]);
    assert_eq!(duration_gives(Periods(1), true, plan()), [vec![], vec![100]]);
    assert_eq!(duration_gives(Once, true, with_setup()), [vec![100], vec![]]);
    assert_eq!(duration_gives(Periods(1), true, with_setup()), [vec![100], vec![100]]);
}

#[test]
fn once_skips_charges_with_nothing_to_discount() {
    let free_setup = flat("setup", 0, Frequency::OneTime);
    let mut request = input(
        vec![free_setup, flat("plan", 1000, MONTHLY)],
        vec![Discount { duration: DiscountDuration::Once, ..off(100) }],
    );
    request.trial = Some(Period { count: 7, unit: PeriodUnit::Day });
    assert_eq!(taken(&quote(&request).unwrap()), [vec![], vec![100]]);
}

#[test]
fn two_discounts_apply_in_order_to_what_is_left() {
    let lines = || vec![flat("a", 1000, Frequency::OneTime), flat("b", 3000, Frequency::OneTime)];
    let a_off =
        discount(DiscountValue::Amount(800), DiscountScope::Product("prod-a".into()), DiscountDuration::Forever);
    // Half of 4000 is 2000, split 500 on a and 1500 on b; then only 500 of a is left for the 800 off.
    let q = quote(&input(lines(), vec![percent(d("0.5")), a_off.clone()])).unwrap();
    assert_eq!((taken(&q)[0].clone(), q.due_today.total), (vec![2000, 500], 1500));
    // Reversed: 800 off a leaves 200 + 3000, half of which is 1600.
    let q = quote(&input(lines(), vec![a_off, percent(d("0.5"))])).unwrap();
    assert_eq!((taken(&q)[0].clone(), q.due_today.total), (vec![800, 1600], 1600));
    assert_eq!(q.due_today.discounts[1].discount_index, 1);
}

#[test]
fn a_shared_discount_is_split_by_largest_remainder() {
    // 100 off lines of 100 and 200: exact shares 33.33 and 66.67 → 33 and 67, leaving a with 67.
    let all_of_a =
        discount(DiscountValue::Percent(Decimal::ONE), DiscountScope::Item("item-a".into()), DiscountDuration::Forever);
    let lines = vec![flat("a", 100, Frequency::OneTime), flat("b", 200, Frequency::OneTime)];
    let q = quote(&input(lines, vec![off(100), all_of_a])).unwrap();
    assert_eq!((taken(&q)[0].clone(), q.due_today.total), (vec![100, 67], 133));
}

#[test]
fn discount_amounts_are_minor_units_of_the_quote_currency() {
    // The engine has no discount currency (the API rejects a mismatch): 500 in a JPY quote is ¥500, not ¥5.00.
    let mut request = input(vec![flat("a", 1200, Frequency::OneTime)], vec![off(500)]);
    request.currency = Currency::parse("jpy").unwrap();
    let q = quote(&request).unwrap();
    assert_eq!((q.currency.code(), q.currency.exponent(), q.due_today.total), ("JPY", 0, 700));
}

#[test]
fn invalid_models_are_rejected_with_a_reason() {
    let tier = |up_to, unit_amount| Tier { up_to, unit_amount, flat_amount: 0 };
    let reason = |model: PriceModel| match model.validate() {
        Err(PricingError::InvalidModel { selection: None, reason }) => reason,
        other => panic!("{other:?}"),
    };
    assert_eq!(reason(PriceModel::Graduated { tiers: vec![] }), "tiers must not be empty");
    assert_eq!(reason(PriceModel::Volume { tiers: vec![tier(Some(5), d("1"))] }), "the last tier must be unbounded");
    let repeated = vec![tier(Some(5), d("1")), tier(Some(5), d("1")), tier(None, d("1"))];
    assert_eq!(reason(PriceModel::Volume { tiers: repeated }), "tier bounds must be positive and strictly ascending");
    let two_open = vec![tier(None, d("1")), tier(None, d("1"))];
    assert_eq!(reason(PriceModel::Graduated { tiers: two_open }), "only the last tier may be unbounded");
    assert_eq!(
        reason(PriceModel::StairStep { tiers: vec![tier(None, d("1"))] }),
        "stair-step tiers must have unit amount 0"
    );
    assert_eq!(reason(PriceModel::Package { package_size: 0, amount: 1 }), "package size must be at least 1");
    assert!(PriceModel::PerUnit { unit_amount: d("-0.1") }.validate().is_err());
    assert!(PriceModel::Flat { amount: MAX_MINOR + 1 }.validate().is_err());
    assert!(PriceModel::CustomerChosen { min: 5, max: 10, preset: 11 }.validate().is_err());
    assert_eq!(PriceModel::Graduated { tiers: tiers([d("1"); 3]) }.validate(), Ok(()));

    let mut negative = item("a", PriceModel::Flat { amount: 1 }, Frequency::OneTime);
    negative.included_units = -1;
    let selections = vec![flat("ok", 1, Frequency::OneTime), sel(negative, 1)];
    let error = quote(&input(selections, vec![])).unwrap_err();
    assert_eq!(error, PricingError::InvalidModel { selection: Some(1), reason: "included units must not be negative" });
    assert_eq!(error.to_string(), "invalid pricing of selection 1: included units must not be negative");
}

#[test]
fn bad_quantities_discounts_and_periods_are_rejected() {
    let one = |quantity| quote(&input(vec![sel(item("a", PriceModel::Flat { amount: 1 }, MONTHLY), quantity)], vec![]));
    assert!(one(MAX_QUANTITY).is_ok());
    assert_eq!(one(MAX_QUANTITY + 1), Err(PricingError::QuantityOutOfRange { selection: 0 }));
    assert_eq!(one(-1), Err(PricingError::QuantityOutOfRange { selection: 0 }));

    let with = |d: Discount| quote(&input(vec![], vec![off(1), d]));
    assert_eq!(with(percent(Decimal::ZERO)), Err(PricingError::InvalidPercent { discount: 1 }));
    assert_eq!(with(percent(d("1.01"))), Err(PricingError::InvalidPercent { discount: 1 }));
    assert_eq!(with(off(-1)), Err(PricingError::InvalidDiscountAmount { discount: 1 }));
    assert_eq!(with(off(MAX_MINOR + 1)), Err(PricingError::InvalidDiscountAmount { discount: 1 }));
    assert_eq!(
        with(Discount { cap: Some(MAX_MINOR + 1), ..off(1) }),
        Err(PricingError::InvalidDiscountAmount { discount: 1 })
    );
    assert_eq!(
        with(Discount { duration: DiscountDuration::Periods(0), ..off(1) }),
        Err(PricingError::InvalidDuration { discount: 1 })
    );

    let mut request = input(vec![], vec![]);
    request.trial = Some(Period { count: 0, unit: PeriodUnit::Day });
    assert_eq!(quote(&request), Err(PricingError::InvalidPeriod { field: "trial" }));
    request.trial = Some(Period { count: u32::MAX, unit: PeriodUnit::Year });
    assert_eq!(quote(&request), Err(PricingError::DateOutOfRange));
}

#[test]
fn amounts_beyond_max_minor_are_an_error_not_an_overflow() {
    let most = PriceModel::PerUnit { unit_amount: Decimal::from(MAX_MINOR) };
    assert_eq!(price(&most, MAX_QUANTITY), Err(PricingError::AmountTooLarge));
    assert_eq!(price(&most, 1), Ok(MAX_MINOR));
    let two = vec![flat("a", MAX_MINOR, Frequency::OneTime), flat("b", 1, Frequency::OneTime)];
    assert_eq!(quote(&input(two, vec![])), Err(PricingError::AmountTooLarge));
}

#[test]
fn huge_tier_lists_price_a_billion_units() {
    let tier = |k: i64| Tier { up_to: Some(k * 10), unit_amount: Decimal::ONE, flat_amount: 1 };
    let mut many: Vec<Tier> = (1..=100_000).map(tier).collect();
    many.push(Tier { up_to: None, unit_amount: Decimal::ONE, flat_amount: 1 });
    // One minor unit per unit, plus 1 flat for each of the 100 001 tiers reached.
    assert_eq!(price(&PriceModel::Graduated { tiers: many.clone() }, MAX_QUANTITY), Ok(MAX_QUANTITY + 100_001));
    assert_eq!(price(&PriceModel::Volume { tiers: many }, MAX_QUANTITY), Ok(MAX_QUANTITY + 1));
}

// ---- properties ----

/// 1–5 tiers with random widths, unit amounts with up to 2 decimals, and flat amounts.
fn arb_tiers() -> impl Strategy<Value = Vec<Tier>> {
    prop::collection::vec((1i64..60, 0i64..100_000, 0u32..3, 0i64..5000), 1..6).prop_map(|raw| {
        let count = raw.len();
        let mut edge = 0;
        let tier = |(k, (width, unit, scale, flat_amount)): (usize, (i64, i64, u32, i64))| {
            edge += width;
            Tier { up_to: (k + 1 < count).then_some(edge), unit_amount: Decimal::new(unit, scale), flat_amount }
        };
        raw.into_iter().enumerate().map(tier).collect()
    })
}

fn arb_model() -> impl Strategy<Value = PriceModel> {
    prop_oneof![
        (0i64..100_000).prop_map(|amount| PriceModel::Flat { amount }),
        (0i64..1_000_000, 0u32..3).prop_map(|(u, s)| PriceModel::PerUnit { unit_amount: Decimal::new(u, s) }),
        (1i64..20, 0i64..10_000).prop_map(|(package_size, amount)| PriceModel::Package { package_size, amount }),
        arb_tiers().prop_map(|tiers| PriceModel::Graduated { tiers }),
        arb_tiers().prop_map(|tiers| PriceModel::Volume { tiers }),
        arb_tiers().prop_map(|tiers| PriceModel::StairStep {
            tiers: tiers.into_iter().map(|t| Tier { unit_amount: Decimal::ZERO, ..t }).collect()
        }),
        (0i64..1000, 0i64..1000).prop_map(|(a, b)| PriceModel::CustomerChosen {
            min: a.min(b),
            max: a.max(b),
            preset: a.max(b)
        }),
    ]
}

fn arb_selection() -> impl Strategy<Value = Selection> {
    let frequency = prop_oneof![Just(Frequency::OneTime), Just(MONTHLY), Just(WEEKLY), Just(YEARLY)];
    let ids = (0..3u8, 0..2u8, prop::option::of(0..2u8));
    let extras = (0i64..5, prop::option::of(0i64..50_000), prop::bool::weighted(0.15));
    (arb_model(), frequency, 0i64..2000, ids, extras).prop_map(
        |(model, frequency, quantity, (p, i, ob), (inc, min, metered))| {
            let mut it = item(&format!("{p}{i}"), model, frequency);
            it.product_id = format!("prod-{p}");
            (it.included_units, it.minimum_spend, it.metered) = (inc, min, metered);
            Selection { onetime_billable_id: ob.map(|o| format!("ob-{o}")), ..sel(it, quantity) }
        },
    )
}

fn arb_discount() -> impl Strategy<Value = Discount> {
    let value = prop_oneof![
        (1i64..=100).prop_map(|p| DiscountValue::Percent(Decimal::new(p, 2))),
        (1i64..200_000).prop_map(DiscountValue::Amount),
    ];
    let scope = prop_oneof![
        Just(DiscountScope::All),
        (0..4u8).prop_map(|p| DiscountScope::Product(format!("prod-{p}"))),
        (0..3u8, 0..2u8).prop_map(|(p, i)| DiscountScope::ProductPricing(format!("pp-{p}{i}"))),
        (0..3u8, 0..2u8).prop_map(|(p, i)| DiscountScope::Item(format!("item-{p}{i}"))),
        (0..2u8).prop_map(|o| DiscountScope::OneTimeBillable(format!("ob-{o}"))),
    ];
    let duration = prop_oneof![
        Just(DiscountDuration::Once),
        Just(DiscountDuration::Forever),
        (1u32..4).prop_map(DiscountDuration::Periods)
    ];
    let expiry = prop::option::of(0i64..60 * 24 * 400);
    (value, prop::option::of(1i64..100_000), scope, expiry, duration).prop_map(
        |(value, cap, scope, expiry, duration)| {
            let expires_at = expiry.map(|minutes| now() + TimeDelta::minutes(minutes));
            Discount { cap, expires_at, ..discount(value, scope, duration) }
        },
    )
}

fn arb_input() -> impl Strategy<Value = QuoteInput> {
    let trial = prop::option::of((1u32..30).prop_map(|count| Period { count, unit: PeriodUnit::Day }));
    let selections = prop::collection::vec(arb_selection(), 0..6);
    (selections, prop::collection::vec(arb_discount(), 0..4), trial)
        .prop_map(|(selections, discounts, trial)| QuoteInput { trial, ..input(selections, discounts) })
}

/// The tier a single unit number (1-based) or a volume falls in, by a plain scan.
fn tier_of(tiers: &[Tier], n: i64) -> usize {
    tiers.iter().position(|t| t.up_to.is_none_or(|up_to| n <= up_to)).unwrap()
}

proptest! {
    #[test]
    fn charges_add_up_and_discounts_stay_within_their_scope(request in arb_input()) {
        let q = match quote(&request) {
            Ok(q) => q,
            Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
        };
        let sum = |indexes: &mut dyn Iterator<Item = usize>| indexes.map(|i| q.lines[i].amount).sum::<i64>();
        prop_assert_eq!(q.due_today.subtotal, sum(&mut (0..q.lines.len()).filter(|&i| q.lines[i].due_today)));
        for r in &q.recurring {
            let in_period = |i: &usize| !q.lines[*i].metered && q.lines[*i].frequency == Frequency::Every(r.period);
            prop_assert_eq!(r.charge.subtotal, sum(&mut (0..q.lines.len()).filter(in_period)));
        }
        for line in q.lines.iter().filter(|l| l.metered) {
            prop_assert!(line.amount == 0 && !line.due_today);
        }
        for charge in std::iter::once(&q.due_today).chain(q.recurring.iter().map(|r| &r.charge)) {
            prop_assert!(charge.total >= 0);
            prop_assert_eq!(charge.total, charge.subtotal - charge.discount_total);
            prop_assert_eq!(charge.discount_total, charge.discounts.iter().map(|d| d.amount).sum::<i64>());
            for d in &charge.discounts {
                // Each discount comes out of its own lines and none goes below 0, so all the discounts
                // confined to d's lines together take at most what those lines hold.
                let confined = charge.discounts.iter().filter(|e| e.line_indexes.iter().all(|i| d.line_indexes.contains(i)));
                prop_assert!(d.amount >= 0);
                prop_assert!(confined.map(|e| e.amount).sum::<i64>() <= sum(&mut d.line_indexes.iter().copied()));
            }
        }
    }

    #[test]
    fn graduated_and_volume_match_a_unit_by_unit_reckoning(tiers in arb_tiers(), quantity in 0i64..320) {
        let graduated = price(&PriceModel::Graduated { tiers: tiers.clone() }, quantity).unwrap();
        let volume = price(&PriceModel::Volume { tiers: tiers.clone() }, quantity).unwrap();
        // Graduated: each unit at its own tier's price, plus the flat amount of every tier a unit landed in.
        let unit_tiers: Vec<usize> = (1..=quantity).map(|n| tier_of(&tiers, n)).collect();
        let mut reached = unit_tiers.clone();
        reached.dedup();
        let per_unit: Decimal = unit_tiers.iter().map(|&k| tiers[k].unit_amount).sum();
        let flats: i64 = reached.iter().map(|&k| tiers[k].flat_amount).sum();
        prop_assert_eq!(graduated, round_minor(per_unit + Decimal::from(flats)).unwrap());
        // Volume: every unit at the price of the tier holding the whole quantity, plus its flat amount.
        let expected_volume = if quantity == 0 {
            0
        } else {
            let tier = &tiers[tier_of(&tiers, quantity)];
            round_minor(Decimal::from(quantity) * tier.unit_amount + Decimal::from(tier.flat_amount)).unwrap()
        };
        prop_assert_eq!(volume, expected_volume);
        if tiers[0].up_to.is_none_or(|first_edge| quantity <= first_edge) {
            prop_assert_eq!(graduated, volume);
        }
    }
}
