//! Kasse's Stripe double (tests/it/stripe_double.rs) as a process, for the real-browser tests: it serves Stripe's
//! API, a stand-in for Stripe.js and its Payment Element frame on 127.0.0.1, prints
//! `Stripe double: http://127.0.0.1:PORT` and runs until it is stopped. Point Kasse at it with
//! `STRIPE_API_BASE=<url>`, `STRIPE_JS_URL=<url>/v3/` and `STRIPE_SECRET_KEY=sk_test_double`.
//!
//!     cargo run --example stripe_double

use std::io::Write;
use std::time::Duration;

// The integration tests use the double's whole API (failures, delays, inspecting intents); this process only
// serves it and logs requests, so the rest is unused here on purpose.
#[allow(dead_code)]
#[path = "../tests/it/stripe_double.rs"]
mod stripe_double;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let double = stripe_double::StripeDouble::start().await;
    let mut out = std::io::stdout();
    writeln!(out, "Stripe double: {}", double.url())?;
    // Whoever started us reads the line from a pipe, which would otherwise hold it in the buffer.
    out.flush()?;
    // One line per API request on stderr, so a failing browser test can show what reached "Stripe".
    let mut logged = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            stopped = tokio::signal::ctrl_c() => {
                stopped?;
                return Ok(());
            }
            _ = tick.tick() => {
                let requests = double.requests();
                for r in requests.iter().skip(logged) {
                    let key = if r.authorization.is_empty() { r.param("key").unwrap_or("no key") } else { "Bearer" };
                    eprintln!("{} {} ({key})", r.method, r.path);
                }
                logged = requests.len();
            }
        }
    }
}
