//! One-time charges end to end: seed 002, IMMEDIATE invoices (with and without an automatic
//! charge of a card saved at checkout), a decline then payment on the hosted invoice page,
//! NEXT charges on the next invoice exactly once, gap-free numbers under concurrency, and
//! bad input refused with the field named.

use serde_json::{Value, json};

use crate::checkout::{
    DECLINE, PAYMENT_FAILED_FIELDS, SUCCESS, count_where, csrf_of, event_data, events, fields_of, get_page, html,
    location, post_form, scalar,
};
use crate::support::TestApp;

/// A card that can be saved with nothing due, and declines every later charge.
const DECLINE_LATER: &str = "4000 0000 0000 0341";

struct Catalog {
    product: String,
    /// A one-time PER_UNIT pricing at $250 a unit.
    training: String,
    /// A monthly plan at $15 a seat with a 14-day trial possible.
    team: String,
}

async fn catalog(app: &TestApp) -> Catalog {
    let training =
        app.pricing("USD", json!([{"name": "Training day", "pricing_model": "PER_UNIT", "unit_amount": 25000}])).await;
    let team = app
        .pricing(
            "USD",
            json!([{"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 1500,
                "billing_period": {"count": 1, "frequency": "MONTH"}}]),
        )
        .await;
    Catalog {
        product: training["product_id"].as_str().unwrap().to_string(),
        training: training["id"].as_str().unwrap().to_string(),
        team: team["id"].as_str().unwrap().to_string(),
    }
}

async fn customer(app: &TestApp, name: &str) -> String {
    let r = app.post_company("/customers", &json!({"name": name, "email": "ada@example.com"})).await;
    r.ok()["id"].as_str().unwrap().to_string()
}

async fn invoice(app: &TestApp, id: &str) -> Value {
    app.get_company(&format!("/invoices/{id}")).await.ok().clone()
}

fn path_of(app: &TestApp, url: &str) -> String {
    url.strip_prefix(&app.base).expect("a URL on this server").to_string()
}

/// The customer buys the Team plan on a checkout that saves their card: with `card` paying
/// today, or (with a trial) only saving it.
async fn save_card(app: &TestApp, c: &Catalog, customer: &str, card: &'static str, trial: bool) {
    let mut body = json!({"customer_id": customer, "product_pricing_ids": [c.team],
        "options": {"save_card_on_checkout": true}});
    if trial {
        body["trial"] = json!(true);
        body["trial_term"] = json!({"count": 14, "frequency": "DAY"});
    }
    let created = app.post_company("/checkout", &body).await;
    let path = path_of(app, created.ok()["url"].as_str().unwrap());
    let (status, page) = get_page(app, &path).await;
    assert_eq!(status, 200);
    assert!(page.contains("Your card will be saved"), "the page tells the customer: {page}");
    let fields = [("card_number", card), ("card_expiry", "12/34"), ("card_cvc", "123"), ("action", "pay")];
    let paid = post_form(app, &path, &csrf_of(&page), &fields).await;
    assert_eq!(paid.status, 303, "{}", html(&paid));
    let saved = count_where(app, "payment_methods", &format!("customer_id = '{customer}'")).await;
    assert_eq!(saved, 1);
}

/// An IMMEDIATE charge of `units` training days for `customer`.
fn immediate(c: &Catalog, customer: &str, units: i64, auto: bool) -> Value {
    json!({"customer_id": customer, "type": "IMMEDIATE", "auto_charges": auto,
        "onetime_items": [{"product_pricing_id": c.training, "aggregate": units}]})
}

/// Open an invoice's hosted page and return its form's CSRF token (tied to the client's cookie,
/// so it stays good for later posts, also once the page shows no form).
async fn open_form(app: &TestApp, url: &str) -> String {
    let (status, page) = get_page(app, &path_of(app, url)).await;
    assert_eq!(status, 200, "{page}");
    csrf_of(&page)
}

/// Pay an invoice's hosted page with `card`.
async fn pay_page(app: &TestApp, url: &str, csrf: &str, card: &str) -> crate::support::Resp {
    let fields = [("card_number", card), ("card_expiry", "12/34"), ("card_cvc", "123")];
    post_form(app, &format!("{}/pay", path_of(app, url)), csrf, &fields).await
}

