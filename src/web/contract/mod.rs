//! The contract signing page: the document, the order, signing or declining, and the signed
//! certificate.

pub mod certificate;
pub mod i18n;
pub mod page;
pub mod submit;
pub mod view;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/contracts/{token}", get(page::show).post(submit::submit))
        .route("/contracts/{token}/certificate", get(certificate::show))
        .route("/preview/contract/{id}", get(page::preview))
}
