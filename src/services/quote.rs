//! Quoting an order: the stored order (plans, quantities, one-time items, discounts, promo code,
//! term, trial) resolved against the catalog into the pricing engine's input.
//!
//! Shared by `pricing/preview`, checkout sessions, links and contracts, so every page renders
//! exactly the quote the merchant previewed. Catalog rows are loaded in a fixed number of queries
//! whatever the size of the order.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::coupons::{self as discounts, PromoRejection};
use super::validate;
use crate::db;
use crate::db::coupons::{Coupon, PromoCode};
use crate::db::onetimes::Billable;
use crate::db::pricings::PricingWithItems;
use crate::domain::money::Currency;
use crate::domain::order::{self, Order, OrderDiscount, Span};
use crate::domain::pricing::{
    Discount, DiscountLine, DiscountScope, PriceModel, PricedItem, PricingError, Quote, QuoteInput, QuoteLine,
    Selection,
};
use crate::domain::redemption::Redemption;
use crate::domain::term::{Frequency, Period};
use crate::services::error::{Error, ServiceResult};
use crate::state::AppState;
use serde_json::Value;

/// The quote request for a stored order with the customer's `promo_code`.
pub fn of_order<'a>(order: &'a Order, promo_code: Option<&'a str>) -> QuoteSpec<'a> {
    QuoteSpec {
        product_pricing_ids: &order.product_pricing_ids,
        config_items: &order.config_items,
        onetime_items: &order.onetime_items,
        discounts: &order.discounts,
        promo_code,
        coupon_ids: &order.coupon_ids,
        term: order.term,
        trial: order.trial,
        trial_term: order.trial_term,
        now: order.start_date,
        counted: None,
        cache_version: None,
    }
}

/// A stored span checked (1 to 1000 units) and turned into the engine's period.
pub fn period(param: &str, span: Span) -> ServiceResult<Period> {
    let count = validate::count(&format!("{param}.count"), span.count, 1, 1000)?;
    Ok(Period { count: u32::try_from(count).unwrap_or(1), unit: span.frequency })
}

/// The engine's refusal of an order, named by the field a merchant would change.
pub fn pricing_error(e: PricingError) -> Error {
    match e {
        PricingError::AmountTooLarge => Error::invalid("config_items", "The order's amounts exceed 10^12 minor units.")
            .with_code("amount_too_large"),
        PricingError::DateOutOfRange => Error::invalid("term", "A charge date of this order is out of range."),
        other => Error::invalid("config_items", other.to_string()),
    }
}

/// The order, as every quote-producing endpoint takes it.
#[derive(Clone, Debug, Default)]
pub struct QuoteSpec<'a> {
    pub product_pricing_ids: &'a [String],
    pub config_items: &'a [order::ConfigItem],
    pub onetime_items: &'a [order::OneTimeItem],
    pub discounts: &'a [OrderDiscount],
    pub promo_code: Option<&'a str>,
    pub coupon_ids: &'a [String],
    pub term: Option<Span>,
    pub trial: Option<bool>,
    pub trial_term: Option<Span>,
    pub now: Option<DateTime<Utc>>,
    /// What this order already counts in its codes' `times_redeemed` (a checkout holding its
    /// redemption): its own count does not use up the limit it is checked against.
    pub counted: Option<&'a Redemption>,
    /// The company's `cache_version` as this request read it: the pricings may then come
    /// from memory (`db::pricings::Cache`). `None` reads them from the store.
    pub cache_version: Option<i64>,
}

/// The order resolved: the engine input plus what was redeemed.
pub struct ResolvedQuote {
    pub input: QuoteInput,
    /// The promo code applied, as stored (its id and code).
    pub promo: Option<(String, String)>,
    /// The stored coupons applied (named by id, or the promo code's), whose redemptions count.
    pub coupons: Vec<String>,
    /// What one unit of an item is called ("seat"), by item pricing id, for pages.
    pub unit_labels: HashMap<String, String>,
}

