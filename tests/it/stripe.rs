//! The Stripe adapter end to end against a local server speaking Stripe's protocol: the
//! requests Kasse sends (exact amount and currency, metadata, Bearer key, Stripe-Version,
//! idempotency keys stable across a timeout's retry), the Payment Element page, the return
//! handler and the webhook in either order fulfilling exactly once, and refused signatures.

use std::time::Duration;

use kasse::config::Config;
use kasse::payments::stripe::config::{Mode, StripeSettings};
use serde_json::{Value, json};

use crate::checkout::{
    PAYMENT_FAILED_FIELDS, count_where, customer_fields, event_data, events, fields_of, get_page, location, post_form,
    scalar,
};
use crate::stripe_double::{StripeDouble, signature};
use crate::support::{Store, TestApp};

pub(crate) const WEBHOOK_SECRET: &str = "whsec_kasse_test";

pub(crate) async fn spawn(store: Store, double: &StripeDouble) -> TestApp {
    let settings = StripeSettings {
        secret_key: StripeDouble::SECRET_KEY.into(),
        publishable_key: "pk_test_double".into(),
        webhook_secrets: vec!["whsec_old_secret".into(), WEBHOOK_SECRET.into()],
        api_base: double.url(),
        js_url: format!("{}/v3/", double.url()),
        mode: Mode::Test,
        timeout: Duration::from_secs(1),
    };
    let app = TestApp::spawn_configured(store, |c: &mut Config| c.stripe = Some(settings)).await;
    let set = kasse::db::companies::set_payment_provider(&app.db, &app.company_id, "stripe", app.clock.now());
    assert!(set.await.unwrap());
    app
}

/// A one-time $499 onboarding checkout; returns (checkout id, page path).
pub(crate) async fn checkout(app: &TestApp, extra: Value) -> (String, String) {
    let onboarding =
        app.pricing("USD", json!([{"name": "Onboarding", "pricing_model": "FLAT", "amount": 49900}])).await;
    let mut body = json!({"product_pricing_ids": [onboarding["id"]]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = app.post_company("/checkout", &body).await;
    let b = r.ok();
    let path = b["url"].as_str().unwrap().strip_prefix(&app.base).unwrap().to_string();
    (b["id"].as_str().unwrap().to_string(), path)
}

/// Press Pay on the checkout page; the answer (303 to the Payment Element step, or a page).
pub(crate) async fn press_pay(app: &TestApp, path: &str) -> crate::support::Resp {
    let (_, page) = get_page(app, path).await;
    let csrf = crate::checkout::csrf_of(&page);
    let mut fields = customer_fields();
    fields.push(("action", "pay"));
    post_form(app, path, &csrf, &fields).await
}

pub(crate) async fn send_webhook(app: &TestApp, event: &Value, secret: &str, at: i64) -> u16 {
    let body = serde_json::to_vec(event).unwrap();
    let r = app
        .client
        .post(format!("{}/webhooks/stripe", app.base))
        .header("content-type", "application/json")
        .header("stripe-signature", signature(&body, secret, at))
        .body(body)
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The intent request the double got for our payment carries it as key and metadata.
fn assert_intent_requested(double: &StripeDouble, payment_id: &str) {
    let created = double.requests_to("POST", "/v1/payment_intents");
    let request = created.iter().find(|r| r.idempotency_key.as_deref() == Some(payment_id)).expect("intent request");
    assert_eq!(request.param("metadata[kasse_payment_id]"), Some(payment_id));
}

macro_rules! both_stores {
    ($($name:ident => $scenario:ident;)*) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$scenario(crate::support::Store::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$scenario(crate::support::Store::Postgres).await;
                }
            }
        )*
    };
}