on_both_stores! {
    async fn the_exact_body_of_seed_002_is_accepted_and_answers_the_seed_keys(app) {
        let c = catalog(app).await;
        let ada = customer(app, "Ada").await;
        let body = json!({
            "customer_id": ada,
            "onetime_items": [{"aggregate": 3,
                "custom_price": {"amount": {"currency": "USD", "value_in_cents": 12300}, "product_id": c.product,
                    "description": "Implementation hours"},
                "product_pricing_id": null,
                "quantity_config": {"allow_custom_quantity": true, "max_quantity": 10, "min_quantity": 1},
                "sort_order": 1}],
            "type": "IMMEDIATE",
            "auto_charges": false,
            "discounts": [{"name": "Partner", "type": "DISCOUNT_AMOUNT",
                "amount": {"currency": "USD", "value_in_cents": 900}, "cap": {"currency": "USD", "value_in_cents": 1000},
                "coupon_id": null, "customer_id": null, "expiration_date": null, "import_created_at_ref": null,
                "import_ref": null, "imported_from": null, "item_pricing_id": null, "onetime_billable_id": null,
                "percent": 0.5, "product_id": null, "product_pricing_id": null, "proposal_id": null,
                "state": "ACTIVE", "subscription_id": null}],
            "invoice_date": "2026-11-20",
            "invoice_due_date_from_creation": 30,
            "invoice_payment_instructions": "IBAN DE89 3704 0044 0532 0130 00",
            "metadata": {"order": "A-17"},
            "notes": "Thank you!"
        });
        let r = app.post_company("/one_times", &body).await;
        let list = r.ok().as_array().expect("a list of one-time charges").clone();
        assert_eq!(list.len(), 1);
        let b = &list[0];
        for key in ["aggregate", "company_id", "created_at", "custom_price", "customer_id", "id", "name", "product_pricing",
            "product_pricing_id", "quantity_config", "sort_order", "state", "type", "updated_at"] {
            assert!(b.get(key).is_some(), "missing {key}: {b}");
        }
        assert_eq!((b["aggregate"].as_i64(), b["type"].as_str(), b["state"].as_str()), (Some(3), Some("IMMEDIATE"), Some("INVOICED")));
        assert_eq!((b["name"].as_str(), b["amount"].as_i64()), (Some("Implementation hours"), Some(36900)));
        assert_eq!(b["custom_price"]["amount"]["value_in_cents"], 12300);
        assert_eq!(b["metadata"]["order"], "A-17");

        // The invoice: lines, the discount, totals, dates, instructions and notes.
        let i = invoice(app, b["invoice_id"].as_str().unwrap()).await;
        assert_eq!((i["status"].as_str(), i["subtotal"].as_i64(), i["discount_total"].as_i64(), i["total"].as_i64(), i["amount_due"].as_i64()),
            (Some("OPEN"), Some(36900), Some(900), Some(36000), Some(36000)));
        assert_eq!(i["lines"]["lines"][0]["quantity"], 3);
        assert_eq!(i["lines"]["discounts"][0]["name"], "Partner");
        assert!(i["issued_at"].as_str().unwrap().starts_with("2026-11-20T00:00:00"));
        assert!(i["due_at"].as_str().unwrap().starts_with("2026-12-20T00:00:00"), "{}", i["due_at"]);
        assert_eq!((i["payment_instructions"].as_str(), i["notes"].as_str()), (Some("IBAN DE89 3704 0044 0532 0130 00"), Some("Thank you!")));
        assert_eq!(i["url"], b["invoice_url"]);
        assert_eq!(events(app, "invoice.created").await, 1);
        assert_eq!(events(app, "invoice.paid").await, 0);

        // The hosted page shows it.
        let (status, page) = get_page(app, &path_of(app, i["url"].as_str().unwrap())).await;
        assert_eq!(status, 200);
        assert!(page.contains(i["number"].as_str().unwrap()) && page.contains("Implementation hours") && page.contains("$360.00"), "{page}");
        assert!(page.contains("IBAN DE89 3704 0044 0532 0130 00") && page.contains("Thank you!"));
    }

    async fn a_pricing_is_expanded_and_an_automatic_charge_pays_with_the_card_saved_at_checkout(app) {
        let c = catalog(app).await;
        let ada = customer(app, "Ada").await;
        save_card(app, &c, &ada, SUCCESS, false).await;
        let r = app.post_company("/one_times", &immediate(&c, &ada, 2, true)).await;
        let b = &r.ok()[0];
        assert_eq!(b["product_pricing"]["id"].as_str(), Some(c.training.as_str()));
        assert_eq!(b["product_pricing"]["items"][0]["name"], "Training day");
        let i = invoice(app, b["invoice_id"].as_str().unwrap()).await;
        assert_eq!((i["status"].as_str(), i["total"].as_i64(), i["amount_due"].as_i64()), (Some("PAID"), Some(50000), Some(0)));
        let paid = count_where(app, "payments", &format!("invoice_id = '{}' AND status = 'SUCCEEDED' AND amount = 50000", i["id"].as_str().unwrap())).await;
        assert_eq!(paid, 1);
        // The checkout's invoice and this one: each created and paid once.
        assert_eq!((events(app, "invoice.created").await, events(app, "invoice.paid").await), (2, 2));
        assert_eq!(events(app, "payment.failed").await, 0);

        // The hosted page is now a receipt, with nothing to pay.
        let (_, page) = get_page(app, &path_of(app, i["url"].as_str().unwrap())).await;
        assert!(!page.contains("name=\"card_number\""), "no card form on a paid invoice");
    }

    async fn without_a_saved_card_an_automatic_charge_leaves_the_invoice_open(app) {
        let c = catalog(app).await;
        let bob = customer(app, "Bob").await;
        let r = app.post_company("/one_times", &immediate(&c, &bob, 1, true)).await;
        let i = invoice(app, r.ok()[0]["invoice_id"].as_str().unwrap()).await;
        assert_eq!((i["status"].as_str(), i["amount_due"].as_i64()), (Some("OPEN"), Some(25000)));
        assert_eq!(events(app, "payment.failed").await, 1, "the merchant hears why");
        assert_eq!(app.count("payments").await, 0, "nothing was charged");
    }

    async fn a_declined_automatic_charge_is_recorded_then_paid_on_the_hosted_page(app) {
        let c = catalog(app).await;
        let ada = customer(app, "Ada").await;
        save_card(app, &c, &ada, DECLINE_LATER, true).await;
        let r = app.post_company("/one_times", &immediate(&c, &ada, 3, true)).await;
        let i = invoice(app, r.ok()[0]["invoice_id"].as_str().unwrap()).await;
        let id = i["id"].as_str().unwrap().to_string();
        assert_eq!((i["status"].as_str(), i["amount_due"].as_i64()), (Some("OPEN"), Some(75000)));
        let failed = count_where(app, "payments", &format!("invoice_id = '{id}' AND status = 'FAILED' AND failure_reason LIKE '%declined%'")).await;
        assert_eq!(failed, 1);
        assert_eq!(events(app, "payment.failed").await, 1);

        // The customer opens the invoice, a mistyped card is refused beside its field, then pays.
        let url = i["url"].as_str().unwrap();
        let csrf = open_form(app, url).await;
        let bad = pay_page(app, url, &csrf, "4242 4242 4242 4241").await;
        assert_eq!(bad.status, 422, "{}", html(&bad));
        let paid = pay_page(app, url, &csrf, SUCCESS).await;
        assert_eq!(paid.status, 303, "{}", html(&paid));
        assert_eq!(path_of(app, url), location(&paid));
        let i = invoice(app, &id).await;
        assert_eq!((i["status"].as_str(), i["amount_due"].as_i64()), (Some("PAID"), Some(0)));
        assert!(i["paid_at"].is_string());
        let (_, page) = get_page(app, &path_of(app, url)).await;
        assert!(page.contains("$750.00") && !page.contains("name=\"card_number\""), "{page}");
        // Paying again charges nothing.
        let again = pay_page(app, url, &csrf, SUCCESS).await;
        assert_eq!(again.status, 303);
        let succeeded = count_where(app, "payments", &format!("invoice_id = '{id}' AND status = 'SUCCEEDED'")).await;
        assert_eq!(succeeded, 1);
        assert_eq!(events(app, "invoice.paid").await, 1 + 1, "the trial checkout's $0 invoice and this one");
    }

    async fn payment_failed_carries_the_same_fields_from_the_checkout_page_the_invoice_page_and_automatic_charges(app) {
        let c = catalog(app).await;
        // A declined card on the checkout page.
        let ada = customer(app, "Ada").await;
        let created = app.post_company("/checkout", &json!({"customer_id": ada, "product_pricing_ids": [c.team]})).await;
        let checkout_id = created.ok()["id"].as_str().unwrap().to_string();
        let path = path_of(app, created.body["url"].as_str().unwrap());
        let (_, page) = get_page(app, &path).await;
        let fields = [("card_number", DECLINE), ("card_expiry", "12/34"), ("card_cvc", "123"), ("action", "pay")];
        assert_eq!(post_form(app, &path, &csrf_of(&page), &fields).await.status, 402);
        // A declined card on the hosted invoice page.
        let r = app.post_company("/one_times", &immediate(&c, &ada, 1, false)).await;
        let page_invoice = r.ok()[0]["invoice_id"].as_str().unwrap().to_string();
        let url = r.body[0]["invoice_url"].as_str().unwrap().to_string();
        assert_eq!(pay_page(app, &url, &open_form(app, &url).await, DECLINE).await.status, 402);
        // An automatic charge without a saved card, and one whose saved card declines.
        let bob = customer(app, "Bob").await;
        let r = app.post_company("/one_times", &immediate(&c, &bob, 2, true)).await;
        let unsaved_invoice = r.ok()[0]["invoice_id"].as_str().unwrap().to_string();
        let carol = customer(app, "Carol").await;
        save_card(app, &c, &carol, DECLINE_LATER, true).await;
        let r = app.post_company("/one_times", &immediate(&c, &carol, 3, true)).await;
        let declined_invoice = r.ok()[0]["invoice_id"].as_str().unwrap().to_string();

        let sent = event_data(app, "payment.failed").await;
        assert_eq!(sent.len(), 4, "{sent:?}");
        for data in &sent {
            assert_eq!(fields_of(data), PAYMENT_FAILED_FIELDS, "{data}");
            assert_eq!(data["currency"], "USD");
            assert!(data["reason"].as_str().is_some_and(|r| !r.is_empty()), "{data}");
        }
        fn seen(d: &Value) -> (Option<&str>, Option<&str>, Option<&str>, Option<i64>) {
            (d["checkout_id"].as_str(), d["invoice_id"].as_str(), d["customer_id"].as_str(), d["amount"].as_i64())
        }
        assert_eq!(seen(&sent[0]), (Some(checkout_id.as_str()), None, Some(ada.as_str()), Some(1500)));
        assert_eq!(seen(&sent[1]), (None, Some(page_invoice.as_str()), Some(ada.as_str()), Some(25000)));
        assert_eq!(seen(&sent[2]), (None, Some(unsaved_invoice.as_str()), Some(bob.as_str()), Some(50000)));
        assert_eq!(seen(&sent[3]), (None, Some(declined_invoice.as_str()), Some(carol.as_str()), Some(75000)));
        assert!(sent[2]["payment_id"].is_null(), "no attempt was made without a card");
        for data in [&sent[0], &sent[1], &sent[3]] {
            let attempt = format!("id = '{}' AND status = 'FAILED'", data["payment_id"].as_str().unwrap());
            assert_eq!(count_where(app, "payments", &attempt).await, 1, "{data}");
        }
    }

    async fn a_decline_on_the_hosted_page_shows_the_reason_and_keeps_the_invoice_open(app) {
        let c = catalog(app).await;
        let ada = customer(app, "Ada").await;
        let r = app.post_company("/one_times", &immediate(&c, &ada, 1, false)).await;
        let url = r.ok()[0]["invoice_url"].as_str().unwrap().to_string();
        let csrf = open_form(app, &url).await;
        let declined = pay_page(app, &url, &csrf, crate::checkout::DECLINE).await;
        assert_eq!(declined.status, 402);
        assert!(html(&declined).contains("declined"), "{}", html(&declined));
        let i = invoice(app, r.body[0]["invoice_id"].as_str().unwrap()).await;
        assert_eq!(i["status"], "OPEN");
        assert_eq!(events(app, "payment.failed").await, 1);
        // A voided invoice takes no payment.
        app.post_company(&format!("/invoices/{}/void", i["id"].as_str().unwrap()), &json!({})).await.ok();
        let refused = pay_page(app, &url, &csrf, SUCCESS).await;
        assert_eq!(refused.status, 303);
        assert_eq!(app.count("payments").await, 1, "only the declined attempt");
    }

    async fn an_invoice_being_paid_cannot_be_voided_or_marked_paid_meanwhile(app) {
        let c = catalog(app).await;
        let ada = customer(app, "Ada").await;
        let r = app.post_company("/one_times", &immediate(&c, &ada, 1, false)).await;
        let id = r.ok()[0]["invoice_id"].as_str().unwrap().to_string();
        // A payment attempt holds the invoice (as the hosted page does while the provider answers).
        crate::checkout::sql(&app.db, &format!("UPDATE invoices SET paying_until = '2999-01-01T00:00:00Z' WHERE id = '{id}'")).await;
        for action in ["void", "mark_paid"] {
            let refused = app.post_company(&format!("/invoices/{id}/{action}"), &json!({})).await;
            refused.assert_error(409, "");
            assert_eq!(refused.error_code(), "invoice_payment_in_progress");
        }
        assert_eq!(invoice(app, &id).await["status"], "OPEN");
        crate::checkout::sql(&app.db, &format!("UPDATE invoices SET paying_until = NULL WHERE id = '{id}'")).await;
        assert_eq!(app.post_company(&format!("/invoices/{id}/void"), &json!({})).await.ok()["status"], "VOID");
    }

    async fn next_charges_join_the_next_checkout_invoice_exactly_once(app) {
        let c = catalog(app).await;
        let ada = customer(app, "Ada").await;
        let next = json!({"customer_id": ada, "type": "NEXT", "notes": "Setup",
            "onetime_items": [{"product_pricing_id": c.training, "aggregate": 2}]});
        let r = app.post_company("/one_times", &next).await;
        let b = &r.ok()[0];
        assert_eq!((b["state"].as_str(), b["invoice_id"].as_str()), (Some("PENDING"), None));
        assert_eq!(app.count("invoices").await, 0);

        // Her next checkout shows and collects them, and its invoice lists them.
        let created = app.post_company("/checkout", &json!({"customer_id": ada, "product_pricing_ids": [c.team]})).await;
        let id = created.ok()["id"].as_str().unwrap().to_string();
        let path = path_of(app, created.body["url"].as_str().unwrap());
        let q = app.get_company(&format!("/checkout/{id}")).await;
        assert_eq!(q.ok()["quote"]["total_due_today"].as_i64(), Some(1500 + 50000));
        let (_, page) = get_page(app, &path).await;
        assert!(page.contains("Training day") && page.contains("$515.00"), "{page}");
        let fields = [("card_number", SUCCESS), ("card_expiry", "12/34"), ("card_cvc", "123"), ("action", "pay")];
        let paid = post_form(app, &path, &csrf_of(&page), &fields).await;
        assert_eq!(paid.status, 303, "{}", html(&paid));
        let s = app.get_company(&format!("/checkout/{id}")).await;
        let i = invoice(app, s.ok()["invoice_id"].as_str().unwrap()).await;
        assert_eq!((i["status"].as_str(), i["total"].as_i64()), (Some("PAID"), Some(51500)));
        let names: Vec<&str> = i["lines"]["lines"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Seats", "Training day"]);
        let invoiced = count_where(app, "onetime_billables", &format!("invoice_id = '{}'", i["id"].as_str().unwrap())).await;
        assert_eq!(invoiced, 1);

        // Nothing waits any more: no second invoice, and her next checkout is the plan alone.
        let none = app.post_company("/invoices", &json!({"customer_id": ada})).await;
        none.assert_error(409, "");
        assert_eq!(none.error_code(), "nothing_to_invoice");
        let again = app.post_company("/checkout", &json!({"customer_id": ada, "product_pricing_ids": [c.team]})).await;
        let q = app.get_company(&format!("/checkout/{}", again.ok()["id"].as_str().unwrap())).await;
        assert_eq!(q.ok()["quote"]["total_due_today"].as_i64(), Some(1500));
    }

    async fn a_charge_invoiced_during_a_bank_challenge_is_not_collected_twice(app) {
        let c = catalog(app).await;
        let ada = customer(app, "Ada").await;
        let next = json!({"customer_id": ada, "type": "NEXT", "onetime_items": [{"product_pricing_id": c.training}]});
        app.post_company("/one_times", &next).await.ok();
        let created = app.post_company("/checkout", &json!({"customer_id": ada, "product_pricing_ids": [c.team]})).await;
        let id = created.ok()["id"].as_str().unwrap().to_string();
        let path = path_of(app, created.body["url"].as_str().unwrap());
        let (_, page) = get_page(app, &path).await;
        let fields = [("card_number", crate::checkout::CHALLENGE), ("card_expiry", "12/34"), ("card_cvc", "123"), ("action", "pay")];
        let challenged = post_form(app, &path, &csrf_of(&page), &fields).await;
        assert_eq!(challenged.status, 303);
        let challenge = path_of(app, &location(&challenged));

        // While she is at her bank, the merchant invoices the waiting charge.
        let invoiced = app.post_company("/invoices", &json!({"customer_id": ada})).await;
        assert_eq!(invoiced.ok()["total"], 25000);
        let (_, page) = get_page(app, &challenge).await;
        let approved = post_form(app, &challenge, &csrf_of(&page), &[("answer", "approve")]).await;
        assert_eq!(approved.status, 409, "{}", html(&approved));
        assert!(html(&approved).contains("Your order changed"), "{}", html(&approved));
        assert_eq!(count_where(app, "payments", "status = 'SUCCEEDED'").await, 0, "nothing was taken");
        let s = app.get_company(&format!("/checkout/{id}")).await;
        assert!(s.ok()["invoice_id"].is_null());
        assert_eq!(s.body["quote"]["total_due_today"].as_i64(), Some(1500), "the order is now the plan alone");
    }

    async fn next_charges_are_invoiced_on_request_exactly_once(app) {
        let c = catalog(app).await;
        let ada = customer(app, "Ada").await;
        let bob = customer(app, "Bob").await;
        for (who, units) in [(&ada, 1), (&ada, 2), (&bob, 4)] {
            let body = json!({"customer_id": who, "type": "NEXT", "onetime_items": [{"product_pricing_id": c.training, "aggregate": units}],
                "discounts": [{"type": "DISCOUNT_PERCENT", "percent": 0.1, "name": "Ten"}]});
            app.post_company("/one_times", &body).await.ok();
        }
        // Two requests at once: one invoice takes both of Ada's batches, the other finds nothing.
        let body = json!({"customer_id": ada, "invoice_due_date_from_creation": 7, "invoice_payment_instructions": "Wire"});
        let (first, second) = tokio::join!(app.post_company("/invoices", &body), app.post_company("/invoices", &body));
        let (won, lost) = if first.status == 200 { (first, second) } else { (second, first) };
        let i = won.ok();
        assert_eq!(lost.status, 409, "{}", lost.body);
        // 1 × $250 − 10 % and 2 × $250 − 10 %.
        assert_eq!((i["subtotal"].as_i64(), i["discount_total"].as_i64(), i["total"].as_i64()), (Some(75000), Some(7500), Some(67500)));
        assert_eq!((i["lines"]["lines"].as_array().unwrap().len(), i["lines"]["discounts"].as_array().unwrap().len()), (2, 2));
        assert_eq!((i["status"].as_str(), i["payment_instructions"].as_str()), (Some("OPEN"), Some("Wire")));
        assert_eq!(count_where(app, "onetime_billables", "invoice_id IS NULL").await, 1, "Bob's still waits");
        let waiting = app.post_company("/invoices", &json!({"customer_id": ada})).await;
        assert_eq!(waiting.error_code(), "nothing_to_invoice");
        assert_eq!(app.count("invoices").await, 1);
    }

    async fn invoice_numbers_stay_unique_and_gap_free_under_20_concurrent_creations(app) {
        let c = catalog(app).await;
        let ada = customer(app, "Ada").await;
        let body = immediate(&c, &ada, 1, false);
        let requests = (0..20).map(|_| app.post_company("/one_times", &body));
        let answers = futures_util::future::join_all(requests).await;
        for a in &answers {
            assert_eq!(a.status, 200, "{}", a.body);
        }
        let sql = format!("SELECT COUNT(DISTINCT number) FROM invoices WHERE company_id = '{}'", app.company_id);
        assert_eq!(scalar(&app.db, &sql).await, 20);
        let mut numbers = Vec::new();
        for a in &answers {
            let i = invoice(app, a.body[0]["invoice_id"].as_str().unwrap()).await;
            let n: i64 = i["number"].as_str().unwrap().rsplit('-').next().unwrap().parse().unwrap();
            numbers.push(n);
        }
        numbers.sort();
        assert_eq!(numbers, (1..=20).collect::<Vec<i64>>());
        assert_eq!(events(app, "invoice.created").await, 20);
    }

    async fn bad_one_time_charges_are_refused_with_the_field_named(app) {
        let c = catalog(app).await;
        let ada = customer(app, "Ada").await;
        let euro = app.pricing("EUR", json!([{"name": "Audit", "pricing_model": "FLAT", "amount": 10000}])).await;
        let url = format!("{}/api/v1/companies/{}/customers", app.base, app.other_company_id);
        let theirs = app.send(app.client.post(url).bearer_auth(&app.other_api_key).json(&json!({"name": "Eve"}))).await;
        let theirs = theirs.ok()["id"].as_str().unwrap().to_string();
        let item = |v: Value| json!({"customer_id": ada, "onetime_items": [v]});
        let training = |units: i64| json!({"product_pricing_id": c.training, "aggregate": units});
        let cases: Vec<(Value, &str)> = vec![
            (item(json!({"product_pricing_id": "pp_nope"})), "onetime_items[0].product_pricing_id"),
            (json!({"customer_id": theirs, "onetime_items": [training(1)]}), "customer_id"),
            (json!({"customer_id": ada, "onetime_items": [training(1), {"product_pricing_id": euro["id"]}]}), "onetime_items[1].product_pricing_id"),
            (item(training(-1)), "onetime_items[0].aggregate"),
            (item(json!({"product_pricing_id": c.training, "aggregate": 12,
                "quantity_config": {"min_quantity": 1, "max_quantity": 10}})), "onetime_items[0].aggregate"),
            (item(json!({"product_pricing_id": c.team})), "onetime_items[0].product_pricing_id"),
            (item(json!({"product_pricing_id": c.training, "custom_price": {"amount": {"currency": "USD", "value_in_cents": 1}, "product_id": c.product}})), "onetime_items[0].custom_price"),
            (item(json!({"custom_price": {"amount": {"currency": "USD", "value_in_cents": -5}, "product_id": c.product}})), "onetime_items[0].custom_price.amount.value_in_cents"),
            (json!({"customer_id": ada, "onetime_items": []}), "onetime_items"),
            (json!({"onetime_items": [training(1)]}), "customer_id"),
            (json!({"customer_id": ada, "type": "NEXT", "auto_charges": true, "onetime_items": [training(1)]}), "auto_charges"),
            (json!({"customer_id": ada, "type": "LATER", "onetime_items": [training(1)]}), "type"),
            (json!({"customer_id": ada, "invoice_date": "soon", "onetime_items": [training(1)]}), "invoice_date"),
            (json!({"customer_id": ada, "invoice_due_date_from_creation": -1, "onetime_items": [training(1)]}), "invoice_due_date_from_creation"),
        ];
        for (body, param) in cases {
            let r = app.post_company("/one_times", &body).await;
            assert!(r.status == 422 || r.status == 404, "{param}: {} {}", r.status, r.body);
            assert_eq!(r.error_param(), param, "{}", r.body);
        }
        let mismatch = app.post_company("/one_times", &json!({"customer_id": ada, "onetime_items": [training(1), {"product_pricing_id": euro["id"]}]})).await;
        assert_eq!(mismatch.error_code(), "currency_mismatch");
        assert_eq!(app.count("onetime_billables").await, 0, "nothing was stored");
        assert_eq!(app.count("invoices").await, 0);
        // An explicit invoice names its customer.
        app.post_company("/invoices", &json!({})).await.assert_error(422, "customer_id");
        app.post_company("/invoices", &json!({"customer_id": theirs})).await.assert_error(422, "customer_id");
    }
}