/// Check a quantity against its `quantity_config` and `minimum_units`; `param` names the quantity.
pub fn check_quantity(
    param: &str,
    quantity: i64,
    config: Option<&order::QuantityConfig>,
    minimum: Option<i64>,
) -> ServiceResult<i64> {
    let quantity = validate::count(param, quantity, 0, validate::QUANTITY_MAX)?;
    let base = param.rsplit_once('.').map(|(b, _)| b).unwrap_or("");
    let (min, max) = match config {
        Some(c) => (c.min_quantity, c.max_quantity),
        None => (None, None),
    };
    let qc = validate::join(base, "quantity_config");
    if let Some(min) = min {
        validate::count(&format!("{qc}.min_quantity"), min, 0, validate::QUANTITY_MAX)?;
    }
    if let Some(max) = max {
        validate::count(&format!("{qc}.max_quantity"), max, 0, validate::QUANTITY_MAX)?;
    }
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        return Err(Error::invalid(format!("{qc}.min_quantity"), "`min_quantity` must not exceed `max_quantity`."));
    }
    let min = min.into_iter().chain(minimum).max();
    if let Some(min) = min
        && quantity < min
    {
        return Err(Error::invalid(param, format!("The quantity must be at least {min}.")));
    }
    if let Some(max) = max
        && quantity > max
    {
        return Err(Error::invalid(param, format!("The quantity must be at most {max}.")));
    }
    Ok(quantity)
}

/// `coupon` with this order's own redemption of it set aside, for checking its limit.
fn own_count_aside(coupon: &Coupon, counted: Option<&Redemption>) -> Coupon {
    let own = counted.is_some_and(|c| c.counts_coupon(&coupon.id));
    Coupon { times_redeemed: coupon.times_redeemed - i32::from(own), ..coupon.clone() }
}

fn unknown_pricing(param: String, id: &str) -> Error {
    Error::unknown_ref(param, "product pricing", id)
}

