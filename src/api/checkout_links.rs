//! `…/checkout_links` (seed 004): reusable links — items of type `product` (fixed quantity) or
//! `plan` (the customer configures the quantity), options, and the after-checkout action.
//! `GET /l/{slug}` starts a fresh session from a link for every visitor.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::checkout::{NewSession, check_url};
use super::extract::{ApiJson, ApiQuery, CompanyCtx, ListQuery};
use super::list::List;
use crate::db::links::CheckoutLink;
use crate::db::{self, DbError};
use crate::domain::ids::{self, prefix};
use crate::domain::order::{ConfigItem, OneTimeItem, Order, QuantityConfig, Span};
use crate::domain::term::PeriodUnit;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::services::checkout::{CompletionAction, Options};
use crate::services::validate;
use crate::state::AppState;

/// `product`: added with its fixed quantity. `plan`: added, and the customer picks the quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkItemType {
    Product,
    Plan,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkItem {
    #[serde(rename = "type")]
    pub kind: LinkItemType,
    /// The product pricing sold.
    #[schema(min_length = 1, max_length = 64)]
    pub product_pricing_id: String,
    /// The quantity (`product`), or the starting quantity (`plan`); default 1.
    pub quantity: Option<i64>,
    /// `plan`: the range the customer may choose in (default 1 to 1000).
    pub min_quantity: Option<i64>,
    pub max_quantity: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkOptions {
    /// Whether customers may enter promo codes.
    pub coupons_allowed: Option<bool>,
    /// Whether a company name is required (business customers).
    pub force_company: Option<bool>,
    /// Whether `product` items' quantities may be changed too.
    pub quantity_editable: Option<bool>,
    /// Days of free trial for recurring items.
    pub trial_days: Option<i64>,
}

/// After checkout: `redirect` to `redirect_url`, or show `confirmation_message`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkAction {
    Redirect,
    ConfirmationMessage,
}

/// A link's definition as stored.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LinkSpec {
    pub items: Vec<LinkItem>,
    pub options: LinkOptions,
    pub action: LinkAction,
    pub redirect_url: Option<String>,
    pub confirmation_message: Option<String>,
    /// The "back to merchant" button; hidden when absent.
    pub back_url: Option<String>,
    pub requires_customer_address: bool,
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLink {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// 3 to 64 lower-case letters, digits and `-`; unique across Kasse. Default: from the name.
    #[schema(min_length = 3, max_length = 64)]
    pub slug: Option<String>,
    pub enabled: Option<bool>,
    pub items: Vec<LinkItem>,
    pub options: Option<LinkOptions>,
    pub action: Option<LinkAction>,
    #[schema(max_length = 2000)]
    pub redirect_url: Option<String>,
    #[schema(max_length = 255)]
    pub confirmation_message: Option<String>,
    #[schema(max_length = 2000)]
    pub back_url: Option<String>,
    pub requires_customer_address: Option<bool>,
    /// `en` or `de`; default from the customer's browser.
    #[schema(max_length = 35)]
    pub locale: Option<String>,
}

