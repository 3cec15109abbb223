//! Pricing engine: prices a checkout's selections, groups the lines into charges and applies discounts.
//! Pure: no I/O and no clock (the caller passes `now`). These are the rules, stated once:
//!
//! **Amounts.** Every amount is an integer number of minor units of the quote currency, at most
//! `MAX_MINOR`; that includes discount amounts and caps (the API rejects a discount in another currency).
//! Unit prices are `Decimal` minor units and may be fractional. A line's amount is computed exactly in
//! `Decimal` and rounded once with `round_minor`, half away from zero: 3 × 0.5 = 1.5 → 2. Arithmetic is
//! checked throughout: a line or a charge subtotal above `MAX_MINOR` is `AmountTooLarge`, never a panic.
//!
//! **Line amount.** `billed = max(quantity - included_units, 0)`; quantity-based models price `billed`
//! units, and 0 units cost 0. A tier holds the quantities above the previous tier's `up_to` up to and
//! including its own (the last tier is unbounded).
//! - Flat: `amount`. PerUnit: `billed × unit_amount`. Package: `ceil(billed / package_size) × amount`.
//! - Graduated: each unit at the price of the tier it falls in, plus the flat amount of each tier reached.
//! - Volume: every unit at the price of the tier containing `billed`, plus that tier's flat amount.
//! - StairStep: the flat amount of the tier containing `billed`.
//! - CustomerChosen: `chosen_amount` (else `preset`), which must lie in `[min, max]`; quantity is unused.
//!
//! When quantity > 0 the amount is then raised to `minimum_spend`. Metered lines are billed in arrears,
//! so their amount here is 0 and they are in no charge.
//!
//! **Charges.** Today's charge (at `now`) holds the one-time lines and, unless there is a trial, the
//! first period of every recurring line. Each distinct recurring period then has one `RecurringCharge`:
//! the next charge not collected today, at `now + 1 period`, or at the trial's end with a trial.
//! Charges are numbered per period: today's is number 1; a recurring charge is number 2 (number 1 with
//! a trial, since nothing of that period was collected today).
//!
//! **Discounts** apply in input order, each to what is left of its scope in a charge after the earlier
//! ones: a percent takes `round_minor(left × p)`, an amount takes `amount`; either is then limited to
//! `cap` and to `left`, so a charge never goes negative. A discount covering several lines is split
//! across them in proportion to what each has left, by largest remainder, so no line goes below 0.
//! A discount is applied to a charge when both hold:
//! - its duration allows it: `Once` only to the first charge holding an in-scope line with an amount
//!   above 0 (today's if any, else the earliest recurring one, the first in `Quote::recurring` order on
//!   a tie); `Forever` to every charge; `Periods(n)` to charges numbered at most n;
//! - it has not expired: the charge's `at` is before `expires_at`.
//!
//! A scope that matches no line of a charge takes nothing and adds no `DiscountLine` there; it is not
//! an error here (the API checks ids).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::money::{Currency, MAX_MINOR, round_minor};
use super::term::{Frequency, Period};

/// The largest quantity of one selection.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// A price band of a tiered model; see the module docs for which quantities it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Tier {
    /// Last quantity in this tier; `None` (infinity) for the last tier only.
    pub up_to: Option<i64>,
    pub unit_amount: Decimal,
    pub flat_amount: i64,
}

/// How a line's amount follows from its quantity; the module docs give each model's rule. Amounts are
/// minor units; `StairStep` tiers have `unit_amount` 0.
#[derive(Clone, Debug, PartialEq)]
pub enum PriceModel {
    Flat { amount: i64 },
    PerUnit { unit_amount: Decimal },
    Package { package_size: i64, amount: i64 },
    Graduated { tiers: Vec<Tier> },
    Volume { tiers: Vec<Tier> },
    StairStep { tiers: Vec<Tier> },
    CustomerChosen { min: i64, max: i64, preset: i64 },
}

impl PriceModel {
    /// Checks the model on its own, e.g. when a price is created: amounts in `0..=MAX_MINOR`, package size
    /// above 0, tiers non-empty with strictly ascending positive bounds and only the last unbounded,
    /// stair-step unit amounts 0, `min <= preset <= max`. Errors have `selection: None`.
    pub fn validate(&self) -> Result<(), PricingError> {
        self.check().map_err(|reason| PricingError::InvalidModel { selection: None, reason })
    }