/// Resolve `spec` for `company_id` (whose currency is used only when nothing else names one).
pub async fn resolve(state: &AppState, company_id: &str, spec: &QuoteSpec<'_>) -> ServiceResult<ResolvedQuote> {
    validate::list_len("product_pricing_ids", spec.product_pricing_ids)?;
    validate::list_len("config_items", spec.config_items)?;
    validate::list_len("onetime_items", spec.onetime_items)?;
    validate::list_len("discounts", spec.discounts)?;
    validate::list_len("coupon_ids", spec.coupon_ids)?;
    // Prices are computed as of `spec.now` (a merchant may preview a future start), but whether
    // a coupon or promo code may be redeemed is always judged by the real clock: back-dating
    // an order must not revive an expired code.
    let today = state.clock.now();
    let now = spec.now.unwrap_or(today);

    // One query for every pricing the order names.
    let mut wanted: Vec<String> = spec.product_pricing_ids.to_vec();
    wanted.extend(spec.onetime_items.iter().filter_map(|o| o.product_pricing_id.clone()));
    wanted.sort();
    wanted.dedup();
    let pricings = match spec.cache_version {
        Some(version) => state.pricings.get_many(&state.db, company_id, version, &wanted).await,
        None => db::pricings::get_many(&state.db, company_id, &wanted).await,
    };
    let pricings: HashMap<String, PricingWithItems> =
        pricings?.into_iter().map(|p| (p.pricing.id.clone(), p)).collect();

    // The currency: the first plan's, else the first one-time item's.
    let mut currency: Option<Currency> = None;
    let mut agree = |param: String, code: &str| -> ServiceResult<()> {
        let c = Currency::parse(code).map_err(|_| Error::internal(format!("stored currency {code} is unknown")))?;
        match currency {
            None => currency = Some(c),
            Some(q) if q != c => {
                return Err(Error::invalid(
                    param,
                    format!("This is priced in {c}, but the rest of the order is in {q}."),
                )
                .with_code("currency_mismatch"));
            }
            Some(_) => {}
        }
        Ok(())
    };

    let mut plans: Vec<&PricingWithItems> = Vec::new();
    let mut seen = HashSet::new();
    for (i, id) in spec.product_pricing_ids.iter().enumerate() {
        let param = format!("product_pricing_ids[{i}]");
        let p = pricings.get(id).ok_or_else(|| unknown_pricing(param.clone(), id))?;
        if p.pricing.archived_at.is_some() {
            return Err(Error::invalid(
                param,
                format!("The product pricing '{id}' is archived and can no longer be sold."),
            ));
        }
        if !seen.insert(id.as_str()) {
            return Err(Error::invalid(param, format!("The product pricing '{id}' is listed twice.")));
        }
        agree(param, &p.pricing.currency)?;
        plans.push(p);
    }
    for (i, o) in spec.onetime_items.iter().enumerate() {
        match (&o.product_pricing_id, &o.custom_price) {
            (Some(id), None) => {
                let param = format!("onetime_items[{i}].product_pricing_id");
                let p = pricings.get(id).ok_or_else(|| unknown_pricing(param.clone(), id))?;
                agree(param, &p.pricing.currency)?;
            }
            (None, Some(cp)) => {
                let param = format!("onetime_items[{i}].custom_price.amount.currency");
                let code = validate::currency(&param, &cp.amount.currency)?;
                agree(param, code.code())?;
            }
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    format!("onetime_items[{i}].custom_price"),
                    "Give either `product_pricing_id` or `custom_price`, not both.",
                ));
            }
            (None, None) => return Err(Error::missing(format!("onetime_items[{i}].product_pricing_id"))),
        }
    }
    let Some(currency) = currency else {
        return Err(Error::invalid(
            "product_pricing_ids",
            "The order is empty: name at least one product pricing or one-time item.",
        ));
    };

    let mut selections = plan_selections(&plans, spec.config_items)?;
    selections.extend(onetime_selections(state, company_id, spec.onetime_items, &pricings, currency).await?);

    let mut discounts = Vec::new();
    let coupon_ids: Vec<String> =
        spec.discounts.iter().filter_map(|d| d.coupon_id.clone()).chain(spec.coupon_ids.iter().cloned()).collect();
    let coupons: HashMap<String, _> = db::coupons::get_many(&state.db, company_id, &coupon_ids)
        .await?
        .into_iter()
        .map(|c| (c.coupon.id.clone(), c.coupon))
        .collect();
    // A coupon counts once per order, however it is named (inline, by id, or by promo code).
    let mut applied: HashSet<String> = HashSet::new();
    let mut from_coupon = |param: String, id: &str| -> ServiceResult<Discount> {
        let coupon = coupons.get(id).ok_or_else(|| Error::unknown_ref(param.clone(), "coupon", id))?;
        if !applied.insert(coupon.id.clone()) {
            return Err(Error::invalid(param, "This coupon is already applied to the order."));
        }
        discounts::coupon_usable(&own_count_aside(coupon, spec.counted), today)
            .and_then(|()| discounts::from_coupon(coupon, currency))
            .map_err(|r| Error::invalid(param, r.message()).with_code(r.code()))
    };
    for (i, d) in spec.discounts.iter().enumerate() {
        let param = format!("discounts[{i}]");
        let discount = match &d.coupon_id {
            Some(id) => from_coupon(format!("{param}.coupon_id"), id)?,
            None => discounts::from_body(&param, d, currency)?,
        };
        check_scope_matches(&param, &discount, &selections)?;
        discounts.push(discount);
    }
    for (i, id) in spec.coupon_ids.iter().enumerate() {
        let param = format!("coupon_ids[{i}]");
        let discount = from_coupon(param.clone(), id)?;
        check_scope_matches(&param, &discount, &selections)?;
        discounts.push(discount);
    }

    let mut promo = None;
    if let Some(code) = spec.promo_code.map(str::trim).filter(|c| !c.is_empty()) {
        let reject = |r: PromoRejection| Error::invalid("promo_code", r.message()).with_code(r.code());
        let (pc, coupon) =
            db::coupons::find_code(&state.db, company_id, code).await?.ok_or(reject(PromoRejection::Unknown))?;
        let own = spec.counted.is_some_and(|c| c.counts_promo(&pc.id));
        let pc_aside = PromoCode { times_redeemed: pc.times_redeemed - i32::from(own), ..pc.clone() };
        discounts::promo_usable(&pc_aside, &own_count_aside(&coupon, spec.counted), today).map_err(reject)?;
        if coupon_ids.contains(&coupon.id) {
            return Err(Error::invalid("promo_code", "This promo code's coupon is already applied to the order.")
                .with_code("promo_code_already_applied"));
        }
        let discount = discounts::from_coupon(&coupon, currency).map_err(reject)?;
        if !scope_matches(&discount.scope, &selections) {
            return Err(reject(PromoRejection::WrongCurrency));
        }
        discounts.push(discount);
        applied.insert(coupon.id.clone());
        promo = Some((pc.id, pc.code));
    }

    let trial = match (spec.trial, spec.trial_term) {
        (Some(false), _) | (None, None) => None,
        (_, Some(t)) => Some(period("trial_term", t)?),
        (Some(true), None) => return Err(Error::missing("trial_term")),
    };
    let term = spec.term.map(|t| period("term", t)).transpose()?;
    let unit_labels = pricings
        .values()
        .flat_map(|p| p.items.iter())
        .filter_map(|it| it.unit_label.clone().map(|l| (it.id.clone(), l)))
        .collect();
    let mut coupons: Vec<String> = applied.into_iter().collect();
    coupons.sort();
    Ok(ResolvedQuote {
        input: QuoteInput { currency, selections, discounts, now, trial, term },
        promo,
        coupons,
        unit_labels,
    })
}

