//! `…/product_pricings`: plans — a product, a currency and its priced items — created whole, then only archived.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::extract::{ApiJson, ApiQuery, CompanyCtx, ListQuery};
use super::list::{List, State as ItemState};
use super::price_spec::{self, ItemPricingInput, ItemPricingResponse};
use crate::db::{self, pricings::ItemPricing, pricings::PricingWithItems, pricings::ProductPricing};
use crate::domain::ids::{self, prefix};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::services::validate;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateProductPricing {
    #[schema(max_length = 64)]
    pub product_id: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// ISO 4217 code; every amount of the items is in this currency's minor units.
    #[schema(min_length = 3, max_length = 3)]
    pub currency: String,
    /// 1 to 50 priced items.
    #[validate(length(min = 1, max = 50), nested)]
    pub items: Vec<ItemPricingInput>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProductPricingResponse {
    pub id: String,
    pub product_id: String,
    pub name: String,
    pub currency: String,
    pub items: Vec<ItemPricingResponse>,
    pub state: ItemState,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn response(p: PricingWithItems) -> ApiResult<ProductPricingResponse> {
    let items = p.items.iter().map(price_spec::item_response).collect::<ApiResult<Vec<_>>>()?;
    let pr = p.pricing;
    Ok(ProductPricingResponse {
        id: pr.id,
        product_id: pr.product_id,
        name: pr.name,
        currency: pr.currency,
        items,
        state: ItemState::of(pr.archived_at),
        archived_at: pr.archived_at,
        created_at: pr.created_at,
        updated_at: pr.updated_at,
    })
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/product_pricings", tag = "catalog",
    params(("company_id" = String, Path)), request_body = CreateProductPricing,
    responses((status = 200, body = ProductPricingResponse), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiJson(body): ApiJson<CreateProductPricing>,
) -> ApiResult<Json<ProductPricingResponse>> {
    create_product_pricing(&state, ctx.id(), body).await.map(Json)
}

/// Validate and store; shared by the API and `kasse demo`.
pub async fn create_product_pricing(
    state: &AppState,
    company_id: &str,
    body: CreateProductPricing,
) -> ApiResult<ProductPricingResponse> {
    body.validate().map_err(super::extract::invalid_fields)?;
    let name = validate::text("name", &body.name, validate::NAME_MAX)?;
    let currency = validate::currency("currency", &body.currency)?;
    let valid = body
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| price_spec::validate_item(&format!("items[{i}]"), item))
        .collect::<ApiResult<Vec<_>>>()?;
    let product = db::products::get(&state.db, company_id, &body.product_id)
        .await?
        .ok_or_else(|| ApiError::unknown_ref("product_id", "product", &body.product_id))?;
    if product.archived_at.is_some() {
        return Err(ApiError::invalid("product_id", "This product is archived; new prices cannot be added to it."));
    }

    let now = state.clock.now();
    let pricing_id = ids::new_id(prefix::PRODUCT_PRICING, now);
    let items = valid
        .into_iter()
        .enumerate()
        .map(|(position, v)| {
            let period = v.frequency.period();
            ItemPricing {
                id: ids::new_id(prefix::ITEM_PRICING, now),
                company_id: company_id.to_string(),
                product_pricing_id: pricing_id.clone(),
                position: i32::try_from(position).unwrap_or(i32::MAX),
                name: v.name,
                unit_label: v.unit_label,
                pricing_model: price_spec::PricingModel::of(&v.model).as_str().to_string(),
                model_config: price_spec::model_config(&v.model),
                period_unit: period.map(|p| p.unit.as_str().to_string()),
                period_count: period.map(|p| i32::try_from(p.count).unwrap_or(1)),
                included_units: v.included_units,
                minimum_spend: v.minimum_spend,
                metered: v.metered,
                created_at: now,
                updated_at: now,
            }
        })
        .collect();
    let pricing = PricingWithItems {
        pricing: ProductPricing {
            id: pricing_id,
            company_id: company_id.to_string(),
            product_id: product.id,
            name,
            currency: currency.code().to_string(),
            archived_at: None,
            created_at: now,
            updated_at: now,
        },
        items,
    };
    db::pricings::insert(&state.db, &pricing).await?;
    response(pricing)
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/product_pricings/{id}", tag = "catalog",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ProductPricingResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<ProductPricingResponse>> {
    let p = db::pricings::get(&state.db, ctx.id(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("product pricing", &id))?;
    Ok(Json(response(p)?))
}

/// Filters of the pricing list besides the page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PricingFilter {
    /// Only the pricings of this product.
    #[param(pattern = "^[a-z]{1,16}_[0-9A-HJKMNP-TV-Z]{26}$", max_length = 43)]
    pub product_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/product_pricings", tag = "catalog",
    params(("company_id" = String, Path), ListQuery, PricingFilter),
    responses((status = 200, body = List<ProductPricingResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiQuery(query): ApiQuery<ListQuery>,
    ApiQuery(filter): ApiQuery<PricingFilter>,
) -> ApiResult<Json<List<ProductPricingResponse>>> {
    let page = query.page()?;
    let rows = db::pricings::list(
        &state.db,
        ctx.id(),
        &page,
        super::extract::id_filter("product_id", filter.product_id.as_deref())?,
    )
    .await?;
    Ok(Json(List::from_rows(rows, &page, |p| &p.pricing.id, response)?))
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/product_pricings/{id}/archive", tag = "catalog",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ProductPricingResponse), (status = 404, body = ErrorBody)))]
pub async fn archive(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<ProductPricingResponse>> {
    let p = db::pricings::archive(&state.db, ctx.id(), &id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("product pricing", &id))?;
    Ok(Json(response(p)?))
}