    fn check(&self) -> Result<(), &'static str> {
        const AMOUNT: &str = "amounts must be between 0 and 10^12 minor units";
        match self {
            Self::Flat { amount } => ensure(is_amount(*amount), AMOUNT),
            Self::PerUnit { unit_amount } => ensure(is_unit_amount(*unit_amount), AMOUNT),
            Self::Package { package_size, amount } => {
                ensure(*package_size > 0, "package size must be at least 1")?;
                ensure(is_amount(*amount), AMOUNT)
            }
            Self::Graduated { tiers } | Self::Volume { tiers } => check_tiers(tiers, false),
            Self::StairStep { tiers } => check_tiers(tiers, true),
            Self::CustomerChosen { min, max, preset } => ensure(
                is_amount(*min) && is_amount(*max) && min <= preset && preset <= max,
                "customer-chosen amounts need 0 <= min <= preset <= max <= 10^12",
            ),
        }
    }

    /// The exact price of `billed` units for every model but `CustomerChosen` (priced by the caller).
    /// `None` only on `Decimal` overflow, which validated inputs cannot reach.
    fn exact_amount(&self, billed: i64) -> Option<Decimal> {
        if billed == 0 {
            return Some(Decimal::ZERO);
        }
        let units = Decimal::from(billed);
        match self {
            Self::Flat { amount } => Some(Decimal::from(*amount)),
            Self::PerUnit { unit_amount } => units.checked_mul(*unit_amount),
            Self::Package { package_size, amount } => {
                let partial = billed.checked_rem(*package_size)? != 0;
                let packages = billed.checked_div(*package_size)? + i64::from(partial);
                Decimal::from(packages).checked_mul(Decimal::from(*amount))
            }
            Self::Graduated { tiers } => {
                let (mut total, mut below) = (Decimal::ZERO, 0);
                for tier in tiers {
                    if billed <= below {
                        break;
                    }
                    let top = tier.up_to.map_or(billed, |up_to| up_to.min(billed));
                    let in_tier = Decimal::from(top.checked_sub(below)?).checked_mul(tier.unit_amount)?;
                    total = total.checked_add(in_tier)?.checked_add(Decimal::from(tier.flat_amount))?;
                    below = top;
                }
                Some(total)
            }
            Self::Volume { tiers } => {
                let tier = containing_tier(tiers, billed)?;
                units.checked_mul(tier.unit_amount)?.checked_add(Decimal::from(tier.flat_amount))
            }
            Self::StairStep { tiers } => Some(Decimal::from(containing_tier(tiers, billed)?.flat_amount)),
            Self::CustomerChosen { .. } => None,
        }
    }
}

fn ensure(ok: bool, reason: &'static str) -> Result<(), &'static str> {
    if ok { Ok(()) } else { Err(reason) }
}

fn is_amount(amount: i64) -> bool {
    (0..=MAX_MINOR).contains(&amount)
}

fn is_unit_amount(amount: Decimal) -> bool {
    amount >= Decimal::ZERO && amount <= Decimal::from(MAX_MINOR)
}

fn check_tiers(tiers: &[Tier], stair_step: bool) -> Result<(), &'static str> {
    let (last, bounded) = tiers.split_last().ok_or("tiers must not be empty")?;
    ensure(last.up_to.is_none(), "the last tier must be unbounded")?;
    let mut below = 0;
    for tier in bounded {
        let up_to = tier.up_to.ok_or("only the last tier may be unbounded")?;
        ensure(up_to > below, "tier bounds must be positive and strictly ascending")?;
        below = up_to;
    }
    for tier in tiers {
        let amounts_ok = is_unit_amount(tier.unit_amount) && is_amount(tier.flat_amount);
        ensure(amounts_ok, "tier amounts must be between 0 and 10^12 minor units")?;
        ensure(!stair_step || tier.unit_amount.is_zero(), "stair-step tiers must have unit amount 0")?;
    }
    Ok(())
}

/// The tier holding `quantity`: the first whose bound is not below it. Tiers are ascending, so this is a
/// binary search, which keeps huge tier lists cheap.
fn containing_tier(tiers: &[Tier], quantity: i64) -> Option<&Tier> {
    tiers.get(tiers.partition_point(|tier| tier.up_to.is_some_and(|up_to| up_to < quantity)))
}

#[derive(Clone, Debug, PartialEq)]
pub struct PricedItem {
    pub item_pricing_id: String,
    pub product_id: String,
    pub product_pricing_id: String,
    pub name: String,
    pub model: PriceModel,
    pub frequency: Frequency,
    /// Free units subtracted from the quantity before pricing (>= 0).
    pub included_units: i64,
    /// Least amount of a line with quantity > 0, per period (once for one-time items).
    pub minimum_spend: Option<i64>,
    /// Usage-metered: shown on the quote with amount 0, billed in arrears, never in a charge.
    pub metered: bool,
}

