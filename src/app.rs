//! The composition root: router assembly with its layers, binding and serving until stopped.
//! Nothing imports it; `main.rs` and the tests start Kasse through it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, Request, StatusCode};
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::db::request::Scope;
use crate::state::{AppState, StartError};
use crate::{api, ops, web};

/// A bound, ready-to-serve Kasse.
pub struct App {
    listener: TcpListener,
    state: AppState,
    port: u16,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// How many SQL statements the request sent, and how many transactions it began (only with
/// `KASSE_STATEMENT_HEADER=1`).
pub const STATEMENTS: HeaderName = HeaderName::from_static("kasse-statements");
pub const TRANSACTIONS: HeaderName = HeaderName::from_static("kasse-transactions");

impl App {
    /// Bind the listener (port 0 picks a free one) and assemble the state. The store must be migrated.
    pub async fn build(config: &Config, db: Db, clock: Clock) -> Result<App, StartError> {
        let listener = TcpListener::bind(config.bind).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => StartError::PortInUse(config.bind),
            _ => StartError::Bind(config.bind, e),
        })?;
        let port = listener.local_addr().map_err(|e| StartError::Bind(config.bind, e))?.port();
        let public_url = match &config.public_url {
            Some(url) => url.clone(),
            None => {
                let host = if config.bind.ip().is_unspecified() {
                    "127.0.0.1".to_string()
                } else {
                    config.bind.ip().to_string()
                };
                let host = if host.contains(':') { format!("[{host}]") } else { host };
                format!("http://{host}:{port}")
            }
        };
        // Live and test money never meet: checked against every company's provider choice.
        let companies = crate::db::companies::providers(&db).await.map_err(|e| StartError::Payments(e.to_string()))?;
        crate::payments::stripe::config::check_start(
            config.mode,
            config.stripe.as_ref(),
            cfg!(feature = "stripe"),
            &companies,
        )
        .map_err(StartError::Payments)?;
        let state = AppState::new(&db, clock, public_url, config).await?;
        Ok(App { listener, state, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serve until `shutdown` resolves, then finish in-flight requests and return.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let background = ops::spawn_background_tasks(self.state.clone());
        let _outbox = crate::services::outbox::AbortOnDrop(crate::services::outbox::spawn(self.state.clone())); // stops with the server
        let _sweeper = crate::services::outbox::AbortOnDrop(crate::services::sweeper::spawn_sweeper(
            self.state.clone(),
            Duration::from_secs(30),
        ));
        let router = router(self.state.clone(), Duration::from_secs(30));
        // Client addresses feed the promo-code rate limit.
        let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let result = axum::serve(self.listener, service).with_graceful_shutdown(shutdown).await;
        background.abort();
        result
    }
}

/// Every route of Kasse with its layers. Layers listed later wrap earlier ones.
pub fn router(state: AppState, request_timeout: Duration) -> Router {
    let body_limit = state.body_limit;
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/api/openapi.json", get(api::openapi::serve))
        .merge(api::routes::router(state.clone()))
        .merge(web::router())
        .fallback(web::errors::fallback)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), run_to_completion))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, request_timeout))
        .layer(CatchPanicLayer::custom(web::errors::panicked))
        // Outside the panic catcher, so a panic too is answered with the error page (or the
        // API's envelope), and inside the security headers, whose nonce the page's style uses.
        .layer(axum::middleware::from_fn(web::errors::layer))
        .layer(axum::middleware::from_fn_with_state(state.clone(), web::security_headers::layer))
        .layer(
            // One INFO line per response, inside a span carrying the request id, so every
            // line logged while handling the request names it too.
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        id = %id,
                        method = %req.method(),
                        path = %req.uri().path(),
                        statements = tracing::field::Empty,
                        transactions = tracing::field::Empty
                    )
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RandomRequestId))
        .layer(axum::middleware::from_fn(drop_unsafe_request_id))
        .with_state(state)
}

/// Each request is handled to the end in its own task. A client that hangs up (or the request
/// timeout) then drops only the response, never a handler between two awaits of a transaction:
/// sqlx cannot tidy up a `BEGIN` cancelled after the database ran it (the connection would go
/// back to the pool still inside a transaction, and on SQLite hold the write lock), and a
/// payment or signature must not stop half way either. A panic is passed on to the panic catcher.
///
/// The task counts the SQL statements and transactions it sends (`db::request`): the
/// request's log line says how many, and with `KASSE_STATEMENT_HEADER=1` (tests, the benchmark)
/// so does the response.
async fn run_to_completion(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument;
    let tally = Arc::new(Scope::default());
    let task = crate::db::request::scoped(tally.clone(), next.run(req));
    let mut response = match tokio::spawn(task.in_current_span()).await {
        Ok(response) => response,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // The runtime is shutting down.
        Err(_) => axum::response::IntoResponse::into_response(StatusCode::SERVICE_UNAVAILABLE),
    };
    let span = tracing::Span::current();
    span.record("statements", tally.statements());
    span.record("transactions", tally.transactions());
    if state.statement_header {
        let headers = response.headers_mut();
        headers.insert(STATEMENTS, tally.statements().into());
        headers.insert(TRANSACTIONS, tally.transactions().into());
    }
    response
}

/// A client may bring its own `x-request-id` to trace a call through; it goes into every log
/// line, so anything but a short plain token is replaced by one of ours.
async fn drop_unsafe_request_id(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let safe = req.headers().get(REQUEST_ID).is_none_or(|v| {
        v.len() <= 64 && v.as_bytes().iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    if !safe {
        req.headers_mut().remove(REQUEST_ID);
    }
    next.run(req).await
}

/// A fresh random id for each request that does not bring its own `x-request-id`.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _req: &Request<B>) -> Option<RequestId> {
        let id = crate::domain::ids::token();
        axum::http::HeaderValue::from_str(&id[..16]).ok().map(RequestId::new)
    }
}