both_stores! {
    a_checkout_pays_through_stripe_and_the_later_webhook_changes_nothing => return_then_webhook;
    the_webhook_before_the_return_fulfils_once => webhook_then_return;
    refused_signatures_store_nothing_and_replays_change_nothing => signatures;
    a_timeout_is_retried_with_the_same_idempotency_key => timeout_then_retry;
    a_decline_in_the_element_keeps_the_customer_on_the_payment_step => decline_then_success;
    a_decline_stripe_reports_carries_the_fields_of_every_payment_failed => reported_decline_fields;
    stripe_down_on_the_payment_step_is_a_page_to_try_again => stripe_down_on_the_step;
    refunds_in_stripe_reach_the_payment_and_the_merchant_once_each => refunds;
    paid_for_an_order_that_changed_meanwhile_is_not_fulfilled_and_said_so => order_changed_after_payment;
    a_payment_stripe_refuses_to_create_fails_with_its_reason_and_tells_the_merchant => permanent_refusal;
    sepa_debit_is_offered_only_when_the_company_enabled_it_and_trials_ask_for_the_same_types => method_types;
    every_attempt_of_one_customer_uses_one_stripe_customer => one_stripe_customer;
    an_intent_that_does_not_match_its_payment_gets_a_page_and_an_acknowledged_webhook => mismatched_intent;
}

/// The payment method types an intent request asked for.
fn asked_types(r: &crate::stripe_double::Recorded) -> Vec<String> {
    r.params.iter().filter(|(k, _)| k.starts_with("allowed_payment_method_types")).map(|(_, v)| v.clone()).collect()
}

