//! `…/coupons`: reusable discounts, each with the promo codes customers type to redeem it.

use std::collections::HashSet;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::discounts::{self, DiscountType, DurationKind, MoneyBody};
use super::extract::{ApiJson, ApiQuery, CompanyCtx, ListQuery};
use super::list::{List, State as ItemState};
use crate::db::coupons::{Coupon, CouponWithCodes, PromoCode, code_key};
use crate::db::{self, DbError};
use crate::domain::ids::{self, prefix};
use crate::domain::pricing::DiscountScope;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::services::validate;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreatePromoCode {
    /// 3 to 40 letters, digits, `-` or `_`; matched case-insensitively, unique per company.
    #[schema(min_length = 3, max_length = 40)]
    pub code: String,
    #[validate(range(min = 1, max = 1_000_000_000))]
    pub max_redemptions: Option<i64>,
    /// A date (valid through that day, UTC) or an RFC 3339 timestamp.
    #[schema(max_length = 35)]
    pub expiration_date: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateCoupon {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(rename = "type")]
    pub kind: DiscountType,
    /// DISCOUNT_PERCENT: a fraction, `0.2` = 20 %.
    #[schema(value_type = Option<f64>)]
    pub percent: Option<serde_json::Number>,
    /// DISCOUNT_AMOUNT: the amount off, which fixes the coupon's currency.
    pub amount: Option<MoneyBody>,
    /// The most taken off one charge; fixes the coupon's currency.
    pub cap: Option<MoneyBody>,
    /// Limit the coupon to one product, product pricing or item (at most one).
    #[schema(max_length = 64)]
    pub product_id: Option<String>,
    #[schema(max_length = 64)]
    pub product_pricing_id: Option<String>,
    #[schema(max_length = 64)]
    pub item_pricing_id: Option<String>,
    pub duration: Option<DurationKind>,
    pub duration_periods: Option<i64>,
    /// Last day the coupon can be redeemed.
    #[schema(max_length = 35)]
    pub expiration_date: Option<String>,
    #[validate(range(min = 1, max = 1_000_000_000))]
    pub max_redemptions: Option<i64>,
    #[serde(default)]
    #[validate(length(max = 100), nested)]
    pub promo_codes: Vec<CreatePromoCode>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PromoCodeResponse {
    pub id: String,
    pub code: String,
    pub max_redemptions: Option<i32>,
    pub times_redeemed: i32,
    pub expires_at: Option<DateTime<Utc>>,
    pub state: ItemState,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponResponse {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: DiscountType,
    #[schema(value_type = Option<f64>)]
    pub percent: Option<serde_json::Number>,
    pub amount: Option<MoneyBody>,
    pub cap: Option<MoneyBody>,
    pub product_id: Option<String>,
    pub product_pricing_id: Option<String>,
    pub item_pricing_id: Option<String>,
    pub duration: DurationKind,
    pub duration_periods: Option<i32>,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_redemptions: Option<i32>,
    pub times_redeemed: i32,
    pub promo_codes: Vec<PromoCodeResponse>,
    pub state: ItemState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn response(c: CouponWithCodes) -> ApiResult<CouponResponse> {
    let cp = c.coupon;
    let corrupt = || ApiError::internal(format!("coupon {} is unreadable", cp.id));
    let money = |v: Option<i64>| match (v, &cp.currency) {
        (Some(value_in_cents), Some(currency)) => Some(MoneyBody { currency: currency.clone(), value_in_cents }),
        _ => None,
    };
    let (kind, percent) = match cp.discount_type.as_str() {
        "PERCENT" => {
            let p = cp.percent.as_deref().ok_or_else(corrupt)?;
            (DiscountType::DiscountPercent, Some(serde_json::from_str::<serde_json::Number>(p).map_err(|_| corrupt())?))
        }
        _ => (DiscountType::DiscountAmount, None),
    };
    let scoped = |t: &str| if cp.scope_type == t { cp.scope_id.clone() } else { None };
    let duration = match cp.duration.as_str() {
        "ONCE" => DurationKind::Once,
        "REPEATING" => DurationKind::Repeating,
        _ => DurationKind::Forever,
    };
    Ok(CouponResponse {
        id: cp.id.clone(),
        name: cp.name.clone(),
        kind,
        percent,
        amount: money(cp.amount),
        cap: money(cp.cap),
        product_id: scoped("PRODUCT"),
        product_pricing_id: scoped("PRODUCT_PRICING"),
        item_pricing_id: scoped("ITEM_PRICING"),
        duration,
        duration_periods: cp.duration_periods,
        expires_at: cp.expires_at,
        max_redemptions: cp.max_redemptions,
        times_redeemed: cp.times_redeemed,
        promo_codes: c
            .promo_codes
            .into_iter()
            .map(|pc| PromoCodeResponse {
                id: pc.id,
                code: pc.code,
                max_redemptions: pc.max_redemptions,
                times_redeemed: pc.times_redeemed,
                expires_at: pc.expires_at,
                state: ItemState::of(pc.archived_at),
            })
            .collect(),
        state: ItemState::of(cp.archived_at),
        created_at: cp.created_at,
        updated_at: cp.updated_at,
    })
}

/// A redemption limit (1 to 10^9, checked with the body) as stored.
fn redemptions(n: Option<i64>) -> Option<i32> {
    n.map(|n| i32::try_from(n).unwrap_or(i32::MAX))
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/coupons", tag = "catalog",
    params(("company_id" = String, Path)), request_body = CreateCoupon,
    responses((status = 200, body = CouponResponse), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiJson(body): ApiJson<CreateCoupon>,
) -> ApiResult<Json<CouponResponse>> {
    create_coupon(&state, ctx.id(), body).await.map(Json)
}

/// Validate and store; shared by the API and `kasse demo`.
pub async fn create_coupon(state: &AppState, company_id: &str, body: CreateCoupon) -> ApiResult<CouponResponse> {
    body.validate().map_err(super::extract::invalid_fields)?;
    let name = validate::text("name", &body.name, validate::NAME_MAX)?;
    // Amount and cap are money, so they fix the coupon's currency; both must agree.
    let currency = match (&body.amount, &body.cap) {
        (Some(a), _) => Some(validate::currency("amount.currency", &a.currency)?),
        (None, Some(c)) => Some(validate::currency("cap.currency", &c.currency)?),
        (None, None) => None,
    };
    let money = |param: &str, m: &Option<MoneyBody>| -> ApiResult<Option<i64>> {
        match (m, currency) {
            (Some(m), Some(c)) => Ok(Some(discounts::money_in(param, &m.into(), c)?)),
            _ => Ok(None),
        }
    };
    let (percent, amount) = match body.kind {
        DiscountType::DiscountPercent => {
            if body.amount.is_some() {
                return Err(ApiError::invalid("amount", "`amount` does not apply to DISCOUNT_PERCENT; use `percent`."));
            }
            let p = body.percent.as_ref().ok_or_else(|| ApiError::missing("percent"))?;
            (Some(discounts::parse_percent("percent", p)?), None)
        }
        DiscountType::DiscountAmount => {
            if body.percent.is_some() {
                return Err(ApiError::invalid("percent", "`percent` does not apply to DISCOUNT_AMOUNT; use `amount`."));
            }
            if body.amount.is_none() {
                return Err(ApiError::missing("amount"));
            }
            (None, money("amount", &body.amount)?)
        }
    };
    let cap = money("cap", &body.cap)?;
    let scope = discounts::coupon_scope(
        "",
        body.product_id.as_deref(),
        body.product_pricing_id.as_deref(),
        body.item_pricing_id.as_deref(),
    )?;
    check_scope_exists(state, company_id, &scope).await?;
    let (duration, duration_periods) = discounts::coupon_duration("", body.duration, body.duration_periods)?;
    let expires_at =
        body.expiration_date.as_deref().map(|d| discounts::parse_expiry("expiration_date", d)).transpose()?;
    let max_redemptions = redemptions(body.max_redemptions);

    let now = state.clock.now();
    let coupon_id = ids::new_id(prefix::COUPON, now);
    let mut seen = HashSet::new();
    let mut codes = Vec::with_capacity(body.promo_codes.len());
    for (i, pc) in body.promo_codes.iter().enumerate() {
        let param = format!("promo_codes[{i}]");
        let code = pc.code.trim();
        if !(3..=40).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(ApiError::invalid(
                format!("{param}.code"),
                "A promo code is 3 to 40 letters, digits, `-` or `_`.",
            ));
        }
        if !seen.insert(code_key(code)) {
            return Err(ApiError::invalid(format!("{param}.code"), "This code appears twice in the request."));
        }
        codes.push(PromoCode {
            id: ids::new_id(prefix::PROMO_CODE, now),
            company_id: company_id.to_string(),
            coupon_id: coupon_id.clone(),
            code: code.to_string(),
            code_key: code_key(code),
            max_redemptions: redemptions(pc.max_redemptions),
            times_redeemed: 0,
            expires_at: pc
                .expiration_date
                .as_deref()
                .map(|d| discounts::parse_expiry(&format!("{param}.expiration_date"), d))
                .transpose()?,
            archived_at: None,
            created_at: now,
            updated_at: now,
        });
    }
    let (scope_type, scope_id) = match scope {
        DiscountScope::Product(id) => ("PRODUCT", Some(id)),
        DiscountScope::ProductPricing(id) => ("PRODUCT_PRICING", Some(id)),
        DiscountScope::Item(id) => ("ITEM_PRICING", Some(id)),
        _ => ("ALL", None),
    };
    let coupon = CouponWithCodes {
        coupon: Coupon {
            id: coupon_id,
            company_id: company_id.to_string(),
            name,
            discount_type: if percent.is_some() { "PERCENT" } else { "AMOUNT" }.to_string(),
            percent: percent.map(|p: Decimal| p.to_string()),
            amount,
            currency: currency.map(|c| c.code().to_string()),
            cap,
            scope_type: scope_type.to_string(),
            scope_id,
            duration: duration.as_str().to_string(),
            duration_periods,
            expires_at,
            max_redemptions,
            times_redeemed: 0,
            archived_at: None,
            created_at: now,
            updated_at: now,
        },
        promo_codes: codes,
    };
    match db::coupons::insert(&state.db, &coupon).await {
        Ok(()) => Ok(response(coupon)?),
        Err(DbError::Unique(_)) => {
            Err(ApiError::invalid("promo_codes", "One of these promo codes already exists for this company.")
                .with_code("promo_code_taken"))
        }
        Err(e) => Err(e.into()),
    }
}

/// A coupon may only name a product, pricing or item of the same company.
async fn check_scope_exists(state: &AppState, company_id: &str, scope: &DiscountScope) -> ApiResult<()> {
    let found = match scope {
        DiscountScope::Product(id) => db::products::get(&state.db, company_id, id).await?.is_some(),
        DiscountScope::ProductPricing(id) => db::pricings::get(&state.db, company_id, id).await?.is_some(),
        DiscountScope::Item(id) => db::pricings::item_exists(&state.db, company_id, id).await?,
        _ => true,
    };
    if found {
        return Ok(());
    }
    let (param, what, id) = match scope {
        DiscountScope::Product(id) => ("product_id", "product", id),
        DiscountScope::ProductPricing(id) => ("product_pricing_id", "product pricing", id),
        DiscountScope::Item(id) => ("item_pricing_id", "item pricing", id),
        _ => return Ok(()),
    };
    Err(ApiError::unknown_ref(param, what, id))
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/coupons/{id}", tag = "catalog",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = CouponResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<CouponResponse>> {
    let c = db::coupons::get(&state.db, ctx.id(), &id).await?.ok_or_else(|| ApiError::not_found("coupon", &id))?;
    Ok(Json(response(c)?))
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/coupons", tag = "catalog",
    params(("company_id" = String, Path), ListQuery),
    responses((status = 200, body = List<CouponResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<List<CouponResponse>>> {
    let page = query.page()?;
    let rows = db::coupons::list(&state.db, ctx.id(), &page).await?;
    Ok(Json(List::from_rows(rows, &page, |c| &c.coupon.id, response)?))
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/coupons/{id}/archive", tag = "catalog",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = CouponResponse), (status = 404, body = ErrorBody)))]
pub async fn archive(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<CouponResponse>> {
    let c = db::coupons::archive(&state.db, ctx.id(), &id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("coupon", &id))?;
    Ok(Json(response(c)?))
}
