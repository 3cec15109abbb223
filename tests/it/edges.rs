//! The small edges of the money issue: keys, cursors, redirect fragments, transport and cache
//! headers, tier bounds and far-future dates — each answered as documented, never silently.

use serde_json::json;

use crate::checkout::{SUCCESS, catalog, create, csrf_of, get_page, location, order, pay_fields, post_form};
use crate::support::TestApp;

async fn post_with_key(app: &TestApp, key: &str) -> crate::support::Resp {
    let request = app.request(reqwest::Method::POST, &app.company_path("/products"));
    app.send(request.header("idempotency-key", key).json(&json!({"name": "Thing"}))).await
}

on_both_stores! {
    async fn an_idempotency_key_with_a_space_or_tab_is_refused(app) {
        // (Whitespace around a header value is not part of it in HTTP; inside it is.)
        for key in ["two words", "tab\there"] {
            let r = post_with_key(app, key).await;
            assert_eq!(r.status, 400, "{key:?}: {}", r.body);
            r.assert_error(400, "Idempotency-Key");
            assert_eq!(r.error_code(), "idempotency_key_invalid");
        }
        assert_eq!(app.count("products").await, 0);
        post_with_key(app, "order-42_retry.1~").await.ok();
    }

    async fn a_cursor_this_api_never_returned_is_422_naming_cursor(app) {
        for cursor in ["zzz", "prod_short", "PROD_01M8WRK4XEXX7C6SFFEEZ5WBXJ", "prod_01M8WRK4XEXX7C6SFFEEZ5WBXU"] {
            app.get_company(&format!("/products?cursor={cursor}")).await.assert_error(422, "cursor");
        }
        let id = app.product("Thing").await;
        let r = app.get_company(&format!("/products?cursor={id}")).await;
        assert_eq!(r.ok()["data"], json!([]), "a real cursor still pages");
    }

    async fn a_redirect_url_with_a_fragment_gets_the_ids_in_its_query(app) {
        let c = catalog(app).await;
        let (id, path) = create(app, &order(&c, |b| {
            b["options"]["completion_action"] = json!("REDIRECT");
            b["options"]["redirect_url"] = json!("https://merchant.example/done?from=kasse#receipt");
        }))
        .await;
        let (_, page) = get_page(app, &path).await;
        let r = post_form(app, &path, &csrf_of(&page), &pay_fields(SUCCESS)).await;
        assert_eq!(r.status, 303);
        let to = location(&r);
        assert!(to.starts_with(&format!("https://merchant.example/done?from=kasse&checkout_id={id}&customer_id=")), "{to}");
        assert!(to.ends_with("#receipt") && to.matches('#').count() == 1, "{to}");
    }

    async fn pages_and_not_found_answers_are_never_cached_and_http_gets_no_hsts(app) {
        for path in ["/", "/no/such/page", "/api/v1/nothing"] {
            let r = app.send(app.client.get(format!("{}{path}", app.base))).await;
            assert_eq!(r.headers["cache-control"], "no-store", "{path}");
            assert!(r.headers.get("strict-transport-security").is_none(), "{path}");
        }
        let css = app.send(app.client.get(format!("{}/static/app.css", app.base))).await;
        assert_eq!(css.headers["cache-control"], "public, max-age=3600");
    }

    async fn a_tier_bound_above_the_largest_quantity_says_so(app) {
        let product = app.product("Seats").await;
        let body = json!({"product_id": product, "name": "Plan", "currency": "USD", "items": [{"name": "Seats",
            "pricing_model": "GRADUATED", "billing_period": {"count": 1, "frequency": "MONTH"},
            "tiers": [{"up_to": 2_000_000_000i64, "unit_amount": 100}, {"up_to": null, "unit_amount": 50}]}]});
        let r = app.post_company("/product_pricings", &body).await;
        r.assert_error(422, "items[0].tiers[0].up_to");
        assert!(r.error_message().contains("at most 1000000000"), "{}", r.error_message());
    }

    async fn a_date_past_the_year_2999_is_refused_not_written_with_five_digits(app) {
        let coupon = json!({"name": "Forever", "type": "DISCOUNT_PERCENT", "percent": 0.1,
            "promo_codes": [{"code": "LATER", "expiration_date": "9999-12-31"}]});
        let r = app.post_company("/coupons", &coupon).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.error_message().contains("through 2999"), "{}", r.error_message());
    }

    async fn fields_kept_only_for_the_seeds_still_have_their_documented_length(app) {
        let c = catalog(app).await;
        let long = "x".repeat(201);
        let session = |extra: serde_json::Value| {
            let mut body = json!({"plan_version_id": c.team});
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            body
        };
        for (extra, param) in [
            (json!({"coupon_code": "C".repeat(41)}), "coupon_code"),
            (json!({"invoice_threshold": long}), "invoice_threshold"),
            (json!({"add_ons": [{"add_on_id": c.onboarding, "customization": {"name": long}}]}), "add_ons[0].customization.name"),
            (json!({"coupon_code": "SAVE\u{1}10"}), "coupon_code"),
            (json!({"add_ons": [{"add_on_id": c.onboarding}, {"add_on_id": c.onboarding, "quantity": 0}]}), "add_ons[1].quantity"),
            (json!({"trial_duration_days": 3651}), "trial_duration_days"),
        ] {
            app.post("/api/v1/checkout-sessions", &session(extra)).await.assert_error(422, param);
        }
        assert_eq!(app.count("checkout_sessions").await, 0);
        let discount = json!({"type": "DISCOUNT_PERCENT", "percent": 0.1, "import_ref": long});
        let r = app.post_company("/pricing/preview", &json!({"product_pricing_ids": [c.team],
            "discounts": [discount]})).await;
        r.assert_error(422, "discounts[0].import_ref");
    }

    async fn list_filters_refuse_what_no_id_or_address_can_be(app) {
        for path in ["/invoices?customer_id=nope", "/contracts?customer_id=cus_x", "/checkout?customer_id=1",
            "/product_pricings?product_id=%20x"] {
            let param = path.split(['?', '=']).nth(1).unwrap();
            app.get_company(path).await.assert_error(422, param);
        }
        app.get_company(&format!("/customers?email={}", "a".repeat(255))).await.assert_error(422, "email");
        app.get_company("/invoices?status=LOST").await.assert_error(422, "status");
        let r = app.get_company("/invoices?customer_id=cus_01M8WRK4XEXX7C6SFFEEZ5WBXJ&status=open").await;
        assert_eq!(r.ok()["data"], json!([]), "a well-formed id that is not there is an empty page");
    }
}

on_both_stores! {
    config = |c| c.public_url = Some("https://pay.example.com".into());

    async fn over_https_every_answer_asks_browsers_to_stay_on_https(app) {
        for path in ["/", "/healthz", "/no/such/page"] {
            let r = app.send(app.client.get(format!("{}{path}", app.base))).await;
            assert_eq!(r.headers["strict-transport-security"], "max-age=31536000", "{path}");
        }
    }
}
