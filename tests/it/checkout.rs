//! The hosted checkout walked over HTTP as a browser would (cookie client, no JavaScript):
//! creation through each API shape, the page, quantities, promo codes, declines, payment,
//! completion, exactly-once fulfilment, expiry, links and previews.

use chrono::Duration;
use kasse::db::Db;
use serde_json::{Value, json};

use crate::receiver::Receiver;
use crate::support::{Resp, TestApp};

pub(crate) const SUCCESS: &str = "4242 4242 4242 4242";
pub(crate) const DECLINE: &str = "4000 0000 0000 0002";
pub(crate) const CHALLENGE: &str = "4000 0027 6000 3184";

/// The catalog these tests sell: a per-seat plan with graduated tiers and a one-time fee.
pub(crate) struct Catalog {
    pub(crate) team: String,
    pub(crate) seats: String,
    pub(crate) onboarding: String,
    product: String,
}

pub(crate) async fn catalog(app: &TestApp) -> Catalog {
    let monthly = json!({"count": 1, "frequency": "MONTH"});
    let team = app
        .pricing(
            "USD",
            json!([{"name": "Seats", "unit_label": "seat", "pricing_model": "GRADUATED", "billing_period": monthly,
            "tiers": [{"up_to": 10, "unit_amount": 1500}, {"up_to": null, "unit_amount": 1200}]}]),
        )
        .await;
    let onboarding =
        app.pricing("USD", json!([{"name": "Onboarding", "pricing_model": "FLAT", "amount": 49900}])).await;
    let coupon = |name: &str, codes: Value| json!({"name": name, "type": "DISCOUNT_PERCENT", "percent": 0.1, "promo_codes": codes});
    app.post_company("/coupons", &coupon("Ten off", json!([{"code": "SAVE10"}]))).await.ok();
    app.post_company("/coupons", &coupon("Old", json!([{"code": "OLD", "expiration_date": "2020-01-01"}]))).await.ok();
    app.post_company("/coupons", &coupon("Scarce", json!([{"code": "USEDUP", "max_redemptions": 1}]))).await.ok();
    sql(&app.db, "UPDATE promo_codes SET times_redeemed = 1 WHERE code = 'USEDUP'").await;
    Catalog {
        seats: team["items"][0]["id"].as_str().unwrap().to_string(),
        product: team["product_id"].as_str().unwrap().to_string(),
        team: team["id"].as_str().unwrap().to_string(),
        onboarding: onboarding["id"].as_str().unwrap().to_string(),
    }
}

