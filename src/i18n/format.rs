//! Locale-aware formatting for the pages: money, unit prices, counts, periods and price models in plain words.
//!
//! Amounts are formatted from their integer digits (minor units, or a `Decimal`'s mantissa and scale), never
//! through floats, so every exponent and every i64 comes out exact. The separator between an amount and a
//! symbol or code is a plain space, as the strings in the specs; pages keep amounts on one line with CSS.

use rust_decimal::Decimal;

use super::texts::texts;
use crate::domain::locale::Locale;
use crate::domain::money::Currency;
use crate::domain::pricing::{PriceModel, PricedItem, Tier};
use crate::domain::term::{Period, PeriodUnit};

/// A money amount: en "$1,234.56", "-$5.00", "CHF 12.00"; de "1.234,56 €", "-5,00 €", "12,00 CHF".
pub fn money(minor: i64, currency: Currency, locale: Locale) -> String {
    let digits = u128::from(minor.unsigned_abs());
    with_currency(decimal_digits(digits, currency.exponent(), currency.exponent(), locale), minor < 0, currency, locale)
}

/// A unit price in (possibly fractional) minor units: 0.2 cents is "$0.002". At least the currency's decimals
/// are shown; digits beyond them only as far as they are not trailing zeros.
pub fn unit_amount(d: Decimal, currency: Currency, locale: Locale) -> String {
    let mantissa = d.mantissa();
    let scale = d.scale() + currency.exponent();
    with_currency(
        decimal_digits(mantissa.unsigned_abs(), scale, currency.exponent(), locale),
        mantissa < 0,
        currency,
        locale,
    )
}

/// A count with thousands separators: "10,000" / "10.000".
pub fn number(n: i64, locale: Locale) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", grouped(&n.unsigned_abs().to_string(), separators(locale).1))
}

/// (decimal separator, thousands separator).
fn separators(locale: Locale) -> (char, char) {
    match locale {
        Locale::En => ('.', ','),
        Locale::De => (',', '.'),
    }
}

/// `digits` / 10^`scale` written out, with between `min_fraction` and `scale` decimals.
fn decimal_digits(digits: u128, scale: u32, min_fraction: u32, locale: Locale) -> String {
    let scale = scale as usize;
    // Left-pad so there is always at least one integer digit: 2 at scale 3 is "0002" → "0.002".
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    let keep = fraction.trim_end_matches('0').len().max(min_fraction as usize).min(fraction.len());
    let (decimal, thousands) = separators(locale);
    let mut text = grouped(whole, thousands);
    if keep > 0 {
        text.push(decimal);
        text.push_str(&fraction[..keep]);
    }
    text
}

/// Inserts `separator` between groups of three ASCII digits, counted from the right.
fn grouped(digits: &str, separator: char) -> String {
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            text.push(separator);
        }
        text.push(digit);
    }
    text
}

/// Symbols customers recognise without doubt. Other currencies show their code, since a bare "$" or "kr"
/// would leave a customer unsure which currency they pay in.
fn symbol(currency: Currency) -> Option<&'static str> {
    Some(match currency.code() {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "CNY" => "CN¥",
        "INR" => "₹",
        "KRW" => "₩",
        "ILS" => "₪",
        "VND" => "₫",
        "BRL" => "R$",
        "CAD" => "CA$",
        "AUD" => "A$",
        "NZD" => "NZ$",
        "HKD" => "HK$",
        "MXN" => "MX$",
        "TWD" => "NT$",
        _ => return None,
    })
}

/// English puts a symbol before the amount and a code before it with a space; German puts either after the
/// amount with a space. The minus sign always leads.
fn with_currency(amount: String, negative: bool, currency: Currency, locale: Locale) -> String {
    let sign = if negative { "-" } else { "" };
    match (locale, symbol(currency)) {
        (Locale::En, Some(symbol)) => format!("{sign}{symbol}{amount}"),
        (Locale::En, None) => format!("{sign}{} {amount}", currency.code()),
        (Locale::De, symbol) => format!("{sign}{amount} {}", symbol.unwrap_or(currency.code())),
    }
}

