//! Contracts end to end over HTTP: templates, creation (seed 003), the signing pages driven as
//! a browser without JavaScript would, signing order, declines, expiry, void, offline signing,
//! exactly-once fulfilment under concurrent signatures, and the audit trail.

use chrono::Duration;
use kasse::db::Db;
use serde_json::{Value, json};

use crate::support::{Resp, TestApp};

/// A monthly per-seat plan and a one-time onboarding fee.
struct Catalog {
    plan: String,
    seats: String,
    onboarding: String,
}

async fn catalog(app: &TestApp) -> Catalog {
    let plan = app
        .pricing(
            "USD",
            json!([{"name": "Seats", "unit_label": "seat", "pricing_model": "PER_UNIT", "unit_amount": 1500,
                "billing_period": {"count": 1, "frequency": "MONTH"}}]),
        )
        .await;
    let onboarding =
        app.pricing("USD", json!([{"name": "Onboarding", "pricing_model": "FLAT", "amount": 50000}])).await;
    Catalog {
        seats: plan["items"][0]["id"].as_str().unwrap().to_string(),
        plan: plan["id"].as_str().unwrap().to_string(),
        onboarding: onboarding["id"].as_str().unwrap().to_string(),
    }
}

async fn customer(app: &TestApp, name: &str) -> String {
    let body = json!({"name": name, "email": "buyer@example.com", "org_name": "Acme GmbH",
        "address": {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}});
    app.post_company("/customers", &body).await.ok()["id"].as_str().unwrap().to_string()
}

async fn template(app: &TestApp, body: &str) -> String {
    let r =
        app.post_company("/contract_templates", &json!({"title": "Master Subscription Agreement", "body": body})).await;
    r.ok()["id"].as_str().unwrap().to_string()
}

const TEMPLATE: &str = "# Agreement\n\nBetween **{{company.legal_name}}** and {{customer.name}} ({{customer.org_name}}).\n\n\
    - Start: {{contract.start_date}}\n- Term: {{contract.term}}\n- Region: {{custom.region}}\n\n\
    Signed for the customer by {{signatory.1.name}}, {{signatory.1.title}}.";

/// A contract body for the catalog, adjusted by `f`.
fn body(c: &Catalog, customer: &str, template: &str, f: impl FnOnce(&mut Value)) -> Value {
    let mut b = json!({
        "customer_id": customer,
        "template_id": template,
        "product_pricing_ids": [c.plan],
        "config_items": [{"product_pricing_id": c.plan, "product_metric_pricing_id": c.seats, "num_licenses": 10,
            "quantity_config": {"allow_custom_quantity": true, "min_quantity": 1, "max_quantity": 100}}],
        "onetime_items": [{"product_pricing_id": c.onboarding, "aggregate": 1}],
        "term": {"count": 12, "frequency": "MONTH"},
        "custom_variables": {"region": "EU"},
        "signatories": [{"name": "Ada Lovelace", "email": "ada@example.com", "title": "CEO", "position": 1}],
        "status": "PENDING_SIGNATURES",
    });
    f(&mut b);
    b
}

async fn create(app: &TestApp, body: &Value) -> Value {
    let r = app.post_company("/contracts", body).await;
    r.ok().clone()
}

