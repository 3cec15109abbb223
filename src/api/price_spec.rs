//! How a priced item is written in the API and in the store, and its mapping to the engine's `PriceModel`.
//!
//! The API takes one flat object per item with `pricing_model` choosing which price fields apply
//! (fields of other models are refused, so a typo never silently prices something at zero).
//! The store keeps the model's parameters as a small JSON document (`model_config`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::db::pricings::ItemPricing;
use crate::domain::money::MAX_MINOR;
use crate::domain::pricing::{PriceModel, Tier};
use crate::domain::term::{Frequency, Period, PeriodUnit};
use crate::error::ApiError;
pub use crate::services::catalog::{frequency_of, model_config, model_of, priced_item};
use crate::services::validate::{self, QUANTITY_MAX};

/// How an item's price follows from its quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PricingModel {
    /// `amount` whatever the quantity.
    Flat,
    /// `unit_amount` (or `unit_amount_decimal`) per unit.
    PerUnit,
    /// `amount` per started block of `package_size` units.
    Package,
    /// Each unit at the price of the tier it falls in.
    Graduated,
    /// Every unit at the price of the tier the whole quantity falls in.
    Volume,
    /// The `flat_amount` of the tier the quantity falls in.
    StairStep,
    /// The customer picks an amount within `custom_price`.
    CustomerChosen,
}

impl PricingModel {
    pub fn as_str(self) -> &'static str {
        match self {
            PricingModel::Flat => "FLAT",
            PricingModel::PerUnit => "PER_UNIT",
            PricingModel::Package => "PACKAGE",
            PricingModel::Graduated => "GRADUATED",
            PricingModel::Volume => "VOLUME",
            PricingModel::StairStep => "STAIR_STEP",
            PricingModel::CustomerChosen => "CUSTOMER_CHOSEN",
        }
    }

    pub fn of(model: &PriceModel) -> PricingModel {
        match model {
            PriceModel::Flat { .. } => PricingModel::Flat,
            PriceModel::PerUnit { .. } => PricingModel::PerUnit,
            PriceModel::Package { .. } => PricingModel::Package,
            PriceModel::Graduated { .. } => PricingModel::Graduated,
            PriceModel::Volume { .. } => PricingModel::Volume,
            PriceModel::StairStep { .. } => PricingModel::StairStep,
            PriceModel::CustomerChosen { .. } => PricingModel::CustomerChosen,
        }
    }
}

/// A unit of time for billing periods, terms and trials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum FrequencyUnit {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl From<FrequencyUnit> for PeriodUnit {
    fn from(u: FrequencyUnit) -> PeriodUnit {
        match u {
            FrequencyUnit::Hour => PeriodUnit::Hour,
            FrequencyUnit::Day => PeriodUnit::Day,
            FrequencyUnit::Week => PeriodUnit::Week,
            FrequencyUnit::Month => PeriodUnit::Month,
            FrequencyUnit::Year => PeriodUnit::Year,
        }
    }
}

impl From<PeriodUnit> for FrequencyUnit {
    fn from(u: PeriodUnit) -> FrequencyUnit {
        match u {
            PeriodUnit::Hour => FrequencyUnit::Hour,
            PeriodUnit::Day => FrequencyUnit::Day,
            PeriodUnit::Week => FrequencyUnit::Week,
            PeriodUnit::Month => FrequencyUnit::Month,
            PeriodUnit::Year => FrequencyUnit::Year,
        }
    }
}

/// A span of time: `count` × `frequency`, e.g. `{"count": 1, "frequency": "MONTH"}`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct PeriodBody {
    #[validate(range(min = 1, max = 1000))]
    pub count: i64,
    pub frequency: FrequencyUnit,
}

impl PeriodBody {
    /// The engine's period; the count (1 to 1000) was checked with the body (`Validate`).
    pub fn to_period(self) -> Period {
        Period { count: u32::try_from(self.count).unwrap_or(1), unit: self.frequency.into() }
    }
}

impl From<PeriodBody> for crate::domain::order::Span {
    fn from(p: PeriodBody) -> Self {
        crate::domain::order::Span { count: p.count, frequency: p.frequency.into() }
    }
}

impl From<crate::domain::order::Span> for PeriodBody {
    fn from(s: crate::domain::order::Span) -> Self {
        PeriodBody { count: s.count, frequency: s.frequency.into() }
    }
}

