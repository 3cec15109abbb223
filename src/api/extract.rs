//! Request extractors of the merchant API: JSON bodies with field-named errors, the tenant, list queries.

use std::sync::Arc;

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use crate::db::Page;
use crate::db::companies::Company;
use crate::error::{ApiError, ErrorType};

/// A JSON body. Syntax errors answer 400 `json_invalid`; a wrong type, an unknown enum value or
/// an unknown field answers 422 with `param` set to the path of the field
/// (`config_items[0].quantity_config.min_quantity`).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json") || mime.to_ascii_lowercase().ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorType::InvalidRequestError,
                "unsupported_media_type",
                "Send the body as JSON with `Content-Type: application/json`.",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Deserialize `bytes`, naming the failing field.
///
/// One typed pass over the bytes, plus two cheap scans for what derived `Deserialize` would let
/// through: a top-level array read positionally into a struct, and NUL characters (which
/// PostgreSQL cannot store). A NUL can only arrive escaped as `\u0000`, so only a body holding
/// that text is walked as a JSON value to name the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let syntax = |e: serde_json::Error| {
        ApiError::bad_request("json_invalid", format!("The request body is not valid JSON: {e}."))
    };
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(syntax)?;
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::InvalidRequestError,
            "parameter_invalid",
            "The request body must be a JSON object.",
        ));
    }
    if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(syntax)?;
        if let Some(path) = find_nul(&value, String::new()) {
            return Err(ApiError::invalid(path, "Text must not contain NUL characters."));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de);
    if value.is_ok()
        && let Err(trailing) = de.end()
    {
        return Err(syntax(trailing));
    }
    value.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if !matches!(inner.classify(), serde_json::error::Category::Data) {
            return syntax(inner);
        }
        let parent = if path == "." { String::new() } else { path.clone() };
        let message = strip_position(&inner.to_string());
        // serde reports a missing field at its parent; name the field itself.
        if let Some(field) = message.strip_prefix("missing field `").and_then(|m| m.strip_suffix('`')) {
            return ApiError::missing(crate::services::validate::join(&parent, field));
        }
        if let Some(field) = message.strip_prefix("duplicate field `").and_then(|m| m.strip_suffix('`')) {
            let param = crate::services::validate::join(&parent, field);
            return ApiError::invalid(param.clone(), format!("`{param}` is given twice."));
        }
        if parent.is_empty() {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorType::InvalidRequestError,
                "parameter_invalid",
                format!("Invalid request body: {message}."),
            );
        }
        ApiError::invalid(path.clone(), format!("Invalid value for `{path}`: {message}."))
    })
}

/// The path of the first string (key or value) holding a NUL character.
fn find_nul(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) => s.contains('\0').then_some(path),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, v)| find_nul(v, format!("{path}[{i}]")))
        }
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = crate::services::validate::join(&path, k);
            if k.contains('\0') { Some(here) } else { find_nul(v, here) }
        }),
        _ => None,
    }
}

/// serde_json appends " at line 1 column 42" to data errors; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Turn a body-reading failure into the envelope: 413 for an oversized body, 400 otherwise.
pub fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorType::InvalidRequestError,
            "body_too_large",
            "The request body is too large.",
        )
    } else {
        ApiError::bad_request("body_unreadable", "The request body could not be read.")
    }
}

/// The company the API key belongs to, put in the request by `auth::require_api_key`.
#[derive(Clone, Debug)]
pub struct Tenant(pub Arc<Company>);

/// The authenticated company, checked against the `{company_id}` of the path.
/// A path naming any other company answers 404, exactly as an unknown id does.
pub struct CompanyCtx(pub Arc<Company>);

impl CompanyCtx {
    pub fn id(&self) -> &str {
        &self.0.id
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CompanyCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let tenant = Tenant::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::internal("company route without path parameters"))?;
        // An id with control characters names nothing; say so before it reaches a query.
        if let Some((_, bad)) = params.iter().find(|(_, value)| value.chars().any(char::is_control)) {
            return Err(ApiError::not_found("resource", &bad.escape_default().to_string()));
        }
        match params.iter().find(|(name, _)| *name == "company_id") {
            Some((_, id)) if id == tenant.0.id => Ok(CompanyCtx(tenant.0)),
            Some((_, id)) => Err(ApiError::not_found("company", id)),
            None => Ok(CompanyCtx(tenant.0)),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Tenant>().cloned().ok_or_else(|| ApiError::unauthorized("Missing API key."))
    }
}

