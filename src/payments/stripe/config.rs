//! Stripe's settings from the environment, and the start-up checks that keep live and test
//! money apart: a live key never meets the sandbox, a test key never serves a live server.
//!
//! Pure (no Stripe crate), so a build without the `stripe` feature still explains itself.

use std::fmt;

/// Whether the server takes real money. `KASSE_MODE=live` (default `test`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Test,
    Live,
}

impl Mode {
    pub fn parse(value: Option<&str>) -> Result<Mode, String> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None | Some("test") => Ok(Mode::Test),
            Some("live") => Ok(Mode::Live),
            Some(other) => Err(format!("KASSE_MODE '{other}' is not 'test' or 'live'")),
        }
    }

    fn word(self) -> &'static str {
        match self {
            Mode::Test => "test",
            Mode::Live => "live",
        }
    }
}

/// Stripe's own API and Stripe.js; tests point both at a local server.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";
pub const DEFAULT_JS_URL: &str = "https://js.stripe.com/v3/";

/// What Kasse needs to talk to one Stripe account.
#[derive(Clone)]
pub struct StripeSettings {
    /// `sk_…` or a restricted `rk_…` key: server-side only, never logged or shown.
    pub secret_key: String,
    /// `pk_…`: given to Stripe.js on the payment page.
    pub publishable_key: String,
    /// `whsec_…` signing secrets of the webhook endpoint; several while a secret is rolled.
    pub webhook_secrets: Vec<String>,
    /// Origin of the API, without a trailing slash.
    pub api_base: String,
    /// Where the page loads Stripe.js from (Stripe requires js.stripe.com in production).
    pub js_url: String,
    /// Test or live, from the keys' prefixes (which must agree).
    pub mode: Mode,
    /// How long one request to Stripe may take before the customer is told to try again.
    pub timeout: std::time::Duration,
}

impl fmt::Debug for StripeSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeSettings")
            .field("publishable_key", &self.publishable_key)
            .field("api_base", &self.api_base)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl StripeSettings {
    /// Read `STRIPE_*` through `get` (the environment in production). `Ok(None)` when no secret
    /// key is set: Stripe is simply not connected.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<StripeSettings>, String> {
        let value = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let Some(secret_key) = value("STRIPE_SECRET_KEY") else {
            return Ok(None);
        };
        let mode = match key_mode(&secret_key, &["sk_", "rk_"]) {
            Some(mode) => mode,
            None => return Err("STRIPE_SECRET_KEY must be a secret key (sk_test_…, sk_live_…, rk_…)".into()),
        };
        let Some(publishable_key) = value("STRIPE_PUBLISHABLE_KEY") else {
            return Err("STRIPE_PUBLISHABLE_KEY is required with STRIPE_SECRET_KEY (pk_test_… or pk_live_…)".into());
        };
        match key_mode(&publishable_key, &["pk_"]) {
            Some(m) if m == mode => {}
            Some(m) => {
                return Err(format!(
                    "STRIPE_PUBLISHABLE_KEY is a {} key but STRIPE_SECRET_KEY is a {} key: use the pair from one mode",
                    m.word(),
                    mode.word()
                ));
            }
            None => return Err("STRIPE_PUBLISHABLE_KEY must be a publishable key (pk_test_… or pk_live_…)".into()),
        }
        let webhook_secrets: Vec<String> = value("STRIPE_WEBHOOK_SECRET")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if webhook_secrets.is_empty() {
            return Err("STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY: the whsec_… signing secret of \
                        the webhook endpoint (comma-separated while rolling it)"
                .into());
        }
        if let Some(bad) = webhook_secrets.iter().find(|s| !s.starts_with("whsec_")) {
            let shown: String = bad.chars().take(6).collect();
            return Err(format!("STRIPE_WEBHOOK_SECRET '{shown}…' is not a whsec_… signing secret"));
        }
        let api_base = http_url("STRIPE_API_BASE", value("STRIPE_API_BASE"), DEFAULT_API_BASE)?;
        let js_url = http_url("STRIPE_JS_URL", value("STRIPE_JS_URL"), DEFAULT_JS_URL)?;
        Ok(Some(StripeSettings {
            secret_key,
            publishable_key,
            webhook_secrets,
            api_base,
            js_url,
            mode,
            timeout: std::time::Duration::from_secs(10),
        }))
    }

    /// The CSP sources a Stripe payment page needs beyond our own: Stripe.js, its frames
    /// (the Payment Element and 3-D Secure) and its API. Nothing else.
    pub fn csp_sources(&self) -> CspSources {
        let js = origin(&self.js_url);
        let api = origin(&self.api_base);
        if js == "https://js.stripe.com" {
            // Stripe's documented list for Stripe.js and the Payment Element.
            CspSources {
                script: "https://js.stripe.com https://*.js.stripe.com".into(),
                frame: "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com".into(),
                connect: api,
            }
        } else {
            CspSources { script: js.clone(), frame: js, connect: api }
        }
    }
}