impl From<Period> for PeriodBody {
    fn from(p: Period) -> PeriodBody {
        PeriodBody { count: i64::from(p.count), frequency: p.unit.into() }
    }
}

/// One price tier. `up_to` is inclusive; the last tier has `up_to: null`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct TierBody {
    #[validate(range(max = QUANTITY_MAX))]
    pub up_to: Option<i64>,
    /// Price per unit in this tier, in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(range(min = 0, max = MAX_MINOR, code = "amount"))]
    pub unit_amount: Option<i64>,
    /// Fractional price per unit, in minor units, as a decimal string (`"0.25"`). Alternative to `unit_amount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 40)]
    pub unit_amount_decimal: Option<String>,
    /// A fixed amount added when the quantity reaches this tier.
    #[serde(default)]
    #[validate(range(min = 0, max = MAX_MINOR, code = "amount"))]
    pub flat_amount: Option<i64>,
}

/// The range a customer may choose an amount in.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CustomPriceBody {
    #[validate(range(min = 0, max = MAX_MINOR, code = "amount"))]
    pub min: i64,
    #[validate(range(min = 0, max = MAX_MINOR, code = "amount"))]
    pub max: i64,
    /// The amount shown before the customer changes it.
    #[validate(range(min = 0, max = MAX_MINOR, code = "amount"))]
    pub preset: i64,
}

/// A priced item of a product pricing, as created.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ItemPricingInput {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub pricing_model: PricingModel,
    /// What one unit is called: "seat", "API call".
    #[schema(max_length = 40)]
    pub unit_label: Option<String>,
    /// FLAT: the fee. PACKAGE: the price of one package.
    #[validate(range(min = 0, max = MAX_MINOR, code = "amount"))]
    pub amount: Option<i64>,
    /// PER_UNIT: price per unit in minor units.
    #[validate(range(min = 0, max = MAX_MINOR, code = "amount"))]
    pub unit_amount: Option<i64>,
    /// PER_UNIT: fractional price per unit in minor units, as a decimal string.
    #[schema(max_length = 40)]
    pub unit_amount_decimal: Option<String>,
    /// PACKAGE: units per package.
    #[validate(range(min = 1, max = QUANTITY_MAX))]
    pub package_size: Option<i64>,
    /// GRADUATED, VOLUME, STAIR_STEP: 1 to 50 tiers.
    #[validate(length(min = 1, max = 50), nested)]
    pub tiers: Option<Vec<TierBody>>,
    /// CUSTOMER_CHOSEN.
    #[validate(nested)]
    pub custom_price: Option<CustomPriceBody>,
    /// How often it is charged; `null` or absent means once.
    #[validate(nested)]
    pub billing_period: Option<PeriodBody>,
    /// Units included for free each period before pricing applies.
    #[validate(range(min = 0, max = QUANTITY_MAX))]
    pub included_units: Option<i64>,
    /// The least charged per period when the quantity is above zero.
    #[validate(range(min = 0, max = MAX_MINOR, code = "amount"))]
    pub minimum_spend: Option<i64>,
    /// Usage-metered: shown at checkout, billed in arrears from reported usage.
    pub metered: Option<bool>,
}

/// A priced item as returned.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ItemPricingResponse {
    pub id: String,
    pub name: String,
    pub pricing_model: PricingModel,
    pub unit_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_amount: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_amount_decimal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<TierBody>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_price: Option<CustomPriceBody>,
    pub billing_period: Option<PeriodBody>,
    pub included_units: i64,
    pub minimum_spend: Option<i64>,
    pub metered: bool,
}

/// An item that passed every check, ready to store.
pub struct ValidItem {
    pub name: String,
    pub unit_label: Option<String>,
    pub model: PriceModel,
    pub frequency: Frequency,
    pub included_units: i64,
    pub minimum_spend: Option<i64>,
    pub metered: bool,
}

