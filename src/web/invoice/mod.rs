//! The hosted invoice page: the invoice, its payment by card, and the receipt once paid.

pub mod i18n;
pub mod page;
#[cfg(feature = "stripe")]
pub mod stripe_return;
pub mod view;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    let router = Router::new()
        .route("/invoices/{token}", get(page::show))
        // A GET of the form's target (a reload after an error, a copied URL) lands on the page.
        .route("/invoices/{token}/pay", get(page::back_to_page).post(page::pay))
        .route("/invoices/{token}/challenge/{payment_id}", get(page::challenge).post(page::answer_challenge));
    #[cfg(feature = "stripe")]
    let router = router.route("/invoices/{token}/challenge/{payment_id}/return", get(stripe_return::invoice_return));
    router
}
