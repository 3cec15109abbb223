//! What the customer saw is what they pay, and every payment ends in exactly one order: the
//! shown total checked on Pay, Enter in a field, promo-code limits under concurrency, and
//! invoices already paid by card.

use serde_json::json;

use crate::checkout::{
    SUCCESS, catalog, count_where, create, csrf_of, get_page, html, location, order, pay_fields, post_form,
};

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