/// Check one item; `p` is its path in the request (`items[2]`).
pub fn validate_item(p: &str, input: &ItemPricingInput) -> Result<ValidItem, ApiError> {
    let name = validate::text(&format!("{p}.name"), &input.name, validate::NAME_MAX)?;
    let unit_label = validate::opt_text(&format!("{p}.unit_label"), input.unit_label.as_deref(), 40)?;
    let kind = input.pricing_model;
    let refuse = |field: &str, given: bool| -> Result<(), ApiError> {
        if given {
            Err(ApiError::invalid(
                format!("{p}.{field}"),
                format!("`{field}` does not apply to pricing_model {}.", kind.as_str()),
            ))
        } else {
            Ok(())
        }
    };
    let unit_given = input.unit_amount.is_some() || input.unit_amount_decimal.is_some();
    let model = match kind {
        PricingModel::Flat => {
            refuse("unit_amount", unit_given)?;
            refuse("package_size", input.package_size.is_some())?;
            refuse("tiers", input.tiers.is_some())?;
            refuse("custom_price", input.custom_price.is_some())?;
            PriceModel::Flat { amount: required_amount(p, "amount", input.amount)? }
        }
        PricingModel::PerUnit => {
            refuse("amount", input.amount.is_some())?;
            refuse("package_size", input.package_size.is_some())?;
            refuse("tiers", input.tiers.is_some())?;
            refuse("custom_price", input.custom_price.is_some())?;
            let unit_amount = unit_price(p, input.unit_amount, input.unit_amount_decimal.as_deref())?
                .ok_or_else(|| ApiError::missing(format!("{p}.unit_amount")))?;
            PriceModel::PerUnit { unit_amount }
        }
        PricingModel::Package => {
            refuse("unit_amount", unit_given)?;
            refuse("tiers", input.tiers.is_some())?;
            refuse("custom_price", input.custom_price.is_some())?;
            let size = input.package_size.ok_or_else(|| ApiError::missing(format!("{p}.package_size")))?;
            PriceModel::Package { package_size: size, amount: required_amount(p, "amount", input.amount)? }
        }
        PricingModel::Graduated | PricingModel::Volume | PricingModel::StairStep => {
            refuse("amount", input.amount.is_some())?;
            refuse("unit_amount", unit_given)?;
            refuse("package_size", input.package_size.is_some())?;
            refuse("custom_price", input.custom_price.is_some())?;
            let tiers = input.tiers.as_deref().ok_or_else(|| ApiError::missing(format!("{p}.tiers")))?;
            let tiers = validate_tiers(p, tiers, kind == PricingModel::StairStep)?;
            match kind {
                PricingModel::Graduated => PriceModel::Graduated { tiers },
                PricingModel::Volume => PriceModel::Volume { tiers },
                _ => PriceModel::StairStep { tiers },
            }
        }
        PricingModel::CustomerChosen => {
            refuse("amount", input.amount.is_some())?;
            refuse("unit_amount", unit_given)?;
            refuse("package_size", input.package_size.is_some())?;
            refuse("tiers", input.tiers.is_some())?;
            refuse("metered", input.metered == Some(true))?;
            let range = input.custom_price.ok_or_else(|| ApiError::missing(format!("{p}.custom_price")))?;
            let CustomPriceBody { min, max, preset } = range;
            if min > max {
                return Err(ApiError::invalid(format!("{p}.custom_price.max"), "`max` must not be below `min`."));
            }
            if preset < min || preset > max {
                return Err(ApiError::invalid(
                    format!("{p}.custom_price.preset"),
                    "`preset` must lie between `min` and `max`.",
                ));
            }
            PriceModel::CustomerChosen { min, max, preset }
        }
    };
    model.validate().map_err(|e| ApiError::invalid(p.to_string(), e.to_string()))?;

    let frequency = match input.billing_period {
        None => Frequency::OneTime,
        Some(period) => Frequency::Every(period.to_period()),
    };
    let metered = input.metered.unwrap_or(false);
    if metered && matches!(kind, PricingModel::Flat | PricingModel::StairStep) {
        return Err(ApiError::invalid(format!("{p}.metered"), format!("A {} item cannot be metered.", kind.as_str())));
    }
    if metered && frequency == Frequency::OneTime {
        return Err(ApiError::invalid(format!("{p}.billing_period"), "A metered item needs a billing_period."));
    }
    let included_units = input.included_units.unwrap_or(0);
    let minimum_spend = input.minimum_spend;
    Ok(ValidItem { name, unit_label, model, frequency, included_units, minimum_spend, metered })
}

fn required_amount(p: &str, field: &str, value: Option<i64>) -> Result<i64, ApiError> {
    let param = format!("{p}.{field}");
    value.ok_or_else(|| ApiError::missing(param))
}

