//! `…/webhook_endpoints`: where a company receives signed event notifications (in progress).

use axum::Router;

use crate::app::AppState;

/// The routes of this module, merged into the authenticated API router.
pub fn routes() -> Router<AppState> {
    Router::new()
}
