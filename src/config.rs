//! Runtime configuration from flags and environment (12-factor); secrets are never logged.

use std::net::SocketAddr;
use std::time::Duration;

use crate::payments::stripe::config::{Mode, StripeSettings};

/// Everything `kasse serve` needs to know, resolved and checked before anything starts.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen, e.g. `127.0.0.1:8080`; port 0 picks a free port (tests).
    pub bind: SocketAddr,
    /// `sqlite://kasse.db` (default) or `postgres://…`.
    pub database_url: String,
    /// The origin customers reach Kasse at, without a trailing slash; hosted URLs start with it.
    /// `None` means "derive it from the address we actually bound".
    pub public_url: Option<String>,
    /// Requests taking longer are answered 408 so a stuck client cannot hold a worker.
    pub request_timeout: Duration,
    /// The largest request body accepted anywhere, in bytes.
    pub body_limit: usize,
    /// `KASSE_SECRET_KEY`, when the operator sets the server secret instead of letting the
    /// first instance generate one into the database.
    pub secret_key: Option<String>,
    /// How often the webhook worker polls for due deliveries.
    pub outbox_poll: Duration,
    /// `KASSE_MODE`: whether this server takes real money.
    pub mode: Mode,
    /// The connected Stripe account (`STRIPE_*`), if any.
    pub stripe: Option<StripeSettings>,
    /// `KASSE_TRUSTED_PROXIES`: the proxies whose `Forwarded` / `X-Forwarded-For` name the
    /// client (see `domain::client_addr`); empty, the socket's peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `KASSE_FAULT_PAUSE_AFTER_CHARGE_MS`, for crash tests only (refused in live mode): wait
    /// this long between a card payment's success and its fulfilment, so a test can kill the
    /// process in exactly that window.
    pub pause_after_charge: Option<Duration>,
    /// `KASSE_STATEMENT_HEADER=1`: answer every request with `Kasse-Statements`, the number of
    /// SQL statements it sent (for the tests and the benchmark; the log line always has it).
    pub statement_header: bool,
}

/// A configuration value that cannot be used, in words fit for a one-line CLI error.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid bind address '{0}': expected HOST:PORT such as 127.0.0.1:8080")]
    Bind(String),
    #[error("invalid KASSE_PUBLIC_URL '{0}': expected an http:// or https:// origin such as https://pay.example.com")]
    PublicUrl(String),
    #[error("{0}")]
    Payments(String),
    #[error("KASSE_FAULT_PAUSE_AFTER_CHARGE_MS is a crash-test hook: give milliseconds, and never in live mode")]
    FaultHook,
    #[error(
        "invalid KASSE_TRUSTED_PROXIES entry '{0}': expected CIDRs such as 10.0.0.0/8 or addresses, separated by commas"
    )]
    TrustedProxies(String),
}

impl Config {
    pub fn new(bind: &str, database_url: &str, public_url: Option<&str>) -> Result<Config, ConfigError> {
        let bind = resolve_bind(bind)?;
        let public_url = match public_url.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(url) => Some(check_public_url(url)?),
        };
        Ok(Config {
            bind,
            database_url: database_url.to_string(),
            public_url,
            request_timeout: Duration::from_secs(30),
            body_limit: 1024 * 1024,
            secret_key: std::env::var("KASSE_SECRET_KEY").ok().filter(|k| k.len() >= 32),
            outbox_poll: Duration::from_millis(500),
            mode: Mode::parse(std::env::var("KASSE_MODE").ok().as_deref()).map_err(ConfigError::Payments)?,
            stripe: StripeSettings::from_env(|name| std::env::var(name).ok()).map_err(ConfigError::Payments)?,
            trusted_proxies: crate::domain::client_addr::parse_trusted(
                &std::env::var("KASSE_TRUSTED_PROXIES").unwrap_or_default(),
            )
            .map_err(ConfigError::TrustedProxies)?,
            pause_after_charge: None,
            statement_header: std::env::var("KASSE_STATEMENT_HEADER").is_ok_and(|v| v.trim() == "1"),
        })
        .and_then(|mut config: Config| {
            if let Ok(ms) = std::env::var("KASSE_FAULT_PAUSE_AFTER_CHARGE_MS") {
                let ms: u64 = ms.trim().parse().map_err(|_| ConfigError::FaultHook)?;
                if config.mode == Mode::Live {
                    return Err(ConfigError::FaultHook);
                }
                config.pause_after_charge = Some(Duration::from_millis(ms));
            }
            Ok(config)
        })
    }
}

fn resolve_bind(bind: &str) -> Result<SocketAddr, ConfigError> {
    if let Ok(addr) = bind.parse::<SocketAddr>() {
        return Ok(addr);
    }
    // Allow `localhost:8080`; anything that needs DNS beyond that is refused.
    match bind.strip_prefix("localhost:").and_then(|port| port.parse::<u16>().ok()) {
        Some(port) => Ok(SocketAddr::from(([127, 0, 0, 1], port))),
        None => Err(ConfigError::Bind(bind.to_string())),
    }
}

fn check_public_url(url: &str) -> Result<String, ConfigError> {
    let url = url.trim_end_matches('/');
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(url.to_string()),
        _ => Err(ConfigError::PublicUrl(url.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_accepts_ip_port_and_localhost_and_refuses_garbage() {
        assert_eq!(Config::new("127.0.0.1:9", "sqlite://x", None).unwrap().bind.port(), 9);
        assert_eq!(Config::new("localhost:80", "sqlite://x", None).unwrap().bind.port(), 80);
        assert!(matches!(Config::new("nope", "sqlite://x", None), Err(ConfigError::Bind(_))));
    }

    #[test]
    fn public_url_must_be_http_and_loses_its_trailing_slash() {
        let c = Config::new("127.0.0.1:0", "sqlite://x", Some("https://pay.example.com/")).unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://pay.example.com"));
        assert!(Config::new("127.0.0.1:0", "sqlite://x", Some("ftp://x")).is_err());
    }
}
