//! `AppState`, what every handler and use case can reach, and why the server could not start.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The store (SQLite or PostgreSQL).
    pub db: Db,
    /// Source of "now"; tests move it instead of sleeping.
    pub clock: Clock,
    /// Origin of every hosted URL we hand out, e.g. `https://pay.example.com`.
    pub public_url: Arc<str>,
    /// Largest accepted request body, in bytes (also read by the idempotency layer).
    pub body_limit: usize,
    /// Outgoing HTTP (merchant webhooks): one pooled client for the process.
    pub http: reqwest::Client,
    /// The server's secret: signs preview links and CSRF tokens. Shared by every instance
    /// through the `settings` table (or given as `KASSE_SECRET_KEY`).
    pub secret: Arc<[u8]>,
    /// How often the webhook worker looks for due deliveries.
    pub outbox_poll: Duration,
    /// Whether cookies get `Secure` and the `__Host-` prefix (an https public URL).
    pub secure_cookies: bool,
    /// The proxies allowed to name the client (`KASSE_TRUSTED_PROXIES`).
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
    /// The crash-test hook (`KASSE_FAULT_PAUSE_AFTER_CHARGE_MS`); `None` in every real setup.
    pub pause_after_charge: Option<Duration>,
    /// Product pricings kept in memory (checked against the company's catalog version).
    pub pricings: Arc<crate::db::pricings::Cache>,
    /// Companies' webhook endpoints kept in memory for the commits that raise events.
    pub endpoints: Arc<crate::db::tx::Endpoints>,
    /// Whether responses carry `Kasse-Statements` (`Config::statement_header`).
    pub statement_header: bool,
    /// The payment providers' connections (the Stripe account, when `STRIPE_SECRET_KEY` is set).
    pub payments: crate::payments::Connections,
}

impl AppState {
    /// Assemble the state for `db`, loading the shared secret (created on first start).
    pub async fn new(db: &Db, clock: Clock, public_url: String, config: &Config) -> Result<AppState, StartError> {
        let secret = match &config.secret_key {
            Some(key) => key.as_bytes().to_vec(),
            None => {
                crate::db::settings::secret(db, clock.now()).await.map_err(|e| StartError::Secret(e.to_string()))?
            }
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Kasse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StartError::Http(e.to_string()))?;
        Ok(AppState {
            db: db.clone(),
            clock,
            secure_cookies: public_url.starts_with("https://"),
            public_url: public_url.into(),
            body_limit: config.body_limit,
            http,
            secret: secret.into(),
            outbox_poll: config.outbox_poll,
            trusted_proxies: config.trusted_proxies.clone().into(),
            pause_after_charge: config.pause_after_charge,
            statement_header: config.statement_header,
            pricings: Arc::default(),
            endpoints: Arc::default(),
            payments: crate::payments::Connections {
                #[cfg(feature = "stripe")]
                stripe: match &config.stripe {
                    Some(settings) => Some(Arc::new(
                        crate::payments::stripe::StripeClient::new(settings.clone()).map_err(StartError::Payments)?,
                    )),
                    None => None,
                },
            },
        })
    }
}

/// Why the server could not start, in words fit for a one-line CLI error.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0} is already in use: stop the other process or choose another address with --bind / KASSE_BIND")]
    PortInUse(std::net::SocketAddr),
    #[error("cannot listen on {0}: {1}")]
    Bind(std::net::SocketAddr, std::io::Error),
    #[error("cannot load the server secret: {0}")]
    Secret(String),
    #[error("cannot create the HTTP client: {0}")]
    Http(String),
    #[error("payments: {0}")]
    Payments(String),
}
