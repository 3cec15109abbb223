//! The pages that say something went wrong: unknown routes (the JSON envelope under `/api`).

use askama::Template;
use askama_web::WebTemplate;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorType};

#[derive(Template, WebTemplate)]
#[template(path = "errors/not_found.html")]
pub(crate) struct NotFoundPage;

/// Unknown routes: the JSON envelope under `/api`, a friendly page everywhere else.
pub async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorType::InvalidRequestError,
            "route_not_found",
            format!("No API route {}. See /api/openapi.json for the routes.", uri.path()),
        )
        .into_response()
    } else {
        (StatusCode::NOT_FOUND, NotFoundPage).into_response()
    }
}