/// A checkout of one flat item of `amount` minor units in `currency`, with `extra` fields.
async fn checkout_of(app: &TestApp, currency: &str, amount: i64, extra: Value) -> (String, String) {
    let item = app.pricing(currency, json!([{"name": "Item", "pricing_model": "FLAT", "amount": amount}])).await;
    let mut body = json!({"product_pricing_ids": [item["id"]]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let b = app.post_company("/checkout", &body).await;
    let b = b.ok();
    (b["id"].as_str().unwrap().to_string(), b["url"].as_str().unwrap().strip_prefix(&app.base).unwrap().to_string())
}

async fn permanent_refusal(store: Store) {
    let double = StripeDouble::start().await;
    let app = spawn(store, &double).await;
    // 30 cents: below Stripe's minimum charge, which no retry changes.
    let (_, path) = checkout_of(&app, "USD", 30, json!({})).await;
    for attempt in 1..=2 {
        let r = press_pay(&app, &path).await;
        let page = String::from_utf8_lossy(&r.bytes).to_string();
        assert_eq!(r.status, 402, "attempt {attempt}: {page}");
        assert!(page.contains("This payment cannot be made: Amount must be at least 50"), "{page}");
        assert_eq!(
            count_where(&app, "payments", "status = 'FAILED' AND failure_reason LIKE '%at least 50%'").await,
            attempt
        );
        assert_eq!(events(&app, "payment.failed").await, attempt);
    }
    assert_eq!(count_where(&app, "payments", "status = 'PROCESSING'").await, 0, "nothing left to retry forever");
    app.finish().await;
}

async fn method_types(store: Store) {
    let double = StripeDouble::start().await;
    let app = spawn(store, &double).await;
    // Euros, SEPA not enabled: cards only, so Stripe never refuses an inactive type.
    let (_, path) = checkout_of(&app, "EUR", 49900, json!({})).await;
    assert_eq!(press_pay(&app, &path).await.status, 303);
    let intents = double.requests_to("POST", "/v1/payment_intents");
    assert_eq!(asked_types(&intents[0]), vec!["card"]);

    // Enabled for the company, but not activated in the Stripe account: Stripe refuses, and the
    // page says so at once instead of "try again".
    let set = kasse::db::companies::set_payment_methods(&app.db, &app.company_id, "stripe", true, app.clock.now());
    assert!(set.await.unwrap());
    let (_, path) = checkout_of(&app, "EUR", 49900, json!({})).await;
    let r = press_pay(&app, &path).await;
    assert_eq!(r.status, 402, "{}", String::from_utf8_lossy(&r.bytes));
    assert!(String::from_utf8_lossy(&r.bytes).contains("sepa_debit"));
    // Activated: cards and SEPA Direct Debit; a SetupIntent (nothing due) asks for the same.
    double.activate("sepa_debit");
    let (_, path) = checkout_of(&app, "EUR", 49900, json!({})).await;
    assert_eq!(press_pay(&app, &path).await.status, 303);
    let free = json!({"discounts": [{"name": "Free", "type": "DISCOUNT_PERCENT", "percent": 1}]});
    let (_, path) = checkout_of(&app, "EUR", 49900, free).await;
    assert_eq!(press_pay(&app, &path).await.status, 303);
    let intents = double.requests_to("POST", "/v1/payment_intents");
    assert_eq!(asked_types(intents.last().unwrap()), vec!["card", "sepa_debit"]);
    let setups = double.requests_to("POST", "/v1/setup_intents");
    assert_eq!(setups.len(), 1);
    assert_eq!(asked_types(&setups[0]), vec!["card", "sepa_debit"]);
    app.finish().await;
}

async fn one_stripe_customer(store: Store) {
    let double = StripeDouble::start().await;
    let app = spawn(store, &double).await;
    let customer = app.post_company("/customers", &json!({"name": "Ana Lima", "email": "ana@example.com"})).await;
    let customer = customer.ok()["id"].as_str().unwrap().to_string();
    // Two checkouts of one customer, each left on the payment step.
    let mut stripe_customers = Vec::new();
    for _ in 0..2 {
        let (_, path) = checkout_of(&app, "USD", 49900, json!({"customer_id": customer})).await;
        let r = press_pay(&app, &path).await;
        assert_eq!(r.status, 303, "{}", String::from_utf8_lossy(&r.bytes));
        let payment_id = location(&r).rsplit('/').next().unwrap().to_string();
        let intent = scalar_text(&app, &format!("SELECT provider_ref FROM payments WHERE id = '{payment_id}'")).await;
        stripe_customers.push(double.intent(&intent).unwrap()["customer"].as_str().unwrap().to_string());
    }
    assert_eq!(stripe_customers[0], stripe_customers[1], "one Stripe Customer for one Kasse customer");
    app.finish().await;
}

async fn mismatched_intent(store: Store) {
    let double = StripeDouble::start().await;
    let app = spawn(store, &double).await;
    let (checkout_id, path, payment_id, intent) = to_element(&app, &double).await;
    double.customer_confirms(&intent, "pm_card_visa");
    // Stripe holds another amount for this intent than our payment (a stale or mixed-up link).
    double.set_intent_field(&intent, "amount", json!(100));
    let back = app.client.get(format!("{}{path}/challenge/{payment_id}/return", app.base)).send().await.unwrap();
    assert_eq!(back.status(), 409);
    let page = back.text().await.unwrap();
    assert!(page.contains("id=\"element-problem\"") && page.contains("does not match your order"), "{page}");
    assert!(page.contains(&format!("href=\"{path}\"")), "a way back: {page}");
    let event = double.event("payment_intent.succeeded", double.intent(&intent).unwrap());
    assert_eq!(send_webhook(&app, &event, WEBHOOK_SECRET, now()).await, 200, "acknowledged, not retried forever");
    let completed =
        format!("SELECT COUNT(*) FROM checkout_sessions WHERE id = '{checkout_id}' AND status = 'COMPLETED'");
    assert_eq!(scalar(&app.db, &completed).await, 0);
    assert_eq!(events(&app, "checkout.completed").await, 0);
    app.finish().await;
}

/// Pay up to the Payment Element; returns (checkout id, page path, payment id, intent id).
async fn to_element(app: &TestApp, double: &StripeDouble) -> (String, String, String, String) {
    let (id, path) = checkout(app, json!({})).await;
    let (status, page) = get_page(app, &path).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"card-next-step\"") && !page.contains("name=\"card_number\""), "{page}");
    let r = press_pay(app, &path).await;
    assert_eq!(r.status, 303, "{}", String::from_utf8_lossy(&r.bytes));
    let step = location(&r);
    let payment_id = step.rsplit('/').next().unwrap().to_string();
    assert!(step.ends_with(&format!("/challenge/{payment_id}")), "{step}");
    let intent = scalar_text(app, &format!("SELECT provider_ref FROM payments WHERE id = '{payment_id}'")).await;
    assert!(intent.starts_with("pi_"), "{intent}");
    assert_intent_requested(double, &payment_id);
    (id, path, payment_id, intent)
}