/// A partial update: absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLink {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[schema(min_length = 3, max_length = 64)]
    pub slug: Option<String>,
    pub enabled: Option<bool>,
    pub items: Option<Vec<LinkItem>>,
    pub options: Option<LinkOptions>,
    pub action: Option<LinkAction>,
    #[schema(max_length = 2000)]
    pub redirect_url: Option<String>,
    #[schema(max_length = 255)]
    pub confirmation_message: Option<String>,
    #[schema(max_length = 2000)]
    pub back_url: Option<String>,
    pub requires_customer_address: Option<bool>,
    #[schema(max_length = 35)]
    pub locale: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkResponse {
    pub id: String,
    pub name: String,
    pub slug: String,
    /// Share this: every visit starts a fresh checkout.
    pub url: String,
    pub enabled: bool,
    #[serde(flatten)]
    pub spec: LinkSpec,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn response(state: &AppState, l: CheckoutLink) -> ApiResult<LinkResponse> {
    let spec: LinkSpec = serde_json::from_str(&l.spec)
        .map_err(|_| ApiError::internal(format!("link {} has an unreadable spec", l.id)))?;
    Ok(LinkResponse {
        url: format!("{}/l/{}", state.public_url, l.slug),
        id: l.id,
        name: l.name,
        slug: l.slug,
        enabled: l.enabled,
        spec,
        created_at: l.created_at,
        updated_at: l.updated_at,
    })
}

fn check_slug(slug: &str) -> ApiResult<String> {
    let slug = slug.trim().to_ascii_lowercase();
    let ok = (3..=64).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok { Ok(slug) } else { Err(ApiError::invalid("slug", "`slug` is 3 to 64 lower-case letters, digits and `-`.")) }
}

/// A slug from the name plus a random tail, so two links named alike never collide.
fn slug_from(name: &str) -> String {
    let mut base: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    base.truncate(40);
    let base = base.trim_end_matches('-');
    let tail = &ids::token()[..8];
    if base.is_empty() { format!("link-{tail}") } else { format!("{base}-{tail}") }
}

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
async fn check_spec(state: &AppState, company_id: &str, spec: &LinkSpec) -> ApiResult<Order> {
    if spec.items.is_empty() || spec.items.len() > 20 {
        return Err(ApiError::invalid("items", "`items` must have 1 to 20 entries."));
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
            return Err(ApiError::invalid(
                format!("{p}.min_quantity"),
                "`min_quantity` must not exceed `max_quantity`.",
            ));
        }
    }
    if let Some(days) = spec.options.trial_days {
        validate::count("options.trial_days", days, 0, 3650)?;
    }
    if spec.action == LinkAction::Redirect && spec.redirect_url.is_none() {
        return Err(ApiError::missing("redirect_url").with_message("action `redirect` needs `redirect_url`."));
    }
    let ids: Vec<String> = spec.items.iter().map(|i| i.product_pricing_id.clone()).collect();
    let pricings = db::pricings::get_many(&state.db, company_id, &ids).await?;
    for (i, id) in ids.iter().enumerate() {
        if !pricings.iter().any(|p| &p.pricing.id == id) {
            return Err(ApiError::unknown_ref(format!("items[{i}].product_pricing_id"), "product pricing", id));
        }
    }
    let one_time = |id: &str| {
        pricings.iter().find(|p| p.pricing.id == id).is_some_and(|p| p.items.iter().all(|it| it.period_unit.is_none()))
    };
    let order = order_of(spec, &one_time);
    crate::services::quote::resolve(state, company_id, &crate::services::quote::of_order(&order, None)).await.map_err(
        |e| {
            // Point at the link's own fields where the order's names differ.
            match e.param.as_deref() {
                Some(p) if p.starts_with("product_pricing_ids") || p.starts_with("onetime_items") => {
                    e.with_param("items")
                }
                _ => e,
            }
        },
    )?;
    Ok(order)
}

/// Check the free-text and URL fields of a spec as given; items are checked by `check_spec`.
fn checked(raw: LinkSpec) -> ApiResult<LinkSpec> {
    let locale = match raw.locale.as_deref() {
        None => None,
        Some(l) => Some(
            crate::domain::locale::Locale::parse(l)
                .ok_or_else(|| ApiError::invalid("locale", "`locale` must be `en` or `de`."))?
                .code()
                .to_string(),
        ),
    };
    Ok(LinkSpec {
        redirect_url: raw.redirect_url.as_deref().map(|u| check_url("redirect_url", u)).transpose()?,
        confirmation_message: validate::opt_text("confirmation_message", raw.confirmation_message.as_deref(), 255)?,
        back_url: raw.back_url.as_deref().map(|u| check_url("back_url", u)).transpose()?,
        locale,
        ..raw
    })
}