/// `unit_amount` or `unit_amount_decimal`, not both.
fn unit_price(p: &str, whole: Option<i64>, decimal: Option<&str>) -> Result<Option<Decimal>, ApiError> {
    match (whole, decimal) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            format!("{p}.unit_amount_decimal"),
            "Give either `unit_amount` or `unit_amount_decimal`, not both.",
        )),
        (Some(a), None) => Ok(Some(Decimal::from(a))),
        (None, Some(d)) => Ok(Some(validate::decimal_amount(&format!("{p}.unit_amount_decimal"), d)?)),
        (None, None) => Ok(None),
    }
}

fn validate_tiers(p: &str, tiers: &[TierBody], stair_step: bool) -> Result<Vec<Tier>, ApiError> {
    let mut out = Vec::with_capacity(tiers.len());
    let mut previous = 0i64;
    for (i, t) in tiers.iter().enumerate() {
        let tp = format!("{p}.tiers[{i}]");
        let last = i + 1 == tiers.len();
        match (t.up_to, last) {
            (None, true) => {}
            (None, false) => {
                return Err(ApiError::invalid(format!("{tp}.up_to"), "Only the last tier may have `up_to: null`."));
            }
            (Some(_), true) => {
                return Err(ApiError::invalid(
                    format!("{tp}.up_to"),
                    "The last tier must have `up_to: null` (no upper bound).",
                ));
            }
            (Some(up_to), false) => {
                if up_to <= previous {
                    return Err(ApiError::invalid(
                        format!("{tp}.up_to"),
                        "Tier bounds must increase from tier to tier, starting above 0.",
                    ));
                }
                previous = up_to;
            }
        }
        let unit = unit_price(&tp, t.unit_amount, t.unit_amount_decimal.as_deref())?;
        if stair_step && unit.is_some_and(|u| !u.is_zero()) {
            return Err(ApiError::invalid(format!("{tp}.unit_amount"), "STAIR_STEP tiers charge only `flat_amount`."));
        }
        let flat_amount = match t.flat_amount {
            None if stair_step => return Err(ApiError::missing(format!("{tp}.flat_amount"))),
            None => 0,
            Some(a) => a,
        };
        if !stair_step && unit.is_none() && t.flat_amount.is_none() {
            return Err(ApiError::missing(format!("{tp}.unit_amount")));
        }
        out.push(Tier { up_to: t.up_to, unit_amount: unit.unwrap_or(Decimal::ZERO), flat_amount });
    }
    Ok(out)
}

fn unit_fields(d: Decimal) -> (Option<i64>, Option<String>) {
    let d = d.normalize();
    if d.fract().is_zero() && d <= Decimal::from(MAX_MINOR) {
        (i64::try_from(d).ok(), None)
    } else {
        (None, Some(d.to_string()))
    }
}

/// The API's view of a stored item.
pub fn item_response(row: &ItemPricing) -> Result<ItemPricingResponse, ApiError> {
    let model = model_of(row)?;
    let mut out = ItemPricingResponse {
        id: row.id.clone(),
        name: row.name.clone(),
        pricing_model: PricingModel::of(&model),
        unit_label: row.unit_label.clone(),
        amount: None,
        unit_amount: None,
        unit_amount_decimal: None,
        package_size: None,
        tiers: None,
        custom_price: None,
        billing_period: frequency_of(row)?.period().map(PeriodBody::from),
        included_units: row.included_units,
        minimum_spend: row.minimum_spend,
        metered: row.metered,
    };
    match model {
        PriceModel::Flat { amount } => out.amount = Some(amount),
        PriceModel::PerUnit { unit_amount } => (out.unit_amount, out.unit_amount_decimal) = unit_fields(unit_amount),
        PriceModel::Package { package_size, amount } => {
            (out.package_size, out.amount) = (Some(package_size), Some(amount))
        }
        PriceModel::Graduated { tiers } | PriceModel::Volume { tiers } | PriceModel::StairStep { tiers } => {
            out.tiers = Some(
                tiers
                    .into_iter()
                    .map(|t| {
                        let (unit_amount, unit_amount_decimal) = unit_fields(t.unit_amount);
                        TierBody { up_to: t.up_to, unit_amount, unit_amount_decimal, flat_amount: Some(t.flat_amount) }
                    })
                    .collect(),
            )
        }
        PriceModel::CustomerChosen { min, max, preset } => {
            out.custom_price = Some(CustomPriceBody { min, max, preset })
        }
    }
    Ok(out)
}