pub(crate) async fn scalar_text(app: &TestApp, query: &str) -> String {
    let rows = kasse::db::Db::clone(&app.db);
    let value: Option<String> = match &rows {
        kasse::db::Db::Sqlite(p) => sqlx::query_scalar(query).fetch_one(p).await.unwrap(),
        kasse::db::Db::Postgres(p) => sqlx::query_scalar(query).fetch_one(p).await.unwrap(),
    };
    value.unwrap_or_default()
}

async fn return_then_webhook(store: Store) {
    let double = StripeDouble::start().await;
    let app = spawn(store, &double).await;
    let (checkout_id, _path, payment_id, intent) = to_element(&app, &double).await;

    // What Kasse asked Stripe for: the exact amount in minor units, our ids, one key per payment.
    let created = double.requests_to("POST", "/v1/payment_intents");
    assert_eq!(created.len(), 1);
    let r = &created[0];
    assert_eq!(r.authorization, format!("Bearer {}", StripeDouble::SECRET_KEY));
    assert!(r.stripe_version.as_deref().is_some_and(|v| !v.is_empty()));
    assert_eq!(r.content_type.as_deref(), Some("application/x-www-form-urlencoded"));
    assert_eq!(r.idempotency_key.as_deref(), Some(payment_id.as_str()));
    assert_eq!((r.param("amount"), r.param("currency")), (Some("49900"), Some("usd")));
    assert_eq!(r.param("metadata[kasse_checkout_id]"), Some(checkout_id.as_str()));
    assert!(r.param("customer").is_some_and(|c| c.starts_with("cus_")));
    let customers = double.requests_to("POST", "/v1/customers");
    assert_eq!(customers[0].param("email"), Some("ana@example.com"));

    // The Payment Element page: the client secret, the publishable key, a CSP naming Stripe.js.
    let step = format!("{}/checkout/{}/challenge/{payment_id}", app.base, _path.rsplit('/').next().unwrap());
    let page = app.client.get(&step).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    let body = page.text().await.unwrap();
    let secret = double.intent(&intent).unwrap()["client_secret"].as_str().unwrap().to_string();
    assert!(body.contains(&secret) && body.contains("pk_test_double") && body.contains("<noscript>"), "{body}");
    assert!(csp.contains("script-src 'self' 'nonce-") && csp.contains(&double.url()), "{csp}");
    assert!(csp.contains(&format!("frame-src {}", double.url())), "{csp}");

    // The customer pays in the element; Stripe sends them back. Query parameters are ignored.
    double.customer_confirms(&intent, "pm_card_visa");
    let back = app.client.get(format!("{step}/return?redirect_status=failed")).send().await.unwrap();
    assert_eq!(back.status(), 303);
    assert_eq!(
        scalar(
            &app.db,
            &format!("SELECT COUNT(*) FROM checkout_sessions WHERE id = '{checkout_id}' AND status = 'COMPLETED'")
        )
        .await,
        1
    );
    assert_eq!(count_where(&app, "payments", "status = 'SUCCEEDED'").await, 1);
    assert_eq!(count_where(&app, "invoices", "status = 'PAID'").await, 1);
    assert_eq!(events(&app, "checkout.completed").await, 1);

    // Stripe's webhook afterwards, and its redelivery: nothing more.
    let event = double.event("payment_intent.succeeded", double.intent(&intent).unwrap());
    assert_eq!(send_webhook(&app, &event, WEBHOOK_SECRET, now()).await, 200);
    assert_eq!(send_webhook(&app, &event, WEBHOOK_SECRET, now()).await, 200);
    assert_eq!(count_where(&app, "invoices", "1 = 1").await, 1);
    assert_eq!(events(&app, "checkout.completed").await, 1);
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM provider_events WHERE handled_at IS NOT NULL").await, 1);
    app.finish().await;
}

