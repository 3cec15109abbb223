//! `…/products`: create, get, list and archive the products a company sells.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{ApiJson, ApiQuery, CompanyCtx, ListQuery};
use super::list::{List, State as ItemState};
use crate::db::{self, products::Product};
use crate::domain::ids::{self, prefix};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::services::validate;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// Your own id for the product.
    #[schema(max_length = 200)]
    pub external_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductResponse {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub external_id: Option<String>,
    pub state: ItemState,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Product> for ProductResponse {
    fn from(p: Product) -> Self {
        ProductResponse {
            id: p.id,
            name: p.name,
            description: p.description,
            external_id: p.external_id,
            state: ItemState::of(p.archived_at),
            archived_at: p.archived_at,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/products", tag = "catalog",
    params(("company_id" = String, Path)), request_body = CreateProduct,
    responses((status = 200, body = ProductResponse), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiJson(body): ApiJson<CreateProduct>,
) -> ApiResult<Json<ProductResponse>> {
    create_product(&state, ctx.id(), body).await.map(Json)
}

/// Validate and store; shared by the API and `kasse demo`.
pub async fn create_product(state: &AppState, company_id: &str, body: CreateProduct) -> ApiResult<ProductResponse> {
    let now = state.clock.now();
    let product = Product {
        id: ids::new_id(prefix::PRODUCT, now),
        company_id: company_id.to_string(),
        name: validate::text("name", &body.name, validate::NAME_MAX)?,
        description: validate::opt_text("description", body.description.as_deref(), validate::TEXT_MAX)?,
        external_id: validate::opt_text("external_id", body.external_id.as_deref(), validate::NAME_MAX)?,
        archived_at: None,
        created_at: now,
        updated_at: now,
    };
    db::products::insert(&state.db, &product).await?;
    Ok(product.into())
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/products/{id}", tag = "catalog",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ProductResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<ProductResponse>> {
    let product =
        db::products::get(&state.db, ctx.id(), &id).await?.ok_or_else(|| ApiError::not_found("product", &id))?;
    Ok(Json(product.into()))
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/products", tag = "catalog",
    params(("company_id" = String, Path), ListQuery),
    responses((status = 200, body = List<ProductResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<List<ProductResponse>>> {
    let page = query.page()?;
    let rows = db::products::list(&state.db, ctx.id(), &page).await?;
    Ok(Json(List::from_rows(rows, &page, |p| &p.id, |p| Ok(p.into()))?))
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/products/{id}/archive", tag = "catalog",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ProductResponse), (status = 404, body = ErrorBody)))]
pub async fn archive(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<ProductResponse>> {
    let product = db::products::archive(&state.db, ctx.id(), &id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("product", &id))?;
    Ok(Json(product.into()))
}
