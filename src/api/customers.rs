//! `…/customers`: the people and organisations a company bills, findable by id or by the merchant's identifier.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiJson, ApiQuery, CompanyCtx, ListQuery};
use super::list::{List, State as ItemState};
use crate::db::{self, DbError, customers::Customer};
use crate::domain::address;
use crate::domain::ids::{self, prefix};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::services::validate;
use crate::state::AppState;

/// A postal address. `country` is an ISO 3166-1 alpha-2 code.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    #[schema(max_length = 200)]
    pub line1: Option<String>,
    #[schema(max_length = 200)]
    pub line2: Option<String>,
    #[schema(max_length = 100)]
    pub city: Option<String>,
    #[schema(max_length = 100)]
    pub state: Option<String>,
    #[schema(max_length = 20)]
    pub postal_code: Option<String>,
    #[schema(max_length = 2)]
    pub country: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// The customer's organisation, for business purchases.
    #[schema(max_length = 200)]
    pub org_name: Option<String>,
    /// Your own id for this customer; unique per company and usable wherever a customer id is.
    #[schema(max_length = 200)]
    pub identifier: Option<String>,
    #[schema(max_length = 40)]
    pub phone: Option<String>,
    pub address: Option<AddressBody>,
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, super::extract::MetadataValue>)]
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerResponse {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub org_name: Option<String>,
    pub identifier: Option<String>,
    pub phone: Option<String>,
    pub address: Option<AddressBody>,
    pub metadata: BTreeMap<String, String>,
    pub state: ItemState,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) fn response(c: Customer) -> ApiResult<CustomerResponse> {
    let metadata = serde_json::from_str(&c.metadata)
        .map_err(|_| ApiError::internal(format!("customer {} has unreadable metadata", c.id)))?;
    let address = AddressBody {
        line1: c.address_line1,
        line2: c.address_line2,
        city: c.address_city,
        state: c.address_state,
        postal_code: c.address_postal_code,
        country: c.address_country,
    };
    let has_address =
        [&address.line1, &address.city, &address.postal_code, &address.country].iter().any(|f| f.is_some());
    Ok(CustomerResponse {
        id: c.id,
        email: c.email,
        name: c.name,
        org_name: c.org_name,
        identifier: c.identifier,
        phone: c.phone,
        address: has_address.then_some(address),
        metadata,
        state: ItemState::of(c.archived_at),
        archived_at: c.archived_at,
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

/// Check an address; a given address needs at least `line1`, `city` and `country`.
pub fn validate_address(param: &str, a: &AddressBody) -> ApiResult<AddressBody> {
    let field = |name: &str, v: &Option<String>, max| validate::opt_text(&format!("{param}.{name}"), v.as_deref(), max);
    let out = AddressBody {
        line1: field("line1", &a.line1, 200)?,
        line2: field("line2", &a.line2, 200)?,
        city: field("city", &a.city, 100)?,
        state: field("state", &a.state, 100)?,
        postal_code: field("postal_code", &a.postal_code, 20)?,
        country: match a.country.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) => Some(
                address::country(c)
                    .ok_or_else(|| {
                        ApiError::invalid(
                            format!("{param}.country"),
                            "`country` must be an ISO 3166-1 alpha-2 code such as US or DE.",
                        )
                    })?
                    .to_string(),
            ),
        },
    };
    for (name, value) in [("line1", &out.line1), ("city", &out.city), ("country", &out.country)] {
        if value.is_none() {
            return Err(ApiError::missing(format!("{param}.{name}")));
        }
    }
    if let (Some(country), Some(code)) = (&out.country, &out.postal_code)
        && !address::postal_code_fits(country, code)
    {
        return Err(ApiError::invalid(
            format!("{param}.postal_code"),
            format!("This is not a valid postal code for {country}."),
        ));
    }
    Ok(out)
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/customers", tag = "customers",
    params(("company_id" = String, Path)), request_body = CreateCustomer,
    responses((status = 200, body = CustomerResponse), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiJson(body): ApiJson<CreateCustomer>,
) -> ApiResult<Json<CustomerResponse>> {
    create_customer(&state, ctx.id(), body).await.map(Json)
}

/// Validate and store; shared by the API and `kasse demo`.
pub async fn create_customer(state: &AppState, company_id: &str, body: CreateCustomer) -> ApiResult<CustomerResponse> {
    let email =
        body.email.as_deref().filter(|e| !e.trim().is_empty()).map(|e| validate::email("email", e)).transpose()?;
    let name = validate::opt_text("name", body.name.as_deref(), validate::NAME_MAX)?;
    let org_name = validate::opt_text("org_name", body.org_name.as_deref(), validate::NAME_MAX)?;
    if email.is_none() && name.is_none() && org_name.is_none() {
        return Err(ApiError::missing("email").with_message("Give at least one of `email`, `name` or `org_name`."));
    }
    let identifier = validate::opt_text("identifier", body.identifier.as_deref(), validate::NAME_MAX)?;
    // Lookups accept an id or an identifier; one shaped like an id could shadow a customer.
    if identifier.as_deref().is_some_and(|i| i.starts_with("cus_")) {
        return Err(ApiError::invalid(
            "identifier",
            "`identifier` must not start with `cus_`, which Kasse uses for its ids.",
        ));
    }
    let phone = validate::opt_text("phone", body.phone.as_deref(), 40)?;
    if let Some(p) = &phone
        && !p.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
    {
        return Err(ApiError::invalid("phone", "`phone` may contain only digits, spaces and + - ( ) ."));
    }
    let address = body.address.as_ref().map(|a| validate_address("address", a)).transpose()?.unwrap_or_default();
    validate::metadata("metadata", &body.metadata)?;

    let now = state.clock.now();
    let customer = Customer {
        id: ids::new_id(prefix::CUSTOMER, now),
        company_id: company_id.to_string(),
        email,
        name,
        org_name,
        identifier,
        phone,
        address_line1: address.line1,
        address_line2: address.line2,
        address_city: address.city,
        address_state: address.state,
        address_postal_code: address.postal_code,
        address_country: address.country,
        metadata: serde_json::to_string(&body.metadata).unwrap_or_else(|_| "{}".into()),
        archived_at: None,
        created_at: now,
        updated_at: now,
    };
    let inserted = match state.db.begin().await {
        Ok(mut tx) => match db::customers::insert(&mut tx, &customer).await {
            Ok(()) => tx.commit().await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match inserted {
        Ok(()) => Ok(response(customer)?),
        Err(DbError::Unique(_)) => {
            Err(ApiError::invalid("identifier", "Another customer already has this identifier.")
                .with_code("identifier_taken"))
        }
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/customers/{id}", tag = "customers",
    params(("company_id" = String, Path), ("id" = String, Path, description = "Customer id or your identifier")),
    responses((status = 200, body = CustomerResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<CustomerResponse>> {
    let c = db::customers::get(&state.db, ctx.id(), &id).await?.ok_or_else(|| ApiError::not_found("customer", &id))?;
    Ok(Json(response(c)?))
}

/// Filters of the customer list besides the page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerFilter {
    /// Only customers with exactly this e-mail address.
    #[param(max_length = 254)]
    pub email: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/customers", tag = "customers",
    params(("company_id" = String, Path), ListQuery, CustomerFilter),
    responses((status = 200, body = List<CustomerResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiQuery(query): ApiQuery<ListQuery>,
    ApiQuery(filter): ApiQuery<CustomerFilter>,
) -> ApiResult<Json<List<CustomerResponse>>> {
    let page = query.page()?;
    if filter.email.as_ref().is_some_and(|e| e.chars().count() > 254) {
        return Err(ApiError::invalid("email", "`email` must be at most 254 characters."));
    }
    let rows = db::customers::list(&state.db, ctx.id(), &page, filter.email.as_deref()).await?;
    Ok(Json(List::from_rows(rows, &page, |c| &c.id, response)?))
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/customers/{id}/archive", tag = "customers",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = CustomerResponse), (status = 404, body = ErrorBody)))]
pub async fn archive(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<CustomerResponse>> {
    let c = db::customers::archive(&state.db, ctx.id(), &id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("customer", &id))?;
    Ok(Json(response(c)?))
}