async fn webhook_then_return(store: Store) {
    let double = StripeDouble::start().await;
    let app = spawn(store, &double).await;
    let (checkout_id, path, payment_id, intent) = to_element(&app, &double).await;
    double.customer_confirms(&intent, "pm_card_visa");
    let event = double.event("payment_intent.succeeded", double.intent(&intent).unwrap());
    assert_eq!(send_webhook(&app, &event, WEBHOOK_SECRET, now()).await, 200);
    let completed =
        format!("SELECT COUNT(*) FROM checkout_sessions WHERE id = '{checkout_id}' AND status = 'COMPLETED'");
    assert_eq!(scalar(&app.db, &completed).await, 1);
    let token = path.rsplit('/').next().unwrap();
    let back = app.client.get(format!("{}/checkout/{token}/challenge/{payment_id}/return", app.base)).send().await;
    assert_eq!(back.unwrap().status(), 303);
    assert_eq!(count_where(&app, "invoices", "status = 'PAID'").await, 1);
    assert_eq!(events(&app, "checkout.completed").await, 1);
    assert_eq!(count_where(&app, "payments", "status = 'SUCCEEDED'").await, 1);
    app.finish().await;
}

async fn signatures(store: Store) {
    let double = StripeDouble::start().await;
    let app = spawn(store, &double).await;
    let event = double.event("customer.created", json!({"id": "cus_1", "object": "customer"}));
    let body = serde_json::to_vec(&event).unwrap();
    let post = |header: String, body: Vec<u8>| {
        let request = app.client.post(format!("{}/webhooks/stripe", app.base)).header("stripe-signature", header);
        async move { request.body(body).send().await.unwrap().status().as_u16() }
    };
    // Wrong secret, stale timestamp, v0 only, a tampered body: 400 and nothing stored.
    assert_eq!(post(signature(&body, "whsec_wrong", now()), body.clone()).await, 400);
    assert_eq!(post(signature(&body, WEBHOOK_SECRET, now() - 301), body.clone()).await, 400);
    let v0 = signature(&body, WEBHOOK_SECRET, now()).replace("v1=", "v0=");
    assert_eq!(post(v0, body.clone()).await, 400);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert_eq!(post(signature(&body, WEBHOOK_SECRET, now()), tampered).await, 400);
    assert_eq!(post(String::new(), body.clone()).await, 400);
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM provider_events").await, 0);
    // Valid (with the older secret still accepted while it rolls): stored once; a replay is a no-op.
    assert_eq!(post(signature(&body, "whsec_old_secret", now()), body.clone()).await, 200);
    assert_eq!(post(signature(&body, WEBHOOK_SECRET, now()), body.clone()).await, 200);
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM provider_events").await, 1);
    app.finish().await;
}