impl PricedItem {
    /// `PriceModel::validate` plus the item's own fields: included units >= 0, minimum spend in
    /// `0..=MAX_MINOR`, a recurring period of at least 1. Errors have `selection: None`.
    pub fn validate(&self) -> Result<(), PricingError> {
        self.check().map_err(|reason| PricingError::InvalidModel { selection: None, reason })
    }

    fn check(&self) -> Result<(), &'static str> {
        self.model.check()?;
        ensure(self.included_units >= 0, "included units must not be negative")?;
        ensure(self.minimum_spend.is_none_or(is_amount), "minimum spend must be between 0 and 10^12")?;
        let period_ok = self.frequency.period().is_none_or(|period| period.count > 0);
        ensure(period_ok, "a recurring period must count at least 1")
    }
}

/// One line of a checkout.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    pub item: PricedItem,
    /// 0..=MAX_QUANTITY.
    pub quantity: i64,
    /// CustomerChosen only (`None` takes the preset); any other model rejects it.
    pub chosen_amount: Option<i64>,
    /// Lets a `DiscountScope::OneTimeBillable` discount target this line.
    pub onetime_billable_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DiscountValue {
    /// A fraction: 0.5 = 50 %; more than 0 and at most 1.
    Percent(Decimal),
    /// Minor units of the quote currency, 0..=MAX_MINOR.
    Amount(i64),
}

/// Which lines a discount applies to, by the ids of `QuoteLine`.
#[derive(Clone, Debug, PartialEq)]
pub enum DiscountScope {
    All,
    Product(String),
    ProductPricing(String),
    Item(String),
    OneTimeBillable(String),
}