/// Extra CSP sources for a page that mounts Stripe's Payment Element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CspSources {
    pub script: String,
    pub frame: String,
    pub connect: String,
}

/// The scheme and host of `url`.
fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}")
}

fn key_mode(key: &str, prefixes: &[&str]) -> Option<Mode> {
    let rest = prefixes.iter().find_map(|p| key.strip_prefix(p))?;
    if rest.starts_with("test_") {
        Some(Mode::Test)
    } else if rest.starts_with("live_") {
        Some(Mode::Live)
    } else {
        None
    }
}

fn http_url(name: &str, value: Option<String>, default: &str) -> Result<String, String> {
    let url = value.unwrap_or_else(|| default.to_string());
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(url),
        _ => Err(format!("{name} '{url}' must be an http:// or https:// URL")),
    }
}

/// Refuse to start when live and test money could meet: a live Stripe key on a test server
/// (where companies may use the sandbox), a test key on a live server, a live server with a
/// company on the sandbox, or a company on Stripe with no Stripe to talk to.
/// `companies` are `(id, provider)` pairs.
pub fn check_start(
    mode: Mode,
    stripe: Option<&StripeSettings>,
    stripe_built: bool,
    companies: &[(String, String)],
) -> Result<(), String> {
    match (mode, stripe.map(|s| s.mode)) {
        (Mode::Test, Some(Mode::Live)) => {
            return Err("STRIPE_SECRET_KEY is a live key but the server runs in test mode, where companies may use \
                        the sandbox provider: set KASSE_MODE=live for real money, or use your sk_test_ key"
                .into());
        }
        (Mode::Live, Some(Mode::Test)) => {
            return Err("KASSE_MODE=live but STRIPE_SECRET_KEY is a test key: use your sk_live_ key, or run in test \
                        mode"
                .into());
        }
        _ => {}
    }
    for (id, provider) in companies {
        match provider.as_str() {
            "sandbox" if mode == Mode::Live => {
                return Err(format!(
                    "company {id} uses the sandbox provider, which takes no real money, on a live server: \
                     switch it to Stripe (kasse company set-provider --company {id} --provider stripe)"
                ));
            }
            "stripe" if !stripe_built => {
                return Err(format!(
                    "company {id} uses Stripe but this build has no Stripe support (built without the `stripe` \
                     feature)"
                ));
            }
            "stripe" if stripe.is_none() => {
                return Err(format!(
                    "company {id} uses Stripe but STRIPE_SECRET_KEY is not set: set STRIPE_SECRET_KEY, \
                     STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET"
                ));
            }
            _ => {}
        }
    }
    if mode == Mode::Live && stripe.is_none() {
        return Err("KASSE_MODE=live needs a payment provider that takes real money: set STRIPE_SECRET_KEY, \
                    STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET"
            .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn test_keys() -> Vec<(&'static str, &'static str)> {
        vec![
            ("STRIPE_SECRET_KEY", "sk_test_abc"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_test_abc"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_one, whsec_two"),
        ]
    }

    #[test]
    fn no_secret_key_means_stripe_is_not_connected() {
        assert!(StripeSettings::from_env(env(&[])).unwrap().is_none());
    }

    #[test]
    fn test_keys_read_with_defaults_and_rotating_secrets() {
        let s = StripeSettings::from_env(env(&test_keys())).unwrap().unwrap();
        assert_eq!(s.mode, Mode::Test);
        assert_eq!(s.webhook_secrets, ["whsec_one", "whsec_two"]);
        assert_eq!(s.api_base, DEFAULT_API_BASE);
        assert!(!format!("{s:?}").contains("sk_test_abc"), "the secret key is never printed");
        let csp = s.csp_sources();
        assert_eq!(csp.connect, "https://api.stripe.com");
        assert!(csp.frame.contains("https://hooks.stripe.com"));
    }

    #[test]
    fn mismatched_or_malformed_keys_are_refused_by_name() {
        let mut pairs = test_keys();
        pairs[1] = ("STRIPE_PUBLISHABLE_KEY", "pk_live_abc");
        assert!(StripeSettings::from_env(env(&pairs)).unwrap_err().contains("STRIPE_PUBLISHABLE_KEY is a live key"));
        let mut pairs = test_keys();
        pairs[0] = ("STRIPE_SECRET_KEY", "pk_test_abc");
        assert!(StripeSettings::from_env(env(&pairs)).unwrap_err().contains("STRIPE_SECRET_KEY"));
        let mut pairs = test_keys();
        pairs[2] = ("STRIPE_WEBHOOK_SECRET", "");
        assert!(StripeSettings::from_env(env(&pairs)).unwrap_err().contains("STRIPE_WEBHOOK_SECRET is required"));
        let mut pairs = test_keys();
        pairs.push(("STRIPE_API_BASE", "ftp://x"));
        assert!(StripeSettings::from_env(env(&pairs)).unwrap_err().contains("STRIPE_API_BASE"));
    }

    #[test]
    fn a_local_api_base_and_stripe_js_give_their_origins_to_the_csp() {
        let mut pairs = test_keys();
        pairs.push(("STRIPE_API_BASE", "http://127.0.0.1:9000"));
        pairs.push(("STRIPE_JS_URL", "http://127.0.0.1:9000/v3/"));
        let s = StripeSettings::from_env(env(&pairs)).unwrap().unwrap();
        let csp = s.csp_sources();
        assert_eq!(csp.script, "http://127.0.0.1:9000");
        assert_eq!(csp.connect, "http://127.0.0.1:9000");
    }

    #[test]
    fn live_and_test_money_never_meet_at_start() {
        let test = StripeSettings::from_env(env(&test_keys())).unwrap().unwrap();
        let live = StripeSettings { mode: Mode::Live, ..test.clone() };
        let sandbox = vec![("co_1".to_string(), "sandbox".to_string())];
        let on_stripe = vec![("co_1".to_string(), "stripe".to_string())];
        assert!(check_start(Mode::Test, Some(&live), true, &[]).unwrap_err().contains("live key"));
        assert!(check_start(Mode::Live, Some(&test), true, &[]).unwrap_err().contains("test key"));
        assert!(check_start(Mode::Live, Some(&live), true, &sandbox).unwrap_err().contains("sandbox"));
        assert!(check_start(Mode::Live, None, true, &[]).is_err());
        assert!(check_start(Mode::Test, None, true, &on_stripe).unwrap_err().contains("STRIPE_SECRET_KEY"));
        assert!(check_start(Mode::Test, Some(&test), false, &on_stripe).unwrap_err().contains("feature"));
        assert!(check_start(Mode::Live, Some(&live), true, &on_stripe).is_ok());
        assert!(check_start(Mode::Test, Some(&test), true, &sandbox).is_ok());
        assert!(check_start(Mode::Test, None, true, &sandbox).is_ok());
        assert!(Mode::parse(Some("prod")).is_err());
    }
}