async fn timeout_then_retry(store: Store) {
    let double = StripeDouble::start().await;
    let app = spawn(store, &double).await;
    // A customer mirrored earlier, so the intent is the first call Stripe gets.
    let customer = app.post_company("/customers", &json!({"name": "Ana Lima", "email": "ana@example.com"})).await;
    let customer = customer.ok()["id"].as_str().unwrap().to_string();
    let mirrored: Value = reqwest::Client::new()
        .post(format!("{}/v1/customers", double.url()))
        .bearer_auth(StripeDouble::SECRET_KEY)
        .form(&[("email", "ana@example.com")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let known = mirrored["id"].as_str().unwrap().to_string();
    let mirror = format!("UPDATE customers SET provider_customer_ref = '{known}' WHERE id = '{customer}'");
    crate::checkout::sql(&app.db, &mirror).await;
    let (_, path) = checkout(&app, json!({"customer_id": customer})).await;
    // Stripe makes the intent, but its answer is lost: the client gives up after 1 s.
    double.delay_next(1, Duration::from_secs(3));
    let r = press_pay(&app, &path).await;
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(count_where(&app, "payments", "status = 'PROCESSING'").await, 1);
    assert_eq!(double.intents_created(), 1, "Stripe did make it");
    let before = double.intents_created();
    // The retry: the same payment, the same key, the intent Stripe made the first time.
    let r = press_pay(&app, &path).await;
    assert_eq!(r.status, 303, "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(double.intents_created(), before, "no second intent");
    let sent = double.requests_to("POST", "/v1/payment_intents");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].idempotency_key, sent[1].idempotency_key);
    // Metadata comes from a map, so its order may differ; its content may not.
    let sorted = |r: &crate::stripe_double::Recorded| {
        let mut p = r.params.clone();
        p.sort();
        p
    };
    assert_eq!(sorted(&sent[0]), sorted(&sent[1]), "the retry asks for exactly the same");
    assert_eq!(sent[1].param("customer"), Some(known.as_str()));
    assert_eq!(count_where(&app, "payments", "1 = 1").await, 1);
    app.finish().await;
}

/// Stripe's report of a decline (`payment_intent.payment_failed`) tells the merchant with the
/// same fields as a decline on our own pages, the customer found through the checkout.
async fn reported_decline_fields(store: Store) {
    let double = StripeDouble::start().await;
    let app = spawn(store, &double).await;
    let r = app.post_company("/customers", &json!({"name": "Ada", "email": "ada@example.com"})).await;
    let customer = r.ok()["id"].as_str().unwrap().to_string();
    let (checkout_id, path) = checkout(&app, json!({"customer_id": customer})).await;
    let r = press_pay(&app, &path).await;
    assert_eq!(r.status, 303, "{}", String::from_utf8_lossy(&r.bytes));
    let payment_id = location(&r).rsplit('/').next().unwrap().to_string();
    let intent = scalar_text(&app, &format!("SELECT provider_ref FROM payments WHERE id = '{payment_id}'")).await;
    double.customer_confirms(&intent, "pm_card_chargeDeclined");
    let event = double.event("payment_intent.payment_failed", double.intent(&intent).unwrap());
    assert_eq!(send_webhook(&app, &event, WEBHOOK_SECRET, now()).await, 200);
    let sent = event_data(&app, "payment.failed").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let data = &sent[0];
    assert_eq!(fields_of(data), PAYMENT_FAILED_FIELDS, "{data}");
    let ids = (data["payment_id"].as_str(), data["checkout_id"].as_str(), data["customer_id"].as_str());
    assert_eq!(ids, (Some(payment_id.as_str()), Some(checkout_id.as_str()), Some(customer.as_str())));
    assert_eq!((data["amount"].as_i64(), data["currency"].as_str()), (Some(49900), Some("USD")));
    assert!(data["invoice_id"].is_null() && data["reason"].as_str().is_some_and(|r| !r.is_empty()), "{data}");
    app.finish().await;
}

async fn decline_then_success(store: Store) {
    let double = StripeDouble::start().await;
    let app = spawn(store, &double).await;
    let (checkout_id, path, payment_id, intent) = to_element(&app, &double).await;
    let token = path.rsplit('/').next().unwrap();
    let step = format!("{}/checkout/{token}/challenge/{payment_id}", app.base);
    double.customer_confirms(&intent, "pm_card_chargeDeclined");
    let event = double.event("payment_intent.payment_failed", double.intent(&intent).unwrap());
    assert_eq!(send_webhook(&app, &event, WEBHOOK_SECRET, now()).await, 200);
    assert_eq!(events(&app, "payment.failed").await, 1);
    let back = app.client.get(format!("{step}/return")).send().await.unwrap();
    assert_eq!(back.status(), 200);
    assert!(back.text().await.unwrap().contains("declined"));
    let open = format!("SELECT COUNT(*) FROM checkout_sessions WHERE id = '{checkout_id}' AND status = 'COMPLETED'");
    assert_eq!(scalar(&app.db, &open).await, 0);
    double.customer_confirms(&intent, "pm_card_visa");
    let back = app.client.get(format!("{step}/return")).send().await.unwrap();
    assert_eq!(back.status(), 303);
    assert_eq!(scalar(&app.db, &open).await, 1);
    assert_eq!(events(&app, "checkout.completed").await, 1);
    app.finish().await;
}

async fn stripe_down_on_the_step(store: Store) {
    let double = StripeDouble::start().await;
    let app = spawn(store, &double).await;
    let (checkout_id, path, payment_id, _intent) = to_element(&app, &double).await;
    let step = format!("{path}/challenge/{payment_id}");
    // Stripe answers 500 to everything: the step is a page saying nothing was charged, with a
    // way to try again and a way back; the return handler says the same and settles nothing.
    double.fail_next(10);
    for url in [step.clone(), format!("{step}/return")] {
        let (status, page) = get_page(&app, &url).await;
        assert_eq!(status, 503, "{url}: {page}");
        assert!(page.contains("id=\"element-problem\"") && page.contains("could not be completed"), "{page}");
        assert!(page.contains(&format!("href=\"{step}\"")) && page.contains(&format!("href=\"{path}\"")), "{page}");
    }
    double.fail_next(0);
    let (status, page) = get_page(&app, &step).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"payment-element\""), "{page}");
    let open = format!("SELECT COUNT(*) FROM checkout_sessions WHERE id = '{checkout_id}' AND status = 'COMPLETED'");
    assert_eq!(scalar(&app.db, &open).await, 0);
    app.finish().await;
}