/// Query parameters of every list endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// How many items to return, 1 to 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[a-z]{1,16}_[0-9A-HJKMNP-TV-Z]{26}$", max_length = 43)]
    pub cursor: Option<String>,
    /// Include archived items (default false).
    #[param(value_type = Option<bool>)]
    pub include_archived: Option<String>,
}

impl ListQuery {
    pub fn page(&self) -> Result<Page, ApiError> {
        let limit = match self.limit.as_deref() {
            None => 20,
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => return Err(ApiError::invalid("limit", "`limit` must be a whole number from 1 to 100.")),
            },
        };
        let include_archived = match self.include_archived.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(ApiError::invalid("include_archived", "`include_archived` must be true or false.")),
        };
        let cursor = self.cursor.clone().filter(|c| !c.is_empty());
        if cursor.as_ref().is_some_and(|c| !crate::domain::ids::is_id_shaped(c)) {
            return Err(ApiError::invalid("cursor", "`cursor` is not a cursor this API returned."));
        }
        Ok(Page { cursor, limit, include_archived })
    }
}

/// Query strings are parsed leniently into strings and checked by hand, so a bad value names
/// its parameter instead of failing the whole query with a generic message.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        if let Some(pair) = query.split('&').find(|pair| pair.to_ascii_lowercase().contains("%00")) {
            let name = pair.split('=').next().unwrap_or("query");
            return Err(ApiError::invalid(name, "Query values must not contain NUL characters."));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::invalid("query", format!("Invalid query string: {}.", e.body_text())))
    }
}

/// An id given as a list filter (`customer_id`): absent, or shaped like an id this API returns,
/// so that a typo answers 422 naming the parameter instead of an empty page.
pub fn id_filter<'a>(param: &str, value: Option<&'a str>) -> Result<Option<&'a str>, ApiError> {
    match value.filter(|v| !v.is_empty()) {
        Some(v) if !crate::domain::ids::is_id_shaped(v) => {
            Err(ApiError::invalid(param, format!("`{param}` is not an id this API returned.")))
        }
        other => Ok(other),
    }
}

/// Declare the filters of a list of objects with a lifecycle: `status` (one of `$statuses`,
/// any case, documented as their enum) and `customer_id`, with `checked()` giving both as the
/// store takes them or a 422 naming the parameter.
macro_rules! status_filter {
    ($(#[$doc:meta])* $name:ident, $status_doc:literal, $statuses:expr) => {
        $(#[$doc])*
        #[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            #[doc = $status_doc]
            #[param(schema_with = $name::status_schema)]
            pub status: Option<String>,
            /// A customer id.
            #[param(pattern = "^[a-z]{1,16}_[0-9A-HJKMNP-TV-Z]{26}$", max_length = 43)]
            pub customer_id: Option<String>,
        }

        impl $name {
            fn status_schema() -> utoipa::openapi::Object {
                $crate::api::extract::status_schema($statuses)
            }

            /// The status (as stored) and the customer id to filter by, both checked.
            pub fn checked(&self) -> Result<(Option<&'static str>, Option<&str>), $crate::error::ApiError> {
                let status = $crate::api::extract::one_of("status", self.status.as_deref(), $statuses)?;
                let customer_id = $crate::api::extract::id_filter("customer_id", self.customer_id.as_deref())?;
                Ok((status, customer_id))
            }
        }
    };
}
pub(crate) use status_filter;

/// `value` as the one of `known` it names (any case), or a 422 naming `param` and listing them.
pub fn one_of(
    param: &str,
    value: Option<&str>,
    known: impl IntoIterator<Item = &'static str>,
) -> Result<Option<&'static str>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    let known: Vec<&'static str> = known.into_iter().collect();
    if let Some(found) = known.iter().find(|k| k.eq_ignore_ascii_case(value)) {
        return Ok(Some(found));
    }
    let listed = match known.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    Err(ApiError::invalid(param, format!("`{param}` must be {listed}.")))
}

/// The OpenAPI schema of a status filter: one of `values`.
pub fn status_schema(values: impl IntoIterator<Item = &'static str>) -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values)).build()
}

/// A string of at most `max` characters, for the schemas below.
fn bounded_string(max: usize) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new().schema_type(Type::String).max_length(Some(max)).into()
}

/// The schema of an id a request refers to inside a list (`coupon_ids`, `product_pricing_ids`):
/// documentation only, the request types hold plain strings.
pub struct IdRef;

impl utoipa::PartialSchema for IdRef {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        bounded_string(ID_MAX)
    }
}
impl utoipa::ToSchema for IdRef {}

