//! What the customer saw is what they pay, and every payment ends in exactly one order: the
//! shown total checked on Pay, Enter in a field, promo-code limits under concurrency, and
//! invoices already paid by card.

use serde_json::json;

use crate::checkout::{
    CHALLENGE, Catalog, DECLINE, SUCCESS, catalog, count_where, create, csrf_of, get_page, html, location, order,
    page_resp, pay_fields, post_form, scalar,
};
use crate::support::TestApp;

/// The value of the hidden input `name` on a page.
pub(crate) fn hidden(page: &str, name: &str) -> String {
    let at = page.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no field {name}: {page}"));
    let rest = &page[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// The name of the first quantity input on a checkout page (`qty.<key>`).
fn quantity_field(page: &str) -> String {
    let at = page.find("name=\"qty.").expect("a quantity input") + 6;
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

on_both_stores! {
    async fn paying_with_a_quantity_typed_but_not_updated_charges_nothing_and_shows_the_new_total(app) {
        let c = catalog(app).await;
        let (_, path) = create(app, &order(&c, |_| {})).await;
        let (_, page) = get_page(app, &path).await;
        // 5 seats at $15 and the $499 onboarding.
        assert_eq!((hidden(&page, "shown_amount"), hidden(&page, "shown_currency")), ("57400".into(), "USD".into()));
        let qty = quantity_field(&page);
        let mut fields = pay_fields(SUCCESS);
        fields.extend([(qty.as_str(), "40"), ("shown_amount", "57400"), ("shown_currency", "USD")]);
        let r = post_form(app, &path, &csrf_of(&page), &fields).await;
        assert_eq!(r.status, 409, "{}", html(&r));
        // 10 seats at $15, 30 at $12, and the onboarding.
        assert!(html(&r).contains("The total changed to $1,009.00"), "{}", html(&r));
        assert_eq!(hidden(html(&r), "shown_amount"), "100900");
        assert_eq!(app.count("payments").await, 0, "nothing was charged");
        assert_eq!(count_where(app, "checkout_sessions", "status = 'COMPLETED'").await, 0);

        // Pressing Pay again on the page that shows the new total pays it.
        let mut fields = pay_fields(SUCCESS);
        fields.extend([("shown_amount", "100900"), ("shown_currency", "USD")]);
        let r = post_form(app, &path, &csrf_of(html(&r)), &fields).await;
        assert_eq!((r.status, location(&r)), (303, path.clone()), "{}", html(&r));
        assert_eq!(count_where(app, "payments", "status = 'SUCCEEDED' AND amount = 100900").await, 1);
        assert_eq!(app.count("payments").await, 1);
    }

    async fn a_german_page_says_the_total_changed_in_german(app) {
        let c = catalog(app).await;
        let (_, path) = create(app, &order(&c, |b| b["locale"] = json!("de"))).await;
        let (_, page) = get_page(app, &path).await;
        let mut fields = pay_fields(SUCCESS);
        fields.extend([("shown_amount", "100"), ("shown_currency", "USD")]);
        let r = post_form(app, &path, &csrf_of(&page), &fields).await;
        assert_eq!(r.status, 409);
        assert!(html(&r).contains("Der Gesamtbetrag hat sich auf 574,00"), "{}", html(&r));
        assert_eq!(app.count("payments").await, 0);
    }

    async fn enter_without_javascript_applies_a_typed_promo_code_and_otherwise_pays(app) {
        let c = catalog(app).await;
        let (id, path) = create(app, &order(&c, |_| {})).await;
        let (_, page) = get_page(app, &path).await;
        // The form's first submit button is the default one that Enter presses: never Update.
        let form = &page[page.find("<form").unwrap()..];
        let first = &form[form.find("<button").unwrap()..];
        assert!(first.starts_with("<button type=\"submit\" name=\"action\" value=\"enter\""), "{first}");

        // Enter in the promo field (or anywhere while a code is typed): the code is applied, nothing paid.
        let mut fields = pay_fields(SUCCESS);
        fields.retain(|(k, _)| *k != "action");
        fields.extend([("promo_code", "SAVE10"), ("action", "enter"), ("shown_amount", "57400")]);
        let r = post_form(app, &path, &csrf_of(&page), &fields).await;
        assert_eq!((r.status, location(&r)), (303, path.clone()), "{}", html(&r));
        assert_eq!(app.count("payments").await, 0);
        let (_, page) = get_page(app, &path).await;
        assert!(page.contains("SAVE10") && page.contains("$516.60"), "{page}");

        // Enter in the card's security code with the code applied: it pays what the page shows.
        let mut fields = pay_fields(SUCCESS);
        fields.retain(|(k, _)| *k != "action");
        let shown = hidden(&page, "shown_amount");
        fields.extend([("action", "enter"), ("shown_amount", shown.as_str())]);
        let r = post_form(app, &path, &csrf_of(&page), &fields).await;
        assert_eq!((r.status, location(&r)), (303, path.clone()), "{}", html(&r));
        assert_eq!(count_where(app, "payments", "status = 'SUCCEEDED' AND amount = 51660").await, 1);
        let s = app.get_company(&format!("/checkout/{id}")).await;
        assert_eq!(s.ok()["status"], "COMPLETED");
    }

    async fn pay_with_a_promo_code_typed_but_not_applied_applies_it_before_charging(app) {
        let c = catalog(app).await;
        let (_, path) = create(app, &order(&c, |_| {})).await;
        let (_, page) = get_page(app, &path).await;
        let mut fields = pay_fields(SUCCESS);
        fields.extend([("promo_code", "SAVE10"), ("shown_amount", "57400"), ("shown_currency", "USD")]);
        let r = post_form(app, &path, &csrf_of(&page), &fields).await;
        assert_eq!(r.status, 409, "{}", html(&r));
        assert!(html(&r).contains("The total changed to $516.60") && html(&r).contains("SAVE10"), "{}", html(&r));
        assert_eq!(app.count("payments").await, 0, "nothing was charged");

        // A code that does not exist: said beside the field, nothing charged.
        let (_, path) = create(app, &order(&c, |_| {})).await;
        let (_, page) = get_page(app, &path).await;
        let mut fields = pay_fields(SUCCESS);
        fields.extend([("promo_code", "NOPE"), ("shown_amount", "57400"), ("shown_currency", "USD")]);
        let r = post_form(app, &path, &csrf_of(&page), &fields).await;
        assert_eq!(r.status, 422, "{}", html(&r));
        assert!(html(&r).contains("id=\"promo_code-error\""), "{}", html(&r));
        assert_eq!(app.count("payments").await, 0);
    }

    async fn an_invoice_paid_from_a_page_showing_another_amount_charges_nothing(app) {
        let customer = app.post_company("/customers", &json!({"name": "Ada", "email": "ada@example.com"})).await;
        let customer = customer.ok()["id"].as_str().unwrap().to_string();
        let product = app.product("Implementation").await;
        let body = json!({"customer_id": customer, "type": "IMMEDIATE", "auto_charges": false,
            "onetime_items": [{"custom_price": {"amount": {"currency": "USD", "value_in_cents": 12300},
                "product_id": product, "description": "Implementation hours"}, "aggregate": 2}]});
        let created = app.post_company("/one_times", &body).await;
        let url = created.ok()[0]["invoice_url"].as_str().unwrap().to_string();
        let path = url.strip_prefix(&app.base).unwrap().to_string();
        let (_, page) = get_page(app, &path).await;
        assert_eq!(hidden(&page, "shown_amount"), "24600");
        let fields = [("card_number", SUCCESS), ("card_expiry", "12/34"), ("card_cvc", "123"),
            ("shown_amount", "12300"), ("shown_currency", "USD")];
        let r = post_form(app, &format!("{path}/pay"), &csrf_of(&page), &fields).await;
        assert_eq!(r.status, 409, "{}", html(&r));
        assert!(html(&r).contains("The total changed to $246.00"), "{}", html(&r));
        assert_eq!(app.count("payments").await, 0);
        let fields = [("card_number", SUCCESS), ("card_expiry", "12/34"), ("card_cvc", "123"),
            ("shown_amount", "24600"), ("shown_currency", "USD")];
        let r = post_form(app, &format!("{path}/pay"), &csrf_of(&page), &fields).await;
        assert_eq!(r.status, 303, "{}", html(&r));
        assert_eq!(count_where(app, "invoices", "status = 'PAID'").await, 1);
        assert_eq!(count_where(app, "payments", "status = 'SUCCEEDED' AND amount = 24600").await, 1);
    }
}

/// A coupon with one promo code that may be redeemed once in all: `ONCE`, 10 % off.
async fn one_use_code(app: &TestApp) {
    let coupon = json!({"name": "Once", "type": "DISCOUNT_PERCENT", "percent": 0.1,
        "promo_codes": [{"code": "ONCE", "max_redemptions": 1}]});
    app.post_company("/coupons", &coupon).await.ok();
}

/// How often the code `ONCE` and its coupon were redeemed.
async fn redeemed(app: &TestApp) -> (i64, i64) {
    let code = scalar(&app.db, "SELECT CAST(times_redeemed AS BIGINT) FROM promo_codes WHERE code = 'ONCE'").await;
    let coupon = scalar(&app.db, "SELECT CAST(times_redeemed AS BIGINT) FROM coupons WHERE name = 'Once'").await;
    (code, coupon)
}

/// A checkout of the catalog with `ONCE` applied on its page; returns its path and the page.
async fn session_with_code(
    app: &TestApp,
    c: &Catalog,
    adjust: impl FnOnce(&mut serde_json::Value),
) -> (String, String) {
    let (_, path) = create(app, &order(c, adjust)).await;
    let (_, page) = get_page(app, &path).await;
    let r = post_form(app, &path, &csrf_of(&page), &[("promo_code", "ONCE"), ("action", "apply_promo")]).await;
    assert_eq!(r.status, 303, "{}", html(&r));
    let (_, page) = get_page(app, &path).await;
    // 10 % off the $574.00 order.
    assert!(page.contains("ONCE") && page.contains("$516.60"), "{page}");
    (path, page)
}

/// 30 sessions holding the one-use code pay at once, spread over two servers on one store:
/// one is paid with the discount, every other one is told the code is gone and charged nothing.
async fn thirty_race_for_one_redemption(app: &TestApp, adjust: fn(&mut serde_json::Value)) {
    let c = catalog(app).await;
    one_use_code(app).await;
    let other = app.another_process().await;
    let bases = [app.base.clone(), other.base.clone()];
    let mut sessions = Vec::new();
    for _ in 0..30 {
        sessions.push(session_with_code(app, &c, adjust).await);
    }
    let requests = sessions.iter().enumerate().map(|(i, (path, page))| {
        let mut form =
            vec![("csrf", csrf_of(page)), ("shown_amount", "51660".into()), ("shown_currency", "USD".into())];
        form.extend(pay_fields(SUCCESS).into_iter().map(|(k, v)| (k, v.to_string())));
        page_resp(app.client.post(format!("{}{path}", bases[i % 2])).form(&form))
    });
    let answers = futures_util::future::join_all(requests).await;
    let paid: Vec<_> = answers.iter().filter(|r| r.status == 303).collect();
    assert_eq!(paid.len(), 1, "exactly one order gets the last redemption");
    for r in answers.iter().filter(|r| r.status != 303) {
        // 409 for one that lost the race at the count, 422 for one priced after the winner.
        assert!(r.status == 409 || r.status == 422, "{}: {}", r.status, html(r));
        assert!(r.status == 422 || html(r).contains("just used up"), "{}", html(r));
        assert!(html(r).contains("This code is no longer available"), "{}", html(r));
        // The page now shows the total without the code: what the next Pay would charge.
        assert_eq!(hidden(html(r), "shown_amount"), "57400");
    }
    assert_eq!(redeemed(app).await, (1, 1));
    assert_eq!(count_where(app, "checkout_sessions", "status = 'COMPLETED'").await, 1);
    assert_eq!(app.count("payments").await, 1, "nothing was charged for the 29 others");
    assert_eq!(count_where(app, "invoices", "total = 51660").await, 1);
    assert_eq!(app.count("invoices").await, 1);
    other.stop().await;
}

on_both_stores! {
    async fn thirty_card_payments_over_two_servers_redeem_a_one_use_code_once(app) {
        thirty_race_for_one_redemption(app, |_| {}).await;
    }

    async fn thirty_invoiced_orders_over_two_servers_redeem_a_one_use_code_once(app) {
        thirty_race_for_one_redemption(app, |b| b["auto_charges"] = json!(false)).await;
    }

    async fn a_declined_card_gives_the_code_back_and_expiry_frees_a_held_one(app) {
        let c = catalog(app).await;
        one_use_code(app).await;
        let (first, page) = session_with_code(app, &c, |_| {}).await;
        let r = post_form(app, &first, &csrf_of(&page), &pay_fields(DECLINE)).await;
        assert_eq!(r.status, 402, "{}", html(&r));
        assert_eq!(redeemed(app).await, (0, 0), "a refused payment holds no redemption");
        // The code still applies on that page.
        assert!(html(&r).contains("$516.60"), "{}", html(&r));

        // The bank asks to confirm: the code is held meanwhile, and a second order cannot take it.
        let r = post_form(app, &first, &csrf_of(&page), &pay_fields(CHALLENGE)).await;
        assert_eq!(r.status, 303, "{}", html(&r));
        assert!(location(&r).contains("/challenge/"), "{}", location(&r));
        assert_eq!(redeemed(app).await, (1, 1));
        let (second, page2) = session_with_code_refused(app, &c).await;
        assert!(page2.contains("This code is no longer available"), "{page2}");

        // The first checkout is expired unpaid: the code is free again, and the second one takes it.
        let first_id = checkout_id_of(app, &first).await;
        let r = app.post_company(&format!("/checkout/{first_id}/expire"), &json!({})).await;
        assert_eq!(r.ok()["status"], "EXPIRED");
        assert_eq!(redeemed(app).await, (0, 0));
        let (_, page) = get_page(app, &second).await;
        let r = post_form(app, &second, &csrf_of(&page), &[("promo_code", "ONCE"), ("action", "apply_promo")]).await;
        assert_eq!(r.status, 303);
        let (_, page) = get_page(app, &second).await;
        let r = post_form(app, &second, &csrf_of(&page), &pay_fields(SUCCESS)).await;
        assert_eq!(r.status, 303, "{}", html(&r));
        assert_eq!(redeemed(app).await, (1, 1));
        assert_eq!(count_where(app, "invoices", "total = 51660").await, 1);
    }
}

/// A second checkout whose customer tries `ONCE` while it is held: refused on the page.
async fn session_with_code_refused(app: &TestApp, c: &Catalog) -> (String, String) {
    let (_, path) = create(app, &order(c, |_| {})).await;
    let (_, page) = get_page(app, &path).await;
    post_form(app, &path, &csrf_of(&page), &[("promo_code", "ONCE"), ("action", "apply_promo")]).await;
    let (status, page) = get_page(app, &path).await;
    assert_eq!(status, 422, "{page}");
    (path, page)
}

/// The id of the checkout whose page is at `path`.
async fn checkout_id_of(app: &TestApp, path: &str) -> String {
    let token = path.rsplit('/').next().unwrap();
    scalar_text(app, &format!("SELECT id FROM checkout_sessions WHERE token = '{token}'")).await
}

on_both_stores! {
    async fn an_invoice_paid_by_card_cannot_be_marked_paid_or_voided_and_the_answer_names_the_payment(app) {
        let customer = app.post_company("/customers", &json!({"name": "Ada", "email": "ada@example.com"})).await;
        let customer = customer.ok()["id"].as_str().unwrap().to_string();
        let product = app.product("Implementation").await;
        let body = json!({"customer_id": customer, "type": "IMMEDIATE", "auto_charges": false,
            "onetime_items": [{"custom_price": {"amount": {"currency": "USD", "value_in_cents": 12300},
                "product_id": product, "description": "Implementation hours"}, "aggregate": 1}]});
        let created = app.post_company("/one_times", &body).await;
        let invoice = created.ok()[0]["invoice_id"].as_str().unwrap().to_string();
        let url = created.body[0]["invoice_url"].as_str().unwrap().to_string();
        let path = url.strip_prefix(&app.base).unwrap().to_string();
        let (_, page) = get_page(app, &path).await;
        let fields = [("card_number", SUCCESS), ("card_expiry", "12/34"), ("card_cvc", "123")];
        let r = post_form(app, &format!("{path}/pay"), &csrf_of(&page), &fields).await;
        assert_eq!(r.status, 303, "{}", html(&r));
        let payment = scalar_text(app, "SELECT id FROM payments WHERE status = 'SUCCEEDED'").await;

        let r = app.post_company(&format!("/invoices/{invoice}/mark_paid"), &json!({"note": "Wire received"})).await;
        r.assert_error(409, "");
        assert_eq!(r.error_code(), "invoice_already_paid");
        assert!(r.error_message().contains(&payment), "{}", r.error_message());
        let r = app.post_company(&format!("/invoices/{invoice}/void"), &json!({})).await;
        assert_eq!((r.status, r.error_code()), (409, "invoice_already_paid"));
        let stored = app.get_company(&format!("/invoices/{invoice}")).await;
        assert_eq!(stored.ok()["status"], "PAID");
        assert_eq!(count_where(app, "outbox_events", "event_type = 'invoice.paid'").await, 1, "paid once, by the card");
    }
}

async fn scalar_text(app: &TestApp, sql: &str) -> String {
    match &app.db {
        kasse::db::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        kasse::db::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}
