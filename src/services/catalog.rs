//! The catalog's stored price models (`item_pricings.model_config`, the period columns) written
//! from and read into the pricing engine's types.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::db::pricings::ItemPricing;
use crate::domain::pricing::{PriceModel, PricedItem, Tier};
use crate::domain::term::{Frequency, Period, PeriodUnit};
use crate::services::error::Error;

/// The model parameters as stored in `item_pricings.model_config`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoredModel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unit_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    package_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tiers: Option<Vec<StoredTier>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    custom_price: Option<(i64, i64, i64)>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredTier {
    up_to: Option<i64>,
    unit_amount: Decimal,
    flat_amount: i64,
}

/// `model_config` for a validated model.
pub fn model_config(model: &PriceModel) -> String {
    let tiers = |tiers: &[Tier]| {
        Some(
            tiers
                .iter()
                .map(|t| StoredTier { up_to: t.up_to, unit_amount: t.unit_amount, flat_amount: t.flat_amount })
                .collect(),
        )
    };
    let stored = match model {
        PriceModel::Flat { amount } => StoredModel { amount: Some(*amount), ..Default::default() },
        PriceModel::PerUnit { unit_amount } => StoredModel { unit_amount: Some(*unit_amount), ..Default::default() },
        PriceModel::Package { package_size, amount } => {
            StoredModel { amount: Some(*amount), package_size: Some(*package_size), ..Default::default() }
        }
        PriceModel::Graduated { tiers: t } | PriceModel::Volume { tiers: t } | PriceModel::StairStep { tiers: t } => {
            StoredModel { tiers: tiers(t), ..Default::default() }
        }
        PriceModel::CustomerChosen { min, max, preset } => {
            StoredModel { custom_price: Some((*min, *max, *preset)), ..Default::default() }
        }
    };
    // A struct of integers, decimals and options always serializes.
    serde_json::to_string(&stored).unwrap_or_default()
}

fn corrupt(row: &ItemPricing) -> Error {
    Error::internal(format!("item pricing {} has an unreadable model_config", row.id))
}

/// The engine's model of a stored item.
pub fn model_of(row: &ItemPricing) -> Result<PriceModel, Error> {
    let stored: StoredModel = serde_json::from_str(&row.model_config).map_err(|_| corrupt(row))?;
    let tiers = || -> Result<Vec<Tier>, Error> {
        let tiers = stored.tiers.as_ref().ok_or_else(|| corrupt(row))?;
        Ok(tiers
            .iter()
            .map(|t| Tier { up_to: t.up_to, unit_amount: t.unit_amount, flat_amount: t.flat_amount })
            .collect())
    };
    Ok(match row.pricing_model.as_str() {
        "FLAT" => PriceModel::Flat { amount: stored.amount.ok_or_else(|| corrupt(row))? },
        "PER_UNIT" => PriceModel::PerUnit { unit_amount: stored.unit_amount.ok_or_else(|| corrupt(row))? },
        "PACKAGE" => PriceModel::Package {
            package_size: stored.package_size.ok_or_else(|| corrupt(row))?,
            amount: stored.amount.ok_or_else(|| corrupt(row))?,
        },
        "GRADUATED" => PriceModel::Graduated { tiers: tiers()? },
        "VOLUME" => PriceModel::Volume { tiers: tiers()? },
        "STAIR_STEP" => PriceModel::StairStep { tiers: tiers()? },
        "CUSTOMER_CHOSEN" => {
            let (min, max, preset) = stored.custom_price.ok_or_else(|| corrupt(row))?;
            PriceModel::CustomerChosen { min, max, preset }
        }
        _ => return Err(corrupt(row)),
    })
}

/// The billing frequency of a stored item.
pub fn frequency_of(row: &ItemPricing) -> Result<Frequency, Error> {
    match (&row.period_unit, row.period_count) {
        (None, _) => Ok(Frequency::OneTime),
        (Some(unit), Some(count)) => {
            let unit = PeriodUnit::parse(unit).ok_or_else(|| corrupt(row))?;
            let count = u32::try_from(count).map_err(|_| corrupt(row))?;
            Ok(Frequency::Every(Period { count, unit }))
        }
        (Some(_), None) => Err(corrupt(row)),
    }
}

/// The engine's view of a stored item of the pricing `product_pricing_id` of `product_id`.
pub fn priced_item(row: &ItemPricing, product_id: &str) -> Result<PricedItem, Error> {
    Ok(PricedItem {
        item_pricing_id: row.id.clone(),
        product_id: product_id.to_string(),
        product_pricing_id: row.product_pricing_id.clone(),
        name: row.name.clone(),
        model: model_of(row)?,
        frequency: frequency_of(row)?,
        included_units: row.included_units,
        minimum_spend: row.minimum_spend,
        metered: row.metered,
    })
}