/// One selection per item of each plan, with quantities from `config_items`.
fn plan_selections(plans: &[&PricingWithItems], config_items: &[order::ConfigItem]) -> ServiceResult<Vec<Selection>> {
    // (item id) → (quantity, chosen amount); a config item without an item id covers its whole plan.
    let mut per_item: HashMap<&str, (i64, Option<i64>)> = HashMap::new();
    let mut per_plan: HashMap<&str, i64> = HashMap::new();
    for (i, c) in config_items.iter().enumerate() {
        let param = format!("config_items[{i}]");
        let plan = match &c.product_pricing_id {
            Some(id) => Some(plans.iter().find(|p| &p.pricing.id == id).ok_or_else(|| {
                Error::invalid(
                    format!("{param}.product_pricing_id"),
                    format!("'{id}' is not one of `product_pricing_ids`."),
                )
            })?),
            None => None,
        };
        let quantity = match c.num_licenses {
            Some(n) => {
                check_quantity(&format!("{param}.num_licenses"), n, c.quantity_config.as_ref(), c.minimum_units)?
            }
            // No quantity given: the least allowed, checked like a given one.
            None => {
                let least = c.quantity_config.and_then(|q| q.min_quantity).into_iter().chain(c.minimum_units).max();
                check_quantity(
                    &format!("{param}.num_licenses"),
                    least.unwrap_or(1),
                    c.quantity_config.as_ref(),
                    c.minimum_units,
                )?
            }
        };
        match &c.product_metric_pricing_id {
            Some(item_id) => {
                let owner = plans.iter().find(|p| p.items.iter().any(|it| &it.id == item_id));
                let fits = match (owner, plan) {
                    (Some(o), Some(p)) => o.pricing.id == p.pricing.id,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                if !fits {
                    return Err(Error::invalid(
                        format!("{param}.product_metric_pricing_id"),
                        format!("'{item_id}' is not an item of the product pricings in this order."),
                    ));
                }
                if per_item.insert(item_id.as_str(), (quantity, c.custom_amount)).is_some() {
                    return Err(Error::invalid(
                        format!("{param}.product_metric_pricing_id"),
                        "This item is configured twice.",
                    ));
                }
            }
            None => {
                // Seed 000 sends config items naming neither plan nor item: with one plan in
                // the order, that plan is meant.
                let plan = match (plan, plans) {
                    (Some(p), _) => p,
                    (None, [only]) => only,
                    (None, _) => {
                        return Err(Error::missing(format!("{param}.product_pricing_id"))
                            .with_message("With several plans in the order, say which one: `product_pricing_id`."));
                    }
                };
                if c.custom_amount.is_some() {
                    return Err(Error::invalid(
                        format!("{param}.custom_amount"),
                        "`custom_amount` needs `product_metric_pricing_id` naming the CUSTOMER_CHOSEN item.",
                    ));
                }
                if per_plan.insert(plan.pricing.id.as_str(), quantity).is_some() {
                    return Err(Error::invalid(
                        format!("{param}.product_pricing_id"),
                        "This plan is configured twice.",
                    ));
                }
            }
        }
    }
    let mut out = Vec::new();
    for (pi, plan) in plans.iter().enumerate() {
        for row in &plan.items {
            let item = super::catalog::priced_item(row, &plan.pricing.product_id)?;
            let default_quantity = if item.metered { 0 } else { 1 };
            let (quantity, chosen) = per_item
                .get(row.id.as_str())
                .copied()
                // A plan-wide quantity is seats or licenses; metered usage is never bought up front.
                .or_else(
                    || if item.metered { None } else { per_plan.get(plan.pricing.id.as_str()).map(|q| (*q, None)) },
                )
                .unwrap_or((default_quantity, None));
            if let (PriceModel::CustomerChosen { min, max, .. }, Some(amount)) = (&item.model, chosen)
                && (amount < *min || amount > *max)
            {
                let i = config_items
                    .iter()
                    .position(|c| c.product_metric_pricing_id.as_deref() == Some(&row.id))
                    .unwrap_or(pi);
                return Err(Error::invalid(
                    format!("config_items[{i}].custom_amount"),
                    format!("The amount must be between {min} and {max} minor units."),
                ));
            }
            let chosen = match (&item.model, chosen) {
                (PriceModel::CustomerChosen { .. }, chosen) => chosen,
                (_, None) => None,
                (_, Some(_)) => {
                    let i = config_items
                        .iter()
                        .position(|c| c.product_metric_pricing_id.as_deref() == Some(&row.id))
                        .unwrap_or(pi);
                    return Err(Error::invalid(
                        format!("config_items[{i}].custom_amount"),
                        "`custom_amount` applies only to CUSTOMER_CHOSEN items.",
                    ));
                }
            };
            out.push(Selection { item, quantity, chosen_amount: chosen, onetime_billable_id: None });
        }
    }
    Ok(out)
}

/// Selections for one-time items; products of custom prices are loaded in one query.
async fn onetime_selections(
    state: &AppState,
    company_id: &str,
    items: &[order::OneTimeItem],
    pricings: &HashMap<String, PricingWithItems>,
    currency: Currency,
) -> ServiceResult<Vec<Selection>> {
    let product_ids: Vec<String> =
        items.iter().filter_map(|o| o.custom_price.as_ref().map(|c| c.product_id.clone())).collect();
    let products: HashMap<String, _> = db::products::get_many(&state.db, company_id, &product_ids)
        .await?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let mut out = Vec::new();
    for (i, o) in items.iter().enumerate() {
        let param = format!("onetime_items[{i}]");
        let quantity =
            check_quantity(&format!("{param}.aggregate"), o.aggregate.unwrap_or(1), o.quantity_config.as_ref(), None)?;
        let billable =
            validate::opt_text(&format!("{param}.onetime_billable_id"), o.onetime_billable_id.as_deref(), 100)?;
        if let Some(cp) = &o.custom_price {
            let product = products.get(&cp.product_id).ok_or_else(|| {
                Error::unknown_ref(format!("{param}.custom_price.product_id"), "product", &cp.product_id)
            })?;
            let amount = discounts::money_in(&format!("{param}.custom_price.amount"), &cp.amount, currency)?;
            let name = validate::opt_text(
                &format!("{param}.custom_price.description"),
                cp.description.as_deref(),
                validate::NAME_MAX,
            )?
            .unwrap_or_else(|| product.name.clone());
            let item = PricedItem {
                item_pricing_id: String::new(),
                product_id: product.id.clone(),
                product_pricing_id: String::new(),
                name,
                model: PriceModel::PerUnit { unit_amount: amount.into() },
                frequency: Frequency::OneTime,
                included_units: 0,
                minimum_spend: None,
                metered: false,
            };
            out.push(Selection { item, quantity, chosen_amount: None, onetime_billable_id: billable });
        } else if let Some(id) = &o.product_pricing_id {
            let p = pricings.get(id).ok_or_else(|| unknown_pricing(format!("{param}.product_pricing_id"), id))?;
            if p.pricing.archived_at.is_some() {
                return Err(Error::invalid(
                    format!("{param}.product_pricing_id"),
                    format!("The product pricing '{id}' is archived."),
                ));
            }
            for row in &p.items {
                let item = super::catalog::priced_item(row, &p.pricing.product_id)?;
                if item.frequency != Frequency::OneTime {
                    return Err(Error::invalid(
                        format!("{param}.product_pricing_id"),
                        format!("'{id}' is billed every period; list it in `product_pricing_ids` instead."),
                    ));
                }
                out.push(Selection { item, quantity, chosen_amount: None, onetime_billable_id: billable.clone() });
            }
        }
    }
    Ok(out)
}

fn scope_matches(scope: &DiscountScope, selections: &[Selection]) -> bool {
    selections.iter().any(|s| match scope {
        DiscountScope::All => true,
        DiscountScope::Product(id) => &s.item.product_id == id,
        DiscountScope::ProductPricing(id) => &s.item.product_pricing_id == id,
        DiscountScope::Item(id) => &s.item.item_pricing_id == id,
        DiscountScope::OneTimeBillable(id) => s.onetime_billable_id.as_ref() == Some(id),
    })
}

/// A discount aimed at something not in the order is a mistake worth telling (it also covers
/// ids of other companies, which can never be in the order).
fn check_scope_matches(param: &str, discount: &Discount, selections: &[Selection]) -> ServiceResult<()> {
    if scope_matches(&discount.scope, selections) {
        return Ok(());
    }
    let field = match discount.scope {
        DiscountScope::Product(_) => "product_id",
        DiscountScope::ProductPricing(_) => "product_pricing_id",
        DiscountScope::Item(_) => "item_pricing_id",
        DiscountScope::OneTimeBillable(_) => "onetime_billable_id",
        DiscountScope::All => "coupon_id",
    };
    Err(Error::invalid(validate::join(param, field), "This discount applies to nothing in the order."))
}

/// Add waiting charges to a checkout's quote as due-today lines (and their batches'
/// discounts), so the page shows them, the payment collects them and the invoice lists them.
pub fn add_to_quote(quote: &mut Quote, billables: &[Billable]) {
    let parse = |s: &str| serde_json::from_str::<Vec<Value>>(s).unwrap_or_default();
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    let int = |v: &Value, key: &str| v.get(key).and_then(Value::as_i64).unwrap_or_default();
    let mut batch_lines: Vec<(String, Vec<usize>)> = Vec::new();
    for b in billables {
        for l in parse(&b.lines) {
            let quantity = int(&l, "quantity");
            match batch_lines.last_mut() {
                Some((batch, lines)) if *batch == b.batch_id => lines.push(quote.lines.len()),
                _ => batch_lines.push((b.batch_id.clone(), vec![quote.lines.len()])),
            }
            quote.lines.push(QuoteLine {
                item_pricing_id: text(&l, "item_pricing_id"),
                product_id: text(&l, "product_id"),
                product_pricing_id: text(&l, "product_pricing_id"),
                onetime_billable_id: Some(b.id.clone()),
                name: text(&l, "name"),
                description: text(&l, "description"),
                quantity,
                billed_quantity: quantity,
                frequency: Frequency::OneTime,
                metered: false,
                amount: int(&l, "amount"),
                due_today: true,
            });
        }
    }
    let charge = &mut quote.due_today;
    for b in billables {
        charge.subtotal = charge.subtotal.saturating_add(b.subtotal);
        charge.discount_total = charge.discount_total.saturating_add(b.discount_total);
        for d in parse(&b.discounts) {
            let line_indexes =
                batch_lines.iter().find(|(batch, _)| *batch == b.batch_id).map(|(_, l)| l.clone()).unwrap_or_default();
            charge.discounts.push(DiscountLine {
                discount_index: usize::MAX,
                name: text(&d, "name"),
                amount: int(&d, "amount"),
                line_indexes,
            });
        }
    }
    charge.total = (charge.subtotal - charge.discount_total).max(0);
}
