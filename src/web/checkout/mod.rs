//! The checkout page: the order, the customer's details, payment and the confirmation; reusable
//! links and preview links open it too.

pub mod link;
pub mod page;
pub mod pay;
#[cfg(feature = "stripe")]
pub mod stripe_return;
pub mod submit;
pub mod view;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    let router = Router::new()
        .route("/checkout/{token}", get(page::show).post(submit::submit))
        .route("/checkout/{token}/challenge/{payment_id}", get(pay::challenge).post(pay::answer_challenge))
        .route("/preview/checkout/{id}", get(page::preview))
        .route("/l/{slug}", get(link::visit))
        .route("/preview/link/{id}", get(link::preview));
    #[cfg(feature = "stripe")]
    let router = router.route("/checkout/{token}/challenge/{payment_id}/return", get(stripe_return::checkout_return));
    router
}
