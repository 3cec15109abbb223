//! Reading and changing contracts through the API: get, list, finalize, void, mark signed
//! offline (with an uploaded file), counter-signatories while DRAFT, preview links, files.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::contract_response::{ContractResponse, respond, respond_many};
use super::contracts::{SIGNERS_MAX, SignatoryBody, signer_row, signers_from};
use super::extract::{ApiJson, ApiQuery, CompanyCtx, ListQuery};
use super::list::List;
use super::preview_links::optional_body;
use crate::db::{self, contracts::Contract};
use crate::domain::contract::{Role, Status};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::services::contracts::{self as signing, Actor, Upload};
use crate::services::validate;
use crate::state::AppState;

/// The largest file `mark_signed_offline` takes, decoded (the request body limit is 1 MiB).
pub const FILE_MAX: usize = 700 * 1024;

/// A contract of this company, brought up to date (an overdue one is expired first).
pub async fn load(state: &AppState, company_id: &str, id: &str) -> ApiResult<Contract> {
    let c = db::contracts::get(&state.db, company_id, id).await?.ok_or_else(|| ApiError::not_found("contract", id))?;
    Ok(signing::refresh(state, c).await?)
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/contracts/{id}", tag = "contracts",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ContractResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<ContractResponse>> {
    let c = load(&state, ctx.id(), &id).await?;
    Ok(Json(respond(&state, c).await?))
}

super::extract::status_filter!(
    /// Filters of the contract list.
    ContractFilter,
    "One status, e.g. PENDING_SIGNATURES.",
    Status::ALL.map(Status::as_str)
);

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/contracts", tag = "contracts",
    params(("company_id" = String, Path), ListQuery, ContractFilter),
    responses((status = 200, body = List<ContractResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiQuery(query): ApiQuery<ListQuery>,
    ApiQuery(filter): ApiQuery<ContractFilter>,
) -> ApiResult<Json<List<ContractResponse>>> {
    let page = query.page()?;
    let (status, customer_id) = filter.checked()?;
    let rows = db::contracts::list(&state.db, ctx.id(), &page, status, customer_id).await?;
    let (rows, has_more, next_cursor) = List::<ContractResponse>::cut(rows, &page, |c| &c.id);
    let data = respond_many(&state, rows).await?;
    Ok(Json(List { data, has_more, next_cursor }))
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/contracts/{id}/finalize", tag = "contracts",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ContractResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn finalize(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<ContractResponse>> {
    let c = load(&state, ctx.id(), &id).await?;
    let c = signing::finalize(&state, &c).await?;
    Ok(Json(respond(&state, c).await?))
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/contracts/{id}/void", tag = "contracts",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ContractResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn void(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<ContractResponse>> {
    let c = load(&state, ctx.id(), &id).await?;
    let c = signing::close(&state, &c, Status::Void).await?;
    Ok(Json(respond(&state, c).await?))
}

/// A file signed on paper, base64-encoded.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileBody {
    #[schema(min_length = 1, max_length = 200)]
    pub filename: String,
    /// e.g. application/pdf (default application/octet-stream).
    #[schema(max_length = 100)]
    pub content_type: Option<String>,
    /// The file's bytes in standard base64; at most 700 KiB decoded.
    #[schema(min_length = 1, max_length = 955736)]
    pub data_base64: String,
}

/// Every signature was collected outside Kasse.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkSignedOffline {
    /// How and when it was signed (kept in the audit trail).
    #[schema(max_length = 5000)]
    pub note: Option<String>,
    pub file: Option<FileBody>,
}