async fn refunds(store: Store) {
    let double = StripeDouble::start().await;
    let app = spawn(store, &double).await;
    // The merchant listens for refunds only: the event type is one endpoints may subscribe to.
    let endpoint = app
        .post_company(
            "/webhook_endpoints",
            &json!({"url": "https://merchant.example/hooks",
        "event_types": ["payment.refunded"]}),
        )
        .await;
    assert_eq!(endpoint.status, 200, "{}", endpoint.body);
    let (_, path, payment_id, intent) = to_element(&app, &double).await;
    double.customer_confirms(&intent, "pm_card_visa");
    let back = app.client.get(format!("{}{path}/challenge/{payment_id}/return", app.base)).send().await.unwrap();
    assert_eq!(back.status(), 303);
    let charge = double.intent(&intent).unwrap()["latest_charge"].as_str().unwrap().to_string();
    // Stripe's charge carries the intent, not our metadata (that stays on the intent).
    let refunded = |amount: i64| {
        json!({"id": charge, "object": "charge", "amount": 49900, "amount_refunded": amount, "currency": "usd",
            "payment_intent": intent, "refunded": amount == 49900, "metadata": {}})
    };
    let payment = |column: &str| format!("SELECT {column} FROM payments WHERE id = '{payment_id}'");

    let partial = double.event("charge.refunded", refunded(10000));
    assert_eq!(send_webhook(&app, &partial, WEBHOOK_SECRET, now()).await, 200);
    assert_eq!(send_webhook(&app, &partial, WEBHOOK_SECRET, now()).await, 200);
    assert_eq!(scalar(&app.db, &payment("amount_refunded")).await, 10000);
    assert_eq!(scalar_text(&app, &payment("status")).await, "SUCCEEDED");
    assert_eq!(events(&app, "payment.refunded").await, 1);

    let whole = double.event("charge.refunded", refunded(49900));
    assert_eq!(send_webhook(&app, &whole, WEBHOOK_SECRET, now()).await, 200);
    assert_eq!(scalar(&app.db, &payment("amount_refunded")).await, 49900);
    assert_eq!(scalar_text(&app, &payment("status")).await, "REFUNDED");
    assert_eq!(events(&app, "payment.refunded").await, 2);
    let sent = scalar_text(
        &app,
        "SELECT payload FROM outbox_events WHERE event_type = 'payment.refunded' ORDER BY id DESC LIMIT 1",
    )
    .await;
    let sent: Value = serde_json::from_str(&sent).unwrap();
    let data = &sent["data"];
    assert_eq!(
        (data["payment_id"].as_str(), data["amount_refunded"].as_i64()),
        (Some(payment_id.as_str()), Some(49900))
    );
    // …and it is on its way to the endpoint that asked for refunds.
    let delivery = format!("event_id = '{}'", sent["id"].as_str().unwrap());
    assert_eq!(count_where(&app, "webhook_deliveries", &delivery).await, 1);
    // The earlier partial refund's event, late: the total only grows.
    let late = double.event("charge.refunded", refunded(10000));
    assert_eq!(send_webhook(&app, &late, WEBHOOK_SECRET, now()).await, 200);
    assert_eq!(scalar(&app.db, &payment("amount_refunded")).await, 49900);
    assert_eq!(events(&app, "payment.refunded").await, 2);
    app.finish().await;
}

