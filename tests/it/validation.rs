//! Bad input of every kind: each is refused with the JSON envelope, the right status and `param`,
//! nothing is stored, and none of it is ever a 500.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Resp, TestApp};

const TABLES: [&str; 7] =
    ["products", "product_pricings", "item_pricings", "coupons", "promo_codes", "customers", "idempotency_keys"];

/// Row counts of every tenant table of ours, to show a refused request stored nothing.
async fn snapshot(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for t in TABLES {
        out.push((t, app.count(t).await));
    }
    out
}

/// Assert a refusal with the envelope, `status` and `param`; never a 5xx.
#[track_caller]
fn refused(r: &Resp, status: u16, param: &str) {
    assert!(r.status < 500, "a 5xx for bad input: {} {}", r.status, String::from_utf8_lossy(&r.bytes));
    r.assert_error(status, param);
    let content_type = r.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("application/json"), "content-type {content_type}");
}

/// A valid pricing body for `product_id` with `item` as its only item.
fn pricing_with(product_id: &str, item: Value) -> Value {
    json!({"product_id": product_id, "name": "Plan", "currency": "USD", "items": [item]})
}

fn products_path(app: &TestApp) -> String {
    app.company_path("/products")
}

on_both_stores! {
    // ---------------------------------------------------------------- body syntax and media type

    async fn malformed_json_is_400_json_invalid(app) {
        let before = snapshot(app).await;
        for body in [&b"{\"name\": \"x\""[..], b"{name: \"x\"}", b"{\"name\": 'x'}", b"{\"name\": \"x\",}", b"nul"] {
            let r = app.post_raw(&products_path(app), "application/json", body.to_vec()).await;
            refused(&r, 400, "");
            assert_eq!(r.error_code(), "json_invalid", "{}", String::from_utf8_lossy(body));
        }
        assert_eq!(snapshot(app).await, before);
    }

    async fn trailing_garbage_after_the_json_is_400(app) {
        let before = snapshot(app).await;
        for body in [&b"{\"name\": \"x\"} extra"[..], b"{\"name\": \"x\"}{\"name\": \"y\"}", b"{\"name\": \"x\"}]"] {
            let r = app.post_raw(&products_path(app), "application/json", body.to_vec()).await;
            refused(&r, 400, "");
            assert_eq!(r.error_code(), "json_invalid", "{}", String::from_utf8_lossy(body));
        }
        assert_eq!(snapshot(app).await, before);
        // Trailing whitespace is not garbage.
        let r = app.post_raw(&products_path(app), "application/json", b"{\"name\": \"x\"}\n  \n".to_vec()).await;
        r.ok();
    }

    async fn a_body_that_is_not_json_text_is_400(app) {
        let before = snapshot(app).await;
        let bodies: [&[u8]; 3] =
            [b"\xff\xfe{\"name\": \"x\"}", b"{\"name\": \"\xc3\x28\"}", b"{\"name\": \"\\ud800\"}"];
        for body in bodies {
            let r = app.post_raw(&products_path(app), "application/json", body.to_vec()).await;
            refused(&r, 400, "");
            assert_eq!(r.error_code(), "json_invalid");
        }
        assert_eq!(snapshot(app).await, before);
    }

    async fn a_body_that_is_not_an_object_is_422_without_param(app) {
        let before = snapshot(app).await;
        for body in ["[]", "\"Pro\"", "42", "null", "true"] {
            let r = app.post_raw(&products_path(app), "application/json", body.as_bytes().to_vec()).await;
            refused(&r, 422, "");
        }
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let r = app.post_raw(&products_path(app), "application/json", deep.into_bytes()).await;
        assert!(r.status == 400 || r.status == 422, "deep nesting: {} {}", r.status, r.body);
        refused(&r, r.status, r.error_param());
        // Nor is an array read as the fields in order.
        for body in [r#"["Pro", null, null]"#, r#"["Pro", "Desc", "ext"]"#] {
            let r = app.post_raw(&products_path(app), "application/json", body.as_bytes().to_vec()).await;
            refused(&r, 422, "");
        }
        assert_eq!(snapshot(app).await, before);
    }

    async fn a_non_json_content_type_is_415(app) {
        let before = snapshot(app).await;
        let body = br#"{"name": "Pro"}"#.to_vec();
        for content_type in
            ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/jsonx"]
        {
            let r = app.post_raw(&products_path(app), content_type, body.clone()).await;
            refused(&r, 415, "");
            assert_eq!(r.error_code(), "unsupported_media_type", "{content_type}");
        }
        let r = app.send(app.request(Method::POST, &products_path(app)).body(body.clone())).await;
        refused(&r, 415, "");
        assert_eq!(snapshot(app).await, before);

        // JSON with parameters or a +json suffix is JSON.
        app.post_raw(&products_path(app), "application/json; charset=utf-8", body.clone()).await.ok();
        app.post_raw(&products_path(app), "Application/JSON", body.clone()).await.ok();
        app.post_raw(&products_path(app), "application/vnd.kasse+json", body).await.ok();
        assert_eq!(app.count("products").await, 3);
    }

    async fn an_empty_body_is_400(app) {
        let before = snapshot(app).await;
        let r = app.post_raw(&products_path(app), "application/json", Vec::new()).await;
        refused(&r, 400, "");
        assert_eq!(r.error_code(), "json_invalid");
        let r = app.post_raw(&products_path(app), "application/json", b"   ".to_vec()).await;
        refused(&r, 400, "");
        assert_eq!(snapshot(app).await, before);
    }

    // ---------------------------------------------------------------- types, enums, fields

    async fn a_field_of_the_wrong_type_is_422_naming_it(app) {
        let product = app.product("Thing").await;
        let before = snapshot(app).await;
        let r = app.post_company("/products", &json!({"name": 5})).await;
        refused(&r, 422, "name");
        assert_eq!(r.error_code(), "parameter_invalid");
        refused(&app.post_company("/products", &json!({"name": ["Pro"]})).await, 422, "name");
        refused(&app.post_company("/products", &json!({"name": "Pro", "description": 7})).await, 422, "description");
        for amount in [json!("100"), json!(1.5), json!(true), json!({"value": 1})] {
            let item = json!({"name": "Fee", "pricing_model": "FLAT", "amount": amount});
            refused(
                &app.post_company("/product_pricings", &pricing_with(&product, item)).await,
                422,
                "items[0].amount",
            );
        }
        let r = app
            .post_company(
                "/product_pricings",
                &json!({"product_id": product, "name": "P", "currency": "USD",
            "items": {"name": "Fee"}}),
            )
            .await;
        refused(&r, 422, "items");
        let r = app.post_company("/customers", &json!({"email": "ana@example.com", "metadata": {"plan": 3}})).await;
        refused(&r, 422, "metadata.plan");
        assert_eq!(snapshot(app).await, before);
    }

    async fn a_missing_required_field_is_422_naming_it(app) {
        let product = app.product("Thing").await;
        let before = snapshot(app).await;
        let flat = |item: Value| pricing_with(&product, item);
        let cases = [
            ("/products", json!({"description": "no name"}), "name"),
            ("/products", json!({"name": null}), "name"),
            ("/product_pricings", json!({"product_id": product, "name": "P", "items": []}), "currency"),
            ("/product_pricings", json!({"name": "P", "currency": "USD", "items": []}), "product_id"),
            ("/product_pricings", flat(json!({"pricing_model": "FLAT", "amount": 1})), "items[0].name"),
            ("/product_pricings", flat(json!({"name": "F", "amount": 1})), "items[0].pricing_model"),
            ("/product_pricings", flat(json!({"name": "F", "pricing_model": "FLAT"})), "items[0].amount"),
            ("/coupons", json!({"name": "C", "percent": 0.1}), "type"),
            (
                "/coupons",
                json!({"name": "C", "type": "DISCOUNT_PERCENT", "percent": 0.1,
                                "promo_codes": [{"max_redemptions": 1}]}),
                "promo_codes[0].code",
            ),
        ];
        let mut wrong = Vec::new();
        for (path, body, param) in cases {
            let r = app.post_company(path, &body).await;
            assert!(r.status < 500, "{path} {body}: {} {}", r.status, r.body);
            let named = r.status == 422 && r.error_param() == param;
            let coded = matches!(r.error_code(), "parameter_missing" | "parameter_invalid");
            if !named || !coded {
                wrong.push(format!("{path} {body}: expected 422 {param:?}, got {} {}", r.status, r.body));
            }
        }
        assert!(wrong.is_empty(), "{} missing field(s) not named:\n{}", wrong.len(), wrong.join("\n"));
        assert_eq!(snapshot(app).await, before);
    }

    async fn an_unknown_pricing_model_is_422_listing_the_allowed_ones(app) {
        let product = app.product("Thing").await;
        let before = snapshot(app).await;
        let r = app
            .post_company(
                "/product_pricings",
                &pricing_with(&product, json!({"name": "Fee", "pricing_model": "WEIRD", "amount": 100})),
            )
            .await;
        refused(&r, 422, "items[0].pricing_model");
        let message = r.error_message();
        assert!(message.contains("WEIRD"), "{message}");
        for allowed in ["FLAT", "PER_UNIT", "PACKAGE", "GRADUATED", "VOLUME", "STAIR_STEP", "CUSTOMER_CHOSEN"] {
            assert!(message.contains(allowed), "message lists {allowed}: {message}");
        }
        // Enum values are exact: lower case is not accepted either.
        let r = app
            .post_company(
                "/product_pricings",
                &pricing_with(&product, json!({"name": "Fee", "pricing_model": "flat", "amount": 100})),
            )
            .await;
        refused(&r, 422, "items[0].pricing_model");
        let r = app.post_company("/coupons", &json!({"name": "C", "type": "DISCOUNT_HALF", "percent": 0.5})).await;
        refused(&r, 422, "type");
        assert!(r.error_message().contains("DISCOUNT_PERCENT"), "{}", r.error_message());
        assert_eq!(snapshot(app).await, before);
    }

    async fn an_unknown_field_is_422(app) {
        let product = app.product("Thing").await;
        let before = snapshot(app).await;
        let r = app.post_company("/products", &json!({"name": "Pro", "colour": "blue"})).await;
        refused(&r, 422, "colour");
        assert!(r.error_message().contains("colour"), "{}", r.error_message());
        let r = app
            .post_company(
                "/product_pricings",
                &pricing_with(&product, json!({"name": "Fee", "pricing_model": "FLAT", "amount": 100, "price": 5})),
            )
            .await;
        refused(&r, 422, "items[0].price");
        let r = app
            .post_company(
                "/customers",
                &json!({"email": "ana@example.com",
                        "address": {"line1": "x", "city": "y", "country": "US", "zip": "1"}}),
            )
            .await;
        refused(&r, 422, "address.zip");
        assert_eq!(snapshot(app).await, before);
    }

    async fn a_field_given_twice_is_422(app) {
        let before = snapshot(app).await;
        let r = app.post_raw(&products_path(app), "application/json", br#"{"name": "A", "name": "B"}"#.to_vec()).await;
        assert!(r.error_param() == "name" || r.error_param().is_empty(), "{}", r.body);
        refused(&r, 422, r.error_param());
        assert!(r.error_message().contains("name"), "{}", r.body);
        assert_eq!(snapshot(app).await, before);
    }

    // ---------------------------------------------------------------- amounts

    async fn a_negative_amount_is_422_naming_it(app) {
        let product = app.product("Thing").await;
        let before = snapshot(app).await;
        let cases = [
            (json!({"name": "Fee", "pricing_model": "FLAT", "amount": -1}), "items[0].amount"),
            (json!({"name": "U", "pricing_model": "PER_UNIT", "unit_amount": -5}), "items[0].unit_amount"),
            (
                json!({"name": "U", "pricing_model": "PER_UNIT", "unit_amount_decimal": "-0.5"}),
                "items[0].unit_amount_decimal",
            ),
            (
                json!({"name": "P", "pricing_model": "PACKAGE", "amount": 100, "package_size": -10}),
                "items[0].package_size",
            ),
            (json!({"name": "F", "pricing_model": "FLAT", "amount": 1, "minimum_spend": -1}), "items[0].minimum_spend"),
            (
                json!({"name": "U", "pricing_model": "PER_UNIT", "unit_amount": 1, "included_units": -1}),
                "items[0].included_units",
            ),
            (
                json!({"name": "G", "pricing_model": "GRADUATED",
                    "tiers": [{"up_to": 10, "unit_amount": -1}, {"up_to": null, "unit_amount": 1}]}),
                "items[0].tiers[0].unit_amount",
            ),
            (
                json!({"name": "C", "pricing_model": "CUSTOMER_CHOSEN",
                       "custom_price": {"min": -1, "max": 10, "preset": 5}}),
                "items[0].custom_price.min",
            ),
        ];
        for (item, param) in cases {
            let r = app.post_company("/product_pricings", &pricing_with(&product, item.clone())).await;
            refused(&r, 422, param);
        }
        let r = app
            .post_company(
                "/coupons",
                &json!({"name": "C", "type": "DISCOUNT_AMOUNT", "amount": {"currency": "USD", "value_in_cents": -100}}),
            )
            .await;
        refused(&r, 422, "amount.value_in_cents");
        assert_eq!(snapshot(app).await, before);
    }

    async fn a_rule_broken_deep_in_a_list_names_the_exact_path_and_says_what_holds(app) {
        let product = app.product("Thing").await;
        let fine = json!({"name": "F", "pricing_model": "FLAT", "amount": 100});
        let tiers = json!([{"up_to": 10, "unit_amount": 5}, {"up_to": 20, "unit_amount": 4},
                           {"up_to": null, "unit_amount": 3, "flat_amount": -7}]);
        let graduated = json!({"name": "G", "pricing_model": "GRADUATED", "tiers": tiers});
        let body = json!({"product_id": product, "name": "Plan", "currency": "USD", "items": [fine, graduated]});
        let before = snapshot(app).await;
        let r = app.post_company("/product_pricings", &body).await;
        refused(&r, 422, "items[1].tiers[2].flat_amount");
        assert_eq!(r.body["error"]["message"], "`items[1].tiers[2].flat_amount` must not be negative.");
        let mut body = body;
        body["items"][1]["tiers"][1]["up_to"] = json!(2_000_000_000_i64);
        let r = app.post_company("/product_pricings", &body).await;
        // Two rules broken: the first path in order is named, the same on every try.
        refused(&r, 422, "items[1].tiers[1].up_to");
        assert_eq!(r.body["error"]["message"], "`items[1].tiers[1].up_to` must be at most 1000000000.");
        assert_eq!(snapshot(app).await, before);
    }

    async fn an_absurd_amount_is_422(app) {
        let product = app.product("Thing").await;
        let before = snapshot(app).await;
        let r = app
            .post_company(
                "/product_pricings",
                &pricing_with(
                    &product,
                    json!({"name": "Fee", "pricing_model": "FLAT", "amount": 1_000_000_000_001_i64}),
                ),
            )
            .await;
        refused(&r, 422, "items[0].amount");
        let r = app
            .post_company(
                "/product_pricings",
                &pricing_with(
                    &product,
                    json!({"name": "U", "pricing_model": "PER_UNIT", "unit_amount_decimal": "1000000000000.01"}),
                ),
            )
            .await;
        refused(&r, 422, "items[0].unit_amount_decimal");
        let r = app
            .post_company(
                "/product_pricings",
                &pricing_with(
                    &product,
                    json!({"name": "P", "pricing_model": "PACKAGE", "amount": 1,
                           "package_size": 1_000_000_000_001_i64}),
                ),
            )
            .await;
        refused(&r, 422, "items[0].package_size");
        let r = app
            .post_company(
                "/coupons",
                &json!({"name": "C", "type": "DISCOUNT_AMOUNT",
                        "amount": {"currency": "USD", "value_in_cents": 1_000_000_000_001_i64}}),
            )
            .await;
        refused(&r, 422, "amount.value_in_cents");
        assert_eq!(snapshot(app).await, before);

        // The largest amount is accepted.
        let r = app
            .post_company(
                "/product_pricings",
                &pricing_with(
                    &product,
                    json!({"name": "Fee", "pricing_model": "FLAT", "amount": 1_000_000_000_000_i64}),
                ),
            )
            .await;
        assert_eq!(r.ok()["items"][0]["amount"], 1_000_000_000_000_i64);
    }

    async fn a_number_beyond_i64_is_422_naming_the_field(app) {
        let product = app.product("Thing").await;
        let before = snapshot(app).await;
        let path = app.company_path("/product_pricings");
        for number in ["1e30", "9223372036854775808", "-9223372036854775809", "1e400", "123456789012345678901234567890"]
        {
            let body = format!(
                r#"{{"product_id": "{product}", "name": "Plan", "currency": "USD",
                    "items": [{{"name": "Fee", "pricing_model": "FLAT", "amount": {number}}}]}}"#
            );
            let r = app.post_raw(&path, "application/json", body.into_bytes()).await;
            assert!(r.status < 500, "{number}: {}", r.body);
            if number == "1e400" {
                // Out of f64 range: serde_json calls that a syntax error.
                assert!(r.status == 400 || r.status == 422, "{number}: {} {}", r.status, r.body);
                continue;
            }
            refused(&r, 422, "items[0].amount");
        }
        let r = app.post_company("/coupons", &json!({"name": "C", "type": "DISCOUNT_PERCENT", "percent": 1e30})).await;
        refused(&r, 422, "percent");
        assert_eq!(snapshot(app).await, before);
    }

    // ---------------------------------------------------------------- tiers and models

    async fn tiers_must_end_with_an_unbounded_tier(app) {
        let product = app.product("Thing").await;
        let before = snapshot(app).await;
        let item = json!({"name": "G", "pricing_model": "GRADUATED",
                          "tiers": [{"up_to": 10, "unit_amount": 5}, {"up_to": 20, "unit_amount": 4}]});
        let r = app.post_company("/product_pricings", &pricing_with(&product, item)).await;
        refused(&r, 422, "items[0].tiers[1].up_to");
        let item = json!({"name": "V", "pricing_model": "VOLUME",
                          "tiers": [{"up_to": null, "unit_amount": 5}, {"up_to": null, "unit_amount": 4}]});
        let r = app.post_company("/product_pricings", &pricing_with(&product, item)).await;
        refused(&r, 422, "items[0].tiers[0].up_to");
        let item = json!({"name": "G", "pricing_model": "GRADUATED", "tiers": []});
        let r = app.post_company("/product_pricings", &pricing_with(&product, item)).await;
        refused(&r, 422, "items[0].tiers");
        let item = json!({"name": "G", "pricing_model": "GRADUATED"});
        let r = app.post_company("/product_pricings", &pricing_with(&product, item)).await;
        refused(&r, 422, "items[0].tiers");
        assert_eq!(snapshot(app).await, before);
    }

    async fn tier_bounds_must_increase(app) {
        let product = app.product("Thing").await;
        let before = snapshot(app).await;
        for (tiers, param) in [
            (
                json!([{"up_to": 10, "unit_amount": 5}, {"up_to": 10, "unit_amount": 4},
                       {"up_to": null, "unit_amount": 3}]),
                "items[0].tiers[1].up_to",
            ),
            (
                json!([{"up_to": 10, "unit_amount": 5}, {"up_to": 5, "unit_amount": 4},
                       {"up_to": null, "unit_amount": 3}]),
                "items[0].tiers[1].up_to",
            ),
            (json!([{"up_to": 0, "unit_amount": 5}, {"up_to": null, "unit_amount": 3}]), "items[0].tiers[0].up_to"),
            (json!([{"up_to": -5, "unit_amount": 5}, {"up_to": null, "unit_amount": 3}]), "items[0].tiers[0].up_to"),
        ] {
            let item = json!({"name": "G", "pricing_model": "GRADUATED", "tiers": tiers});
            let r = app.post_company("/product_pricings", &pricing_with(&product, item)).await;
            refused(&r, 422, param);
        }
        assert_eq!(snapshot(app).await, before);
    }

    async fn a_field_of_another_pricing_model_is_422(app) {
        let product = app.product("Thing").await;
        let before = snapshot(app).await;
        let tiers = json!([{"up_to": null, "unit_amount": 1}]);
        for (item, param) in [
            (json!({"name": "F", "pricing_model": "FLAT", "amount": 100, "tiers": tiers}), "items[0].tiers"),
            (json!({"name": "F", "pricing_model": "FLAT", "amount": 100, "unit_amount": 1}), "items[0].unit_amount"),
            (json!({"name": "U", "pricing_model": "PER_UNIT", "unit_amount": 1, "amount": 100}), "items[0].amount"),
            (
                json!({"name": "U", "pricing_model": "PER_UNIT", "unit_amount": 1, "package_size": 5}),
                "items[0].package_size",
            ),
            (json!({"name": "G", "pricing_model": "GRADUATED", "tiers": tiers, "amount": 100}), "items[0].amount"),
            (
                json!({"name": "S", "pricing_model": "STAIR_STEP",
                       "tiers": [{"up_to": null, "unit_amount": 3, "flat_amount": 1}]}),
                "items[0].tiers[0].unit_amount",
            ),
            (
                json!({"name": "C", "pricing_model": "CUSTOMER_CHOSEN",
                       "custom_price": {"min": 1, "max": 2, "preset": 1},
                    "amount": 1}),
                "items[0].amount",
            ),
            (
                json!({"name": "U", "pricing_model": "PER_UNIT", "unit_amount": 1, "unit_amount_decimal": "1"}),
                "items[0].unit_amount_decimal",
            ),
            (
                json!({"name": "F", "pricing_model": "FLAT", "amount": 100, "metered": true,
                    "billing_period": {"count": 1, "frequency": "MONTH"}}),
                "items[0].metered",
            ),
            (
                json!({"name": "U", "pricing_model": "PER_UNIT", "unit_amount": 1, "metered": true}),
                "items[0].billing_period",
            ),
        ] {
            let r = app.post_company("/product_pricings", &pricing_with(&product, item.clone())).await;
            refused(&r, 422, param);
        }
        let r = app
            .post_company(
                "/coupons",
                &json!({"name": "C", "type": "DISCOUNT_PERCENT", "percent": 0.1,
            "amount": {"currency": "USD", "value_in_cents": 100}}),
            )
            .await;
        refused(&r, 422, "amount");
        assert_eq!(snapshot(app).await, before);
    }

    // ---------------------------------------------------------------- text

    async fn a_name_over_200_characters_is_422(app) {
        let before = snapshot(app).await;
        let r = app.post_company("/products", &json!({"name": "x".repeat(201)})).await;
        refused(&r, 422, "name");
        let r = app.post_company("/products", &json!({"name": "é".repeat(201)})).await;
        refused(&r, 422, "name");
        let r = app.post_company("/products", &json!({"name": "Pro", "description": "d".repeat(5001)})).await;
        refused(&r, 422, "description");
        let r = app.post_company("/products", &json!({"name": "Pro", "external_id": "e".repeat(201)})).await;
        refused(&r, 422, "external_id");
        let r = app.post_company("/customers", &json!({"name": "n".repeat(201)})).await;
        refused(&r, 422, "name");
        let r = app.post_company("/customers", &json!({"name": "Ana", "identifier": "i".repeat(201)})).await;
        refused(&r, 422, "identifier");
        let r = app.post_company("/customers", &json!({"name": "Ana", "metadata": {"k": "v".repeat(501)}})).await;
        refused(&r, 422, "metadata.k");
        let r = app.post_company("/customers", &json!({"name": "Ana", "metadata": {"k".repeat(41): "v"}})).await;
        refused(&r, 422, &format!("metadata.{}", "k".repeat(41)));
        let r = app
            .post_company(
                "/coupons",
                &json!({"name": "C", "type": "DISCOUNT_PERCENT", "percent": 0.1,
            "promo_codes": [{"code": "C".repeat(41)}]}),
            )
            .await;
        refused(&r, 422, "promo_codes[0].code");
        assert_eq!(snapshot(app).await, before);

        // Exactly 200 characters, multi-byte ones too, are fine.
        app.post_company("/products", &json!({"name": "x".repeat(200)})).await.ok();
        let r = app.post_company("/products", &json!({"name": "é".repeat(200)})).await;
        assert_eq!(r.ok()["name"], "é".repeat(200));
    }

    async fn an_empty_name_is_422(app) {
        let before = snapshot(app).await;
        for name in ["", "   ", "\t\n"] {
            refused(&app.post_company("/products", &json!({"name": name})).await, 422, "name");
            let r =
                app.post_company("/coupons", &json!({"name": name, "type": "DISCOUNT_PERCENT", "percent": 0.1})).await;
            refused(&r, 422, "name");
        }
        let product = app.product("Thing").await;
        let r = app
            .post_company(
                "/product_pricings",
                &json!({"product_id": product, "name": " ", "currency": "USD",
                "items": [{"name": "Fee", "pricing_model": "FLAT", "amount": 1}]}),
            )
            .await;
        refused(&r, 422, "name");
        let r = app
            .post_company(
                "/product_pricings",
                &pricing_with(&product, json!({"name": "", "pricing_model": "FLAT", "amount": 1})),
            )
            .await;
        refused(&r, 422, "items[0].name");
        let r = app
            .post_company(
                "/product_pricings",
                &json!({"product_id": product, "name": "P", "currency": "USD", "items": []}),
            )
            .await;
        refused(&r, 422, "items");
        // A customer needs at least an e-mail, a name or an organisation.
        refused(&app.post_company("/customers", &json!({"name": "  "})).await, 422, "email");
        let after = snapshot(app).await;
        assert_eq!(
            after.iter().map(|(_, n)| n).sum::<i64>() - before.iter().map(|(_, n)| n).sum::<i64>(),
            1,
            "{after:?}"
        );
    }

    async fn control_characters_are_422(app) {
        let before = snapshot(app).await;
        for name in ["a\u{7}b", "a\u{0}b", "a\u{1b}[31mred", "\u{7f}", "a\u{85}b"] {
            refused(&app.post_company("/products", &json!({"name": name})).await, 422, "name");
            refused(&app.post_company("/customers", &json!({"name": name})).await, 422, "name");
        }
        let r = app.post_company("/customers", &json!({"name": "Ana", "identifier": "id\u{0}"})).await;
        refused(&r, 422, "identifier");
        let r = app.post_company("/customers", &json!({"email": "ana\u{0}@example.com"})).await;
        refused(&r, 422, "email");
        let r = app
            .post_company(
                "/customers",
                &json!({"name": "Ana",
            "address": {"line1": "Main St\u{0}", "city": "Springfield", "country": "US"}}),
            )
            .await;
        refused(&r, 422, "address.line1");
        assert_eq!(snapshot(app).await, before);
    }

    async fn a_nul_byte_in_an_id_is_never_a_500(app) {
        // PostgreSQL refuses NUL in text; an id carrying one names nothing, so it is a 404 or a 422.
        let product = app.product("Thing").await;
        let before = snapshot(app).await;
        let mut wrong = Vec::new();
        let mut check = |what: String, r: Resp, status: u16, param: &str| {
            if r.status != status || r.error_param() != param || r.error_code().is_empty() {
                wrong.push(format!("{what}: expected {status} {param:?}, got {} {}", r.status, r.body));
            }
        };
        for path in ["/products/a%00b", "/product_pricings/%00", "/coupons/%00", "/customers/%00"] {
            check(format!("GET {path}"), app.get_company(path).await, 404, "");
            let archive = app.company_path(&format!("{path}/archive"));
            check(format!("POST {path}/archive"), app.send(app.request(Method::POST, &archive)).await, 404, "");
        }
        let body = json!({"product_id": "prd_\u{0}", "name": "P", "currency": "USD",
            "items": [{"name": "Fee", "pricing_model": "FLAT", "amount": 1}]});
        check(
            "POST /product_pricings product_id".into(),
            app.post_company("/product_pricings", &body).await,
            422,
            "product_id",
        );
        let body = json!({"name": "C", "type": "DISCOUNT_PERCENT", "percent": 0.1, "product_id": "\u{0}"});
        check("POST /coupons product_id".into(), app.post_company("/coupons", &body).await, 422, "product_id");
        let body = json!({"name": "C", "type": "DISCOUNT_PERCENT", "percent": 0.1, "product_pricing_id": "\u{0}"});
        check(
            "POST /coupons product_pricing_id".into(),
            app.post_company("/coupons", &body).await,
            422,
            "product_pricing_id",
        );
        let body = json!({"name": "C", "type": "DISCOUNT_PERCENT", "percent": 0.1, "item_pricing_id": "\u{0}"});
        check(
            "POST /coupons item_pricing_id".into(),
            app.post_company("/coupons", &body).await,
            422,
            "item_pricing_id",
        );
        for path in
            ["/products?cursor=%00", "/customers?email=%00", &format!("/product_pricings?product_id={product}%00")]
        {
            let r = app.get_company(path).await;
            if r.status >= 500 {
                wrong.push(format!("GET {path}: {} {}", r.status, r.body));
            }
        }
        assert!(wrong.is_empty(), "{} request(s) mishandled:\n{}", wrong.len(), wrong.join("\n"));
        assert_eq!(snapshot(app).await, before);
    }

    // ---------------------------------------------------------------- contact details and codes

    async fn an_invalid_email_is_422(app) {
        let before = snapshot(app).await;
        for email in
            ["ana", "ana@example", "@example.com", "ana@@example.com", "a b@example.com", "ana@.com", "ana@example."]
        {
            refused(&app.post_company("/customers", &json!({"email": email})).await, 422, "email");
        }
        refused(&app.post_company("/customers", &json!({"email": 42})).await, 422, "email");
        assert_eq!(snapshot(app).await, before);
    }

    async fn a_phone_with_letters_is_422(app) {
        let before = snapshot(app).await;
        for phone in ["call me", "+1 555 CALL", "555-1234 ext. 9"] {
            refused(&app.post_company("/customers", &json!({"name": "Ana", "phone": phone})).await, 422, "phone");
        }
        refused(&app.post_company("/customers", &json!({"name": "Ana", "phone": "1".repeat(41)})).await, 422, "phone");
        assert_eq!(snapshot(app).await, before);
    }

    async fn a_bad_billing_period_or_quantity_is_422(app) {
        let product = app.product("Thing").await;
        let before = snapshot(app).await;
        let per_unit = |extra: Value| {
            let mut item = json!({"name": "U", "pricing_model": "PER_UNIT", "unit_amount": 1});
            item.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
            pricing_with(&product, item)
        };
        for (body, param) in [
            (per_unit(json!({"billing_period": {"count": 0, "frequency": "MONTH"}})), "items[0].billing_period.count"),
            (per_unit(json!({"billing_period": {"count": 1001, "frequency": "DAY"}})), "items[0].billing_period.count"),
            (
                per_unit(json!({"billing_period": {"count": 1, "frequency": "FORTNIGHT"}})),
                "items[0].billing_period.frequency",
            ),
            (per_unit(json!({"billing_period": {"count": 1}})), "items[0].billing_period"),
            (per_unit(json!({"included_units": 1_000_000_001_i64})), "items[0].included_units"),
            (per_unit(json!({"unit_label": "u".repeat(41)})), "items[0].unit_label"),
            (per_unit(json!({"metered": "yes"})), "items[0].metered"),
        ] {
            let r = app.post_company("/product_pricings", &body).await;
            assert!(r.status < 500, "{body}: {}", r.body);
            if param == "items[0].billing_period" {
                // A missing field inside an object: the object is named at least.
                assert_eq!(r.status, 422, "{}", r.body);
                assert!(r.error_param().starts_with(param), "{}", r.body);
                continue;
            }
            refused(&r, 422, param);
        }
        assert_eq!(snapshot(app).await, before);
    }

    async fn an_unknown_country_is_422(app) {
        let before = snapshot(app).await;
        for country in ["XX", "USA", "U", "12"] {
            let r = app
                .post_company(
                    "/customers",
                    &json!({"name": "Ana",
                    "address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
                                "country": country}}),
                )
                .await;
            refused(&r, 422, "address.country");
        }
        let r = app
            .post_company(
                "/customers",
                &json!({"name": "Ana", "address": {"line1": "1 Main St", "city": "Springfield"}}),
            )
            .await;
        refused(&r, 422, "address.country");
        assert_eq!(snapshot(app).await, before);
    }

    async fn a_postal_code_that_does_not_fit_its_country_is_422(app) {
        let before = snapshot(app).await;
        for (country, postal_code) in
            [("US", "9410"), ("US", "ABCDE"), ("US", "94103-12"), ("DE", "1011"), ("CA", "12345")]
        {
            let r = app
                .post_company(
                    "/customers",
                    &json!({"name": "Ana",
                    "address": {"line1": "1 Main St", "city": "Springfield", "postal_code": postal_code,
                                "country": country}}),
                )
                .await;
            refused(&r, 422, "address.postal_code");
        }
        assert_eq!(snapshot(app).await, before);
        let r = app
            .post_company(
                "/customers",
                &json!({"name": "Ana",
                "address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "94103-1234",
                            "country": "us"}}),
            )
            .await;
        assert_eq!(r.ok()["address"]["country"], "US");
    }

    async fn an_unknown_currency_is_422(app) {
        let product = app.product("Thing").await;
        let before = snapshot(app).await;
        for currency in ["EURO", "XXY", "", "€"] {
            let r = app
                .post_company(
                    "/product_pricings",
                    &json!({"product_id": product, "name": "P", "currency": currency,
                    "items": [{"name": "Fee", "pricing_model": "FLAT", "amount": 1}]}),
                )
                .await;
            refused(&r, 422, "currency");
        }
        let r = app
            .post_company(
                "/coupons",
                &json!({"name": "C", "type": "DISCOUNT_AMOUNT",
                "amount": {"currency": "EURO", "value_in_cents": 100}}),
            )
            .await;
        refused(&r, 422, "amount.currency");
        let r = app
            .post_company(
                "/coupons",
                &json!({"name": "C", "type": "DISCOUNT_AMOUNT",
                "amount": {"currency": "EUR", "value_in_cents": 100},
                "cap": {"currency": "USD", "value_in_cents": 50}}),
            )
            .await;
        refused(&r, 422, "cap.currency");
        assert_eq!(snapshot(app).await, before);
    }

    async fn an_invalid_promo_code_or_coupon_value_is_422(app) {
        let before = snapshot(app).await;
        for code in ["AB", "has space", "ÄBC", "semi;colon"] {
            let r = app
                .post_company(
                    "/coupons",
                    &json!({"name": "C", "type": "DISCOUNT_PERCENT", "percent": 0.1,
                    "promo_codes": [{"code": "FINE"}, {"code": code}]}),
                )
                .await;
            refused(&r, 422, "promo_codes[1].code");
        }
        for percent in [json!(0), json!(-0.1), json!(1.5)] {
            let r = app
                .post_company("/coupons", &json!({"name": "C", "type": "DISCOUNT_PERCENT", "percent": percent}))
                .await;
            refused(&r, 422, "percent");
        }
        refused(&app.post_company("/coupons", &json!({"name": "C", "type": "DISCOUNT_PERCENT"})).await, 422, "percent");
        refused(&app.post_company("/coupons", &json!({"name": "C", "type": "DISCOUNT_AMOUNT"})).await, 422, "amount");
        let r = app
            .post_company(
                "/coupons",
                &json!({"name": "C", "type": "DISCOUNT_PERCENT", "percent": 0.1,
            "expiration_date": "next tuesday"}),
            )
            .await;
        refused(&r, 422, "expiration_date");
        let r = app
            .post_company(
                "/coupons",
                &json!({"name": "C", "type": "DISCOUNT_PERCENT", "percent": 0.1,
            "max_redemptions": 0}),
            )
            .await;
        refused(&r, 422, "max_redemptions");
        assert_eq!(snapshot(app).await, before);
    }

    async fn a_list_over_its_maximum_is_422(app) {
        let product = app.product("Thing").await;
        let before = snapshot(app).await;
        let items: Vec<Value> =
            (0..51).map(|i| json!({"name": format!("I{i}"), "pricing_model": "FLAT", "amount": 1})).collect();
        let r = app
            .post_company(
                "/product_pricings",
                &json!({"product_id": product, "name": "P", "currency": "USD", "items": items}),
            )
            .await;
        refused(&r, 422, "items");
        let mut tiers: Vec<Value> = (1..=50).map(|i| json!({"up_to": i, "unit_amount": 1})).collect();
        tiers.push(json!({"up_to": null, "unit_amount": 1}));
        let item = json!({"name": "G", "pricing_model": "GRADUATED", "tiers": tiers});
        refused(&app.post_company("/product_pricings", &pricing_with(&product, item)).await, 422, "items[0].tiers");
        let codes: Vec<Value> = (0..101).map(|i| json!({"code": format!("CODE{i}")})).collect();
        let r = app
            .post_company(
                "/coupons",
                &json!({"name": "C", "type": "DISCOUNT_PERCENT", "percent": 0.1, "promo_codes": codes}),
            )
            .await;
        refused(&r, 422, "promo_codes");
        let metadata: serde_json::Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
        refused(&app.post_company("/customers", &json!({"name": "Ana", "metadata": metadata})).await, 422, "metadata");
        assert_eq!(snapshot(app).await, before);
    }

    // ---------------------------------------------------------------- list queries

    async fn a_list_limit_outside_1_to_100_is_422(app) {
        app.product("Thing").await;
        for resource in ["/products", "/product_pricings", "/coupons", "/customers"] {
            for limit in ["0", "1000", "abc", "-1", "101", "", "1.5", "99999999999999999999"] {
                let r = app.get_company(&format!("{resource}?limit={limit}")).await;
                refused(&r, 422, "limit");
            }
            for include in ["yes", "1", "TRUE"] {
                let r = app.get_company(&format!("{resource}?include_archived={include}")).await;
                refused(&r, 422, "include_archived");
            }
            let r = app.get_company(&format!("{resource}?cursor={}", "c".repeat(65))).await;
            refused(&r, 422, "cursor");
            app.get_company(&format!("{resource}?limit=1")).await.ok();
            app.get_company(&format!("{resource}?limit=100")).await.ok();
        }
    }

    // ---------------------------------------------------------------- size, routes, methods, headers

    async fn a_body_over_1_mib_is_413_with_the_envelope(app) {
        let before = snapshot(app).await;
        let big = json!({"name": "Big", "description": "x".repeat(1024 * 1024)}).to_string().into_bytes();
        let r = app.post_raw(&products_path(app), "application/json", big.clone()).await;
        refused(&r, 413, "");
        assert_eq!(r.error_code(), "body_too_large");
        let r = app
            .send(
                app.request(Method::POST, &products_path(app))
                    .header("content-type", "application/json")
                    .header("idempotency-key", "big-body-1")
                    .body(big),
            )
            .await;
        refused(&r, 413, "");
        assert_eq!(r.error_code(), "body_too_large");
        assert_eq!(snapshot(app).await, before);
    }

    async fn an_unknown_api_route_is_404_route_not_found(app) {
        for (method, path) in [
            (Method::GET, "/api/v1/nope".to_string()),
            (Method::POST, "/api/v1/nope".to_string()),
            (Method::GET, "/api/v2/companies".to_string()),
            (Method::GET, app.company_path("/widgets")),
            (Method::GET, app.company_path("/products/x/y/z")),
        ] {
            let r = app.send(app.request(method.clone(), &path)).await;
            refused(&r, 404, "");
            assert_eq!(r.error_code(), "route_not_found", "{method} {path}");
        }
    }

    async fn a_wrong_method_is_405_with_the_envelope(app) {
        let product = app.product("Thing").await;
        for (method, path) in [
            (Method::DELETE, app.company_path("/products")),
            (Method::PUT, app.company_path(&format!("/products/{product}"))),
            (Method::DELETE, app.company_path(&format!("/products/{product}"))),
            (Method::GET, app.company_path(&format!("/products/{product}/archive"))),
            (Method::PATCH, app.company_path("/customers")),
        ] {
            let r = app.send(app.request(method.clone(), &path)).await;
            refused(&r, 405, "");
            assert_eq!(r.error_code(), "method_not_allowed", "{method} {path}");
        }
        assert_eq!(app.count("products").await, 1);
        let r = app.get_company(&format!("/products/{product}")).await;
        assert_eq!(r.ok()["state"], "ACTIVE");
    }

    async fn an_idempotency_key_over_255_characters_is_400(app) {
        let before = snapshot(app).await;
        for key in ["k".repeat(300), "k".repeat(256), String::new()] {
            let r = app
                .send(
                    app.request(Method::POST, &products_path(app))
                        .header("idempotency-key", key.as_str())
                        .json(&json!({"name": "Pro"})),
                )
                .await;
            refused(&r, 400, "Idempotency-Key");
            assert_eq!(r.error_code(), "idempotency_key_invalid");
        }
        let r = app
            .send(
                app.request(Method::POST, &products_path(app))
                    .header(
                        "idempotency-key",
                        reqwest::header::HeaderValue::from_bytes(b"caf\xc3\xa9").expect("header"),
                    )
                    .json(&json!({"name": "Pro"})),
            )
            .await;
        refused(&r, 400, "Idempotency-Key");
        assert_eq!(snapshot(app).await, before);
        // 255 characters are fine.
        let r = app
            .send(
                app.request(Method::POST, &products_path(app))
                    .header("idempotency-key", "k".repeat(255))
                    .json(&json!({"name": "Pro"})),
            )
            .await;
        r.ok();
    }
}
