//! `…/invoices`: the invoices fulfilment issued — get, list (by customer and status), void,
//! and mark paid outside Kasse. Each change is a compare-and-set on OPEN with its webhook.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::checkout::optional_body;
use super::extract::{ApiQuery, CompanyCtx, ListQuery};
use super::{List, validate};
use crate::app::AppState;
use crate::db::{self, billing::Invoice};
use crate::error::{ApiError, ApiResult, ErrorBody};

/// The statuses an invoice can have.
const STATUSES: [&str; 3] = ["OPEN", "PAID", "VOID"];

/// An invoice as the merchant sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceResponse {
    pub id: String,
    /// `INV-2026-000123`: per company, unique and gap-free.
    pub number: String,
    /// OPEN, PAID or VOID.
    pub status: String,
    pub customer_id: String,
    pub subscription_id: Option<String>,
    pub checkout_id: Option<String>,
    pub currency: String,
    pub subtotal: i64,
    pub discount_total: i64,
    pub total: i64,
    pub amount_due: i64,
    /// `{lines: [...], discounts: [...]}` as invoiced.
    #[schema(value_type = Object)]
    pub lines: serde_json::Value,
    pub payment_instructions: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Invoice> for InvoiceResponse {
    fn from(i: Invoice) -> Self {
        InvoiceResponse {
            lines: serde_json::from_str(&i.lines).unwrap_or_default(),
            id: i.id,
            number: i.number,
            status: i.status,
            customer_id: i.customer_id,
            subscription_id: i.subscription_id,
            checkout_id: i.checkout_id,
            currency: i.currency,
            subtotal: i.subtotal,
            discount_total: i.discount_total,
            total: i.total,
            amount_due: i.amount_due,
            payment_instructions: i.payment_instructions,
            issued_at: i.issued_at,
            due_at: i.due_at,
            paid_at: i.paid_at,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

async fn load(state: &AppState, company_id: &str, id: &str) -> ApiResult<Invoice> {
    db::billing::get_invoice(&state.db, company_id, id).await?.ok_or_else(|| ApiError::not_found("invoice", id))
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/invoices/{id}", tag = "invoices",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = InvoiceResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<InvoiceResponse>> {
    Ok(Json(load(&state, ctx.id(), &id).await?.into()))
}

/// Filters of the invoice list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceFilter {
    /// OPEN, PAID or VOID.
    pub status: Option<String>,
    /// A customer id.
    pub customer_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/invoices", tag = "invoices",
    params(("company_id" = String, Path), ListQuery, InvoiceFilter),
    responses((status = 200, body = List<InvoiceResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiQuery(query): ApiQuery<ListQuery>,
    ApiQuery(filter): ApiQuery<InvoiceFilter>,
) -> ApiResult<Json<List<InvoiceResponse>>> {
    let page = query.page()?;
    let status = match filter.status.as_deref() {
        None => None,
        Some(s) => Some(
            STATUSES
                .into_iter()
                .find(|known| known.eq_ignore_ascii_case(s))
                .ok_or_else(|| ApiError::invalid("status", "`status` must be OPEN, PAID or VOID."))?,
        ),
    };
    let rows = db::billing::list_invoices(&state.db, ctx.id(), &page, status, filter.customer_id.as_deref()).await?;
    Ok(Json(List::from_rows(rows, &page, |i| &i.id, |i| Ok(i.into()))?))
}

/// Why an invoice was paid outside Kasse.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkPaid {
    /// e.g. "Bank transfer received 2026-11-20"; kept in the webhook.
    pub note: Option<String>,
}

/// Close an OPEN invoice as `to` (PAID or VOID) and tell the merchant. Doing it again is a no-op;
/// from the other final status it is a 409.
async fn close(state: &AppState, invoice: Invoice, to: &str, note: Option<String>) -> ApiResult<Invoice> {
    if invoice.status == to {
        return Ok(invoice);
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    if !db::billing::close_invoice(&mut tx, &invoice.id, to, now).await? {
        drop(tx);
        let current = load(state, &invoice.company_id, &invoice.id).await?;
        if current.status == to {
            return Ok(current);
        }
        return Err(ApiError::conflict(
            "invoice_not_open",
            format!("This invoice is {} and cannot become {to}.", current.status),
        ));
    }
    let closed = Invoice {
        status: to.to_string(),
        amount_due: if to == "PAID" { 0 } else { invoice.amount_due },
        paid_at: if to == "PAID" { Some(now) } else { invoice.paid_at },
        ..invoice
    };
    let mut data = crate::fulfillment::invoice_event(&closed);
    data["note"] = serde_json::json!(note);
    let event = if to == "PAID" { "invoice.paid" } else { "invoice.voided" };
    db::webhooks::enqueue(&mut tx, &closed.company_id, event, data, now).await?;
    tx.commit().await?;
    load(state, &closed.company_id, &closed.id).await
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/invoices/{id}/void", tag = "invoices",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = InvoiceResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn void(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<InvoiceResponse>> {
    let invoice = load(&state, ctx.id(), &id).await?;
    Ok(Json(close(&state, invoice, "VOID", None).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/invoices/{id}/mark_paid", tag = "invoices",
    params(("company_id" = String, Path), ("id" = String, Path)), request_body = Option<MarkPaid>,
    responses((status = 200, body = InvoiceResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn mark_paid(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<InvoiceResponse>> {
    let request: MarkPaid = optional_body(&body)?;
    let note = validate::opt_text("note", request.note.as_deref(), validate::TEXT_MAX)?;
    let invoice = load(&state, ctx.id(), &id).await?;
    Ok(Json(close(&state, invoice, "PAID", note).await?.into()))
}