async fn order_changed_after_payment(store: Store) {
    let double = StripeDouble::start().await;
    let app = spawn(store, &double).await;
    // A waiting one-time charge the customer's checkout collects with the order.
    let customer = app.post_company("/customers", &json!({"name": "Ana Lima", "email": "ana@example.com"})).await;
    let customer = customer.ok()["id"].as_str().unwrap().to_string();
    let setup = app.pricing("USD", json!([{"name": "Setup", "pricing_model": "FLAT", "amount": 10000}])).await;
    let next = json!({"customer_id": customer, "type": "NEXT", "onetime_items": [{"product_pricing_id": setup["id"]}]});
    assert_eq!(app.post_company("/one_times", &next).await.status, 200);
    let (checkout_id, path) = checkout(&app, json!({"customer_id": customer})).await;
    let r = press_pay(&app, &path).await;
    assert_eq!(r.status, 303, "{}", String::from_utf8_lossy(&r.bytes));
    let payment_id = location(&r).rsplit('/').next().unwrap().to_string();
    let intent = scalar_text(&app, &format!("SELECT provider_ref FROM payments WHERE id = '{payment_id}'")).await;
    assert_eq!(double.intent(&intent).unwrap()["amount"], 59900, "the order and the waiting charge");
    // While the customer types their card, the merchant invoices the waiting charge on its own.
    assert_eq!(app.post_company("/invoices", &json!({"customer_id": customer})).await.status, 200);
    double.customer_confirms(&intent, "pm_card_visa");

    // The money was taken for an order that no longer is: not fulfilled, and the customer is
    // told so, with no button to pay again on this step; Stripe's webhook is acknowledged.
    let back = app.client.get(format!("{}{path}/challenge/{payment_id}/return", app.base)).send().await.unwrap();
    assert_eq!(back.status(), 409);
    let page = back.text().await.unwrap();
    assert!(page.contains("Your payment went through") && page.contains("refunded"), "{page}");
    assert!(!page.contains("Try again") && page.contains(&format!("href=\"{path}\"")), "{page}");
    let event = double.event("payment_intent.succeeded", double.intent(&intent).unwrap());
    assert_eq!(send_webhook(&app, &event, WEBHOOK_SECRET, now()).await, 200);
    let completed =
        format!("SELECT COUNT(*) FROM checkout_sessions WHERE id = '{checkout_id}' AND status = 'COMPLETED'");
    assert_eq!(scalar(&app.db, &completed).await, 0);
    assert_eq!(events(&app, "checkout.completed").await, 0);
    // The payment row says what happened to the money, for the merchant's refund.
    assert_eq!(scalar_text(&app, &format!("SELECT status FROM payments WHERE id = '{payment_id}'")).await, "SUCCEEDED");
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM provider_events WHERE handled_at IS NOT NULL").await, 1);
    // And the merchant hears it once, with what to refund.
    assert_eq!(events(&app, "payment.requires_refund").await, 1);
    // And the merchant hears it once, with what to refund.
    assert_eq!(events(&app, "payment.requires_refund").await, 1);
    app.finish().await;
}
