//! Reusable checkout links: the order and page behaviour a link's stored definition makes, its
//! check against the catalog, and the session a visit starts.

use crate::db;
use crate::db::links::CheckoutLink;
use crate::domain::link::{LinkAction, LinkItemType, LinkSpec};
use crate::domain::order::{ConfigItem, OneTimeItem, Order, QuantityConfig, Span};
use crate::domain::term::PeriodUnit;
use crate::services::checkout::{CompletionAction, Options};
use crate::services::checkout_create::NewSession;
use crate::services::error::{Error, ServiceResult};
use crate::services::validate;
use crate::state::AppState;

/// The order a link makes: plans and fixed products, quantities, trial.
pub fn order_of(spec: &LinkSpec, one_time: &dyn Fn(&str) -> bool) -> Order {
    let mut order = Order::default();
    let editable = spec.options.quantity_editable == Some(true);
    for item in &spec.items {
        let quantity = item.quantity.unwrap_or(1);
        let customer_picks = item.kind == LinkItemType::Plan || editable;
        if one_time(&item.product_pricing_id) {
            order.onetime_items.push(OneTimeItem {
                aggregate: Some(quantity),
                product_pricing_id: Some(item.product_pricing_id.clone()),
                custom_price: None,
                quantity_config: None,
                onetime_billable_id: None,
            });
            continue;
        }
        order.product_pricing_ids.push(item.product_pricing_id.clone());
        order.config_items.push(ConfigItem {
            product_pricing_id: Some(item.product_pricing_id.clone()),
            product_metric_pricing_id: None,
            num_licenses: Some(quantity),
            minimum_units: None,
            quantity_config: customer_picks.then_some(QuantityConfig {
                allow_custom_quantity: Some(true),
                min_quantity: Some(item.min_quantity.unwrap_or(1)),
                max_quantity: Some(item.max_quantity.unwrap_or(1000)),
            }),
            custom_amount: None,
        });
    }
    if let Some(days) = spec.options.trial_days.filter(|d| *d > 0) {
        order.trial = Some(true);
        order.trial_term = Some(Span { count: days, frequency: PeriodUnit::Day });
    }
    order
}

/// The page behaviour a link asks for.
pub fn options_of(spec: &LinkSpec) -> Options {
    Options {
        allow_promo_code: spec.options.coupons_allowed.unwrap_or(false),
        completion_action: match spec.action {
            LinkAction::Redirect => CompletionAction::Redirect,
            LinkAction::ConfirmationMessage => CompletionAction::ConfirmationMessage,
        },
        confirmation_message: spec.confirmation_message.clone(),
        redirect_url: spec.redirect_url.clone(),
        back_url: spec.back_url.clone(),
        requires_customer_address: spec.requires_customer_address,
        collect_company: spec.options.force_company == Some(true),
        require_company: spec.options.force_company == Some(true),
        ..Options::default()
    }
}

/// Check a spec against the catalog by pricing its order once; returns the order.
pub async fn check_spec(state: &AppState, company_id: &str, spec: &LinkSpec) -> ServiceResult<Order> {
    if spec.items.is_empty() || spec.items.len() > 20 {
        return Err(Error::invalid("items", "`items` must have 1 to 20 entries."));
    }
    for (i, item) in spec.items.iter().enumerate() {
        let p = format!("items[{i}]");
        validate::count(&format!("{p}.quantity"), item.quantity.unwrap_or(1), 1, validate::QUANTITY_MAX)?;
        let min =
            validate::count(&format!("{p}.min_quantity"), item.min_quantity.unwrap_or(1), 0, validate::QUANTITY_MAX)?;
        let max = validate::count(
            &format!("{p}.max_quantity"),
            item.max_quantity.unwrap_or(1000),
            1,
            validate::QUANTITY_MAX,
        )?;
        if min > max {
            return Err(Error::invalid(format!("{p}.min_quantity"), "`min_quantity` must not exceed `max_quantity`."));
        }
    }
    if let Some(days) = spec.options.trial_days {
        validate::count("options.trial_days", days, 0, 3650)?;
    }
    if spec.action == LinkAction::Redirect && spec.redirect_url.is_none() {
        return Err(Error::missing("redirect_url").with_message("action `redirect` needs `redirect_url`."));
    }
    let ids: Vec<String> = spec.items.iter().map(|i| i.product_pricing_id.clone()).collect();
    let pricings = db::pricings::get_many(&state.db, company_id, &ids).await?;
    for (i, id) in ids.iter().enumerate() {
        if !pricings.iter().any(|p| &p.pricing.id == id) {
            return Err(Error::unknown_ref(format!("items[{i}].product_pricing_id"), "product pricing", id));
        }
    }
    let one_time = |id: &str| {
        pricings.iter().find(|p| p.pricing.id == id).is_some_and(|p| p.items.iter().all(|it| it.period_unit.is_none()))
    };
    let order = order_of(spec, &one_time);
    crate::services::quote::resolve(state, company_id, &crate::services::quote::of_order(&order, None)).await.map_err(
        |e| {
            // Point at the link's own fields where the order's names differ.
            match e.field.as_deref() {
                Some(p) if p.starts_with("product_pricing_ids") || p.starts_with("onetime_items") => {
                    e.with_field("items")
                }
                _ => e,
            }
        },
    )?;
    Ok(order)
}

/// The session a visit to `link` starts.
pub async fn new_session_for(state: &AppState, link: &CheckoutLink) -> ServiceResult<NewSession> {
    let spec: LinkSpec = serde_json::from_str(&link.spec).map_err(|_| Error::internal("unreadable link spec"))?;
    let order = check_spec(state, &link.company_id, &spec).await?;
    Ok(NewSession {
        source: "LINK",
        link_id: Some(link.id.clone()),
        customer_id: None,
        options: options_of(&spec),
        order,
        promo_code: None,
        extra: serde_json::json!({}),
        metadata: serde_json::json!({}),
        locale: spec.locale.clone(),
        expires_in_hours: 24,
        cache_version: None,
    })
}