async fn store(state: &AppState, link: &CheckoutLink, new: bool) -> ApiResult<()> {
    let result = if new { db::links::insert(&state.db, link).await } else { db::links::update(&state.db, link).await };
    match result {
        Ok(()) => Ok(()),
        Err(DbError::Unique(_)) => {
            Err(ApiError::invalid("slug", "This slug is already taken.").with_code("slug_taken"))
        }
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/checkout_links", tag = "checkout",
    params(("company_id" = String, Path)), request_body = CreateLink,
    responses((status = 200, body = LinkResponse), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiJson(b): ApiJson<CreateLink>,
) -> ApiResult<Json<LinkResponse>> {
    let name = validate::text("name", &b.name, validate::NAME_MAX)?;
    let slug = match &b.slug {
        Some(s) => check_slug(s)?,
        None => slug_from(&name),
    };
    let spec = checked(LinkSpec {
        items: b.items,
        options: b.options.unwrap_or_default(),
        action: b.action.unwrap_or(LinkAction::ConfirmationMessage),
        redirect_url: b.redirect_url,
        confirmation_message: b.confirmation_message,
        back_url: b.back_url,
        requires_customer_address: b.requires_customer_address.unwrap_or(false),
        locale: b.locale,
    })?;
    check_spec(&state, ctx.id(), &spec).await?;
    let now = state.clock.now();
    let link = CheckoutLink {
        id: ids::new_id(prefix::CHECKOUT_LINK, now),
        company_id: ctx.id().to_string(),
        slug,
        name,
        enabled: b.enabled.unwrap_or(true),
        spec: serde_json::to_string(&spec).unwrap_or_default(),
        created_at: now,
        updated_at: now,
    };
    store(&state, &link, true).await?;
    Ok(Json(response(&state, link)?))
}

async fn load(state: &AppState, company_id: &str, id: &str) -> ApiResult<CheckoutLink> {
    db::links::get(&state.db, company_id, id).await?.ok_or_else(|| ApiError::not_found("checkout link", id))
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/checkout_links/{id}", tag = "checkout",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = LinkResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<LinkResponse>> {
    Ok(Json(response(&state, load(&state, ctx.id(), &id).await?)?))
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/checkout_links", tag = "checkout",
    params(("company_id" = String, Path), ListQuery),
    responses((status = 200, body = List<LinkResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<List<LinkResponse>>> {
    let page = query.page()?;
    let rows = db::links::list(&state.db, ctx.id(), &page).await?;
    Ok(Json(List::from_rows(rows, &page, |l| &l.id, |l| response(&state, l))?))
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/checkout_links/{id}", tag = "checkout",
    params(("company_id" = String, Path), ("id" = String, Path)), request_body = UpdateLink,
    responses((status = 200, body = LinkResponse), (status = "4XX", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
    ApiJson(b): ApiJson<UpdateLink>,
) -> ApiResult<Json<LinkResponse>> {
    let mut link = load(&state, ctx.id(), &id).await?;
    let old: LinkSpec = serde_json::from_str(&link.spec).map_err(|_| ApiError::internal("unreadable link spec"))?;
    if let Some(name) = &b.name {
        link.name = validate::text("name", name, validate::NAME_MAX)?;
    }
    if let Some(slug) = &b.slug {
        link.slug = check_slug(slug)?;
    }
    if let Some(enabled) = b.enabled {
        link.enabled = enabled;
    }
    let spec = checked(LinkSpec {
        items: b.items.unwrap_or(old.items),
        options: b.options.unwrap_or(old.options),
        action: b.action.unwrap_or(old.action),
        redirect_url: b.redirect_url.or(old.redirect_url),
        confirmation_message: b.confirmation_message.or(old.confirmation_message),
        back_url: b.back_url.or(old.back_url),
        requires_customer_address: b.requires_customer_address.unwrap_or(old.requires_customer_address),
        locale: b.locale.or(old.locale),
    })?;
    check_spec(&state, ctx.id(), &spec).await?;
    link.spec = serde_json::to_string(&spec).unwrap_or_default();
    link.updated_at = state.clock.now();
    store(&state, &link, false).await?;
    Ok(Json(response(&state, link)?))
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/checkout_links/{id}/disable", tag = "checkout",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = LinkResponse), (status = 404, body = ErrorBody)))]
pub async fn disable(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<LinkResponse>> {
    let mut link = load(&state, ctx.id(), &id).await?;
    link.enabled = false;
    link.updated_at = state.clock.now();
    store(&state, &link, false).await?;
    Ok(Json(response(&state, link)?))
}

/// The session a visit to `link` starts.
pub async fn new_session_for(state: &AppState, link: &CheckoutLink) -> ApiResult<NewSession> {
    let spec: LinkSpec = serde_json::from_str(&link.spec).map_err(|_| ApiError::internal("unreadable link spec"))?;
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
    })
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/checkout_links/{id}/preview_link", tag = "checkout",
    params(("company_id" = String, Path), ("id" = String, Path)), request_body = Option<super::checkout::PreviewLinkRequest>,
    responses((status = 200, body = super::checkout::PreviewLink), (status = 404, body = ErrorBody)))]
pub async fn preview_link(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<super::checkout::PreviewLink>> {
    let request: super::checkout::PreviewLinkRequest = super::checkout::optional_body(&body)?;
    let link = load(&state, ctx.id(), &id).await?;
    Ok(Json(super::checkout::preview_link_for(&state, "link", &link.id, &request)?))
}
