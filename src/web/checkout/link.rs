//! `GET /l/{slug}`: a reusable link starts a fresh checkout session for each visitor; and link previews.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::db::checkouts::CheckoutSession;
use crate::db::{self};
use crate::domain::order::Entered;
use crate::services::checkout_create::{Checked, create_session, session_row};
use crate::services::links::new_session_for;
use crate::state::AppState;
use crate::web::context::{Found, PageCtx, PageResult, Preview};

/// A link that cannot start a checkout: the error page (`web::errors`) with `status`.
fn gone(status: StatusCode) -> Response {
    crate::web::errors::PageError::new(status).into_response()
}

/// Start a session from the link and send the visitor to it.
pub async fn visit(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let link = match db::links::by_slug(&state.db, &slug.to_ascii_lowercase()).await {
        Ok(Some(l)) => l,
        Ok(None) => return gone(StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::error!(error = %e, "loading a link failed");
            return gone(StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    if !link.enabled {
        return gone(StatusCode::GONE);
    }
    let session = match new_session_for(&state, &link).await {
        Ok(new) => create_session(&state, &link.company_id, new).await,
        Err(e) => Err(e),
    };
    match session {
        Ok(s) => Redirect::to(&format!("/checkout/{}", s.token)).into_response(),
        // The catalog moved on (an archived plan): the link cannot sell any more.
        Err(e) if e.is_refusal() => gone(StatusCode::GONE),
        Err(e) => {
            tracing::error!(error = %e, "starting a session from a link failed");
            gone(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

/// `GET /preview/link/{id}`: what a visitor would see, without creating a session.
pub async fn preview(Preview { page, id }: Preview) -> PageResult {
    let PageCtx { state, nonce, headers } = page;
    let link = db::links::by_id(&state.db, &id).await.found()?;
    // A link that can no longer sell (an archived plan): what a visitor would see.
    let new = new_session_for(&state, &link).await.map_err(|_| gone(StatusCode::GONE))?;
    // The session a visit would create, kept in memory only (previews record nothing); the
    // page prices it when it renders.
    let checked = Checked {
        customer_id: None,
        currency: String::new(),
        entered: Entered::default(),
        locale: new.locale.clone(),
        expires_at: None,
    };
    let row = session_row(&link.company_id, new, checked, state.clock.now());
    let session = CheckoutSession { id: "preview".into(), token: String::new(), ..row };
    let loaded = crate::web::checkout::page::load_session(&state, session, &headers).await?;
    Ok(crate::web::checkout::page::show_preview(&state, &loaded, nonce).await)
}
