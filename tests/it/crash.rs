//! A `kasse` process killed (SIGKILL) after the provider took the money and before the order
//! was written: the session stays open and cannot be expired, and once the payment lock has
//! lapsed the restarted process's reconciler completes the order exactly once — or, when the
//! order can no longer be completed, tells the merchant with `payment.requires_refund`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use kasse::db::Db;
use serde_json::json;

use crate::checkout::{SUCCESS, catalog, count_where, create, csrf_of, events, order, pay_fields, scalar};
use crate::support::TestApp;

const KASSE: &str = env!("CARGO_BIN_EXE_kasse");

/// A real `kasse serve` on `app`'s store; `pause_ms` holds each card payment between its
/// success and its fulfilment (the crash-test hook).
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Server {
    async fn start(app: &TestApp, pause_ms: Option<u64>) -> Server {
        Server::start_logging(app, pause_ms, None).await
    }

    /// As `start`; with `log`, the server's log lines (level INFO and up) go to that file.
    pub(crate) async fn start_logging(app: &TestApp, pause_ms: Option<u64>, log: Option<&std::path::Path>) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut command = Command::new(KASSE);
        command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", &app.database_url)
            .env_remove("KASSE_PUBLIC_URL")
            .env("RUST_LOG", if log.is_some() { "info" } else { "warn" })
            .stdout(Stdio::null())
            .stderr(match log {
                Some(path) => Stdio::from(std::fs::File::create(path).expect("log file")),
                None => Stdio::inherit(),
            });
        match pause_ms {
            Some(ms) => command.env("KASSE_FAULT_PAUSE_AFTER_CHARGE_MS", ms.to_string()),
            None => command.env_remove("KASSE_FAULT_PAUSE_AFTER_CHARGE_MS"),
        };
        let child = command.spawn().expect("start kasse");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
                && r.status() == 200
            {
                break;
            }
            assert!(Instant::now() < deadline, "kasse did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Server { child, base }
    }

    /// SIGKILL: no shutdown, no cleanup, as a crash.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn execute(db: &Db, sql: &str, at: chrono::DateTime<Utc>) {
    match db {
        Db::Sqlite(p) => sqlx::query(sql).bind(at).execute(p).await.map(|_| ()),
        Db::Postgres(p) => sqlx::query(sql).bind(at).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

/// Pay a checkout of the catalog through a server that is killed after the card was charged;
/// returns the checkout id. The coupon SAVE10 is applied when `promo` is set.
async fn paid_then_killed(app: &TestApp, promo: bool) -> String {
    let c = catalog(app).await;
    let (id, path) = create(app, &order(&c, |_| {})).await;
    let server = Server::start(app, Some(120_000)).await;
    let page = |p: &str| app.client.get(format!("{}{p}", server.base));
    let html = page(&path).send().await.unwrap().text().await.unwrap();
    let mut fields = pay_fields(SUCCESS);
    let csrf = csrf_of(&html);
    if promo {
        let form = [("csrf", csrf.as_str()), ("promo_code", "SAVE10"), ("action", "apply_promo")];
        app.client.post(format!("{}{path}", server.base)).form(&form).send().await.unwrap();
        fields.push(("promo_code", "SAVE10"));
    }
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    form.extend(fields);
    let pay = app.client.post(format!("{}{path}", server.base)).form(&form).send();
    let in_flight = tokio::spawn(pay);
    // The provider's answer is recorded; the process now waits before fulfilment.
    let deadline = Instant::now() + Duration::from_secs(30);
    while count_where(app, "payments", "status = 'SUCCEEDED'").await == 0 {
        assert!(Instant::now() < deadline, "the payment never succeeded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill();
    assert!(in_flight.await.unwrap().is_err(), "the customer's request died with the process");
    id
}

/// The payment lock and the reconciler's quiet time pass (the database's clock moved back
/// instead of waiting two minutes).
async fn time_passes(app: &TestApp) {
    let past = Utc::now() - chrono::Duration::minutes(5);
    execute(&app.db, "UPDATE checkout_sessions SET paying_until = $1 WHERE paying_until IS NOT NULL", past).await;
    execute(&app.db, "UPDATE payments SET updated_at = $1", past).await;
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

on_both_stores! {
    async fn a_payment_taken_before_a_crash_is_completed_once_by_the_reconciler_and_never_expired(app) {
        let id = paid_then_killed(app, false).await;
        let s = app.get_company(&format!("/checkout/{id}")).await;
        assert_ne!(s.ok()["status"], "COMPLETED", "the order was never written");
        assert_eq!(app.count("invoices").await, 0);

        // Meanwhile the merchant (or the sweeper) cannot expire it and keep the money.
        let r = app.post_company(&format!("/checkout/{id}/expire"), &json!({})).await;
        r.assert_error(409, "");
        assert_eq!(r.error_code(), "payment_succeeded");
        assert!(r.error_message().contains("pay_"), "{}", r.error_message());
        assert_eq!(events(app, "checkout.expired").await, 0);

        time_passes(app).await;
        let restarted = Server::start(app, None).await;
        wait_until("the reconciler completed the order", async || {
            count_where(app, "checkout_sessions", "status = 'COMPLETED'").await == 1
        })
        .await;
        // A second instance's reconciler, and more passes, change nothing.
        let other = Server::start(app, None).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(count_where(app, "invoices", "status = 'PAID' AND total = 57400").await, 1);
        assert_eq!(app.count("invoices").await, 1);
        assert_eq!(app.count("subscriptions").await, 1);
        assert_eq!(app.count("customers").await, 1);
        assert_eq!(app.count("payments").await, 1);
        let attached = scalar(&app.db, "SELECT COUNT(*) FROM payments WHERE status = 'SUCCEEDED' AND invoice_id IS NOT NULL").await;
        assert_eq!(attached, 1);
        for (event, n) in [("checkout.completed", 1), ("invoice.paid", 1), ("checkout.expired", 0), ("payment.requires_refund", 0)] {
            assert_eq!(events(app, event).await, n, "{event}");
        }
        let r = app.post_company(&format!("/checkout/{id}/expire"), &json!({})).await;
        assert_eq!(r.error_code(), "checkout_closed");
        other.kill();
        restarted.kill();
    }

    async fn money_taken_for_an_order_that_cannot_complete_asks_the_merchant_to_refund(app) {
        let id = paid_then_killed(app, true).await;
        // While the order waited, the merchant archived the coupon: the paid total no longer holds.
        let coupons = app.get_company("/coupons").await;
        let ten_off = coupons.ok()["data"].as_array().unwrap().iter().find(|c| c["name"] == "Ten off").unwrap()["id"]
            .as_str().unwrap().to_string();
        app.post_company(&format!("/coupons/{ten_off}/archive"), &json!({})).await.ok();
        time_passes(app).await;
        let restarted = Server::start(app, None).await;
        wait_until("the merchant is told to refund", async || events(app, "payment.requires_refund").await == 1).await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(events(app, "payment.requires_refund").await, 1, "told once");
        assert_eq!(app.count("invoices").await, 0);
        assert_eq!(events(app, "checkout.completed").await, 0);
        // Told, the merchant may now close the checkout.
        let r = app.post_company(&format!("/checkout/{id}/expire"), &json!({})).await;
        assert_eq!(r.ok()["status"], "EXPIRED");
        restarted.kill();
    }
}