impl DiscountScope {
    fn matches(&self, line: &QuoteLine) -> bool {
        match self {
            Self::All => true,
            Self::Product(id) => line.product_id == *id,
            Self::ProductPricing(id) => line.product_pricing_id == *id,
            Self::Item(id) => line.item_pricing_id == *id,
            Self::OneTimeBillable(id) => line.onetime_billable_id.as_ref() == Some(id),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DiscountDuration {
    Once,
    Forever,
    /// The first n charges of each period; n >= 1.
    Periods(u32),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Discount {
    pub name: String,
    pub value: DiscountValue,
    /// Most this discount takes off one charge, 0..=MAX_MINOR.
    pub cap: Option<i64>,
    pub scope: DiscountScope,
    /// Not applied to a charge at or after this instant.
    pub expires_at: Option<DateTime<Utc>>,
    pub duration: DiscountDuration,
}

impl Discount {
    fn check(&self, discount: usize) -> Result<(), PricingError> {
        match self.value {
            DiscountValue::Percent(p) if p <= Decimal::ZERO || p > Decimal::ONE => {
                Err(PricingError::InvalidPercent { discount })
            }
            DiscountValue::Amount(amount) if !is_amount(amount) => {
                Err(PricingError::InvalidDiscountAmount { discount })
            }
            _ if self.cap.is_some_and(|cap| !is_amount(cap)) => Err(PricingError::InvalidDiscountAmount { discount }),
            _ if self.duration == DiscountDuration::Periods(0) => Err(PricingError::InvalidDuration { discount }),
            _ => Ok(()),
        }
    }

    /// What this discount takes from a scope with `left` minor units still undiscounted (<= MAX_MINOR).
    fn take(&self, left: i64) -> Result<i64, PricingError> {
        let wanted = match self.value {
            DiscountValue::Percent(p) => round(Decimal::from(left).checked_mul(p))?,
            DiscountValue::Amount(amount) => amount,
        };
        Ok(wanted.min(self.cap.unwrap_or(MAX_MINOR)).min(left))
    }

    fn applies_to(&self, charge: &Slot, once_target: Option<usize>) -> bool {
        let by_duration = match self.duration {
            DiscountDuration::Once => once_target == Some(charge.id),
            DiscountDuration::Forever => true,
            DiscountDuration::Periods(n) => charge.number <= n,
        };
        by_duration && self.expires_at.is_none_or(|end| charge.at < end)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct QuoteInput {
    pub currency: Currency,
    pub selections: Vec<Selection>,
    pub discounts: Vec<Discount>,
    /// The moment of purchase ("today").
    pub now: DateTime<Utc>,
    /// Recurring lines are free until `now + trial`; one-time lines are still due today.
    pub trial: Option<Period>,
    /// Contract length; only reported as `term_ends_at`.
    pub term: Option<Period>,
}

/// A priced selection; `quote` keeps them in selection order, so line index = selection index.
#[derive(Clone, Debug, PartialEq)]
pub struct QuoteLine {
    pub item_pricing_id: String,
    pub product_id: String,
    pub product_pricing_id: String,
    pub onetime_billable_id: Option<String>,
    pub name: String,
    /// Short model description, e.g. "5 units, graduated tiers".
    pub description: String,
    pub quantity: i64,
    /// Quantity after included units.
    pub billed_quantity: i64,
    pub frequency: Frequency,
    pub metered: bool,
    /// One period's amount (0 for metered lines).
    pub amount: i64,
    /// False for recurring lines in a trial and for metered lines.
    pub due_today: bool,
}

/// What one discount takes off one charge.
#[derive(Clone, Debug, PartialEq)]
pub struct DiscountLine {
    pub discount_index: usize,
    pub name: String,
    /// Positive, subtracted; 0 when earlier discounts already used up the scope.
    pub amount: i64,
    /// The in-scope lines of this charge.
    pub line_indexes: Vec<usize>,
}

/// One charge event.
#[derive(Clone, Debug, PartialEq)]
pub struct Charge {
    pub at: DateTime<Utc>,
    /// Sum of the amounts of the lines in this charge.
    pub subtotal: i64,
    pub discounts: Vec<DiscountLine>,
    pub discount_total: i64,
    /// `subtotal - discount_total`, never negative.
    pub total: i64,
}

/// The next charge of `period` that is not collected today.
#[derive(Clone, Debug, PartialEq)]
pub struct RecurringCharge {
    pub period: Period,
    pub charge: Charge,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Quote {
    pub currency: Currency,
    pub lines: Vec<QuoteLine>,
    pub due_today: Charge,
    /// One per distinct period, ordered by (unit, count).
    pub recurring: Vec<RecurringCharge>,
    /// The earliest `RecurringCharge.charge.at`.
    pub first_recurring_charge_at: Option<DateTime<Utc>>,
    pub trial_ends_at: Option<DateTime<Utc>>,
    pub term_ends_at: Option<DateTime<Utc>>,
}

/// Every error names the offending selection or discount by index, so the API can point at the field.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PricingError {
    /// `selection` is `None` when raised by `PriceModel::validate` or `PricedItem::validate`.
    #[error("invalid pricing{}: {reason}", .selection.map(|i| format!(" of selection {i}")).unwrap_or_default())]
    InvalidModel { selection: Option<usize>, reason: &'static str },
    #[error("selection {selection}: quantity must be between 0 and {MAX_QUANTITY}")]
    QuantityOutOfRange { selection: usize },
    #[error("selection {selection}: chosen amount must be between {min} and {max}")]
    ChosenAmountOutOfRange { selection: usize, min: i64, max: i64 },
    #[error("selection {selection}: only a customer-chosen price takes a chosen amount")]
    UnexpectedChosenAmount { selection: usize },
    #[error("discount {discount}: percent must be above 0 and at most 1")]
    InvalidPercent { discount: usize },
    #[error("discount {discount}: amount and cap must be between 0 and {MAX_MINOR}")]
    InvalidDiscountAmount { discount: usize },
    #[error("discount {discount}: a duration in periods must be at least 1")]
    InvalidDuration { discount: usize },
    /// `field` is "trial" or "term".
    #[error("{field}: a period must count at least 1")]
    InvalidPeriod { field: &'static str },
    #[error("a charge date is beyond the supported range")]
    DateOutOfRange,
    #[error("an amount exceeds {MAX_MINOR} minor units")]
    AmountTooLarge,
}

/// `round_minor` for a checked `Decimal` result; overflow either way is `AmountTooLarge`.
fn round(exact: Option<Decimal>) -> Result<i64, PricingError> {
    exact.and_then(|d| round_minor(d).ok()).ok_or(PricingError::AmountTooLarge)
}

/// A charge being assembled: `id` 0 is today's, recurring ones follow in `Quote::recurring` order.
struct Slot {
    id: usize,
    at: DateTime<Utc>,
    number: u32,
    lines: Vec<usize>,
}

/// Prices `input` under the rules in the module docs.
pub fn quote(input: &QuoteInput) -> Result<Quote, PricingError> {
    let end_of = |period: Option<Period>, field| match period {
        Some(p) if p.count == 0 => Err(PricingError::InvalidPeriod { field }),
        Some(p) => p.add_to(input.now, 1).map(Some).ok_or(PricingError::DateOutOfRange),
        None => Ok(None),
    };
    let trial_ends_at = end_of(input.trial, "trial")?;
    let term_ends_at = end_of(input.term, "term")?;
    let lines = (input.selections.iter().enumerate())
        .map(|(index, selection)| price_line(index, selection, trial_ends_at.is_some()))
        .collect::<Result<Vec<_>, _>>()?;
    for (index, discount) in input.discounts.iter().enumerate() {
        discount.check(index)?;
    }

    let today = Slot { id: 0, at: input.now, number: 1, lines: line_indexes(&lines, |l| l.due_today) };
    let mut periods: Vec<Period> = lines.iter().filter(|l| !l.metered).filter_map(|l| l.frequency.period()).collect();
    periods.sort_by_key(|p| (p.unit, p.count));
    periods.dedup();
    let mut later = Vec::with_capacity(periods.len());
    for (k, period) in periods.iter().enumerate() {
        let at = match trial_ends_at {
            Some(end) => end,
            None => period.add_to(input.now, 1).ok_or(PricingError::DateOutOfRange)?,
        };
        let in_period = |l: &QuoteLine| !l.metered && l.frequency == Frequency::Every(*period);
        let number = if trial_ends_at.is_some() { 1 } else { 2 };
        later.push(Slot { id: k + 1, at, number, lines: line_indexes(&lines, in_period) });
    }

    // For `Once`: the earliest charge with an in-scope line worth something (min_by_key keeps the first
    // of equals, so ties go to today, then to the `Quote::recurring` order).
    let once_targets: Vec<Option<usize>> = (input.discounts.iter())
        .map(|discount| {
            let worth_discounting =
                |slot: &&Slot| slot.lines.iter().any(|&i| lines[i].amount > 0 && discount.scope.matches(&lines[i]));
            let slots = std::iter::once(&today).chain(&later);
            slots.filter(worth_discounting).min_by_key(|slot| slot.at).map(|slot| slot.id)
        })
        .collect();

    let due_today = charge(&today, &lines, &input.discounts, &once_targets)?;
    let recurring = (periods.iter().zip(&later))
        .map(|(&period, slot)| {
            Ok(RecurringCharge { period, charge: charge(slot, &lines, &input.discounts, &once_targets)? })
        })
        .collect::<Result<Vec<_>, PricingError>>()?;
    Ok(Quote {
        currency: input.currency,
        first_recurring_charge_at: recurring.iter().map(|r| r.charge.at).min(),
        lines,
        due_today,
        recurring,
        trial_ends_at,
        term_ends_at,
    })
}

fn line_indexes(lines: &[QuoteLine], keep: impl Fn(&QuoteLine) -> bool) -> Vec<usize> {
    (0..lines.len()).filter(|&i| keep(&lines[i])).collect()
}

fn price_line(index: usize, selection: &Selection, in_trial: bool) -> Result<QuoteLine, PricingError> {
    let item = &selection.item;
    item.check().map_err(|reason| PricingError::InvalidModel { selection: Some(index), reason })?;
    let quantity = selection.quantity;
    if !(0..=MAX_QUANTITY).contains(&quantity) {
        return Err(PricingError::QuantityOutOfRange { selection: index });
    }
    let billed = quantity.saturating_sub(item.included_units).max(0);
    let exact = match (&item.model, selection.chosen_amount) {
        (&PriceModel::CustomerChosen { min, max, preset }, chosen) => {
            let amount = chosen.unwrap_or(preset);
            if !(min..=max).contains(&amount) {
                return Err(PricingError::ChosenAmountOutOfRange { selection: index, min, max });
            }
            Some(Decimal::from(amount))
        }
        (_, Some(_)) => return Err(PricingError::UnexpectedChosenAmount { selection: index }),
        (model, None) => model.exact_amount(billed),
    };
    // A metered line is shown at 0 and billed later from usage: its notional amount for the
    // quantity on the quote (however large) is never charged, so it never makes an order too large.
    let mut amount = if item.metered { 0 } else { round(exact)? };
    if let Some(minimum) = item.minimum_spend.filter(|_| quantity > 0 && !item.metered) {
        amount = amount.max(minimum);
    }
    Ok(QuoteLine {
        item_pricing_id: item.item_pricing_id.clone(),
        product_id: item.product_id.clone(),
        product_pricing_id: item.product_pricing_id.clone(),
        onetime_billable_id: selection.onetime_billable_id.clone(),
        name: item.name.clone(),
        description: describe(item, quantity, billed),
        quantity,
        billed_quantity: billed,
        frequency: item.frequency,
        metered: item.metered,
        amount: if item.metered { 0 } else { amount },
        due_today: !item.metered && (item.frequency == Frequency::OneTime || !in_trial),
    })
}

fn describe(item: &PricedItem, quantity: i64, billed: i64) -> String {
    let units = |n: i64| if n == 1 { "1 unit".to_owned() } else { format!("{n} units") };
    let text = match &item.model {
        _ if item.metered => return format!("{}, metered, billed in arrears", units(quantity)),
        PriceModel::Flat { .. } => "flat price".to_owned(),
        PriceModel::PerUnit { .. } => format!("{}, per unit", units(billed)),
        PriceModel::Package { package_size, .. } => format!("{} in packages of {package_size}", units(billed)),
        PriceModel::Graduated { .. } => format!("{}, graduated tiers", units(billed)),
        PriceModel::Volume { .. } => format!("{}, volume tiers", units(billed)),
        PriceModel::StairStep { .. } => format!("{}, stair-step tiers", units(billed)),
        PriceModel::CustomerChosen { .. } => return "amount chosen by the customer".to_owned(),
    };
    match quantity - billed {
        0 => text,
        free => format!("{text} (+{} included)", units(free)),
    }
}

/// Totals one charge and applies the discounts to it in order.
fn charge(
    slot: &Slot,
    lines: &[QuoteLine],
    discounts: &[Discount],
    once: &[Option<usize>],
) -> Result<Charge, PricingError> {
    // What is still undiscounted of each line of this charge; lines of other charges stay 0.
    let mut left = vec![0; lines.len()];
    let mut subtotal: i64 = 0;
    for &i in &slot.lines {
        left[i] = lines[i].amount;
        subtotal =
            subtotal.checked_add(lines[i].amount).filter(|s| *s <= MAX_MINOR).ok_or(PricingError::AmountTooLarge)?;
    }
    let mut applied = Vec::new();
    for (index, (discount, &once_target)) in discounts.iter().zip(once).enumerate() {
        if !discount.applies_to(slot, once_target) {
            continue;
        }
        let in_scope: Vec<usize> = slot.lines.iter().copied().filter(|&i| discount.scope.matches(&lines[i])).collect();
        if in_scope.is_empty() {
            continue;
        }
        // Bounded by `subtotal`, so the sum cannot overflow.
        let amount = discount.take(in_scope.iter().map(|&i| left[i]).sum())?;
        allocate(amount, &in_scope, &mut left)?;
        applied.push(DiscountLine {
            discount_index: index,
            name: discount.name.clone(),
            amount,
            line_indexes: in_scope,
        });
    }
    let discount_total: i64 = applied.iter().map(|d| d.amount).sum();
    Ok(Charge { at: slot.at, subtotal, discounts: applied, discount_total, total: subtotal - discount_total })
}

/// Takes `amount` (at most the sum of `left` over `in_scope`) off those lines in proportion to what each
/// has left: each gets the floor of its exact share, and the units lost to flooring go one each to the
/// largest fractional parts (earlier line on ties). A share is at most the line's `left`, and a line only
/// gets a unit if its exact share was fractional, so no line goes below 0. i128 holds 10^12 × 10^12.
fn allocate(amount: i64, in_scope: &[usize], left: &mut [i64]) -> Result<(), PricingError> {
    let available: i128 = in_scope.iter().map(|&i| i128::from(left[i])).sum();
    if available == 0 {
        return Ok(());
    }
    let mut shares: Vec<(usize, i128, i128)> = (in_scope.iter())
        .map(|&i| {
            let exact = i128::from(amount) * i128::from(left[i]);
            (i, exact / available, exact % available)
        })
        .collect();
    let floored: i128 = shares.iter().map(|&(_, share, _)| share).sum();
    let leftover = usize::try_from(i128::from(amount) - floored).map_err(|_| PricingError::AmountTooLarge)?;
    shares.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    for (rank, (i, share, _)) in shares.into_iter().enumerate() {
        let share = i64::try_from(share).map_err(|_| PricingError::AmountTooLarge)?;
        left[i] -= share + i64::from(rank < leftover);
    }
    Ok(())
}

#[cfg(test)]
#[path = "pricing_tests.rs"]
mod tests;
