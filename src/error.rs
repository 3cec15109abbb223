//! Error policy at the HTTP boundary: one JSON envelope for the merchant API, internals never leak.
//!
//! Every 4xx and 5xx the API sends is `{"error": {"type", "code", "message", "param"}}`.
//! `param` names the offending field in the request (`config_items[0].quantity_config.min_quantity`)
//! when there is one. A 500 logs the cause with the request id and shows only a generic message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::services::error::Error as Refused;

/// The broad class of an error, mirrored in `error.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    /// The request is malformed or names something that does not exist.
    InvalidRequestError,
    /// The API key is missing or wrong.
    AuthenticationError,
    /// An `Idempotency-Key` was reused with another request, or is still in flight.
    IdempotencyError,
    /// Something failed on our side; retry later.
    ApiError,
}

/// The body of every API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, for a program (`type`, `code`, `param`) and a person (`message`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    #[serde(rename = "type")]
    pub kind: ErrorType,
    /// A stable machine-readable code such as `parameter_invalid` or `resource_missing`.
    pub code: &'static str,
    pub message: String,
    /// The request field at fault, if any.
    pub param: Option<String>,
}

/// An error answered by the merchant API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: ErrorType,
    pub code: &'static str,
    pub message: String,
    pub param: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: ErrorType, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, kind, code, message: message.into(), param: None }
    }

    /// A field that failed validation: 422 with the field named.
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        Refused::invalid(param, message).into()
    }

    /// A required field that was not given.
    pub fn missing(param: impl Into<String>) -> Self {
        Refused::missing(param).into()
    }

    /// An id that names nothing this company owns. Another tenant's ids land here too,
    /// so nobody can learn that they exist.
    pub fn not_found(what: &str, id: &str) -> Self {
        Refused::not_found(what, id).into()
    }

    /// Like [`ApiError::not_found`], but for an id given in the request body: 422 naming the field.
    pub fn unknown_ref(param: impl Into<String>, what: &str, id: &str) -> Self {
        Refused::unknown_ref(param, what, id).into()
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorType::InvalidRequestError, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorType::AuthenticationError, "unauthorized", message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Refused::conflict(code, message).into()
    }

    /// A service we depend on (a payment provider) did not answer: 503, retry later.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Refused::unavailable(message).into()
    }

    /// Something broke inside Kasse. The cause goes to the log, never to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Refused::internal(cause).into()
    }

    /// Replace the human-readable message, keeping everything else.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Replace the machine-readable code, keeping everything else.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                kind: self.kind,
                code: self.code,
                message: self.message.clone(),
                param: self.param.clone(),
            },
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Serializing this plain struct cannot fail; fall back to a fixed body all the same.
        let body = serde_json::to_vec(&self.body()).unwrap_or_else(|_| b"{\"error\":{}}".to_vec());
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(err: crate::db::DbError) -> Self {
        Refused::from(err).into()
    }
}

/// A use case's refusal as the API answers it: the status and envelope each refusal has always had.
impl From<crate::services::error::Error> for ApiError {
    fn from(err: crate::services::error::Error) -> Self {
        use crate::services::error::Refusal;
        let (status, kind) = match err.refusal {
            Refusal::Invalid | Refusal::Missing | Refusal::UnknownRef => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorType::InvalidRequestError)
            }
            Refusal::NotFound => (StatusCode::NOT_FOUND, ErrorType::InvalidRequestError),
            Refusal::Conflict => (StatusCode::CONFLICT, ErrorType::InvalidRequestError),
            Refusal::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, ErrorType::ApiError),
            // Logged when it was made; the message is already the generic one.
            Refusal::Internal => (StatusCode::INTERNAL_SERVER_ERROR, ErrorType::ApiError),
        };
        ApiError { status, kind, code: err.code, message: err.message, param: err.field }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
