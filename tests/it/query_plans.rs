//! Every statement the customer pages and their payments send uses an index on both stores. The
//! statements are not listed by hand: a customer's whole walk (the checkout page, quantities, a
//! promo code, a declined and a paid card, the signing page, the hosted invoice and its payment)
//! runs against a PostgreSQL server, and every statement sqlx logs inside those requests is
//! captured, then `EXPLAIN`ed on PostgreSQL (generic plan, sequential scans priced out) and
//! `EXPLAIN QUERY PLAN`ed on SQLite. A full scan of any table fails the test.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::{Mutex, OnceLock};

use kasse::db::Db;
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use crate::checkout::{CHALLENGE, DECLINE, SUCCESS, catalog, create, csrf_of, order, pay_fields};
use crate::support::{Store, TestApp};

/// The request ids of the walk start with this; only their statements are captured.
const PREFIX: &str = "plans-";

static CAPTURED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Keeps the `db.statement` of every `sqlx::query` event logged inside a request span whose id
/// starts with [`PREFIX`] (sqlx logs each statement in the task that sends it, on PostgreSQL).
struct Capture;

/// A request span's id, kept on the span.
struct RequestId(String);

/// One named field of a span or event, as text.
struct FieldText {
    name: &'static str,
    value: Option<String>,
}

impl Visit for FieldText {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == self.name {
            self.value = Some(value.to_string());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == self.name && self.value.is_none() {
            self.value = Some(format!("{value:?}"));
        }
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "request" {
            return;
        }
        let mut text = FieldText { name: "id", value: None };
        attrs.record(&mut text);
        if let (Some(value), Some(span)) = (text.value, ctx.span(id)) {
            span.extensions_mut().insert(RequestId(value));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else { return };
        let ours =
            scope.from_root().any(|span| span.extensions().get::<RequestId>().is_some_and(|r| r.0.starts_with(PREFIX)));
        if !ours {
            return;
        }
        let mut text = FieldText { name: "db.statement", value: None };
        event.record(&mut text);
        if let Some(sql) = text.value {
            CAPTURED.lock().unwrap().push(sql);
        }
    }
}

/// Install the capturing subscriber for this test process (once).
fn capture() {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        let filter = tracing_subscriber::filter::Targets::new()
            .with_target("sqlx::query", tracing::Level::DEBUG)
            .with_target("kasse", tracing::Level::INFO);
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Capture.with_filter(filter)))
            .is_ok()
    });
    assert!(*installed, "another global tracing subscriber is installed: the statements cannot be captured");
}

/// A GET or form POST of the walk, under a request id the capture knows.
async fn walk(request: reqwest::RequestBuilder, step: &str) -> (u16, String) {
    let r = request.header("x-request-id", format!("{PREFIX}{step}")).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn page(app: &TestApp, path: &str, step: &str) -> String {
    let (status, html) = walk(app.client.get(format!("{}{path}", app.base)), step).await;
    assert!(status < 500, "{step}: {status}");
    html
}

async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)], step: &str) -> u16 {
    let html = page(app, path, &format!("{step}-page")).await;
    let csrf = csrf_of(&html);
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let (status, body) = walk(app.client.post(format!("{}{path}", app.base)).form(&form), step).await;
    assert!(status < 500, "{step}: {status} {body}");
    status
}

/// A customer's whole walk through the pages, on `app`.
async fn customer_walk(app: &TestApp) {
    let c = catalog(app).await;
    app.post_company("/webhook_endpoints", &json!({"url": "http://127.0.0.1:9/hook"})).await.ok();
    // The checkout: quantities, a promo code, a declined card, a challenge, a paid card.
    let (_, path) = create(app, &order(&c, |_| {})).await;
    page(app, &path, "checkout").await;
    let seats = format!("qty.{}", c.seats);
    post(app, &path, &[(&seats, "7"), ("action", "update")], "quantity").await;
    post(app, &path, &[("promo_code", "SAVE10"), ("action", "apply_promo")], "promo").await;
    post(app, &path, &pay_fields(DECLINE), "declined").await;
    post(app, &path, &pay_fields(CHALLENGE), "challenge").await;
    post(app, &path, &pay_fields(SUCCESS), "paid").await;
    page(app, &path, "confirmation").await;

    // A contract's signing page, first and later views.
    let customer = app.post_company("/customers", &json!({"name": "Ada", "email": "ada@example.com"})).await;
    let customer = customer.ok()["id"].as_str().unwrap().to_string();
    let contract = app
        .post_company(
            "/contracts",
            &json!({"customer_id": customer, "product_pricing_ids": [c.team], "status": "PENDING_SIGNATURES",
                "signatories": [{"name": "Ada Lovelace", "email": "ada@example.com"}]}),
        )
        .await;
    let link = contract.ok()["signatories"][0]["signature_link"].as_str().unwrap().to_string();
    let signing = link.strip_prefix(&app.base).unwrap().to_string();
    page(app, &signing, "contract-first").await;
    page(app, &signing, "contract").await;

    // A hosted invoice, paid by card.
    let charge = app
        .post_company(
            "/one_times",
            &json!({"customer_id": customer, "type": "IMMEDIATE",
                "onetime_items": [{"product_pricing_id": c.onboarding, "aggregate": 1}]}),
        )
        .await;
    let url = charge.ok()[0]["invoice_url"].as_str().unwrap().to_string();
    let invoice = url.strip_prefix(&app.base).unwrap().to_string();
    page(app, &invoice, "invoice").await;
    let card = [("card_number", SUCCESS), ("card_expiry", "12/34"), ("card_cvc", "123")];
    post_invoice(app, &invoice, &card).await;
}

