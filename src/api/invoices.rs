//! `…/invoices`: invoices from checkouts and one-time charges — create (from a customer's
//! waiting NEXT charges), get, list (by customer and status), void, and mark paid outside
//! Kasse. Each change is a compare-and-set on OPEN with its webhook.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::extract::{ApiJson, ApiQuery, CompanyCtx, ListQuery};
use super::list::List;
use super::preview_links::optional_body;
use crate::db::{self, billing::Invoice};
use crate::domain::billing::InvoiceStatus;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::services::events::{self, Event, InvoiceEvent};
use crate::services::validate;
use crate::state::AppState;

/// The statuses an invoice can have.
const STATUSES: [&str; 3] = [InvoiceStatus::Open.as_str(), InvoiceStatus::Paid.as_str(), InvoiceStatus::Void.as_str()];

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
    pub notes: Option<String>,
    /// The hosted invoice page: the customer reads, pays or prints the invoice there.
    pub url: String,
    pub issued_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl InvoiceResponse {
    pub fn new(state: &AppState, i: Invoice) -> Self {
        InvoiceResponse {
            url: crate::services::invoicing::invoice_url(state, &i),
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
            notes: i.notes,
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
    Ok(Json(InvoiceResponse::new(&state, load(&state, ctx.id(), &id).await?)))
}

super::extract::status_filter!(
    /// Filters of the invoice list.
    InvoiceFilter,
    "OPEN, PAID or VOID.",
    STATUSES
);

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
    let (status, customer_id) = filter.checked()?;
    let rows = db::billing::list_invoices(&state.db, ctx.id(), &page, status, customer_id).await?;
    Ok(Json(List::from_rows(rows, &page, |i| &i.id, |i| Ok(InvoiceResponse::new(&state, i)))?))
}

/// Why an invoice was paid outside Kasse.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkPaid {
    /// e.g. "Bank transfer received 2026-11-20"; kept in the webhook.
    #[schema(max_length = 5000)]
    pub note: Option<String>,
}

/// Close an OPEN invoice as `to` (PAID or VOID) and tell the merchant. Doing it again is a no-op;
/// from the other final status it is a 409.
async fn close(state: &AppState, invoice: Invoice, to: &str, note: Option<String>) -> ApiResult<Invoice> {
    crate::services::invoicing::refuse_if_paid_through_kasse(state, &invoice).await?;
    if invoice.status == to {
        return Ok(invoice);
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    if !db::billing::close_invoice(&mut tx, &invoice.id, to, false, now).await? {
        drop(tx);
        let current = load(state, &invoice.company_id, &invoice.id).await?;
        if current.status == to {
            return Ok(current);
        }
        if current.status == InvoiceStatus::Open.as_str() {
            return Err(ApiError::conflict(
                "invoice_payment_in_progress",
                "The customer is paying this invoice right now; try again in a minute.",
            ));
        }
        return Err(ApiError::conflict(
            "invoice_not_open",
            format!("This invoice is {} and cannot become {to}.", current.status),
        ));
    }
    let closed = Invoice {
        status: to.to_string(),
        amount_due: if to == InvoiceStatus::Paid.as_str() { 0 } else { invoice.amount_due },
        paid_at: if to == InvoiceStatus::Paid.as_str() { Some(now) } else { invoice.paid_at },
        ..invoice
    };
    let data = InvoiceEvent::of(&closed).noted(note.as_deref());
    let event = if to == InvoiceStatus::Paid.as_str() { Event::InvoicePaid(data) } else { Event::InvoiceVoided(data) };
    events::raise(&mut tx, &closed.company_id, event, now).await?;
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
    Ok(Json(InvoiceResponse::new(&state, close(&state, invoice, InvoiceStatus::Void.as_str(), None).await?)))
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
    Ok(Json(InvoiceResponse::new(&state, close(&state, invoice, InvoiceStatus::Paid.as_str(), note).await?)))
}

/// Invoice a customer's waiting (NEXT) one-time charges now.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateInvoice {
    /// The customer's id or your identifier for them.
    #[schema(max_length = 64)]
    pub customer_id: Option<String>,
    /// Needed only when charges wait in more than one currency.
    #[schema(min_length = 3, max_length = 3)]
    pub currency: Option<String>,
    /// `2026-11-21` or RFC 3339; default today.
    #[schema(max_length = 35)]
    pub invoice_date: Option<String>,
    /// Days from the invoice date to its due date (default 0: due on receipt).
    #[validate(range(min = 0, max = super::onetimes::DUE_DAYS_MAX))]
    pub invoice_due_date_from_creation: Option<i64>,
    #[schema(max_length = 5000)]
    pub invoice_payment_instructions: Option<String>,
    /// Default: the notes the charges were created with.
    #[schema(max_length = 5000)]
    pub notes: Option<String>,
    /// Charge the payment method the customer saved at an earlier checkout.
    pub auto_charges: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/invoices", tag = "invoices",
    params(("company_id" = String, Path)), request_body = CreateInvoice,
    responses((status = 200, body = InvoiceResponse), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiJson(body): ApiJson<CreateInvoice>,
) -> ApiResult<Json<InvoiceResponse>> {
    body.validate().map_err(super::extract::invalid_fields)?;
    let company_id = ctx.id();
    let customer = super::onetimes::customer(&state, company_id, body.customer_id.as_deref()).await?;
    let currency = match body.currency.as_deref() {
        Some(c) => validate::currency("currency", c)?.code().to_string(),
        None => {
            let waiting = db::onetimes::pending_currencies(&state.db, &customer.id).await?;
            match waiting.as_slice() {
                [] => return Err(nothing_to_invoice()),
                [one] => one.clone(),
                several => {
                    return Err(ApiError::missing("currency").with_message(format!(
                        "Charges wait in {}; name the `currency` to invoice.",
                        several.join(" and ")
                    )));
                }
            }
        }
    };
    let now = state.clock.now();
    // A checkout of this customer being paid includes these charges on its own invoice.
    if db::checkouts::customer_paying(&state.db, &customer.id, now).await? {
        return Err(ApiError::conflict(
            "checkout_in_progress",
            "The customer is paying a checkout that includes these charges; try again in a minute.",
        ));
    }
    let mut terms = super::onetimes::terms(
        body.invoice_date.as_deref(),
        body.invoice_due_date_from_creation,
        body.invoice_payment_instructions.as_deref(),
        body.notes.as_deref(),
    )?;
    let mut tx = state.db.begin().await?;
    let waiting = db::onetimes::pending_in(&mut tx, &customer.id, &currency).await?;
    if waiting.is_empty() {
        return Err(nothing_to_invoice());
    }
    if terms.notes.is_none() {
        let mut notes: Vec<&str> = waiting.iter().filter_map(|b| b.notes.as_deref()).collect();
        notes.dedup();
        terms.notes = (!notes.is_empty()).then(|| notes.join("\n\n"));
    }
    let invoice = crate::services::invoicing::issue_in(&mut tx, &waiting, &terms, now).await?;
    tx.commit().await?;
    if body.auto_charges == Some(true) {
        super::onetimes::auto_charge(&state, &invoice).await;
    }
    Ok(Json(InvoiceResponse::new(&state, load(&state, company_id, &invoice.id).await?)))
}

fn nothing_to_invoice() -> ApiError {
    ApiError::conflict("nothing_to_invoice", "This customer has no one-time charges waiting for an invoice.")
}