fn upload_from(f: FileBody) -> ApiResult<Upload> {
    let filename = validate::text("file.filename", &f.filename, validate::NAME_MAX)?;
    if filename.contains(['/', '\\']) || filename.chars().any(char::is_control) {
        return Err(ApiError::invalid("file.filename", "A file name cannot contain slashes or control characters."));
    }
    let content_type = f.content_type.unwrap_or_else(|| "application/octet-stream".into());
    let valid_type = content_type.len() <= 100
        && content_type.split_once('/').is_some_and(|(a, b)| {
            let token =
                |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&c));
            token(a) && token(b)
        });
    if !valid_type {
        return Err(ApiError::invalid(
            "file.content_type",
            "`content_type` must be a media type such as application/pdf.",
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(f.data_base64.trim())
        .map_err(|_| ApiError::invalid("file.data_base64", "`data_base64` must be standard base64."))?;
    if bytes.is_empty() || bytes.len() > FILE_MAX {
        return Err(ApiError::invalid("file.data_base64", format!("The file must be 1 byte to {FILE_MAX} bytes.")));
    }
    Ok(Upload { filename, content_type, bytes })
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/contracts/{id}/mark_signed_offline", tag = "contracts",
    params(("company_id" = String, Path), ("id" = String, Path)), request_body = Option<MarkSignedOffline>,
    responses((status = 200, body = ContractResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn mark_signed_offline(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ContractResponse>> {
    let request: MarkSignedOffline = optional_body(&body)?;
    let note = validate::opt_text("note", request.note.as_deref(), validate::TEXT_MAX)?;
    let upload = request.file.map(upload_from).transpose()?;
    let c = load(&state, ctx.id(), &id).await?;
    let c = signing::mark_signed_offline(&state, &c, note.as_deref(), upload).await?;
    Ok(Json(respond(&state, c).await?))
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/contracts/{id}/files/{file_id}", tag = "contracts",
    params(("company_id" = String, Path), ("id" = String, Path), ("file_id" = String, Path)),
    responses((status = 200, description = "The file's bytes"), (status = 404, body = ErrorBody)))]
pub async fn file(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id, file_id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let f = db::contracts::get_file(&state.db, ctx.id(), &id, &file_id)
        .await?
        .ok_or_else(|| ApiError::not_found("file", &file_id))?;
    let mut response = f.bytes.into_response();
    let headers = response.headers_mut();
    let content_type =
        HeaderValue::from_str(&f.content_type).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    // Never rendered inline: a file is downloaded, whatever its type claims.
    let disposition = format!("attachment; filename=\"{}\"", f.filename.replace('"', ""));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// Add counter-signatories to a DRAFT contract.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct AddCounterSignatories {
    #[validate(nested)]
    pub counter_signatories: Vec<SignatoryBody>,
}

/// Refuse a change once the contract is no longer a draft: its document is frozen.
fn draft_only(c: &Contract) -> ApiResult<()> {
    if c.status() == Status::Draft {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "contract_finalized",
            format!("The contract is {}; only a DRAFT contract can be changed.", c.status),
        ))
    }
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/contracts/{id}/counter_signatories", tag = "contracts",
    params(("company_id" = String, Path), ("id" = String, Path)), request_body = AddCounterSignatories,
    responses((status = 200, body = ContractResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_counter_signatories(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<AddCounterSignatories>,
) -> ApiResult<Json<ContractResponse>> {
    let c = load(&state, ctx.id(), &id).await?;
    draft_only(&c)?;
    body.validate().map_err(super::extract::invalid_fields)?;
    let mut new = signers_from("counter_signatories", &body.counter_signatories)?;
    if new.is_empty() {
        return Err(ApiError::missing("counter_signatories").with_message("Give at least one counter-signatory."));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let locked = db::contracts::lock(&mut tx, &c.id, now).await?.ok_or_else(|| ApiError::not_found("contract", &id))?;
    draft_only(&locked)?;
    let existing: Vec<_> = db::contracts::signers_in(&mut tx, &c.id)
        .await?
        .into_iter()
        .filter(|s| s.role == Role::Counter.as_str())
        .collect();
    if existing.len() + new.len() > SIGNERS_MAX {
        return Err(ApiError::invalid(
            "counter_signatories",
            format!("A contract takes at most {SIGNERS_MAX} counter-signatories."),
        ));
    }
    // Positions given collide with none already there; missing ones continue after the last.
    let mut next = existing.iter().map(|s| s.position).max().unwrap_or(0);
    for (i, (s, given)) in new.iter_mut().zip(&body.counter_signatories).enumerate() {
        if given.position.is_none() {
            next += 1;
            s.position = next;
        } else if existing.iter().any(|e| e.position == s.position) {
            return Err(ApiError::invalid(
                format!("counter_signatories[{i}].position"),
                "Two signatories cannot share a `position`.",
            ));
        }
        next = next.max(s.position);
    }
    for s in &new {
        let row = signer_row(&locked, s, Role::Counter, now);
        db::contracts::insert_signer(&mut tx, &row).await?;
        // By name, not by row: a draft's counter-signatory may be removed again.
        let detail = Some(format!("added {}", row.name));
        signing::trail(&mut tx, &locked, "COUNTER_SIGNATORY_ADDED", None, &Actor::api(), detail, now).await?;
    }
    tx.commit().await?;
    Ok(Json(respond(&state, signing::reload(&state, &c).await?).await?))
}

#[utoipa::path(delete, path = "/api/v1/companies/{company_id}/contracts/{id}/counter_signatories/{signatory_id}", tag = "contracts",
    params(("company_id" = String, Path), ("id" = String, Path), ("signatory_id" = String, Path)),
    responses((status = 200, body = ContractResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_counter_signatory(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id, signer_id)): Path<(String, String, String)>,
) -> ApiResult<Json<ContractResponse>> {
    let c = load(&state, ctx.id(), &id).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let locked = db::contracts::lock(&mut tx, &c.id, now).await?.ok_or_else(|| ApiError::not_found("contract", &id))?;
    draft_only(&locked)?;
    let signers = db::contracts::signers_in(&mut tx, &c.id).await?;
    let Some(removed) = signers.iter().find(|s| s.id == signer_id && s.role == Role::Counter.as_str()) else {
        return Err(ApiError::not_found("counter-signatory", &signer_id));
    };
    let detail = Some(format!("removed {}", removed.name));
    signing::trail(&mut tx, &locked, "COUNTER_SIGNATORY_REMOVED", None, &Actor::api(), detail, now).await?;
    // The audit trail keeps the name; the row goes (a draft's signers have no events of their own).
    db::contracts::delete_counter(&mut tx, &c.id, &signer_id).await?;
    tx.commit().await?;
    Ok(Json(respond(&state, signing::reload(&state, &c).await?).await?))
}