/// The singular and plural noun of a unit.
fn unit_nouns(unit: PeriodUnit, locale: Locale) -> (&'static str, &'static str) {
    match (locale, unit) {
        (Locale::En, PeriodUnit::Hour) => ("hour", "hours"),
        (Locale::En, PeriodUnit::Day) => ("day", "days"),
        (Locale::En, PeriodUnit::Week) => ("week", "weeks"),
        (Locale::En, PeriodUnit::Month) => ("month", "months"),
        (Locale::En, PeriodUnit::Year) => ("year", "years"),
        (Locale::De, PeriodUnit::Hour) => ("Stunde", "Stunden"),
        (Locale::De, PeriodUnit::Day) => ("Tag", "Tage"),
        (Locale::De, PeriodUnit::Week) => ("Woche", "Wochen"),
        (Locale::De, PeriodUnit::Month) => ("Monat", "Monate"),
        (Locale::De, PeriodUnit::Year) => ("Jahr", "Jahre"),
    }
}

/// A period as it follows "per" or "every": "month", "3 months"; "Monat", "3 Monate".
pub fn period_words(period: Period, locale: Locale) -> String {
    match period.count {
        1 => unit_nouns(period.unit, locale).0.to_owned(),
        _ => period_length(period, locale),
    }
}

/// A period as a length of time, always with its count: "1 month", "14 days"; "1 Monat", "14 Tage".
pub fn period_length(period: Period, locale: Locale) -> String {
    let (one, many) = unit_nouns(period.unit, locale);
    let noun = if period.count == 1 { one } else { many };
    format!("{} {noun}", number(i64::from(period.count), locale))
}

/// How often a price recurs: "per month", "every 3 months"; "pro Monat", "alle 3 Monate".
pub fn per_period(period: Period, locale: Locale) -> String {
    let words = period_words(period, locale);
    match (locale, period.count) {
        (Locale::En, 1) => format!("per {words}"),
        (Locale::En, _) => format!("every {words}"),
        (Locale::De, 1) => format!("pro {words}"),
        (Locale::De, _) => format!("alle {words}"),
    }
}

/// The tiered models, for `tier_rows`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierKind {
    Graduated,
    Volume,
    StairStep,
}

/// One row of a tier table: which quantities, and what they cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierRow {
    /// "1–10", "11–50", "51+" (de "ab 51"); a one-quantity tier is just "5".
    pub range: String,
    /// "$15.00 per seat", "$15.00 per seat + $10.00 flat", "$10.00 flat", "Free"; stair step "$49.00".
    pub price: String,
}

/// Everything the wording of a price needs besides the price itself.
#[derive(Clone, Copy)]
struct Words<'a> {
    currency: Currency,
    locale: Locale,
    /// The merchant's unit noun, singular ("seat"), used as given.
    label: Option<&'a str>,
}

impl Words<'_> {
    fn money(&self, minor: i64) -> String {
        money(minor, self.currency, self.locale)
    }

    fn number(&self, n: i64) -> String {
        number(n, self.locale)
    }

    fn unit(&self) -> &str {
        match (self.label.map(str::trim).filter(|label| !label.is_empty()), self.locale) {
            (Some(label), _) => label,
            (None, Locale::En) => "unit",
            (None, Locale::De) => "Einheit",
        }
    }

    /// English only: German sentences below are built so the merchant's word never needs a plural form.
    fn units(&self, count: i64) -> String {
        if count == 1 { self.unit().to_owned() } else { english_plural(self.unit()) }
    }

    /// "$9.00 per seat" / "9,00 $ pro Sitz".
    fn per_unit(&self, price: String) -> String {
        match self.locale {
            Locale::En => format!("{price} per {}", self.unit()),
            Locale::De => format!("{price} pro {}", self.unit()),
        }
    }

    fn free(&self) -> &'static str {
        match self.locale {
            Locale::En => "free",
            Locale::De => "kostenlos",
        }
    }

    /// The price of one graduated or volume tier; stair-step tiers are just their flat amount.
    fn tier_price(&self, tier: &Tier) -> String {
        let flat = match self.locale {
            Locale::En => format!("{} flat", self.money(tier.flat_amount)),
            Locale::De => format!("{} pauschal", self.money(tier.flat_amount)),
        };
        let per_unit = self.per_unit(unit_amount(tier.unit_amount, self.currency, self.locale));
        match (tier.unit_amount.is_zero(), tier.flat_amount == 0) {
            (true, true) => self.free().to_owned(),
            (true, false) => flat,
            (false, true) => per_unit,
            (false, false) => format!("{per_unit} + {flat}"),
        }
    }
}