/// The path of a signer's page (from its absolute `signature_link`).
fn link(app: &TestApp, signer: &Value) -> String {
    signer["signature_link"].as_str().unwrap().strip_prefix(&app.base).expect("link on this server").to_string()
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The value of the form input named `name`, whatever the attribute order.
fn field(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("no field {name}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    let tag = &html[start..end];
    let v = tag.find("value=\"").unwrap_or_else(|| panic!("field {name} has no value")) + 7;
    tag[v..v + tag[v..].find('"').unwrap()].to_string()
}

async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Resp {
    let r = app.client.post(format!("{}{path}", app.base)).form(fields).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap().to_vec();
    Resp { status, headers, body: Value::String(String::from_utf8_lossy(&bytes).into_owned()), bytes }
}

/// Open the page (as the signer would) and sign it with `name`, plus `extra` fields.
async fn sign(app: &TestApp, path: &str, name: &str, extra: &[(&str, &str)]) -> Resp {
    let (status, html) = page(app, path).await;
    assert_eq!(status, 200, "{html}");
    let csrf = field(&html, "csrf");
    let hash = field(&html, "document_hash");
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("action", "sign"),
        ("name", name),
        ("title", "Director"),
        ("consent", "yes"),
        ("document_hash", hash.as_str()),
    ];
    form.extend_from_slice(extra);
    post_form(app, path, &form).await
}

/// Post a signature with the csrf of an earlier page load (a second tab, a replay).
async fn sign_with(app: &TestApp, path: &str, csrf: &str, hash: &str, name: &str) -> Resp {
    let form = [("csrf", csrf), ("action", "sign"), ("name", name), ("consent", "yes"), ("document_hash", hash)];
    post_form(app, path, &form).await
}

async fn contract(app: &TestApp, id: &str) -> Value {
    app.get_company(&format!("/contracts/{id}")).await.ok().clone()
}

async fn events(db: &Db, company_id: &str) -> Vec<String> {
    let sql = "SELECT event_type FROM outbox_events WHERE company_id = $1 ORDER BY id";
    let rows: Vec<(String,)> = match db {
        Db::Sqlite(p) => sqlx::query_as(sql).bind(company_id).fetch_all(p).await,
        Db::Postgres(p) => sqlx::query_as(sql).bind(company_id).fetch_all(p).await,
    }
    .unwrap();
    rows.into_iter().map(|(t,)| t).collect()
}

async fn scalar(db: &Db, sql: &str, bind: &str) -> i64 {
    let (n,): (i64,) = match db {
        Db::Sqlite(p) => sqlx::query_as(sql).bind(bind).fetch_one(p).await,
        Db::Postgres(p) => sqlx::query_as(sql).bind(bind).fetch_one(p).await,
    }
    .unwrap();
    n
}

fn signed_of(c: &Value, side: &str) -> Vec<bool> {
    c[side].as_array().unwrap().iter().map(|s| s["signed"].as_bool().unwrap()).collect()
}

on_both_stores! {
    async fn a_template_with_an_unknown_variable_is_refused_naming_it(app) {
        let r = app.post_company("/contract_templates", &json!({"title": "T", "body": "Hi {{customer.shoe_size}}"})).await;
        r.assert_error(422, "body");
        assert_eq!(r.error_code(), "unknown_variable");
        assert!(r.error_message().contains("customer.shoe_size"), "{}", r.error_message());
        let r = app.post_company("/contract_templates", &json!({"title": "T", "body": "Hi {{customer.name"})).await;
        r.assert_error(422, "body");
        assert_eq!(r.error_code(), "template_syntax");
        assert_eq!(app.count("contract_templates").await, 0);
    }

    async fn templates_are_created_listed_and_archived(app) {
        let id = template(app, TEMPLATE).await;
        let t = app.get_company(&format!("/contract_templates/{id}")).await;
        assert_eq!(
            t.ok()["variables"],
            json!(["company.legal_name", "customer.name", "customer.org_name", "contract.start_date", "contract.term",
                "custom.region", "signatory.1.name", "signatory.1.title"])
        );
        let list = app.get_company("/contract_templates").await;
        assert_eq!(list.ok()["data"][0]["id"], json!(id));
        let archived = app.post_company(&format!("/contract_templates/{id}/archive"), &json!({})).await;
        assert_eq!(archived.ok()["state"], "ARCHIVED");
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        app.post_company("/contracts", &body(&c, &cus, &id, |_| {})).await.assert_error(422, "template_id");
    }

    async fn a_missing_variable_is_refused_at_creation_naming_the_field(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let r = app.post_company("/contracts", &body(&c, &cus, &t, |b| b["custom_variables"] = json!({}))).await;
        r.assert_error(422, "custom_variables.region");
        assert_eq!(r.error_code(), "missing_variable");
        let r = app.post_company("/contracts", &body(&c, &cus, &t, |b| b["signatories"][0]["title"] = Value::Null)).await;
        r.assert_error(422, "signatories");
        let r = app.post_company("/contracts", &body(&c, &cus, &t, |b| b["term"] = Value::Null)).await;
        r.assert_error(422, "term");
        assert_eq!(app.count("contracts").await, 0);
        assert_eq!(app.count("checkout_sessions").await, 0);
    }

    async fn a_contract_needs_a_customer_and_signatories(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let no_customer = body(&c, &cus, &t, |b| { b.as_object_mut().unwrap().remove("customer_id"); });
        app.post_company("/contracts", &no_customer).await.assert_error(422, "customer_id");
        app.post_company("/contracts", &body(&c, &cus, &t, |b| b["signatories"] = json!([]))).await
            .assert_error(422, "signatories");
        let same = json!([{"name": "A", "title": "x", "position": 1}, {"name": "B", "position": 1}]);
        app.post_company("/contracts", &body(&c, &cus, &t, |b| b["signatories"] = same)).await
            .assert_error(422, "signatories[1].position");
        let outside = json!([{"name": "A", "position": 1}, {"name": "B", "position": 1001}]);
        app.post_company("/contracts", &body(&c, &cus, &t, |b| b["counter_signatories"] = outside)).await
            .assert_error(422, "counter_signatories[1].position");
        app.post_company("/contracts", &body(&c, &cus, &t, |b| b["status"] = json!("COMPLETE"))).await
            .assert_error(422, "status");
        app.post_company("/contracts", &body(&c, &cus, &t, |b| b["customer_id"] = json!("cus_nope"))).await
            .assert_error(422, "customer_id");
    }

    async fn the_exact_body_of_seed_003_is_accepted_and_answers_the_seed_keys(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, "Agreement with {{customer.name}} for {{custom.region}}.").await;
        let seed = json!({
            "auto_charges": true, "auto_renews": true, "bundle_pricing_id": "bundle-1",
            "config_items": [{"minimum_units": 1, "num_licenses": 1, "product_metric_pricing_id": c.seats,
                "product_pricing_id": c.plan, "quantity_config": {"allow_custom_quantity": true, "max_quantity": 123,
                "min_quantity": 1}, "upsell_product_metric_pricing_id": "upsell-1"}],
            "custom_variables": {"region": "EU"},
            "customer_id": cus,
            "discounts": [{"amount": {"currency": "USD", "value_in_cents": 123}, "cap": {"currency": "USD",
                "value_in_cents": 123}, "coupon_id": null, "customer_id": cus, "expiration_date": "2030-11-07T05:31:56Z",
                "import_created_at_ref": "2023-11-07T05:31:56Z", "import_ref": "ref", "imported_from": "crm",
                "item_pricing_id": null, "name": "Welcome", "onetime_billable_id": null, "percent": 1,
                "product_id": null, "product_pricing_id": null, "proposal_id": "prop-1", "state": "ACTIVE",
                "subscription_id": null, "type": "DISCOUNT_AMOUNT"}],
            "expiration_date": "2030-11-07T05:31:56Z",
            "metadata": {"deal": "D-1"},
            "onetime_items": [{"aggregate": 2, "custom_price": {"amount": {"currency": "USD", "value_in_cents": 123},
                "description": "Setup", "product_id": app.product("Setup").await}, "product_pricing_id": null,
                "quantity_config": {"allow_custom_quantity": true, "max_quantity": 123, "min_quantity": 1}}],
            "options": {"allow_promo_code": true, "completion_action": "REDIRECT", "confirmation_message": "Thanks",
                "redirect_url": "https://merchant.example/done", "requires_customer_address": true},
            "owner_id": "rep-7",
            "product_pricing_ids": [c.plan],
            "require_payment_method": true,
            "signatories": [{"declined": true, "email": "ada@example.com", "name": "Ada Lovelace", "position": 123,
                "signature_id": "x", "signature_link": "https://elsewhere.example/sign", "signed": true,
                "signed_date": "2023-11-07T05:31:56Z", "title": "CEO", "view_timestamps": ["2023-11-07T05:31:56Z"]}],
            "start_date": "2030-12-01T00:00:00Z",
            "status": "DRAFT",
            "template_id": t,
            "term": {"count": 2, "frequency": "HOUR"},
            "title": "Order form",
            "trial": true,
            "trial_term": {"count": 2, "frequency": "HOUR"},
            "type": "CONTRACT"
        });
        let created = create(app, &seed).await;
        for key in ["acv", "auto_charges", "auto_renews", "bundle_pricing_id", "company_id", "completed_date",
            "config_items", "content", "content_template", "contract_attachments", "counter_signatories", "created_at",
            "custom_variables", "customer", "customer_id", "discounts", "expiration_date", "finalized_date", "id",
            "metadata", "one_time_billables", "options", "owner_id", "require_payment_method", "signatories",
            "signed_date", "signed_file_id", "signed_offline", "start_date", "status", "subscription",
            "subscription_id", "tcv", "template_id", "template_variables", "term", "title", "trial", "trial_term",
            "type", "updated_at"] {
            assert!(created.get(key).is_some(), "missing key {key}");
        }
        assert!(created["id"].as_str().unwrap().starts_with("ctr_"));
        assert_eq!(created["status"], "DRAFT");
        assert_eq!(created["type"], "CONTRACT");
        assert_eq!(created["customer"]["name"], "Ada");
        assert_eq!(created["template_variables"], json!(["customer.name", "custom.region"]));
        assert_eq!(created["content"], "<p>Agreement with Ada for EU.</p>");
        let s = &created["signatories"][0];
        // Read-only fields of the request are ignored: a new contract is unsigned.
        assert_eq!((s["signed"].as_bool(), s["declined"].as_bool()), (Some(false), Some(false)));
        assert_eq!(s["view_timestamps"], json!([]));
        assert!(s["signature_link"].as_str().unwrap().starts_with(&format!("{}/contracts/", app.base)));
        assert_eq!(created["options"]["completion_action"], "REDIRECT");
        assert_eq!(created["acv"]["currency"], "USD");
        assert_eq!(created["metadata"], json!({"deal": "D-1"}));
        assert_eq!(created["document_hash"], Value::Null);
    }

    async fn acv_and_tcv_come_from_the_pricing_engine(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        // 10 seats × $15 a month, 12-month term, $500 onboarding.
        let created = create(app, &body(&c, &cus, &t, |_| {})).await;
        assert_eq!(created["acv"], json!({"currency": "USD", "value_in_cents": 180000}));
        assert_eq!(created["tcv"], json!({"currency": "USD", "value_in_cents": 230000}));
        // A 24-month term doubles the recurring part of the TCV, not the ACV.
        let two_years = create(app, &body(&c, &cus, &t, |b| b["term"] = json!({"count": 24, "frequency": "MONTH"}))).await;
        assert_eq!(two_years["acv"]["value_in_cents"], 180000);
        assert_eq!(two_years["tcv"]["value_in_cents"], 410000);
    }

    async fn a_sequential_contract_with_a_counter_signer_and_payment_goes_from_creation_to_complete(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let b = body(&c, &cus, &t, |b| {
            b["sequential_signing"] = json!(true);
            b["require_payment_method"] = json!(true);
            b["signatories"] = json!([
                {"name": "Ada Lovelace", "title": "CEO", "position": 1},
                {"name": "Grace Hopper", "title": "CTO", "position": 2},
                {"name": "Alan Turing", "title": "CFO", "position": 3}]);
            b["counter_signatories"] = json!([{"name": "Rita Rep", "title": "VP Sales"}]);
        });
        let created = create(app, &b).await;
        let id = created["id"].as_str().unwrap();
        assert_eq!(created["status"], "PENDING_SIGNATURES");
        assert_eq!(created["document_hash"].as_str().unwrap().len(), 64);
        let links: Vec<String> = created["signatories"].as_array().unwrap().iter().map(|s| link(app, s)).collect();
        let counter = link(app, &created["counter_signatories"][0]);

        // The document, rendered with escaped values, and the order are on the page.
        let (_, html) = page(app, &links[0]).await;
        assert!(html.contains("Test Merchant") && html.contains("Ada Lovelace"), "{html}");

        for (i, (path, name)) in links.iter().zip(["Ada Lovelace", "Grace Hopper", "Alan Turing"]).enumerate() {
            let r = sign(app, path, name, &[]).await;
            assert_eq!(r.status, 303, "signature {i}: {}", r.body);
        }
        let after_customers = contract(app, id).await;
        assert_eq!(after_customers["status"], "PENDING_COUNTER_SIGNATURE");
        assert_eq!(signed_of(&after_customers, "signatories"), vec![true, true, true]);

        let r = sign(app, &counter, "Rita Rep", &[]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let checkout_path = r.headers["location"].to_str().unwrap().to_string();
        assert!(checkout_path.starts_with("/checkout/"), "{checkout_path}");
        let pending = contract(app, id).await;
        assert_eq!(pending["status"], "PENDING_PAYMENT");
        assert_eq!(pending["payment_url"].as_str().unwrap(), format!("{}{checkout_path}", app.base));
        assert_eq!(pending["subscription_id"], Value::Null);

        // Any signatory pays on the checkout page; the order is frozen there.
        let (status, html) = page(app, &checkout_path).await;
        assert_eq!(status, 200);
        assert!(!html.contains("name=\"qty."), "quantities are frozen after signing");
        let csrf = field(&html, "csrf");
        let paid = post_form(app, &checkout_path, &[("csrf", csrf.as_str()), ("action", "pay"),
            ("card_number", "4242 4242 4242 4242"), ("card_expiry", "12/40"), ("card_cvc", "123")]).await;
        assert_eq!(paid.status, 303, "{}", paid.body);

        let done = contract(app, id).await;
        assert_eq!(done["status"], "COMPLETE");
        assert!(done["completed_date"].is_string() && done["signed_date"].is_string());
        let sub = done["subscription_id"].as_str().expect("a subscription");
        assert_eq!(done["subscription"]["id"], json!(sub));
        let invoice = done["invoice_id"].as_str().expect("an invoice");
        assert_eq!(scalar(&app.db, "SELECT total FROM invoices WHERE id = $1", invoice).await, 65000);
        assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM invoices WHERE status = 'PAID' AND id = $1", invoice).await, 1);
        assert_eq!(app.count("subscriptions").await, 1);

        let sent = events(&app.db, &app.company_id).await;
        let contract_events: Vec<&str> = sent.iter().map(String::as_str).filter(|e| *e != "contract.viewed").collect();
        assert_eq!(contract_events, vec!["contract.sent", "contract.signed", "contract.signed", "contract.signed",
            "contract.signed", "contract.completed", "checkout.completed", "invoice.created", "invoice.paid"]);
        assert!(sent.iter().any(|e| e == "contract.viewed"));

        // The certificate: every step with time, IP and user agent, and the document's hash.
        let (status, cert) = page(app, &format!("{}/certificate", links[1])).await;
        assert_eq!(status, 200);
        assert!(cert.contains(done["document_hash"].as_str().unwrap()));
        for who in ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Rita Rep", "127.0.0.1"] {
            assert!(cert.contains(who), "certificate lacks {who}");
        }
        let kinds = scalar(&app.db, "SELECT COUNT(DISTINCT kind) FROM contract_events WHERE contract_id = $1", id).await;
        // CREATED, SENT, VIEWED, SIGNED, COUNTER_SIGNED, PAID, COMPLETED.
        assert_eq!(kinds, 7);
    }

    async fn paying_a_contract_redirects_to_the_merchant_with_its_ids(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let created = create(app, &body(&c, &cus, &t, |b| {
            b["require_payment_method"] = json!(true);
            b["options"] = json!({"completion_action": "REDIRECT", "redirect_url": "https://merchant.example/done?x=1"});
        })).await;
        let id = created["id"].as_str().unwrap();
        let r = sign(app, &link(app, &created["signatories"][0]), "Ada", &[]).await;
        let checkout_path = r.headers["location"].to_str().unwrap().to_string();
        let (_, html) = page(app, &checkout_path).await;
        let csrf = field(&html, "csrf");
        let paid = post_form(app, &checkout_path, &[("csrf", csrf.as_str()), ("action", "pay"),
            ("card_number", "4242 4242 4242 4242"), ("card_expiry", "12/40"), ("card_cvc", "123")]).await;
        assert_eq!(paid.status, 303, "{}", paid.body);
        let location = paid.headers["location"].to_str().unwrap();
        assert!(location.starts_with("https://merchant.example/done?x=1&checkout_id="), "{location}");
        assert!(location.contains(&format!("&contract_id={id}")), "{location}");
        assert_eq!(contract(app, id).await["status"], "COMPLETE");
    }

    async fn signing_out_of_turn_is_refused(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let b = body(&c, &cus, &t, |b| {
            b["sequential_signing"] = json!(true);
            b["signatories"] = json!([{"name": "First", "title": "CEO", "position": 1}, {"name": "Second", "position": 2}]);
            b["counter_signatories"] = json!([{"name": "Rep"}]);
        });
        let created = create(app, &b).await;
        let second = link(app, &created["signatories"][1]);
        let (status, html) = page(app, &second).await;
        assert_eq!(status, 200);
        assert!(html.contains("First"), "the page says whom they wait for");
        assert!(!html.contains("name=\"document_hash\""), "no signing form out of turn");
        // A forged post is refused all the same.
        let (_, first_html) = page(app, &link(app, &created["signatories"][0])).await;
        let hash = field(&first_html, "document_hash");
        let csrf = field(&first_html, "csrf");
        let r = sign_with(app, &second, &csrf, &hash, "Second").await;
        assert_eq!(r.status, 409, "{}", r.body);
        let counter = sign_with(app, &link(app, &created["counter_signatories"][0]), &csrf, &hash, "Rep").await;
        assert_eq!(counter.status, 409);
        let now = contract(app, created["id"].as_str().unwrap()).await;
        assert_eq!(signed_of(&now, "signatories"), vec![false, false]);
        assert_eq!(signed_of(&now, "counter_signatories"), vec![false]);
    }

    async fn signing_twice_is_refused(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let b = body(&c, &cus, &t, |b| {
            b["signatories"] = json!([{"name": "First", "title": "CEO"}, {"name": "Second"}]);
        });
        let created = create(app, &b).await;
        let first = link(app, &created["signatories"][0]);
        let (_, html) = page(app, &first).await;
        let (csrf, hash) = (field(&html, "csrf"), field(&html, "document_hash"));
        assert_eq!(sign_with(app, &first, &csrf, &hash, "First").await.status, 303);
        let again = sign_with(app, &first, &csrf, &hash, "First").await;
        assert_eq!(again.status, 409);
        let id = created["id"].as_str().unwrap();
        assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM contract_events WHERE contract_id = $1 AND kind = 'SIGNED'", id).await, 1);
        assert_eq!(events(&app.db, &app.company_id).await.iter().filter(|e| *e == "contract.signed").count(), 1);
    }

    async fn a_signature_over_another_document_is_refused(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let created = create(app, &body(&c, &cus, &t, |_| {})).await;
        let path = link(app, &created["signatories"][0]);
        let (_, html) = page(app, &path).await;
        let forged = "0".repeat(64);
        let r = sign_with(app, &path, &field(&html, "csrf"), &forged, "Ada").await;
        assert_eq!(r.status, 409);
        assert_eq!(contract(app, created["id"].as_str().unwrap()).await["status"], "PENDING_SIGNATURES");
    }

    async fn a_decline_stops_the_contract_and_tells_the_merchant(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let b = body(&c, &cus, &t, |b| b["signatories"] = json!([{"name": "First", "title": "CEO"}, {"name": "Second"}]));
        let created = create(app, &b).await;
        let id = created["id"].as_str().unwrap();
        let first = link(app, &created["signatories"][0]);
        let (_, html) = page(app, &first).await;
        let csrf = field(&html, "csrf");
        let empty = post_form(app, &first, &[("csrf", csrf.as_str()), ("action", "decline"), ("reason", " ")]).await;
        assert_eq!(empty.status, 422, "a reason is required");
        let r = post_form(app, &first, &[("csrf", csrf.as_str()), ("action", "decline"), ("reason", "Price too high")]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let after = contract(app, id).await;
        assert_eq!(after["status"], "DECLINED");
        assert_eq!(after["signatories"][0]["declined"], true);
        assert_eq!(after["signatories"][0]["decline_reason"], "Price too high");
        assert!(events(&app.db, &app.company_id).await.contains(&"contract.declined".to_string()));
        let checkout = after["checkout_id"].as_str().unwrap();
        assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM checkout_sessions WHERE id = $1 AND status = 'CANCELLED'", checkout).await, 1);
        // Nobody can sign a declined contract.
        let second = link(app, &created["signatories"][1]);
        let (status, html) = page(app, &second).await;
        assert_eq!(status, 200);
        assert!(!html.contains("name=\"document_hash\""));
        let r = sign_with(app, &second, &csrf, after["document_hash"].as_str().unwrap(), "Second").await;
        assert_eq!(r.status, 409);
    }

    async fn an_expired_contract_can_no_longer_be_signed(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let expires = (app.clock.now() + Duration::days(3)).to_rfc3339();
        let created = create(app, &body(&c, &cus, &t, |b| b["expiration_date"] = json!(expires))).await;
        let id = created["id"].as_str().unwrap();
        let path = link(app, &created["signatories"][0]);
        let (_, html) = page(app, &path).await;
        let (csrf, hash) = (field(&html, "csrf"), field(&html, "document_hash"));
        app.clock.advance(Duration::days(4));
        let r = sign_with(app, &path, &csrf, &hash, "Ada").await;
        assert_eq!(r.status, 409);
        let after = contract(app, id).await;
        assert_eq!(after["status"], "EXPIRED");
        assert_eq!(after["signatories"][0]["signed"], false);
        assert!(events(&app.db, &app.company_id).await.contains(&"contract.expired".to_string()));
        app.post_company("/contracts", &body(&c, &cus, &t, |b| b["expiration_date"] = json!("2020-01-01"))).await
            .assert_error(422, "expiration_date");
    }

    async fn the_sweeper_expires_contracts_nobody_opens(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let expires = (app.clock.now() + Duration::hours(1)).to_rfc3339();
        let created = create(app, &body(&c, &cus, &t, |b| b["expiration_date"] = json!(expires))).await;
        app.clock.advance(Duration::hours(2));
        let config = kasse::config::Config::new("127.0.0.1:0", &app.database_url, None).unwrap();
        let state = kasse::state::AppState::new(&app.db, app.clock.clone(), app.base.clone(), &config).await.unwrap();
        assert_eq!(kasse::services::contracts::sweep(&state).await, 1);
        assert_eq!(kasse::services::contracts::sweep(&state).await, 0);
        let status = scalar(&app.db, "SELECT COUNT(*) FROM contracts WHERE id = $1 AND status = 'EXPIRED'",
            created["id"].as_str().unwrap()).await;
        assert_eq!(status, 1);
    }

    async fn a_voided_contract_stays_void_and_a_complete_one_cannot_be_voided(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let created = create(app, &body(&c, &cus, &t, |_| {})).await;
        let id = created["id"].as_str().unwrap();
        // The contract's checkout ends only with the contract.
        let checkout = created["checkout_id"].as_str().unwrap();
        let r = app.post_company(&format!("/checkout/{checkout}/expire"), &json!({})).await;
        r.assert_error(409, "");
        assert_eq!(r.error_code(), "contract_checkout");
        let voided = app.post_company(&format!("/contracts/{id}/void"), &json!({})).await;
        assert_eq!(voided.ok()["status"], "VOID");
        assert_eq!(app.post_company(&format!("/contracts/{id}/void"), &json!({})).await.ok()["status"], "VOID");
        let path = link(app, &created["signatories"][0]);
        let (status, html) = page(app, &path).await;
        assert_eq!(status, 200);
        assert!(!html.contains("name=\"document_hash\""));
        assert!(events(&app.db, &app.company_id).await.contains(&"contract.voided".to_string()));
        app.post_company(&format!("/contracts/{id}/finalize"), &json!({})).await.assert_error(409, "");

        let done = create(app, &body(&c, &cus, &t, |_| {})).await;
        let done_id = done["id"].as_str().unwrap();
        assert_eq!(sign(app, &link(app, &done["signatories"][0]), "Ada", &[]).await.status, 303);
        assert_eq!(contract(app, done_id).await["status"], "COMPLETE");
        app.post_company(&format!("/contracts/{done_id}/void"), &json!({})).await.assert_error(409, "");
    }

    async fn concurrent_final_signatures_fulfil_exactly_once(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let b = body(&c, &cus, &t, |b| {
            b["signatories"] = json!([{"name": "One", "title": "CEO"}, {"name": "Two"}, {"name": "Three"}]);
        });
        let created = create(app, &b).await;
        let id = created["id"].as_str().unwrap().to_string();
        // Every signer opens the page first, then all sign at the same moment, each twice.
        let mut forms = Vec::new();
        for s in created["signatories"].as_array().unwrap() {
            let path = link(app, s);
            let (_, html) = page(app, &path).await;
            forms.push((path, field(&html, "csrf"), field(&html, "document_hash"), s["name"].as_str().unwrap().to_string()));
        }
        let attempts = forms.iter().chain(forms.iter()).map(|(p, csrf, hash, name)| sign_with(app, p, csrf, hash, name));
        let results = futures_util::future::join_all(attempts).await;
        let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 303).count(), 3, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == 303 || *s == 409), "{statuses:?}");
        let done = contract(app, &id).await;
        assert_eq!(done["status"], "COMPLETE");
        assert_eq!(app.count("subscriptions").await, 1);
        assert_eq!(app.count("invoices").await, 1);
        // Without payment the invoice stays open for the customer to pay.
        assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM invoices WHERE status = 'OPEN' AND company_id = $1", &app.company_id).await, 1);
        let sent = events(&app.db, &app.company_id).await;
        assert_eq!(sent.iter().filter(|e| *e == "contract.completed").count(), 1);
        assert_eq!(sent.iter().filter(|e| *e == "checkout.completed").count(), 1);
        assert_eq!(sent.iter().filter(|e| *e == "contract.signed").count(), 3);
    }

    async fn the_first_signatory_may_change_quantities_until_the_first_signature(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let b = body(&c, &cus, &t, |b| b["signatories"] = json!([{"name": "First", "title": "CEO"}, {"name": "Second"}]));
        let created = create(app, &b).await;
        let id = created["id"].as_str().unwrap();
        let first = link(app, &created["signatories"][0]);
        let second = link(app, &created["signatories"][1]);
        let key = format!("qty.{}", c.seats);
        let (_, html) = page(app, &second).await;
        assert!(!html.contains(&format!("name=\"{key}\"")), "only the first signatory sees quantity inputs");
        let (_, html) = page(app, &first).await;
        assert_eq!(field(&html, &key), "10");
        let csrf = field(&html, "csrf");
        // The quantity as the page shows it (the order's 10) goes with the form and is no change.
        let (_, shown) = page(app, &first).await;
        assert_eq!(field(&shown, &key), "10");
        // Signing a changed quantity straight away is refused: the signer sees the new total first.
        let unseen = sign(app, &first, "First", &[(key.as_str(), "20")]).await;
        assert_eq!(unseen.status, 422);
        assert_eq!(contract(app, id).await["signatories"][0]["signed"], false);
        let bad = post_form(app, &first, &[("csrf", csrf.as_str()), ("action", "update"), (key.as_str(), "500")]).await;
        assert_eq!(bad.status, 422);
        let ok = post_form(app, &first, &[("csrf", csrf.as_str()), ("action", "update"), (key.as_str(), "20")]).await;
        assert_eq!(ok.status, 303);
        let (_, html) = page(app, &first).await;
        assert_eq!(field(&html, &key), "20");
        // The merchant sees the value of the order as it now stands: 20 seats × $15 × 12 months.
        assert_eq!(contract(app, id).await["acv"]["value_in_cents"], 360000);
        assert_eq!(sign(app, &first, "First", &[(key.as_str(), "20")]).await.status, 303);
        // 20 seats × $15 × 12 months.
        assert_eq!(contract(app, id).await["acv"]["value_in_cents"], 360000);
        let (_, html) = page(app, &first).await;
        assert!(!html.contains(&format!("name=\"{key}\"")), "frozen after the first signature");
        // A quantity slipped into another signer's form changes nothing.
        assert_eq!(sign(app, &second, "Second", &[(key.as_str(), "3")]).await.status, 303);
        let done = contract(app, id).await;
        assert_eq!(done["status"], "COMPLETE");
        let seats = scalar(&app.db, "SELECT total FROM invoices WHERE id = $1", done["invoice_id"].as_str().unwrap()).await;
        assert_eq!(seats, 20 * 1500 + 50000);
    }

    async fn the_quantities_a_browser_sends_as_shown_are_no_change(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let created = create(app, &body(&c, &cus, &t, |_| {})).await;
        let first = link(app, &created["signatories"][0]);
        let key = format!("qty.{}", c.seats);
        // The form carries the quantity input as the page rendered it, as a browser submits it.
        let r = sign(app, &first, "Ada", &[(key.as_str(), "10")]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let done = contract(app, created["id"].as_str().unwrap()).await;
        assert_eq!(done["status"], "COMPLETE");
        assert_eq!(done["acv"]["value_in_cents"], 180000);
    }

    async fn counter_signatories_change_only_while_draft(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let created = create(app, &body(&c, &cus, &t, |b| b["status"] = json!("DRAFT"))).await;
        let id = created["id"].as_str().unwrap();
        // A draft's link shows the document but cannot be signed.
        let (status, html) = page(app, &link(app, &created["signatories"][0])).await;
        assert_eq!(status, 200);
        assert!(!html.contains("name=\"document_hash\""));
        let added = app.post_company(&format!("/contracts/{id}/counter_signatories"),
            &json!({"counter_signatories": [{"name": "Rep One"}, {"name": "Rep Two", "email": "two@merchant.example"}]})).await;
        let added = added.ok();
        assert_eq!(added["counter_signatories"].as_array().unwrap().len(), 2);
        let two = added["counter_signatories"][1]["id"].as_str().unwrap();
        let removed = app.send(app.request(reqwest::Method::DELETE,
            &app.company_path(&format!("/contracts/{id}/counter_signatories/{two}")))).await;
        assert_eq!(removed.ok()["counter_signatories"].as_array().unwrap().len(), 1);
        let finalized = app.post_company(&format!("/contracts/{id}/finalize"), &json!({})).await;
        assert_eq!(finalized.ok()["status"], "PENDING_SIGNATURES");
        assert!(events(&app.db, &app.company_id).await.contains(&"contract.sent".to_string()));
        // The document is frozen now.
        let late = app.post_company(&format!("/contracts/{id}/counter_signatories"),
            &json!({"counter_signatories": [{"name": "Late"}]})).await;
        late.assert_error(409, "");
        assert_eq!(late.error_code(), "contract_finalized");
        let one = finalized.body["counter_signatories"][0]["id"].as_str().unwrap();
        let r = app.send(app.request(reqwest::Method::DELETE,
            &app.company_path(&format!("/contracts/{id}/counter_signatories/{one}")))).await;
        r.assert_error(409, "");
        app.post_company(&format!("/contracts/{id}/finalize"), &json!({})).await.assert_error(409, "");
    }

    async fn template_values_are_escaped_on_the_page(app) {
        let c = catalog(app).await;
        let cus = customer(app, "<script>alert(1)</script>").await;
        let t = template(app, TEMPLATE).await;
        let created = create(app, &body(&c, &cus, &t, |_| {})).await;
        assert!(created["content"].as_str().unwrap().contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        let (_, html) = page(app, &link(app, &created["signatories"][0])).await;
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(!html.contains("<script>alert(1)"));
    }

    async fn opening_the_page_records_views_but_a_preview_does_not(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let created = create(app, &body(&c, &cus, &t, |_| {})).await;
        let id = created["id"].as_str().unwrap();
        let preview = app.post_company(&format!("/contracts/{id}/preview_link"), &json!({})).await;
        let url = preview.ok()["url"].as_str().unwrap().to_string();
        let r = app.client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Ada Lovelace"));
        assert_eq!(contract(app, id).await["signatories"][0]["view_timestamps"], json!([]));
        let tampered = url.replace("signature=", "signature=00");
        assert_eq!(app.client.get(&tampered).send().await.unwrap().status(), 404);

        let path = link(app, &created["signatories"][0]);
        page(app, &path).await;
        page(app, &path).await;
        let views = contract(app, id).await["signatories"][0]["view_timestamps"].as_array().unwrap().len();
        assert_eq!(views, 1, "a reload within minutes is the same view");
        app.clock.advance(Duration::hours(1));
        page(app, &path).await;
        assert_eq!(contract(app, id).await["signatories"][0]["view_timestamps"].as_array().unwrap().len(), 2);
        assert_eq!(events(&app.db, &app.company_id).await.iter().filter(|e| *e == "contract.viewed").count(), 2);
        assert_eq!(page(app, "/contracts/0123456789abcdef0123456789abcdef").await.0, 404);
    }

    async fn a_contract_marked_signed_offline_is_fulfilled_and_keeps_its_file(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let created = create(app, &body(&c, &cus, &t, |_| {})).await;
        let id = created["id"].as_str().unwrap();
        let bad = app.post_company(&format!("/contracts/{id}/mark_signed_offline"),
            &json!({"file": {"filename": "signed.pdf", "data_base64": "***"}})).await;
        bad.assert_error(422, "file.data_base64");
        let r = app.post_company(&format!("/contracts/{id}/mark_signed_offline"),
            &json!({"note": "Signed at the kick-off meeting", "file": {"filename": "signed.pdf",
                "content_type": "application/pdf", "data_base64": "JVBERi0xLjQKJSBzaWduZWQ="}})).await;
        let done = r.ok();
        assert_eq!(done["status"], "COMPLETE");
        assert_eq!(done["signed_offline"], true);
        assert!(done["subscription_id"].is_string());
        let file_id = done["signed_file_id"].as_str().unwrap();
        assert_eq!(done["contract_attachments"][0]["original_filename"], "signed.pdf");
        let file = app.get_company(&format!("/contracts/{id}/files/{file_id}")).await;
        assert_eq!(file.status, 200);
        assert_eq!(file.bytes, b"%PDF-1.4\n% signed");
        assert!(file.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
        app.post_company(&format!("/contracts/{id}/mark_signed_offline"), &json!({})).await.assert_error(409, "");
    }

    async fn contracts_are_listed_by_status_and_customer_and_stay_within_their_company(app) {
        let c = catalog(app).await;
        let ada = customer(app, "Ada").await;
        let bob = customer(app, "Bob").await;
        let t = template(app, TEMPLATE).await;
        let a = create(app, &body(&c, &ada, &t, |_| {})).await;
        let b = create(app, &body(&c, &bob, &t, |b| b["status"] = json!("DRAFT"))).await;
        let all = app.get_company("/contracts").await;
        assert_eq!(all.ok()["data"].as_array().unwrap().len(), 2);
        assert_eq!(all.body["data"][0]["id"], b["id"]);
        let drafts = app.get_company("/contracts?status=DRAFT").await;
        assert_eq!(drafts.ok()["data"].as_array().unwrap().len(), 1);
        let ada_only = app.get_company(&format!("/contracts?customer_id={ada}")).await;
        assert_eq!(ada_only.ok()["data"][0]["id"], a["id"]);
        app.get_company("/contracts?status=SIGNED").await.assert_error(422, "status");
        let paged = app.get_company("/contracts?limit=1").await;
        assert_eq!(paged.ok()["has_more"], true);
        let other = app.send(app.client.get(format!("{}/api/v1/companies/{}/contracts/{}", app.base,
            app.other_company_id, a["id"].as_str().unwrap())).bearer_auth(&app.other_api_key)).await;
        assert_eq!(other.status, 404);
    }
}

on_both_stores! {
    config = |c| c.trusted_proxies = kasse::domain::client_addr::parse_trusted("127.0.0.0/8").unwrap();

    async fn behind_a_trusted_proxy_the_audit_trail_records_the_signers_own_address(app) {
        let c = catalog(app).await;
        let customer = customer(app, "Ada Lovelace").await;
        let template = template(app, TEMPLATE).await;
        let created = create(app, &body(&c, &customer, &template, |_| {})).await;
        let path = link(app, &created["signatories"][0]);
        let via_proxy = |r: reqwest::RequestBuilder| r.header("x-forwarded-for", "192.0.2.44");
        let html = via_proxy(app.client.get(format!("{}{path}", app.base))).send().await.unwrap().text().await.unwrap();
        let form = [("csrf", field(&html, "csrf")), ("action", "sign".into()), ("name", "Ada Lovelace".into()),
            ("title", "CEO".into()), ("consent", "yes".into()), ("document_hash", field(&html, "document_hash"))];
        let r = via_proxy(app.client.post(format!("{}{path}", app.base)).form(&form)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let id = created["id"].as_str().unwrap();
        let sql = "SELECT COUNT(*) FROM contract_events WHERE contract_id = $1 AND ip = '192.0.2.44' \
                   AND kind IN ('VIEWED', 'SIGNED')";
        assert_eq!(scalar(&app.db, sql, id).await, 2, "the view and the signature name the signer's address");
        let sql = "SELECT COUNT(*) FROM contract_events WHERE contract_id = $1 AND ip LIKE '127.%'";
        assert_eq!(scalar(&app.db, sql, id).await, 0, "never the proxy's");
    }
}

/// Sign `created`'s only signatory (a contract that requires payment) and pay on the checkout
/// page with `extra` fields; the paid page.
async fn sign_and_pay(app: &TestApp, created: &Value, extra: &[(&str, &str)]) -> Resp {
    let r = sign(app, &link(app, &created["signatories"][0]), "Ada Lovelace", &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let checkout = r.headers["location"].to_str().unwrap().to_string();
    let (_, html) = page(app, &checkout).await;
    assert!(!html.contains("name=\"promo_code\""), "no promo code field on a signed contract's payment step");
    let csrf = field(&html, "csrf");
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("action", "pay"),
        ("card_number", "4242 4242 4242 4242"),
        ("card_expiry", "12/40"),
        ("card_cvc", "123"),
    ];
    form.extend_from_slice(extra);
    post_form(app, &checkout, &form).await
}

async fn subscription_start(app: &TestApp) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let sql = "SELECT started_at, next_charge_at FROM subscriptions";
    match &app.db {
        Db::Sqlite(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
    }
}

on_both_stores! {
    async fn a_contract_start_date_in_the_past_is_refused(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let yesterday = (app.clock.now() - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
        let r = app.post_company("/contracts", &body(&c, &cus, &t, |b| b["start_date"] = json!(yesterday))).await;
        r.assert_error(422, "start_date");
        let today = app.clock.now().format("%Y-%m-%d").to_string();
        app.post_company("/contracts", &body(&c, &cus, &t, |b| b["start_date"] = json!(today))).await.ok();
    }

    async fn the_subscription_of_a_contract_starts_on_its_start_date(app) {
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let start = (app.clock.now() + chrono::Duration::days(40)).date_naive();
        let created = create(app, &body(&c, &cus, &t, |b| {
            b["start_date"] = json!(start.to_string());
            b["require_payment_method"] = json!(true);
        }))
        .await;
        assert!(created["content"].as_str().unwrap().contains(&start.format("%Y").to_string()));
        let r = sign_and_pay(app, &created, &[]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let (started, next) = subscription_start(app).await;
        assert_eq!(started.date_naive(), start, "started on the signed start date, not at payment");
        assert_eq!(next.date_naive(), start.checked_add_months(chrono::Months::new(1)).unwrap());
    }

    async fn a_promo_code_cannot_lower_a_signed_contract_on_its_payment_step(app) {
        let coupon = json!({"name": "Launch", "type": "DISCOUNT_PERCENT", "percent": 0.2,
            "promo_codes": [{"code": "LAUNCH20"}]});
        app.post_company("/coupons", &coupon).await.ok();
        let c = catalog(app).await;
        let cus = customer(app, "Ada").await;
        let t = template(app, TEMPLATE).await;
        let created = create(app, &body(&c, &cus, &t, |b| {
            b["options"] = json!({"allow_promo_code": true});
            b["require_payment_method"] = json!(true);
        }))
        .await;
        // A code posted anyway, with the form's own apply and then with Pay, changes nothing.
        let r = sign_and_pay(app, &created, &[("promo_code", "LAUNCH20")]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let done = contract(app, created["id"].as_str().unwrap()).await;
        assert_eq!(done["status"], "COMPLETE");
        // 10 seats at $15 and the $500 onboarding, as signed.
        let invoice = done["invoice_id"].as_str().unwrap();
        assert_eq!(scalar(&app.db, "SELECT total FROM invoices WHERE id = $1", invoice).await, 65000);
        assert_eq!(scalar(&app.db, "SELECT CAST(times_redeemed AS BIGINT) FROM promo_codes WHERE code = $1", "LAUNCH20").await, 0);
    }
}