pub(crate) async fn sql(db: &Db, statement: &str) {
    match db {
        Db::Sqlite(p) => sqlx::query(statement).execute(p).await.map(|_| ()),
        Db::Postgres(p) => sqlx::query(statement).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

pub(crate) async fn scalar(db: &Db, query: &str) -> i64 {
    let (n,): (i64,) = match db {
        Db::Sqlite(p) => sqlx::query_as(query).fetch_one(p).await,
        Db::Postgres(p) => sqlx::query_as(query).fetch_one(p).await,
    }
    .unwrap();
    n
}

/// A seed-000 body for the catalog, adjusted by `f`.
pub(crate) fn order(c: &Catalog, f: impl FnOnce(&mut Value)) -> Value {
    let mut body = json!({
        "product_pricing_ids": [c.team],
        "config_items": [{"product_pricing_id": c.team, "product_metric_pricing_id": c.seats, "num_licenses": 5,
            "quantity_config": {"allow_custom_quantity": true, "min_quantity": 1, "max_quantity": 50}}],
        "onetime_items": [{"product_pricing_id": c.onboarding, "aggregate": 1}],
        "options": {"allow_promo_code": true, "requires_customer_address": true},
    });
    f(&mut body);
    body
}

/// Create a checkout and return (id, url path).
pub(crate) async fn create(app: &TestApp, body: &Value) -> (String, String) {
    let r = app.post_company("/checkout", body).await;
    let b = r.ok();
    let url = b["url"].as_str().unwrap();
    let path = url.strip_prefix(&app.base).expect("url on this server").to_string();
    (b["id"].as_str().unwrap().to_string(), path)
}

/// A page as the browser gets it.
pub(crate) async fn get_page(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

pub(crate) fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[start..start + 64].to_string()
}

/// The value attribute of the input with `id`.
fn input_value(html: &str, id: &str) -> String {
    let at = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no input {id}"));
    let rest = &html[at..];
    let v = rest.find("value=\"").unwrap() + 7;
    rest[v..v + rest[v..].find('"').unwrap()].to_string()
}

/// Submit the page's form with `fields` (plus its csrf token).
pub(crate) async fn submit(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Resp {
    let (_, html) = get_page(app, path).await;
    post_form(app, path, &csrf_of(&html), fields).await
}

pub(crate) async fn post_form(app: &TestApp, path: &str, csrf: &str, fields: &[(&str, &str)]) -> Resp {
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    page_resp(app.client.post(format!("{}{path}", app.base)).form(&form)).await
}

/// A page's answer as the browser reads it: status, headers (a redirect's location) and the HTML as `body`.
pub(crate) async fn page_resp(request: reqwest::RequestBuilder) -> Resp {
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap().to_vec();
    Resp { status, headers, body: Value::String(String::from_utf8_lossy(&bytes).into_owned()), bytes }
}

pub(crate) fn html(r: &Resp) -> &str {
    r.body.as_str().unwrap_or("")
}

pub(crate) fn location(r: &Resp) -> String {
    r.headers.get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

/// Everything paying needs besides the card.
pub(crate) fn customer_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("email", "ana@example.com"),
        ("name", "Ana Lima"),
        ("country", "US"),
        ("line1", "1 Market St"),
        ("city", "San Francisco"),
        ("postal_code", "94103"),
    ]
}

pub(crate) fn pay_fields(card: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut f = customer_fields();
    f.extend([("card_number", card), ("card_expiry", "12/34"), ("card_cvc", "123"), ("action", "pay")]);
    f
}

pub(crate) async fn count_where(app: &TestApp, table: &str, condition: &str) -> i64 {
    scalar(&app.db, &format!("SELECT COUNT(*) FROM {table} WHERE company_id = '{}' AND {condition}", app.company_id))
        .await
}

pub(crate) async fn events(app: &TestApp, event_type: &str) -> i64 {
    count_where(app, "outbox_events", &format!("event_type = '{event_type}'")).await
}

/// The `data` of every `event_type` event of the app's company, oldest first.
pub(crate) async fn event_data(app: &TestApp, event_type: &str) -> Vec<Value> {
    let sql = format!(
        "SELECT payload FROM outbox_events WHERE company_id = '{}' AND event_type = '{event_type}' ORDER BY id",
        app.company_id
    );
    let rows: Vec<(String,)> = match &app.db {
        Db::Sqlite(p) => sqlx::query_as(&sql).fetch_all(p).await,
        Db::Postgres(p) => sqlx::query_as(&sql).fetch_all(p).await,
    }
    .unwrap();
    rows.iter().map(|(p,)| serde_json::from_str::<Value>(p).unwrap()["data"].clone()).collect()
}

/// The fields every `payment.failed` carries, from whichever path it was raised.
pub(crate) const PAYMENT_FAILED_FIELDS: [&str; 7] =
    ["amount", "checkout_id", "currency", "customer_id", "invoice_id", "payment_id", "reason"];

/// The sorted field names of an event's `data`.
pub(crate) fn fields_of(data: &Value) -> Vec<String> {
    let mut keys: Vec<String> = data.as_object().expect("an object").keys().cloned().collect();
    keys.sort();
    keys
}

on_both_stores! {
    async fn a_customer_walks_the_whole_checkout_and_the_merchant_hears_of_it_once(app) {
        let c = catalog(app).await;
        let receiver = Receiver::start(0).await;
        let endpoint = app.post_company("/webhook_endpoints", &json!({"url": receiver.url})).await;
        let secret = endpoint.ok()["secret"].as_str().unwrap().to_string();
        let (id, path) = create(app, &order(&c, |b| {
            b["options"]["completion_action"] = json!("REDIRECT");
            b["options"]["redirect_url"] = json!("https://merchant.example/thanks?from=kasse");
        }))
        .await;

        // The page: 5 seats × $15 + $499 onboarding.
        let (status, page) = get_page(app, &path).await;
        let first_page = page.clone();
        assert_eq!(status, 200);
        assert!(page.contains("Test Merchant") && page.contains("Seats") && page.contains("$574.00"), "{page}");
        assert!(page.contains("autocomplete=\"email\"") && page.contains("autocomplete=\"postal-code\""));

        // A quantity out of bounds: refused beside the field, the typed value kept.
        let qty = format!("qty.{}", c.seats);
        let r = submit(app, &path, &[(&qty, "500"), ("action", "update")]).await;
        assert_eq!(r.status, 303);
        let (status, page) = get_page(app, &path).await;
        assert_eq!(status, 422);
        assert!(page.contains(&format!("id=\"qty-{}-error\"", c.seats)), "{page}");
        assert_eq!(input_value(&page, &format!("qty-{}", c.seats)), "500");
        let error = &page[page.find(&format!("id=\"qty-{}-error\"", c.seats)).unwrap()..];
        assert!(error[..120].contains("Enter a quantity between 1 and 50"), "{}", &error[..120]);
        // Not a whole number: said at the top of the page, nothing saved.
        let r = submit(app, &path, &[(&qty, "2.5"), ("action", "update")]).await;
        assert_eq!(r.status, 422);
        assert!(html(&r).contains("Quantity: Enter a whole number"), "{}", html(&r));
        // 7 seats: 7 × $15 + $499 = $604.
        submit(app, &path, &[(&qty, "7"), ("action", "update")]).await;
        let (status, page) = get_page(app, &path).await;
        assert_eq!(status, 200);
        assert!(page.contains("$604.00"), "{page}");

        // Promo codes: a valid one (10 % of $604 = $60.40), then the refused kinds, then removed.
        submit(app, &path, &[("promo_code", "save10"), ("action", "apply_promo")]).await;
        let (_, page) = get_page(app, &path).await;
        assert!(page.contains("SAVE10") && page.contains("−$60.40") && page.contains("$543.60"), "{page}");
        for (code, message) in [("NOPE", "not valid"), ("OLD", "expired"), ("USEDUP", "no longer available")] {
            submit(app, &path, &[("action", "remove_promo")]).await;
            submit(app, &path, &[("promo_code", code), ("action", "apply_promo")]).await;
            let (status, page) = get_page(app, &path).await;
            assert_eq!(status, 422, "{code}");
            let error = &page[page.find("id=\"promo_code-error\"").unwrap_or_else(|| panic!("{code}: {page}"))..];
            assert!(error[..200].to_lowercase().contains(message), "{code}: {}", &error[..200]);
            assert_eq!(input_value(&page, "promo_code"), code);
        }
        submit(app, &path, &[("action", "remove_promo")]).await;
        let (_, page) = get_page(app, &path).await;
        assert!(!page.contains("−$") && page.contains("$604.00"), "{page}");

        // The decline card: the reason is shown, everything typed is kept.
        let r = submit(app, &path, &pay_fields(DECLINE)).await;
        assert_eq!(r.status, 402);
        assert!(html(&r).contains("declined"), "{}", html(&r));
        assert_eq!(input_value(html(&r), "email"), "ana@example.com");
        assert_eq!(input_value(html(&r), "postal_code"), "94103");

        // The success card: back to the merchant with the ids.
        let r = submit(app, &path, &pay_fields(SUCCESS)).await;
        assert_eq!(r.status, 303, "{}", html(&r));
        let to = location(&r);
        assert!(to.starts_with("https://merchant.example/thanks?from=kasse&checkout_id="), "{to}");

        let api = app.get_company(&format!("/checkout/{id}")).await;
        let s = api.ok();
        assert_eq!(s["status"], "COMPLETED");
        let subscription = s["subscription_id"].as_str().unwrap();
        assert!(to.contains(&format!("subscription_id={subscription}")) && to.contains("customer_id=cus_"), "{to}");
        assert_eq!(s["quote"]["total_due_today"], 60400);

        // Every row exactly once.
        assert_eq!(app.count("customers").await, 1);
        assert_eq!(app.count("subscriptions").await, 1);
        assert_eq!(count_where(app, "invoices", "status = 'PAID' AND total = 60400").await, 1);
        assert_eq!(count_where(app, "payments", "status = 'SUCCEEDED' AND amount = 60400").await, 1);
        assert_eq!(count_where(app, "payments", "status = 'FAILED'").await, 1);
        for (event, n) in [("checkout.completed", 1), ("invoice.created", 1), ("invoice.paid", 1), ("payment.failed", 1)] {
            assert_eq!(events(app, event).await, n, "{event}");
        }
        let customer = app.get_company(&format!("/customers/{}", s["customer_id"].as_str().unwrap())).await;
        assert_eq!(customer.ok()["email"], "ana@example.com");
        assert_eq!(customer.body["address"]["postal_code"], "94103");

        // The merchant's endpoint got checkout.completed, signed.
        let hits = receiver.wait_for(4).await;
        let completed = hits.iter().find(|h| String::from_utf8_lossy(&h.body).contains("\"checkout.completed\"")).expect("checkout.completed");
        let signature = completed.header("kasse-signature");
        assert!(kasse::services::outbox::verify(&secret, signature, &completed.body, app.clock.now(), Duration::minutes(5)));
        let event: Value = serde_json::from_slice(&completed.body).unwrap();
        assert_eq!(event["data"]["checkout_id"], id.as_str());

        // Afterwards: the page confirms, and paying again changes nothing.
        let (status, page) = get_page(app, &path).await;
        assert_eq!(status, 200);
        assert!(page.contains("Thank you"), "{page}");
        // (The back button resubmits the old form: same cookie, same token.)
        let again = post_form(app, &path, &csrf_of(&first_page), &pay_fields(SUCCESS)).await;
        assert_eq!((again.status, location(&again)), (303, path.clone()));
        assert_eq!(app.count("payments").await, 2);
        assert_eq!(events(app, "checkout.completed").await, 1);
    }
}

/// Post the pay form `n` times at once, spread over `bases` (servers sharing one store).
async fn pay_concurrently(app: &TestApp, bases: &[String], path: &str, n: usize) -> Vec<(u16, String)> {
    let (_, page) = get_page(app, path).await;
    let csrf = csrf_of(&page);
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    form.extend(pay_fields(SUCCESS));
    let requests = (0..n).map(|i| {
        let url = format!("{}{path}", bases[i % bases.len()]);
        let request = app.client.post(url).form(&form);
        async move {
            let r = request.send().await.unwrap();
            let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            (r.status().as_u16(), location)
        }
    });
    futures_util::future::join_all(requests).await
}

async fn assert_fulfilled_once(app: &TestApp, results: &[(u16, String)]) {
    for (status, location) in results {
        assert_eq!(*status, 303, "every submit ends on the finished checkout ({location})");
        assert_eq!(location, &results[0].1, "all of them end in the same place");
    }
    assert_eq!(app.count("subscriptions").await, 1);
    assert_eq!(app.count("invoices").await, 1);
    assert_eq!(app.count("payments").await, 1);
    assert_eq!(app.count("customers").await, 1);
    assert_eq!(events(app, "checkout.completed").await, 1);
    assert_eq!(events(app, "invoice.paid").await, 1);
}

on_both_stores! {
    async fn twenty_simultaneous_pay_submissions_fulfil_exactly_once(app) {
        let c = catalog(app).await;
        let (_, path) = create(app, &order(&c, |_| {})).await;
        let results = pay_concurrently(app, std::slice::from_ref(&app.base), &path, 20).await;
        assert_fulfilled_once(app, &results).await;
    }

    async fn two_processes_sharing_the_store_fulfil_once_and_deliver_each_event_once(app) {
        let c = catalog(app).await;
        let receiver = Receiver::start(0).await;
        app.post_company("/webhook_endpoints", &json!({"url": receiver.url})).await.ok();
        let other = app.another_process().await;
        let (_, path) = create(app, &order(&c, |_| {})).await;
        let results = pay_concurrently(app, &[app.base.clone(), other.base.clone()], &path, 20).await;
        assert_fulfilled_once(app, &results).await;

        // checkout.completed, invoice.created, invoice.paid: each delivered by one process only.
        let hits = receiver.wait_for(3).await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let hits = if receiver.hits().len() > hits.len() { receiver.hits() } else { hits };
        let mut ids: Vec<String> = hits.iter().map(|h| h.header("kasse-event-id").to_string()).collect();
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!((before, ids.len()), (3, 3), "each event exactly once");
        let delivered = count_where(app, "webhook_deliveries", "status = 'DELIVERED' AND attempts = 1").await;
        assert_eq!(delivered, 3);
        other.stop().await;
    }
}

/// The exact body of seed 000 with its placeholders replaced by real ids and values.
fn seed_000(c: &Catalog) -> Value {
    json!({
        "auto_charges": null, "auto_renews": null, "change_proration_type": null,
        "change_reset_billing_anchor": null, "change_timing": null,
        "config_items": [{"minimum_units": 1, "num_licenses": 1, "product_metric_pricing_id": null, "product_pricing_id": null,
            "quantity_config": {"allow_custom_quantity": true, "max_quantity": 20, "min_quantity": 1},
            "upsell_product_metric_pricing_id": null}],
        "customer_id": null,
        "discounts": [{"amount": {"currency": "USD", "value_in_cents": 500}, "cap": {"currency": "USD", "value_in_cents": 1000},
            "coupon_id": null, "customer_id": null, "expiration_date": null, "import_created_at_ref": null, "import_ref": null,
            "imported_from": null, "item_pricing_id": null, "name": "Welcome", "onetime_billable_id": null, "percent": 1,
            "product_id": null, "product_pricing_id": null, "proposal_id": null, "state": null, "subscription_id": null,
            "type": "DISCOUNT_AMOUNT"}],
        "metadata": {},
        "onetime_items": [{"aggregate": 2, "custom_price": {"amount": {"currency": "USD", "value_in_cents": 2500},
            "description": null, "product_id": c.product}, "product_pricing_id": null,
            "quantity_config": {"allow_custom_quantity": true, "max_quantity": 5, "min_quantity": 1}}],
        "options": {"allow_promo_code": null, "completion_action": null, "confirmation_message": null, "redirect_url": null,
            "requires_customer_address": null},
        "previous_subscription_id": null,
        "product_pricing_ids": [c.team],
        "term": {"count": 2, "frequency": "HOUR"},
        "trial": null,
        "trial_term": {"count": 2, "frequency": "HOUR"},
        "type": "CHECKOUT_SESSION"
    })
}

on_both_stores! {
    async fn the_exact_body_of_seed_000_is_accepted(app) {
        let c = catalog(app).await;
        let r = app.post_company("/checkout", &seed_000(&c)).await;
        let b = r.ok();
        assert!(b["id"].as_str().unwrap().starts_with("chk_"));
        assert!(b["url"].as_str().unwrap().starts_with(&format!("{}/checkout/", app.base)));
        let s = app.get_company(&format!("/checkout/{}", b["id"].as_str().unwrap())).await;
        let q = &s.ok()["quote"];
        // Today: 2 × $25 custom one-time, $5 off; the seats (1 × $15) start after the 2-hour trial.
        assert_eq!((q["subtotal"].as_i64(), q["total_due_today"].as_i64()), (Some(5000), Some(4500)));
        assert!(q["trial_ends_at"].is_string());
        assert_eq!(s.body["status"], "CREATED");
    }

    async fn the_exact_body_of_seed_001_is_accepted_and_answers_the_seed_shape(app) {
        let c = catalog(app).await;
        let customer = app.post_company("/customers", &json!({"email": "b@example.com", "identifier": "crm-9"})).await;
        customer.ok();
        let other = app.post_company("/coupons", &json!({"name": "Fiver", "type": "DISCOUNT_AMOUNT",
            "amount": {"currency": "USD", "value_in_cents": 500}})).await;
        let coupon = other.ok()["id"].as_str().unwrap().to_string();
        let body = json!({
            "customer_id": "crm-9", "plan_version_id": c.team,
            "add_ons": [{"add_on_id": c.onboarding, "customization": {"price_entry": {}, "name": "Setup"}, "quantity": 1}],
            "auto_advance_invoices": true, "billing_day_anchor": 15, "billing_start_date": "2023-12-25",
            "charge_automatically": true,
            "components": {"extra_components": [{"name": "x", "price_entry": {}, "product_ref": {}}],
                "overridden_components": [{"component_id": c.seats, "name": "x", "price_entry": {}}],
                "parameterized_components": [{"component_id": c.seats,
                    "parameters": {"billing_period": "MONTHLY", "committed_capacity": 1, "initial_slot_count": 3}}],
                "remove_components": []},
            "coupon_code": "SAVE10", "coupon_ids": [coupon], "end_date": "2023-12-25", "expires_in_hours": 1,
            "invoice_memo": "Thanks", "invoice_threshold": "1000", "metadata": "anything",
            "net_terms": 30,
            "payment_methods_config": {"type": "online", "config": {"card": {"enabled": true}, "direct_debit": {"enabled": true}}},
            "purchase_order": "PO-1", "trial_duration_days": 14
        });
        let r = app.post("/api/v1/checkout-sessions", &body).await;
        let s = &r.ok()["session"];
        for key in ["checkout_type", "created_at", "customer_id", "id", "plan_version_id", "status", "billing_day_anchor",
            "billing_start_date", "checkout_url", "completed_at", "coupon_code", "expires_at", "net_terms",
            "payment_methods_config", "subscription_id", "trial_duration_days"] {
            assert!(s.get(key).is_some(), "missing {key}: {s}");
        }
        assert_eq!((s["checkout_type"].as_str(), s["status"].as_str()), (Some("SELF_SERVE"), Some("CREATED")));
        assert!(s["customer_id"].as_str().unwrap().starts_with("cus_"), "the alias resolves to the id");
        assert_eq!((s["billing_day_anchor"].as_i64(), s["net_terms"].as_i64(), s["trial_duration_days"].as_i64()), (Some(15), Some(30), Some(14)));
        let expires = chrono::DateTime::parse_from_rfc3339(s["expires_at"].as_str().unwrap()).unwrap();
        let created = chrono::DateTime::parse_from_rfc3339(s["created_at"].as_str().unwrap()).unwrap();
        assert_eq!(expires - created, Duration::hours(1));
        let got = app.get(&format!("/api/v1/checkout-sessions/{}", s["id"].as_str().unwrap())).await;
        assert_eq!(got.ok()["session"]["id"], s["id"]);
        // The page prices it: 3 seats in trial, $499 today less $5 and 10 %: 499 − 5 = 494, −10 % = 444.60.
        let path = s["checkout_url"].as_str().unwrap().strip_prefix(&app.base).unwrap().to_string();
        let (status, page) = get_page(app, &path).await;
        assert_eq!(status, 200);
        assert!(page.contains("$444.60"), "{page}");
    }

    async fn unknown_ids_and_unsafe_redirects_are_refused_at_creation(app) {
        let c = catalog(app).await;
        let r = app.post_company("/checkout", &order(&c, |b| b["customer_id"] = json!("cus_nope"))).await;
        r.assert_error(422, "customer_id");
        let r = app.post_company("/checkout", &order(&c, |b| {
            b["options"]["completion_action"] = json!("REDIRECT");
            b["options"]["redirect_url"] = json!("javascript:alert(1)");
        })).await;
        r.assert_error(422, "options.redirect_url");
        let r = app.post_company("/checkout", &order(&c, |b| b["options"]["completion_action"] = json!("REDIRECT"))).await;
        r.assert_error(422, "options.redirect_url");
        let r = app.post("/api/v1/checkout-sessions", &json!({"plan_version_id": "pp_nope"})).await;
        r.assert_error(422, "plan_version_id");
        let r = app.post("/api/v1/checkout-sessions", &json!({"plan_version_id": c.team, "coupon_code": "NOPE"})).await;
        r.assert_error(422, "coupon_code");
        assert_eq!(app.count("checkout_sessions").await, 0);
    }

    async fn an_expired_session_answers_410_and_emits_checkout_expired_once(app) {
        let c = catalog(app).await;
        let (id, path) = create(app, &order(&c, |b| b["expires_in_hours"] = json!(1))).await;
        let (_, page) = get_page(app, &path).await;
        app.clock.advance(Duration::hours(2));
        let (status, gone) = get_page(app, &path).await;
        assert_eq!(status, 410);
        assert!(gone.contains("expired"), "{gone}");
        let r = post_form(app, &path, &csrf_of(&page), &pay_fields(SUCCESS)).await;
        assert_eq!(r.status, 410);
        assert_eq!(app.get_company(&format!("/checkout/{id}")).await.ok()["status"], "EXPIRED");
        assert_eq!(events(app, "checkout.expired").await, 1);
        assert_eq!(app.count("payments").await, 0);
        // Expiring it again through the API is a no-op.
        assert_eq!(app.post_company(&format!("/checkout/{id}/expire"), &json!({})).await.ok()["status"], "EXPIRED");
        assert_eq!(events(app, "checkout.expired").await, 1);
    }

    async fn the_sweeper_expires_sessions_nobody_opens(app) {
        let c = catalog(app).await;
        let (id, _) = create(app, &order(&c, |b| b["expires_in_hours"] = json!(1))).await;
        let (never, _) = create(app, &order(&c, |b| b["expires_in_hours"] = json!(0))).await;
        app.clock.advance(Duration::hours(2));
        let config = kasse::config::Config::new("127.0.0.1:0", &app.database_url, None).unwrap();
        let state = kasse::state::AppState::new(&app.db, app.clock.clone(), app.base.clone(), &config).await.unwrap();
        assert_eq!(kasse::services::expiry::sweep(&state).await, 1);
        assert_eq!(app.get_company(&format!("/checkout/{id}")).await.ok()["status"], "EXPIRED");
        assert_eq!(app.get_company(&format!("/checkout/{never}")).await.ok()["status"], "CREATED", "0 hours = never");
        assert_eq!(events(app, "checkout.expired").await, 1);
        assert_eq!(kasse::services::expiry::sweep(&state).await, 0);
    }

    async fn a_cancelled_session_shows_a_clear_page_and_a_completed_one_cannot_be_cancelled(app) {
        let c = catalog(app).await;
        let r = app.post("/api/v1/checkout-sessions", &json!({"plan_version_id": c.team})).await;
        let s = r.ok()["session"].clone();
        let id = s["id"].as_str().unwrap();
        let path = s["checkout_url"].as_str().unwrap().strip_prefix(&app.base).unwrap().to_string();
        assert_eq!(app.post(&format!("/api/v1/checkout-sessions/{id}/cancel"), &json!({})).await.ok()["session"]["status"], "CANCELLED");
        let (status, page) = get_page(app, &path).await;
        assert_eq!(status, 410);
        assert!(page.contains("cancelled"), "{page}");

        let r = app.post("/api/v1/checkout-sessions", &json!({"plan_version_id": c.team})).await;
        let s = r.ok()["session"].clone();
        let path = s["checkout_url"].as_str().unwrap().strip_prefix(&app.base).unwrap().to_string();
        let mut fields = pay_fields(SUCCESS);
        fields.retain(|(k, _)| !["country", "line1", "city", "postal_code"].contains(k));
        assert_eq!(submit(app, &path, &fields).await.status, 303);
        let r = app.post(&format!("/api/v1/checkout-sessions/{}/cancel", s["id"].as_str().unwrap()), &json!({})).await;
        r.assert_error(409, "");
        let listed = app.get("/api/v1/checkout-sessions?status=COMPLETED").await;
        assert_eq!(listed.ok()["data"].as_array().unwrap().len(), 1);
    }
}

on_both_stores! {
    async fn without_automatic_charges_the_order_is_accepted_with_an_open_invoice(app) {
        let c = catalog(app).await;
        let (_, path) = create(app, &order(&c, |b| {
            b["auto_charges"] = json!(false);
            b["options"]["payment_instructions"] = json!("IBAN DE00 1234, reference your order number");
        }))
        .await;
        let (_, page) = get_page(app, &path).await;
        assert!(!page.contains("card_number") && page.contains("IBAN DE00 1234"), "{page}");
        let mut fields = customer_fields();
        fields.push(("action", "pay"));
        let r = submit(app, &path, &fields).await;
        assert_eq!((r.status, location(&r)), (303, path.clone()));
        let (_, done) = get_page(app, &path).await;
        assert!(done.contains("Thank you") && done.contains("IBAN DE00 1234"), "{done}");
        assert_eq!(count_where(app, "invoices", "status = 'OPEN' AND amount_due = 57400").await, 1);
        assert_eq!(count_where(app, "payments", "status = 'PENDING'").await, 1);
        assert_eq!((events(app, "invoice.created").await, events(app, "invoice.paid").await), (1, 0));
    }

    async fn a_trial_starts_with_nothing_due_and_a_card_on_file(app) {
        let c = catalog(app).await;
        let (_, path) = create(app, &order(&c, |b| {
            b["onetime_items"] = json!([]);
            b["trial_term"] = json!({"count": 14, "frequency": "DAY"});
            b["term"] = json!({"count": 12, "frequency": "MONTH"});
        }))
        .await;
        let (_, page) = get_page(app, &path).await;
        assert!(page.contains("Start") && page.contains("$0.00"), "{page}");
        assert!(page.contains("Term: 12 months"), "{page}");
        let r = submit(app, &path, &pay_fields(SUCCESS)).await;
        assert_eq!(r.status, 303);
        assert_eq!(count_where(app, "subscriptions", "status = 'TRIALING' AND trial_ends_at IS NOT NULL").await, 1);
        assert_eq!(count_where(app, "invoices", "status = 'PAID' AND total = 0").await, 1);
    }

    async fn the_challenge_card_asks_for_approval_and_a_denial_lets_the_customer_retry(app) {
        let c = catalog(app).await;
        let (_, path) = create(app, &order(&c, |_| {})).await;
        let r = submit(app, &path, &pay_fields(CHALLENGE)).await;
        assert_eq!(r.status, 303);
        let challenge = location(&r).strip_prefix(&app.base).unwrap().to_string();
        assert!(challenge.starts_with(&format!("{path}/challenge/pay_")), "{challenge}");
        let (status, page) = get_page(app, &challenge).await;
        assert_eq!(status, 200);
        assert!(page.contains("$574.00"), "{page}");
        let denied = post_form(app, &challenge, &csrf_of(&page), &[("answer", "deny")]).await;
        assert_eq!(denied.status, 402);
        assert_eq!(count_where(app, "payments", "status = 'FAILED'").await, 1);
        assert_eq!(events(app, "payment.failed").await, 1);
        // The same challenge cannot be answered twice.
        let again = post_form(app, &challenge, &csrf_of(&page), &[("answer", "approve")]).await;
        assert_eq!((again.status, location(&again)), (303, path.clone()));
        assert_eq!(app.count("subscriptions").await, 0);

        let r = submit(app, &path, &pay_fields(CHALLENGE)).await;
        let challenge = location(&r).strip_prefix(&app.base).unwrap().to_string();
        let (_, page) = get_page(app, &challenge).await;
        let approved = post_form(app, &challenge, &csrf_of(&page), &[("answer", "approve")]).await;
        assert_eq!((approved.status, location(&approved)), (303, path.clone()));
        assert_eq!(count_where(app, "payments", "status = 'SUCCEEDED'").await, 1);
        assert_eq!(app.count("subscriptions").await, 1);
    }

    async fn a_form_without_its_csrf_token_changes_nothing(app) {
        let c = catalog(app).await;
        let (_, path) = create(app, &order(&c, |_| {})).await;
        get_page(app, &path).await;
        let r = post_form(app, &path, "0".repeat(64).as_str(), &pay_fields(SUCCESS)).await;
        assert_eq!(r.status, 403);
        let stranger = reqwest::Client::new();
        let mut form = vec![("csrf", "x")];
        form.extend(pay_fields(SUCCESS));
        let r = stranger.post(format!("{}{path}", app.base)).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(app.count("payments").await, 0);
        let (status, _) = get_page(app, &path).await;
        assert_eq!(status, 200);
    }

    async fn unknown_checkouts_and_links_get_friendly_pages(app) {
        for path in ["/checkout/00000000000000000000000000000000", "/checkout/nope", "/l/no-such-link"] {
            let (status, page) = get_page(app, path).await;
            assert_eq!(status, 404, "{path}");
            assert!(page.contains("<h1>"), "{path}: {page}");
        }
    }

    async fn a_preview_shows_the_customer_page_without_its_token_and_records_nothing(app) {
        let c = catalog(app).await;
        let (id, path) = create(app, &order(&c, |b| b["expires_in_hours"] = json!(1))).await;
        for hours in [0, 721] {
            let r = app.post_company(&format!("/checkout/{id}/preview_link"), &json!({"expires_in_hours": hours})).await;
            r.assert_error(422, "expires_in_hours");
            assert_eq!(r.body["error"]["message"], "`expires_in_hours` must be between 1 and 720.");
        }
        let link = app.post_company(&format!("/checkout/{id}/preview_link"), &json!({"expires_in_hours": 3})).await;
        let url = link.ok()["url"].as_str().unwrap().to_string();
        let preview = url.strip_prefix(&app.base).unwrap().to_string();
        // Past the session's own expiry, the preview still shows the page and expires nothing.
        app.clock.advance(Duration::hours(2));
        let (status, page) = get_page(app, &preview).await;
        assert_eq!(status, 200);
        assert!(page.contains("Preview") && page.contains("$574.00"), "{page}");
        assert!(!page.contains(path.trim_start_matches("/checkout/")), "the customer's token must not leak");
        assert!(page.contains("disabled"));
        // Read the row itself: the merchant API would (rightly) expire the overdue session.
        let untouched = format!("id = '{id}' AND status = 'CREATED' AND updated_at = created_at");
        assert_eq!(count_where(app, "checkout_sessions", &untouched).await, 1);
        assert_eq!(events(app, "checkout.expired").await, 0);
        // A tampered or expired preview is nothing.
        let (status, _) = get_page(app, &preview.replace("signature=", "signature=0")).await;
        assert_eq!(status, 404);
        app.clock.advance(Duration::hours(2));
        let (status, _) = get_page(app, &preview).await;
        assert_eq!(status, 404);
        let r = app.client.post(format!("{}{preview}", app.base)).form(&pay_fields(SUCCESS)).send().await.unwrap();
        assert_eq!(r.status(), 405);
        assert_eq!(app.count("payments").await, 0);
    }

    async fn a_reusable_link_starts_a_fresh_session_for_each_visitor(app) {
        let c = catalog(app).await;
        let r = app.post_company("/checkout_links", &json!({
            "name": "Team plan", "slug": "team-plan",
            "items": [{"type": "plan", "product_pricing_id": c.team, "quantity": 3, "max_quantity": 20},
                      {"type": "product", "product_pricing_id": c.onboarding}],
            "options": {"coupons_allowed": true, "force_company": true, "trial_days": 7},
            "action": "confirmation_message", "confirmation_message": "Welcome aboard",
            "back_url": "https://merchant.example"
        })).await;
        let link = r.ok().clone();
        assert_eq!(link["url"], format!("{}/l/team-plan", app.base));
        let visit = |client: reqwest::Client| async move {
            let r = client.get(format!("{}/l/team-plan", app.base)).send().await.unwrap();
            assert_eq!(r.status(), 303);
            r.headers()["location"].to_str().unwrap().to_string()
        };
        let first = visit(app.client.clone()).await;
        let second = visit(app.client.clone()).await;
        assert!(first.starts_with("/checkout/") && first != second);
        let (status, page) = get_page(app, &first).await;
        assert_eq!(status, 200);
        // 3 seats in a 7-day trial; today only the $499 onboarding. Company is required.
        assert!(page.contains("$499.00") && page.contains("autocomplete=\"organization\" required"), "{page}");
        let mut fields = pay_fields(SUCCESS);
        fields.retain(|(k, _)| !["country", "line1", "city", "postal_code"].contains(k));
        let r = submit(app, &first, &fields).await;
        assert_eq!(r.status, 422, "company is required");
        fields.push(("company", "Lima Labs"));
        let r = submit(app, &first, &fields).await;
        assert_eq!((r.status, location(&r)), (303, first.clone()));
        let (_, done) = get_page(app, &first).await;
        assert!(done.contains("Welcome aboard") && done.contains("https://merchant.example"), "{done}");
        let completed = app.get_company("/checkout?status=COMPLETED").await;
        assert_eq!(completed.ok()["data"][0]["link_id"], link["id"]);

        let r = app.post_company(&format!("/checkout_links/{}/disable", link["id"].as_str().unwrap()), &json!({})).await;
        assert_eq!(r.ok()["enabled"], false);
        let (status, page) = get_page(app, "/l/team-plan").await;
        assert_eq!(status, 410);
        assert!(page.contains("no longer active"), "{page}");
        let r = app.post_company("/checkout_links", &json!({"name": "Dup", "slug": "team-plan",
            "items": [{"type": "plan", "product_pricing_id": c.team}]})).await;
        r.assert_error(422, "slug");
        let r = app.post_company("/checkout_links", &json!({"name": "Bad",
            "items": [{"type": "plan", "product_pricing_id": "pp_nope"}]})).await;
        r.assert_error(422, "items[0].product_pricing_id");
    }

    async fn a_german_customer_gets_a_german_page_with_euros_written_the_german_way(app) {
        let team = app
            .pricing("EUR", json!([{"name": "Plätze", "unit_label": "Platz", "pricing_model": "PER_UNIT",
                "unit_amount": 123456, "billing_period": {"count": 1, "frequency": "MONTH"}}]))
            .await;
        let id = team["id"].as_str().unwrap();
        let (_, path) = create(app, &json!({"product_pricing_ids": [id], "locale": "de"})).await;
        let (_, page) = get_page(app, &path).await;
        assert!(page.contains("lang=\"de\""), "{page}");
        assert!(page.contains("1.234,56 €"), "{page}");
        assert!(page.contains("Heute fällig") || page.contains("heute fällig"), "{page}");
        // Without a session locale, the browser's language decides.
        let (_, path) = create(app, &json!({"product_pricing_ids": [id]})).await;
        let r = app.client.get(format!("{}{path}", app.base)).header("accept-language", "de-DE,de;q=0.9,en;q=0.5").send().await.unwrap();
        assert!(r.text().await.unwrap().contains("1.234,56 €"));
    }
}

on_both_stores! {
    async fn guessing_promo_codes_is_rate_limited_per_session(app) {
        let c = catalog(app).await;
        let (_, path) = create(app, &order(&c, |_| {})).await;
        let (_, page) = get_page(app, &path).await;
        let csrf = csrf_of(&page);
        for i in 0..10 {
            let code = format!("GUESS{i}");
            let r = post_form(app, &path, &csrf, &[("promo_code", code.as_str()), ("action", "apply_promo")]).await;
            assert_eq!(r.status, 303, "attempt {i}");
        }
        let r = post_form(app, &path, &csrf, &[("promo_code", "SAVE10"), ("action", "apply_promo")]).await;
        assert_eq!(r.status, 429);
        assert!(html(&r).contains("Too many attempts"), "{}", html(&r));
        // The refused attempt did not apply the (valid) code.
        let (_, page) = get_page(app, &path).await;
        assert!(!page.contains("−$"), "{page}");
    }
}

on_both_stores! {
    async fn a_flat_price_offers_no_quantity_to_change(app) {
        let flat = app
            .pricing("USD", json!([{"name": "Starter plan", "pricing_model": "FLAT", "amount": 2900,
                "billing_period": {"count": 1, "frequency": "MONTH"}}]))
            .await;
        let id = flat["id"].as_str().unwrap();
        let (_, path) = create(app, &json!({"product_pricing_ids": [id], "config_items": [{"product_pricing_id": id,
            "num_licenses": 1, "quantity_config": {"allow_custom_quantity": true, "min_quantity": 1, "max_quantity": 9}}]})).await;
        let (status, page) = get_page(app, &path).await;
        assert_eq!(status, 200);
        assert!(page.contains("$29.00") && !page.contains("name=\"qty."), "{page}");
    }
}

on_both_stores! {
    async fn clients_that_hang_up_mid_request_never_wedge_the_store(app) {
        let c = catalog(app).await;
        let body = order(&c, |_| {});
        let url = format!("{}{}", app.base, app.company_path("/checkout"));
        // Many writers at once queue for the store; each hangs up after a few milliseconds, some
        // while waiting to begin their transaction, some inside it, some while committing.
        let client = reqwest::Client::new();
        for round in 0..8u64 {
            let hung_up = (0..16u64).map(|k| {
                let request = client.post(&url).bearer_auth(&app.api_key).json(&body).send();
                tokio::time::timeout(std::time::Duration::from_millis(1 + (round * 16 + k) % 12), request)
            });
            futures_util::future::join_all(hung_up).await;
        }
        // Every later request still gets its answer, and the store takes writes.
        for _ in 0..20 {
            let r = app.post_company("/checkout", &body).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
    }
}