/// "seat" → "seats", "box" → "boxes", "company" → "companies"; a word already ending in "s" is left alone,
/// since it is more likely a plural or an abbreviation ("GBs") than a noun like "bus".
fn english_plural(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    let consonant_y_stem = word
        .strip_suffix(['y', 'Y'])
        .filter(|stem| !stem.ends_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']));
    if ["ss", "x", "z", "ch", "sh"].iter().any(|end| lower.ends_with(end)) {
        format!("{word}es")
    } else if lower.ends_with('s') {
        word.to_owned()
    } else if let Some(stem) = consonant_y_stem {
        format!("{stem}ies")
    } else {
        format!("{word}s")
    }
}

/// The rows of a tier table; the quantities are those after included units, as the tiers price them.
/// Malformed tiers (unordered bounds) still render, as the bounds they are.
pub fn tier_rows(
    tiers: &[Tier],
    kind: TierKind,
    currency: Currency,
    locale: Locale,
    unit_label: Option<&str>,
) -> Vec<TierRow> {
    let words = Words { currency, locale, label: unit_label };
    let mut from: i64 = 1;
    let mut rows = Vec::with_capacity(tiers.len());
    for tier in tiers {
        let range = match (tier.up_to, locale) {
            (Some(up_to), _) if up_to == from => words.number(up_to),
            (Some(up_to), _) => format!("{}–{}", words.number(from), words.number(up_to)),
            (None, Locale::En) => format!("{}+", words.number(from)),
            (None, Locale::De) => format!("ab {}", words.number(from)),
        };
        let price = match kind {
            TierKind::StairStep => words.money(tier.flat_amount),
            TierKind::Graduated | TierKind::Volume => capitalised(&words.tier_price(tier)),
        };
        rows.push(TierRow { range, price });
        from = tier.up_to.map_or(from, |up_to| up_to.saturating_add(1));
    }
    rows
}

/// `tier_rows` of a tiered model; empty for the others, which have no table.
pub fn tier_table(model: &PriceModel, currency: Currency, locale: Locale, unit_label: Option<&str>) -> Vec<TierRow> {
    match model {
        PriceModel::Graduated { tiers } => tier_rows(tiers, TierKind::Graduated, currency, locale, unit_label),
        PriceModel::Volume { tiers } => tier_rows(tiers, TierKind::Volume, currency, locale, unit_label),
        PriceModel::StairStep { tiers } => tier_rows(tiers, TierKind::StairStep, currency, locale, unit_label),
        _ => Vec::new(),
    }
}

/// Table cells start a sentence of their own; descriptions use the same words mid-sentence.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// An item's price in plain words, e.g. "$9.00 per seat per month", "one-time: $499.00", "usage-based: $0.002
/// per call per month, 10,000 calls included". Tiered models name their first (volume: cheapest) tier and
/// leave the rest to `tier_rows`. `unit_label` is the merchant's singular noun ("seat"); None says "unit".
pub fn describe_item(item: &PricedItem, currency: Currency, locale: Locale, unit_label: Option<&str>) -> String {
    let words = Words { currency, locale, label: unit_label };
    let period = item.frequency.period();
    let when = period.map(|period| format!(" {}", per_period(period, locale))).unwrap_or_default();
    let core = describe_model(&item.model, &when, &words);
    let mut text = match (item.metered, period, locale) {
        (true, _, Locale::En) => format!("usage-based: {core}"),
        (true, _, Locale::De) => format!("nutzungsbasiert: {core}"),
        (false, None, _) => format!("{}: {core}", texts(locale).one_time),
        (false, Some(_), _) => core,
    };
    if item.included_units > 0 {
        let included = words.number(item.included_units);
        text.push_str(&match locale {
            Locale::En => format!(", {included} {} included", words.units(item.included_units)),
            Locale::De => format!(", {included} inklusive"),
        });
    }
    if let Some(minimum) = item.minimum_spend.filter(|minimum| *minimum > 0) {
        text.push_str(&match locale {
            Locale::En => format!(", minimum {}{when}", words.money(minimum)),
            Locale::De => format!(", mindestens {}{when}", words.money(minimum)),
        });
    }
    text
}

/// The model's part of `describe_item`; `when` is " per month" or empty for one-time items.
fn describe_model(model: &PriceModel, when: &str, words: &Words) -> String {
    let locale = words.locale;
    match model {
        PriceModel::Flat { amount } => format!("{}{when}", words.money(*amount)),
        PriceModel::PerUnit { unit_amount: price } => {
            format!("{}{when}", words.per_unit(unit_amount(*price, words.currency, locale)))
        }
        PriceModel::Package { package_size: 1, amount } => format!("{}{when}", words.per_unit(words.money(*amount))),
        PriceModel::Package { package_size, amount } => match locale {
            Locale::En => {
                format!(
                    "{} per {} {}{when}",
                    words.money(*amount),
                    words.number(*package_size),
                    words.units(*package_size)
                )
            }
            // "pro 100er-Paket" needs no plural of the merchant's noun.
            Locale::De => format!("{} pro {}er-Paket{when}", words.money(*amount), words.number(*package_size)),
        },
        PriceModel::Graduated { tiers } => describe_graduated(tiers, when, words),
        PriceModel::Volume { tiers } => {
            let cheapest = tiers.iter().min_by(|a, b| a.unit_amount.cmp(&b.unit_amount));
            match (cheapest, locale) {
                (None, _) => tiered(locale).to_owned(),
                (Some(tier), _) if tiers.len() == 1 => single_tier(tier, when, words),
                (Some(tier), Locale::En) => {
                    format!("from {}{when}, price depends on the total", words.tier_price(tier))
                }
                (Some(tier), Locale::De) => {
                    format!("ab {}{when}, Preis abhängig von der Gesamtmenge", words.tier_price(tier))
                }
            }
        }
        PriceModel::StairStep { tiers } => match (tiers.first(), locale) {
            (None, _) => tiered(locale).to_owned(),
            (Some(Tier { up_to: None, flat_amount, .. }), _) => format!("{}{when}", words.money(*flat_amount)),
            (Some(Tier { up_to: Some(up_to), flat_amount, .. }), Locale::En) => {
                format!("{}{when} up to {} {}", words.money(*flat_amount), words.number(*up_to), words.units(*up_to))
            }
            (Some(Tier { up_to: Some(up_to), flat_amount, .. }), Locale::De) => {
                format!("{}{when} bis zu einer Menge von {}", words.money(*flat_amount), words.number(*up_to))
            }
        },
        PriceModel::CustomerChosen { min, max, .. } => match locale {
            Locale::En => format!("pay what you want, {} to {}{when}", words.money(*min), words.money(*max)),
            Locale::De => format!("Betrag frei wählbar, {} bis {}{when}", words.money(*min), words.money(*max)),
        },
    }
}

/// The fallback for a tiered model without tiers, which validation rejects but a page must still survive.
fn tiered(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "tiered pricing",
        Locale::De => "gestaffelter Preis",
    }
}