/// The schema of a metadata value (see `validate::metadata`): documentation only.
pub struct MetadataValue;

impl utoipa::PartialSchema for MetadataValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        bounded_string(500)
    }
}
impl utoipa::ToSchema for MetadataValue {}

/// The longest id a request may name: every id this API returns is shorter; a longer one can
/// only be unknown.
pub const ID_MAX: usize = 64; // the same literal stands in the `#[schema(max_length = 64)]` of id fields

/// The schema of a webhook event type name: one of [`crate::services::outbox::EVENT_TYPES`].
pub struct EventTypeName;

impl utoipa::PartialSchema for EventTypeName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        status_schema(crate::services::outbox::EVENT_TYPES.iter().copied()).into()
    }
}
impl utoipa::ToSchema for EventTypeName {}

/// The schema of a timestamp given as text (RFC 3339, at most 35 characters).
pub struct Timestamp;

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        bounded_string(35)
    }
}
impl utoipa::ToSchema for Timestamp {}

/// The declarative rules of a request type (`#[derive(Validate)]`) that failed, as the envelope:
/// one field, named by its exact path (`items[2].tiers[1].up_to`). When several fail, the first
/// path in order is reported, so the answer is the same on every try.
pub fn invalid_fields(errors: validator::ValidationErrors) -> ApiError {
    let mut failed = Vec::new();
    collect_failures(&errors, String::new(), &mut failed);
    failed.sort_by_cached_key(|(path, _)| request_order(path));
    let Some((param, error)) = failed.into_iter().next() else {
        return ApiError::internal("validation failed without a field");
    };
    let message = match &error.message {
        Some(message) => message.to_string(),
        None => rule_message(&param, &error),
    };
    ApiError::invalid(param, message)
}

/// `#[validate(custom(function = "plain_text"))]`: no control characters but tab and newline.
pub fn plain_text(value: &str) -> Result<(), validator::ValidationError> {
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        Err(validator::ValidationError::new("control_characters"))
    } else {
        Ok(())
    }
}

/// A sort key that puts paths in the order of the request: list indices compare as numbers
/// (`items[2]` before `items[10]`).
fn request_order(path: &str) -> String {
    path.split('[')
        .map(|part| match part.split_once(']') {
            Some((index, rest)) => format!("{index:>12}]{rest}"),
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join("[")
}

fn collect_failures(
    errors: &validator::ValidationErrors,
    at: String,
    out: &mut Vec<(String, validator::ValidationError)>,
) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errors.errors() {
        let path = if at.is_empty() { field.to_string() } else { format!("{at}.{field}") };
        match kind {
            ValidationErrorsKind::Field(list) => out.extend(list.iter().map(|e| (path.clone(), e.clone()))),
            ValidationErrorsKind::Struct(inner) => collect_failures(inner, path, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect_failures(inner, format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

/// The sentence for a failed rule without a message of its own; `code = "amount"` marks a
/// range of minor units.
fn rule_message(param: &str, error: &validator::ValidationError) -> String {
    let bound = |name: &str| error.params.get(name).map(|v| v.to_string());
    let value = error.params.get("value").and_then(serde_json::Value::as_i64);
    match (error.code.as_ref(), bound("min"), bound("max")) {
        ("amount", _, Some(max)) if value.is_some_and(|v| v >= 0) => {
            format!("`{param}` must be at most {max} minor units.")
        }
        ("amount", _, _) => format!("`{param}` must not be negative."),
        ("range", Some(min), Some(max)) => format!("`{param}` must be between {min} and {max}."),
        ("range", Some(min), None) => format!("`{param}` must be at least {min}."),
        ("range", None, Some(max)) => format!("`{param}` must be at most {max}."),
        ("length", Some(min), Some(max)) => format!("`{param}` must have {min} to {max} entries."),
        ("length", None, Some(max)) if error.params.get("value").is_some_and(serde_json::Value::is_string) => {
            format!("`{param}` must be at most {max} characters.")
        }
        ("length", None, Some(max)) => format!("`{param}` may have at most {max} entries."),
        ("control_characters", _, _) => format!("`{param}` must not contain control characters."),
        _ => format!("`{param}` is not valid."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_fields_are_reported_in_the_order_of_the_request() {
        let mut paths = vec!["items[10].name", "items[2].tiers[1].up_to", "items[2].tiers[0].up_to", "currency"];
        paths.sort_by_cached_key(|p| request_order(p));
        assert_eq!(paths, ["currency", "items[2].tiers[0].up_to", "items[2].tiers[1].up_to", "items[10].name"]);
    }
}