async fn post_invoice(app: &TestApp, invoice: &str, card: &[(&str, &str)]) {
    let html = page(app, invoice, "invoice-pay-page").await;
    let csrf = csrf_of(&html);
    let mut form = vec![("csrf", csrf.as_str()), ("shown_amount", "49900"), ("shown_currency", "USD")];
    form.extend_from_slice(card);
    let request = app.client.post(format!("{}{invoice}/pay", app.base)).form(&form);
    let (status, body) = walk(request, "invoice-pay").await;
    assert!(status < 500, "invoice-pay: {status} {body}");
}

/// The plan of `sql` on `db`, one line per step; `n` names its prepared statement on PostgreSQL.
async fn plan(db: &Db, sql: &str, n: usize) -> Result<Vec<String>, String> {
    match db {
        Db::Sqlite(pool) => {
            let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                .fetch_all(pool)
                .await
                .map_err(|e| e.to_string())?;
            Ok(rows.into_iter().map(|r| r.3).collect())
        }
        Db::Postgres(pool) => {
            // On a small test table a sequential scan is cheapest; priced out, one shows only
            // where no index can serve the statement. The generic plan stands for every value.
            let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
            let name = format!("plan_of_{n}");
            let setup =
                format!("SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan; PREPARE {name} AS {sql}");
            sqlx::raw_sql(&setup).execute(&mut *conn).await.map_err(|e| e.to_string())?;
            let nulls = vec!["NULL"; params(sql)].join(", ");
            let explain = if nulls.is_empty() {
                format!("EXPLAIN EXECUTE {name}")
            } else {
                format!("EXPLAIN EXECUTE {name}({nulls})")
            };
            let rows: Vec<(String,)> = sqlx::raw_sql(&explain)
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| e.to_string())?
                .iter()
                .map(|row| sqlx::Row::try_get::<String, _>(row, 0).map(|line| (line,)))
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?;
            sqlx::raw_sql(&format!("DEALLOCATE {name}; RESET enable_seqscan; RESET plan_cache_mode"))
                .execute(&mut *conn)
                .await
                .map_err(|e| e.to_string())?;
            Ok(rows.into_iter().map(|r| r.0).collect())
        }
    }
}

/// How many parameters (`$1` … `$N`) `sql` takes.
fn params(sql: &str) -> usize {
    let mut max = 0;
    let bytes = sql.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'$' {
            let digits: String = sql[i + 1..].chars().take_while(char::is_ascii_digit).collect();
            max = max.max(digits.parse().unwrap_or(0));
        }
    }
    max
}

/// Whether a plan line reads a whole table (an index search is fine). SQLite's "automatic"
/// index is built by reading the whole table for the one statement, so it counts as a scan.
fn full_scan(line: &str) -> bool {
    // An INSERT's own rows are no table.
    if line.ends_with("VALUES CLAUSE") || line == "SCAN CONSTANT ROW" {
        return false;
    }
    let sqlite_scan = line.starts_with("SCAN ") && !line.contains("USING INDEX") && !line.contains("COVERING INDEX");
    let sqlite_search = line.starts_with("SEARCH ") && (!line.contains(" USING ") || line.contains("AUTOMATIC"));
    sqlite_scan || sqlite_search || line.contains("Seq Scan")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_statement_of_the_pages_and_their_payments_searches_an_index_on_both_stores() {
    capture();
    let app = TestApp::spawn_configured(Store::Postgres, |_| {}).await;
    customer_walk(&app).await;
    let statements: BTreeSet<String> = CAPTURED
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect();
    // The walk's requests sent their statements, and the capture saw them.
    assert!(statements.len() >= 20, "only {} statements captured: {statements:#?}", statements.len());
    assert!(statements.iter().any(|s| s.contains("FROM checkout_sessions s JOIN companies")), "{statements:#?}");

    let sqlite = TestApp::spawn_configured(Store::Sqlite, |_| {}).await;
    let mut failures = Vec::new();
    for (n, sql) in statements.iter().enumerate() {
        for db in [&app.db, &sqlite.db] {
            match plan(db, sql, n).await {
                Ok(lines) if lines.iter().any(|l| full_scan(l.trim())) => {
                    failures.push(format!("{sql}\n  {}", lines.join("\n  ")));
                }
                Ok(_) => {}
                Err(e) => failures.push(format!("{sql}\n  cannot be explained: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{} statements scan a table:\n\n{}", failures.len(), failures.join("\n\n"));
    sqlite.finish().await;
    app.finish().await;
}

#[test]
fn a_scan_is_told_from_a_search() {
    assert!(full_scan("SCAN contract_events"));
    assert!(full_scan("  ->  Seq Scan on contract_events  (cost=10000000000.00..1.1 rows=1 width=32)"));
    assert!(!full_scan(
        "SEARCH contract_events USING COVERING INDEX contract_events_signer_kind (signer_id=? AND kind=?)"
    ));
    assert!(full_scan("SEARCH contract_events USING AUTOMATIC COVERING INDEX (signer_id=? AND kind=?)"));
    assert!(full_scan("SEARCH contract_events"));
    assert!(!full_scan("SCAN 3-ROW VALUES CLAUSE"));
    assert!(!full_scan("Index Only Scan using contract_events_signer_kind on contract_events"));
    assert_eq!(params("SELECT 1 FROM t WHERE a = $1 AND b = $12 OR c = $3"), 12);
}