/// A tiered model with one tier is simply that tier's price.
fn single_tier(tier: &Tier, when: &str, words: &Words) -> String {
    let price = words.tier_price(tier);
    if tier.unit_amount.is_zero() && tier.flat_amount == 0 { price } else { format!("{price}{when}") }
}

/// Graduated: the first tier's price and size, then whether later units cost less. A free first tier is the
/// common "first 1,000 calls free" offer, so it is said that way, with the next tier's price.
fn describe_graduated(tiers: &[Tier], when: &str, words: &Words) -> String {
    let locale = words.locale;
    let Some((first, rest)) = tiers.split_first() else { return tiered(locale).to_owned() };
    let Some(up_to) = first.up_to.filter(|_| !rest.is_empty()) else { return single_tier(first, when, words) };
    let first_units = match locale {
        Locale::En => format!("the first {} {}", words.number(up_to), words.units(up_to)),
        Locale::De => format!("die ersten {}", words.number(up_to)),
    };
    if first.unit_amount.is_zero() && first.flat_amount == 0 {
        let next = rest.first().map(|tier| words.tier_price(tier)).unwrap_or_default();
        return match locale {
            Locale::En => format!("{first_units} free, then {next}{when}"),
            Locale::De => format!("{first_units} kostenlos, danach {next}{when}"),
        };
    }
    let cheaper = rest.iter().all(|tier| tier.unit_amount <= first.unit_amount)
        && rest.iter().any(|tier| tier.unit_amount < first.unit_amount);
    let price = words.tier_price(first);
    match (locale, cheaper) {
        (Locale::En, true) => format!("{price}{when} for {first_units}, then less"),
        (Locale::En, false) => format!("{price}{when} for {first_units}, then see the price tiers"),
        (Locale::De, true) => format!("{price}{when} für {first_units}, danach günstiger"),
        (Locale::De, false) => format!("{price}{when} für {first_units}, danach siehe Preisstaffel"),
    }
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
