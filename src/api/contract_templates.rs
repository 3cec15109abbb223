//! `…/contract_templates`: create, get, list and archive the documents contracts are made from —
//! a title and a body in Kasse's small Markdown subset with `{{variables}}` (see `domain::document`).

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{ApiJson, ApiQuery, CompanyCtx, ListQuery};
use super::list::{List, State as ItemState};
use crate::db::{self, contracts::Template};
use crate::domain::document::{self, TemplateError};
use crate::domain::ids::{self, prefix};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::services::validate;
use crate::state::AppState;

/// The longest template body, in bytes.
pub const BODY_MAX: usize = 100_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContractTemplate {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Markdown subset: `#`–`###` headings, paragraphs, `-` and `1.` lists, `**bold**`, `*italic*`,
    /// pipe tables. Variables: `{{customer.name}}`, `{{customer.email}}`, `{{customer.org_name}}`,
    /// `{{customer.address}}`, `{{company.name}}`, `{{company.legal_name}}`, `{{contract.title}}`,
    /// `{{contract.start_date}}`, `{{contract.expiration_date}}`, `{{contract.term}}`,
    /// `{{signatory.N.name|email|title}}`, `{{custom.<key>}}`. Raw HTML is shown as text.
    #[schema(min_length = 1, max_length = 100000)]
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContractTemplateResponse {
    pub id: String,
    pub title: String,
    pub body: String,
    /// The variables the body uses, in order of first use.
    pub variables: Vec<String>,
    pub state: ItemState,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Template> for ContractTemplateResponse {
    fn from(t: Template) -> Self {
        ContractTemplateResponse {
            variables: serde_json::from_str(&t.variables).unwrap_or_default(),
            id: t.id,
            title: t.title,
            body: t.body,
            state: ItemState::of(t.archived_at),
            archived_at: t.archived_at,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A template error as an API error on `param`.
pub fn template_error(param: &str, e: TemplateError) -> ApiError {
    let code = match e {
        TemplateError::Syntax { .. } => "template_syntax",
        TemplateError::Unknown { .. } => "unknown_variable",
        TemplateError::Missing { .. } => "missing_variable",
    };
    ApiError::invalid(param, e.to_string()).with_code(code)
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/contract_templates", tag = "contracts",
    params(("company_id" = String, Path)), request_body = CreateContractTemplate,
    responses((status = 200, body = ContractTemplateResponse), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiJson(body): ApiJson<CreateContractTemplate>,
) -> ApiResult<Json<ContractTemplateResponse>> {
    create_template(&state, ctx.id(), body).await.map(Json)
}

/// Check and store; shared by the API and `kasse demo`.
pub async fn create_template(
    state: &AppState,
    company_id: &str,
    body: CreateContractTemplate,
) -> ApiResult<ContractTemplateResponse> {
    let title = validate::text("title", &body.title, validate::NAME_MAX)?;
    if body.body.trim().is_empty() {
        return Err(ApiError::missing("body").with_message("`body` must not be empty."));
    }
    if body.body.len() > BODY_MAX {
        return Err(ApiError::invalid("body", format!("`body` must be at most {BODY_MAX} bytes.")));
    }
    let variables = document::variables(&body.body).map_err(|e| template_error("body", e))?;
    let now = state.clock.now();
    let template = Template {
        id: ids::new_id(prefix::CONTRACT_TEMPLATE, now),
        company_id: company_id.to_string(),
        title,
        body: body.body,
        variables: serde_json::to_string(&variables).map_err(ApiError::internal)?,
        archived_at: None,
        created_at: now,
        updated_at: now,
    };
    db::contracts::insert_template(&state.db, &template).await?;
    Ok(template.into())
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/contract_templates/{id}", tag = "contracts",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ContractTemplateResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<ContractTemplateResponse>> {
    let t = db::contracts::get_template(&state.db, ctx.id(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("contract template", &id))?;
    Ok(Json(t.into()))
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/contract_templates", tag = "contracts",
    params(("company_id" = String, Path), ListQuery),
    responses((status = 200, body = List<ContractTemplateResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<List<ContractTemplateResponse>>> {
    let page = query.page()?;
    let rows = db::contracts::list_templates(&state.db, ctx.id(), &page).await?;
    Ok(Json(List::from_rows(rows, &page, |t| &t.id, |t| Ok(t.into()))?))
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/contract_templates/{id}/archive", tag = "contracts",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ContractTemplateResponse), (status = 404, body = ErrorBody)))]
pub async fn archive(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<ContractTemplateResponse>> {
    let t = db::contracts::archive_template(&state.db, ctx.id(), &id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("contract template", &id))?;
    Ok(Json(t.into()))
}
