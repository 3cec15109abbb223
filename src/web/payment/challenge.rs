//! The bank's challenge (sandbox 3-D Secure) on the checkout and invoice pages: the page that
//! asks the customer to approve or deny a waiting payment, and the answer it posts.

use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::db::billing::Payment;
use crate::domain::money::Currency;
use crate::i18n::{Locale, Texts, format};
use crate::web::checkout::view::Merchant;
use crate::web::context::{PageCtx, with_cookie};

#[derive(Template, WebTemplate)]
#[template(path = "checkout/challenge.html")]
struct ChallengeTemplate {
    t: &'static Texts,
    lang: &'static str,
    nonce: String,
    csrf: String,
    action: String,
    merchant: Merchant,
    amount: String,
}

/// The challenge of `payment`, whose answer posts to `action`.
pub(crate) fn page(
    ctx: &PageCtx,
    (t, locale): (&'static Texts, Locale),
    merchant: Merchant,
    payment: &Payment,
    action: String,
) -> Response {
    let (csrf, cookie) = ctx.csrf();
    let amount =
        Currency::parse(&payment.currency).map(|c| format::money(payment.amount, c, locale)).unwrap_or_default();
    let html = ChallengeTemplate { t, lang: locale.code(), nonce: ctx.nonce.clone(), csrf, action, merchant, amount };
    with_cookie(html.into_response(), cookie)
}

/// The posted answer: anything but `approve` denies, so a malformed post never takes money.
#[derive(Deserialize)]
pub(crate) struct ChallengeAnswer {
    pub(crate) csrf: Option<String>,
    answer: Option<String>,
}

impl ChallengeAnswer {
    pub(crate) fn approved(&self) -> bool {
        self.answer.as_deref() == Some("approve")
    }
}
