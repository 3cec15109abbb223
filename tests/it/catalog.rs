//! Catalog and customers through the merchant API: products, product pricings, coupons with their
//! promo codes, customers; lists, cursor pagination, archiving, and tenant isolation on each.

use std::collections::HashSet;

use kasse::db::Db;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Resp, TestApp};

/// The ids of a list page, in order.
fn ids(page: &Value) -> Vec<String> {
    page["data"].as_array().expect("data").iter().map(|v| v["id"].as_str().expect("id").to_string()).collect()
}

/// `/api/v1/companies/{the other tenant}{path}`.
fn their_path(app: &TestApp, path: &str) -> String {
    format!("/api/v1/companies/{}{path}", app.other_company_id)
}

/// A request made by the other tenant with its own key.
fn as_other(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.client.request(method, format!("{}{path}", app.base)).bearer_auth(&app.other_api_key)
}

/// POST a body to a path under the other tenant's company, with the other tenant's key.
async fn other_post(app: &TestApp, path: &str, body: &Value) -> Resp {
    app.send(as_other(app, Method::POST, &their_path(app, path)).json(body)).await
}

async fn other_get(app: &TestApp, path: &str) -> Resp {
    app.send(as_other(app, Method::GET, &their_path(app, path))).await
}

/// POST with our key and no body (archive endpoints).
async fn post_empty(app: &TestApp, path: &str) -> Resp {
    app.send(app.request(Method::POST, &app.company_path(path))).await
}

/// Rows of `table` belonging to any company.
async fn count_of(app: &TestApp, table: &str, company_id: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE company_id = $1");
    let (n,): (i64,) =
        on_db!(&app.db, |pool| sqlx::query_as(&sql).bind(company_id).fetch_one(pool).await).expect("count");
    n
}

/// Create a product with our key and return the whole response.
async fn create_product(app: &TestApp, body: Value) -> Value {
    app.post_company("/products", &body).await.ok().clone()
}

/// A one-item (FLAT 1000) pricing of `product_id` in USD.
async fn create_pricing(app: &TestApp, product_id: &str, name: &str) -> Value {
    let body = json!({
        "product_id": product_id,
        "name": name,
        "currency": "USD",
        "items": [{"name": "Fee", "pricing_model": "FLAT", "amount": 1000}],
    });
    app.post_company("/product_pricings", &body).await.ok().clone()
}

/// Move the server's clock on by a second, so the next id sorts after every earlier one.
fn tick(app: &TestApp) {
    app.clock.advance(chrono::Duration::seconds(1));
}

/// The item of a pricing response without its generated id.
fn without_id(item: &Value) -> Value {
    let mut item = item.clone();
    let id = item.as_object_mut().expect("item object").remove("id").expect("item id");
    assert!(id.as_str().is_some_and(|s| s.starts_with("ip_")), "item id: {id}");
    item
}

on_both_stores! {
    // ---------------------------------------------------------------- products

    async fn a_created_product_is_returned_whole_and_read_back_identically(app) {
        let created = create_product(
            app,
            json!({"name": "  Pro plan  ", "description": "Everything.\nAnd more.", "external_id": "sku-42"}),
        )
        .await;
        let id = created["id"].as_str().expect("id");
        assert!(id.starts_with("prd_") && id.len() == 30, "id: {id}");
        assert_eq!(created["name"], "Pro plan", "names are trimmed");
        assert_eq!(created["description"], "Everything.\nAnd more.");
        assert_eq!(created["external_id"], "sku-42");
        assert_eq!(created["state"], "ACTIVE");
        assert_eq!(created["archived_at"], Value::Null);
        assert!(created["created_at"].is_string() && created["updated_at"].is_string(), "{created}");

        let fetched = app.get_company(&format!("/products/{id}")).await;
        assert_eq!(fetched.ok(), &created, "GET returns exactly what the create answered");
        assert_eq!(app.count("products").await, 1);
    }

    async fn a_product_without_optional_fields_has_them_null(app) {
        let created = create_product(app, json!({"name": "Bare"})).await;
        assert_eq!(created["description"], Value::Null);
        assert_eq!(created["external_id"], Value::Null);
        let id = created["id"].as_str().expect("id");
        assert_eq!(app.get_company(&format!("/products/{id}")).await.ok(), &created);
    }

    async fn products_are_listed_newest_first(app) {
        let mut created = Vec::new();
        for name in ["First", "Second", "Third"] {
            created.push(app.product(name).await);
            tick(app);
        }
        let page = app.get_company("/products").await;
        let page = page.ok();
        created.reverse();
        assert_eq!(ids(page), created);
        assert_eq!(page["has_more"], false);
        assert_eq!(page["next_cursor"], Value::Null);
        let names: Vec<_> = page["data"].as_array().expect("data").iter().map(|p| p["name"].clone()).collect();
        assert_eq!(names, [json!("Third"), json!("Second"), json!("First")]);
    }

    async fn products_created_back_to_back_are_still_listed_newest_first(app) {
        // No clock tick between creations: several land in the same millisecond.
        let mut created = Vec::new();
        for i in 0..20 {
            created.push(app.product(&format!("P{i}")).await);
        }
        created.reverse();
        let page = app.get_company("/products?limit=100").await;
        assert_eq!(ids(page.ok()), created, "newest first, whatever the millisecond");
    }

    async fn products_page_through_a_cursor_without_gaps_or_repeats(app) {
        let mut created = Vec::new();
        for i in 0..5 {
            created.push(app.product(&format!("Product {i}")).await);
            tick(app);
        }
        created.reverse();

        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for (expected_len, expected_more) in [(2, true), (2, true), (1, false)] {
            let path = match &cursor {
                Some(c) => format!("/products?limit=2&cursor={c}"),
                None => "/products?limit=2".to_string(),
            };
            let page = app.get_company(&path).await;
            let page = page.ok();
            let page_ids = ids(page);
            assert_eq!(page_ids.len(), expected_len, "page {page}");
            assert_eq!(page["has_more"], expected_more, "page {page}");
            if expected_more {
                assert_eq!(page["next_cursor"].as_str(), page_ids.last().map(String::as_str));
            } else {
                assert_eq!(page["next_cursor"], Value::Null);
            }
            cursor = page["next_cursor"].as_str().map(str::to_string);
            seen.extend(page_ids);
        }
        let distinct: HashSet<_> = seen.iter().collect();
        assert_eq!(distinct.len(), seen.len(), "no product twice: {seen:?}");
        assert_eq!(seen, created, "all five, newest first");
    }

    async fn an_archived_product_is_hidden_from_the_list_unless_asked_for(app) {
        let kept = app.product("Kept").await;
        tick(app);
        let gone = app.product("Gone").await;

        let archived = post_empty(app, &format!("/products/{gone}/archive")).await;
        let archived = archived.ok().clone();
        assert_eq!(archived["id"], gone.as_str());
        assert_eq!(archived["state"], "ARCHIVED");
        let archived_at = archived["archived_at"].as_str().expect("archived_at set").to_string();

        let fetched = app.get_company(&format!("/products/{gone}")).await;
        assert_eq!(fetched.ok()["state"], "ARCHIVED");
        assert_eq!(fetched.ok()["archived_at"], archived_at.as_str());

        assert_eq!(ids(app.get_company("/products").await.ok()), [kept.as_str()]);
        assert_eq!(ids(app.get_company("/products?include_archived=false").await.ok()), [kept.as_str()]);
        assert_eq!(ids(app.get_company("/products?include_archived=true").await.ok()), [gone.clone(), kept.clone()]);

        tick(app);
        let again = post_empty(app, &format!("/products/{gone}/archive")).await;
        assert_eq!(again.ok()["state"], "ARCHIVED");
        assert_eq!(again.ok()["archived_at"], archived_at.as_str(), "archiving twice keeps the first archived_at");
        assert_eq!(app.count("products").await, 2, "archiving deletes nothing");
    }

    async fn an_unknown_product_id_is_404_resource_missing(app) {
        app.product("Something").await;
        let r = app.get_company("/products/prd_01JZZZZZZZZZZZZZZZZZZZZZZZ").await;
        r.assert_error(404, "");
        assert_eq!(r.error_code(), "resource_missing");
        let r = post_empty(app, "/products/prd_01JZZZZZZZZZZZZZZZZZZZZZZZ/archive").await;
        r.assert_error(404, "");
        assert_eq!(r.error_code(), "resource_missing");
    }

    // ---------------------------------------------------------------- product pricings

    async fn a_pricing_with_every_model_echoes_each_item_and_reads_back_identically(app) {
        let product = app.product("Platform").await;
        let monthly = json!({"count": 1, "frequency": "MONTH"});
        let items = json!([
            {"name": "Setup", "pricing_model": "FLAT", "amount": 5000},
            {"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount_decimal": "0.25", "unit_label": "seat",
             "billing_period": monthly},
            {"name": "Packs", "pricing_model": "PACKAGE", "amount": 1000, "package_size": 10},
            {"name": "Storage", "pricing_model": "GRADUATED", "billing_period": {"count": 3, "frequency": "MONTH"},
             "tiers": [{"up_to": 10, "unit_amount": 100},
                       {"up_to": null, "unit_amount_decimal": "50.5", "flat_amount": 200}]},
            {"name": "Volume", "pricing_model": "VOLUME",
             "tiers": [{"up_to": 100, "unit_amount": 90}, {"up_to": null, "unit_amount": 80}]},
            {"name": "Stairs", "pricing_model": "STAIR_STEP", "billing_period": {"count": 1, "frequency": "YEAR"},
             "tiers": [{"up_to": 5, "flat_amount": 1000}, {"up_to": null, "flat_amount": 4000}]},
            {"name": "Tip", "pricing_model": "CUSTOMER_CHOSEN",
             "custom_price": {"min": 100, "max": 10000, "preset": 500}},
            {"name": "API calls", "pricing_model": "PER_UNIT", "unit_amount": 2, "metered": true,
             "included_units": 1000, "minimum_spend": 500, "billing_period": monthly},
        ]);
        let r = app
            .post_company(
                "/product_pricings",
                &json!({"product_id": product, "name": "Standard", "currency": "usd", "items": items}),
            )
            .await;
        let created = r.ok().clone();
        let id = created["id"].as_str().expect("id");
        assert!(id.starts_with("pp_"), "id: {id}");
        assert_eq!(created["product_id"], product.as_str());
        assert_eq!(created["name"], "Standard");
        assert_eq!(created["currency"], "USD", "currency codes are upper-cased");
        assert_eq!(created["state"], "ACTIVE");
        assert_eq!(created["archived_at"], Value::Null);

        let expected = [
            json!({"name": "Setup", "pricing_model": "FLAT", "unit_label": null, "amount": 5000,
                   "billing_period": null, "included_units": 0, "minimum_spend": null, "metered": false}),
            json!({"name": "Seats", "pricing_model": "PER_UNIT", "unit_label": "seat", "unit_amount_decimal": "0.25",
                   "billing_period": monthly, "included_units": 0, "minimum_spend": null, "metered": false}),
            json!({"name": "Packs", "pricing_model": "PACKAGE", "unit_label": null, "amount": 1000, "package_size": 10,
                   "billing_period": null, "included_units": 0, "minimum_spend": null, "metered": false}),
            json!({"name": "Storage", "pricing_model": "GRADUATED", "unit_label": null,
                   "tiers": [{"up_to": 10, "unit_amount": 100, "flat_amount": 0},
                             {"up_to": null, "unit_amount_decimal": "50.5", "flat_amount": 200}],
                   "billing_period": {"count": 3, "frequency": "MONTH"}, "included_units": 0, "minimum_spend": null,
                   "metered": false}),
            json!({"name": "Volume", "pricing_model": "VOLUME", "unit_label": null,
                   "tiers": [{"up_to": 100, "unit_amount": 90, "flat_amount": 0},
                             {"up_to": null, "unit_amount": 80, "flat_amount": 0}],
                   "billing_period": null, "included_units": 0, "minimum_spend": null, "metered": false}),
            json!({"name": "Stairs", "pricing_model": "STAIR_STEP", "unit_label": null,
                   "tiers": [{"up_to": 5, "unit_amount": 0, "flat_amount": 1000},
                             {"up_to": null, "unit_amount": 0, "flat_amount": 4000}],
                   "billing_period": {"count": 1, "frequency": "YEAR"}, "included_units": 0, "minimum_spend": null,
                   "metered": false}),
            json!({"name": "Tip", "pricing_model": "CUSTOMER_CHOSEN", "unit_label": null,
                   "custom_price": {"min": 100, "max": 10000, "preset": 500},
                   "billing_period": null, "included_units": 0, "minimum_spend": null, "metered": false}),
            json!({"name": "API calls", "pricing_model": "PER_UNIT", "unit_label": null, "unit_amount": 2,
                   "billing_period": monthly, "included_units": 1000, "minimum_spend": 500, "metered": true}),
        ];
        let got: Vec<Value> = created["items"].as_array().expect("items").iter().map(without_id).collect();
        assert_eq!(got.len(), expected.len());
        for (i, (got, want)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "items[{i}]");
        }
        let item_ids: HashSet<_> =
            created["items"].as_array().expect("items").iter().map(|i| i["id"].clone()).collect();
        assert_eq!(item_ids.len(), expected.len(), "every item has its own id");
        assert_eq!(app.count("item_pricings").await, 8);
        assert_eq!(app.count("product_pricings").await, 1);

        let fetched = app.get_company(&format!("/product_pricings/{id}")).await;
        assert_eq!(fetched.ok(), &created, "GET returns exactly what the create answered");
    }

    async fn pricings_are_listed_by_product_and_paged(app) {
        let a = app.product("A").await;
        let b = app.product("B").await;
        let mut of_a = Vec::new();
        for name in ["A1", "A2", "A3"] {
            of_a.push(create_pricing(app, &a, name).await["id"].as_str().expect("id").to_string());
            tick(app);
        }
        let of_b = create_pricing(app, &b, "B1").await["id"].as_str().expect("id").to_string();
        of_a.reverse();
        assert_eq!(app.count("product_pricings").await, 4);
        assert_eq!(app.count("item_pricings").await, 4);

        let all = app.get_company("/product_pricings").await;
        assert_eq!(ids(all.ok()), [vec![of_b.clone()], of_a.clone()].concat(), "newest first");

        let only_a = app.get_company(&format!("/product_pricings?product_id={a}")).await;
        let only_a = only_a.ok();
        assert_eq!(ids(only_a), of_a);
        assert!(only_a["data"].as_array().expect("data").iter().all(|p| p["product_id"] == a.as_str()));
        assert!(only_a["data"][0]["items"].as_array().is_some_and(|i| i.len() == 1), "list items carry their items");
        assert_eq!(ids(app.get_company(&format!("/product_pricings?product_id={b}")).await.ok()), [of_b.as_str()]);
        let none = app.get_company("/product_pricings?product_id=prd_01JZZZZZZZZZZZZZZZZZZZZZZZ").await;
        assert_eq!(ids(none.ok()), Vec::<String>::new());

        let first = app.get_company(&format!("/product_pricings?product_id={a}&limit=2")).await;
        let first = first.ok();
        assert_eq!(ids(first), of_a[..2]);
        assert_eq!(first["has_more"], true);
        let cursor = first["next_cursor"].as_str().expect("cursor");
        let second = app.get_company(&format!("/product_pricings?product_id={a}&limit=2&cursor={cursor}")).await;
        let second = second.ok();
        assert_eq!(ids(second), of_a[2..]);
        assert_eq!(second["has_more"], false);
        assert_eq!(second["next_cursor"], Value::Null);
    }

    async fn an_archived_pricing_is_hidden_from_the_list_unless_asked_for(app) {
        let product = app.product("Thing").await;
        let kept = create_pricing(app, &product, "Kept").await["id"].as_str().expect("id").to_string();
        tick(app);
        let gone = create_pricing(app, &product, "Gone").await["id"].as_str().expect("id").to_string();

        let r = post_empty(app, &format!("/product_pricings/{gone}/archive")).await;
        let archived = r.ok().clone();
        assert_eq!(archived["state"], "ARCHIVED");
        let archived_at = archived["archived_at"].as_str().expect("archived_at").to_string();
        assert_eq!(archived["items"].as_array().map(Vec::len), Some(1), "archiving keeps the items");

        assert_eq!(ids(app.get_company("/product_pricings").await.ok()), [kept.as_str()]);
        assert_eq!(ids(app.get_company("/product_pricings?include_archived=true").await.ok()), [gone.clone(), kept]);
        let fetched = app.get_company(&format!("/product_pricings/{gone}")).await;
        assert_eq!(fetched.ok()["state"], "ARCHIVED");

        tick(app);
        let again = post_empty(app, &format!("/product_pricings/{gone}/archive")).await;
        assert_eq!(again.ok()["archived_at"], archived_at.as_str(), "archiving twice keeps the first archived_at");

        let r = app.get_company("/product_pricings/pp_01JUNKNOWN0000000000000000").await;
        r.assert_error(404, "");
        assert_eq!(r.error_code(), "resource_missing");
    }

    async fn a_pricing_for_an_archived_product_is_refused(app) {
        let product = app.product("Retired").await;
        post_empty(app, &format!("/products/{product}/archive")).await.ok();
        let body = json!({"product_id": product, "name": "Late", "currency": "USD",
                          "items": [{"name": "Fee", "pricing_model": "FLAT", "amount": 100}]});
        let r = app.post_company("/product_pricings", &body).await;
        r.assert_error(422, "product_id");
        assert_eq!(app.count("product_pricings").await, 0);
        assert_eq!(app.count("item_pricings").await, 0);
    }

    async fn a_pricing_for_another_tenants_product_is_refused(app) {
        let theirs = other_post(app, "/products", &json!({"name": "Theirs"})).await;
        let theirs = theirs.ok()["id"].as_str().expect("id").to_string();
        let body = json!({"product_id": theirs, "name": "Sneaky", "currency": "USD",
                          "items": [{"name": "Fee", "pricing_model": "FLAT", "amount": 100}]});
        let r = app.post_company("/product_pricings", &body).await;
        r.assert_error(422, "product_id");
        assert_eq!(r.error_code(), "resource_missing");
        assert!(!String::from_utf8_lossy(&r.bytes).contains("Theirs"), "no leak: {}", r.body);
        assert_eq!(app.count("product_pricings").await, 0);
        assert_eq!(count_of(app, "product_pricings", &app.other_company_id).await, 0);
        assert_eq!(count_of(app, "item_pricings", &app.other_company_id).await, 0);

        let r = app
            .post_company(
                "/product_pricings",
                &json!({"product_id": "prd_nope", "name": "X",
            "currency": "USD", "items": [{"name": "Fee", "pricing_model": "FLAT", "amount": 100}]}),
            )
            .await;
        r.assert_error(422, "product_id");
    }

    // ---------------------------------------------------------------- coupons

    async fn a_percent_coupon_lists_both_of_its_promo_codes(app) {
        let body = json!({
            "name": "Spring sale",
            "type": "DISCOUNT_PERCENT",
            "percent": 0.2,
            "duration": "REPEATING",
            "duration_periods": 3,
            "max_redemptions": 100,
            "promo_codes": [{"code": "SPRING20"}, {"code": "spring-friends", "max_redemptions": 5}],
        });
        let r = app.post_company("/coupons", &body).await;
        let created = r.ok().clone();
        let id = created["id"].as_str().expect("id");
        assert!(id.starts_with("cpn_"), "id: {id}");
        assert_eq!(created["type"], "DISCOUNT_PERCENT");
        assert_eq!(created["percent"], 0.2);
        assert_eq!(created["amount"], Value::Null);
        assert_eq!(created["duration"], "REPEATING");
        assert_eq!(created["duration_periods"], 3);
        assert_eq!(created["max_redemptions"], 100);
        assert_eq!(created["times_redeemed"], 0);
        assert_eq!(created["state"], "ACTIVE");
        assert_eq!(created["product_id"], Value::Null);

        let codes = |c: &Value| -> HashSet<(String, Value)> {
            c["promo_codes"]
                .as_array()
                .expect("promo_codes")
                .iter()
                .map(|pc| (pc["code"].as_str().expect("code").to_string(), pc["max_redemptions"].clone()))
                .collect()
        };
        let want: HashSet<_> = [("SPRING20".to_string(), Value::Null), ("spring-friends".to_string(), json!(5))].into();
        assert_eq!(codes(&created), want, "codes as the merchant wrote them");
        for pc in created["promo_codes"].as_array().expect("codes") {
            assert_eq!(pc["state"], "ACTIVE");
            assert_eq!(pc["times_redeemed"], 0);
            assert!(pc["id"].as_str().is_some_and(|s| s.starts_with("promo_")), "{pc}");
        }
        assert_eq!(app.count("coupons").await, 1);
        assert_eq!(app.count("promo_codes").await, 2);

        let fetched = app.get_company(&format!("/coupons/{id}")).await;
        assert_eq!(codes(fetched.ok()), want);
        let listed = app.get_company("/coupons").await;
        let listed = listed.ok();
        assert_eq!(ids(listed), [id.to_string()]);
        assert_eq!(codes(&listed["data"][0]), want);
    }

    async fn an_amount_coupon_keeps_its_currency(app) {
        let body = json!({
            "name": "Five off",
            "type": "DISCOUNT_AMOUNT",
            "amount": {"currency": "eur", "value_in_cents": 500},
            "duration": "ONCE",
        });
        let r = app.post_company("/coupons", &body).await;
        let created = r.ok().clone();
        assert_eq!(created["type"], "DISCOUNT_AMOUNT");
        assert_eq!(created["amount"], json!({"currency": "EUR", "value_in_cents": 500}));
        assert_eq!(created["percent"], Value::Null);
        assert_eq!(created["duration"], "ONCE");
        assert_eq!(created["duration_periods"], Value::Null);
        assert_eq!(created["promo_codes"], json!([]));
        let id = created["id"].as_str().expect("id");
        let fetched = app.get_company(&format!("/coupons/{id}")).await;
        assert_eq!(fetched.ok(), &created, "GET returns exactly what the create answered");
    }

    async fn a_coupon_scoped_to_a_product_names_it(app) {
        let product = app.product("Scoped").await;
        let body = json!({"name": "Product deal", "type": "DISCOUNT_PERCENT", "percent": 0.5, "product_id": product});
        let r = app.post_company("/coupons", &body).await;
        let created = r.ok().clone();
        assert_eq!(created["product_id"], product.as_str());
        assert_eq!(created["product_pricing_id"], Value::Null);
        assert_eq!(created["item_pricing_id"], Value::Null);
        assert_eq!(created["duration"], "FOREVER", "the default duration");
        let id = created["id"].as_str().expect("id");
        assert_eq!(app.get_company(&format!("/coupons/{id}")).await.ok()["product_id"], product.as_str());

        let r = app
            .post_company(
                "/coupons",
                &json!({"name": "Nope", "type": "DISCOUNT_PERCENT", "percent": 0.5,
            "product_id": "prd_01JZZZZZZZZZZZZZZZZZZZZZZZ"}),
            )
            .await;
        r.assert_error(422, "product_id");
        assert_eq!(app.count("coupons").await, 1);
    }

    async fn a_promo_code_given_twice_in_one_request_is_refused(app) {
        let body = json!({"name": "Dup", "type": "DISCOUNT_PERCENT", "percent": 0.1,
                          "promo_codes": [{"code": "SAVE10"}, {"code": "save10"}]});
        let r = app.post_company("/coupons", &body).await;
        r.assert_error(422, "promo_codes[1].code");
        assert_eq!(app.count("coupons").await, 0);
        assert_eq!(app.count("promo_codes").await, 0);
    }

    async fn a_promo_code_already_taken_in_another_case_is_refused(app) {
        let first = json!({"name": "First", "type": "DISCOUNT_PERCENT", "percent": 0.1,
                           "promo_codes": [{"code": "SAVE10"}]});
        app.post_company("/coupons", &first).await.ok();
        let second = json!({"name": "Second", "type": "DISCOUNT_PERCENT", "percent": 0.1,
                            "promo_codes": [{"code": "FRESH"}, {"code": "save10"}]});
        let r = app.post_company("/coupons", &second).await;
        r.assert_error(422, "promo_codes");
        assert_eq!(r.error_code(), "promo_code_taken");
        assert_eq!(app.count("coupons").await, 1, "the refused coupon is not stored");
        assert_eq!(app.count("promo_codes").await, 1, "nor any of its codes");

        // The same code is free for another tenant.
        let r = other_post(app, "/coupons", &second).await;
        assert_eq!(r.ok()["promo_codes"].as_array().map(Vec::len), Some(2));
    }

    async fn archiving_a_coupon_archives_its_promo_codes(app) {
        let body = json!({"name": "Old", "type": "DISCOUNT_PERCENT", "percent": 0.3,
                          "promo_codes": [{"code": "OLD1"}, {"code": "OLD2"}]});
        let id = app.post_company("/coupons", &body).await.ok()["id"].as_str().expect("id").to_string();
        let r = post_empty(app, &format!("/coupons/{id}/archive")).await;
        let archived = r.ok().clone();
        assert_eq!(archived["state"], "ARCHIVED");
        let codes = archived["promo_codes"].as_array().expect("codes");
        assert_eq!(codes.len(), 2);
        assert!(codes.iter().all(|pc| pc["state"] == "ARCHIVED"), "{archived}");

        let fetched = app.get_company(&format!("/coupons/{id}")).await;
        let fetched = fetched.ok();
        assert_eq!(fetched["state"], "ARCHIVED");
        assert!(fetched["promo_codes"].as_array().expect("codes").iter().all(|pc| pc["state"] == "ARCHIVED"));
        assert_eq!(ids(app.get_company("/coupons").await.ok()), Vec::<String>::new());
        assert_eq!(ids(app.get_company("/coupons?include_archived=true").await.ok()), [id.as_str()]);

        let r = post_empty(app, "/coupons/cpn_01JUNKNOWN0000000000000000/archive").await;
        r.assert_error(404, "");
        assert_eq!(r.error_code(), "resource_missing");
    }

    async fn a_repeating_coupon_needs_duration_periods(app) {
        let body = json!({"name": "Rep", "type": "DISCOUNT_PERCENT", "percent": 0.1, "duration": "REPEATING"});
        let r = app.post_company("/coupons", &body).await;
        r.assert_error(422, "duration_periods");
        let body = json!({"name": "Rep", "type": "DISCOUNT_PERCENT", "percent": 0.1, "duration": "REPEATING",
                          "duration_periods": 0});
        app.post_company("/coupons", &body).await.assert_error(422, "duration_periods");
        assert_eq!(app.count("coupons").await, 0);
    }

    async fn a_coupon_scoped_to_another_tenants_product_is_refused(app) {
        let theirs = other_post(app, "/products", &json!({"name": "Theirs"})).await;
        let theirs = theirs.ok()["id"].as_str().expect("id").to_string();
        let body = json!({"name": "Sneaky", "type": "DISCOUNT_PERCENT", "percent": 0.1, "product_id": theirs,
                          "promo_codes": [{"code": "SNEAKY"}]});
        let r = app.post_company("/coupons", &body).await;
        r.assert_error(422, "product_id");
        assert_eq!(r.error_code(), "resource_missing");
        assert_eq!(app.count("coupons").await, 0);
        assert_eq!(app.count("promo_codes").await, 0);
    }

    // ---------------------------------------------------------------- customers

    async fn a_customer_with_an_address_is_found_by_id_and_by_identifier(app) {
        let body = json!({
            "email": "ana@example.com",
            "name": "Ana Lima",
            "org_name": "Lima GmbH",
            "identifier": "crm-7",
            "phone": "+49 30 1234567",
            "address": {"line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": "de"},
        });
        let r = app.post_company("/customers", &body).await;
        let created = r.ok().clone();
        let id = created["id"].as_str().expect("id");
        assert!(id.starts_with("cus_"), "id: {id}");
        assert_eq!(created["email"], "ana@example.com");
        assert_eq!(created["name"], "Ana Lima");
        assert_eq!(created["org_name"], "Lima GmbH");
        assert_eq!(created["identifier"], "crm-7");
        assert_eq!(created["phone"], "+49 30 1234567");
        assert_eq!(
            created["address"],
            json!({"line1": "Unter den Linden 1", "line2": null, "city": "Berlin", "state": null,
                   "postal_code": "10117", "country": "DE"})
        );
        assert_eq!(created["metadata"], json!({}));
        assert_eq!(created["state"], "ACTIVE");

        let by_id = app.get_company(&format!("/customers/{id}")).await;
        assert_eq!(by_id.ok(), &created);
        let by_identifier = app.get_company("/customers/crm-7").await;
        assert_eq!(by_identifier.ok(), &created);
        app.get_company("/customers/crm-8").await.assert_error(404, "");
    }

    async fn customers_are_listed_and_filtered_by_email(app) {
        let ana = app.post_company("/customers", &json!({"email": "ana@example.com"})).await;
        let ana = ana.ok()["id"].as_str().expect("id").to_string();
        tick(app);
        let bo = app.post_company("/customers", &json!({"email": "bo@example.com", "name": "Bo"})).await;
        let bo = bo.ok()["id"].as_str().expect("id").to_string();
        tick(app);
        let ana2 = app.post_company("/customers", &json!({"email": "ana@example.com", "name": "Ana again"})).await;
        let ana2 = ana2.ok()["id"].as_str().expect("id").to_string();

        assert_eq!(ids(app.get_company("/customers").await.ok()), [ana2.clone(), bo.clone(), ana.clone()]);
        assert_eq!(ids(app.get_company("/customers?email=ana@example.com").await.ok()), [ana2.clone(), ana.clone()]);
        assert_eq!(ids(app.get_company("/customers?email=bo%40example.com").await.ok()), [bo.as_str()]);
        assert_eq!(ids(app.get_company("/customers?email=nobody@example.com").await.ok()), Vec::<String>::new());
        let page = app.get_company("/customers?email=ana@example.com&limit=1").await;
        assert_eq!(ids(page.ok()), [ana2]);
        assert_eq!(page.ok()["has_more"], true);
    }

    async fn a_customer_identifier_is_unique_per_company(app) {
        app.post_company("/customers", &json!({"name": "One", "identifier": "ext-1"})).await.ok();
        let r = app.post_company("/customers", &json!({"name": "Two", "identifier": "ext-1"})).await;
        r.assert_error(422, "identifier");
        let r = app.post_company("/customers", &json!({"name": "Three", "identifier": "  ext-1 "})).await;
        r.assert_error(422, "identifier");
        assert_eq!(app.count("customers").await, 1);
        // Customers without an identifier never clash.
        app.post_company("/customers", &json!({"name": "Four"})).await.ok();
        app.post_company("/customers", &json!({"name": "Five"})).await.ok();
        assert_eq!(app.count("customers").await, 3);
        // Another tenant may use the same identifier.
        other_post(app, "/customers", &json!({"name": "Theirs", "identifier": "ext-1"})).await.ok();
    }

    async fn a_customer_is_archived_by_id_or_by_identifier(app) {
        let one =
            app.post_company("/customers", &json!({"name": "One"})).await.ok()["id"].as_str().expect("id").to_string();
        let two = app.post_company("/customers", &json!({"name": "Two", "identifier": "two"})).await;
        let two = two.ok()["id"].as_str().expect("id").to_string();

        let r = post_empty(app, &format!("/customers/{one}/archive")).await;
        assert_eq!(r.ok()["state"], "ARCHIVED");
        assert!(r.ok()["archived_at"].is_string());

        let r = post_empty(app, "/customers/two/archive").await;
        let archived = r.ok().clone();
        assert_eq!(archived["id"], two.as_str());
        assert_eq!(archived["state"], "ARCHIVED");
        let archived_at = archived["archived_at"].as_str().expect("archived_at").to_string();
        assert_eq!(app.get_company(&format!("/customers/{two}")).await.ok()["state"], "ARCHIVED");

        tick(app);
        let again = post_empty(app, &format!("/customers/{two}/archive")).await;
        assert_eq!(again.ok()["archived_at"], archived_at.as_str());

        assert_eq!(ids(app.get_company("/customers").await.ok()), Vec::<String>::new());
        assert_eq!(
            app.get_company("/customers?include_archived=true").await.ok()["data"].as_array().map(Vec::len),
            Some(2)
        );
        post_empty(app, "/customers/nobody/archive").await.assert_error(404, "");
    }

    async fn an_identifier_equal_to_another_customers_id_never_reaches_that_customer(app) {
        let first = app.post_company("/customers", &json!({"name": "First"})).await;
        let first = first.ok()["id"].as_str().expect("id").to_string();
        let r = app.post_company("/customers", &json!({"name": "Second", "identifier": first})).await;
        if r.status == 422 {
            // Refusing an identifier that is already some customer's id is a correct answer too.
            r.assert_error(422, "identifier");
            return;
        }
        let second = r.ok()["id"].as_str().expect("id").to_string();
        // An id always names the customer that has it.
        for _ in 0..5 {
            let got = app.get_company(&format!("/customers/{first}")).await;
            assert_eq!(got.ok()["id"], first.as_str(), "GET by id returned another customer");
        }
        let archived = post_empty(app, &format!("/customers/{first}/archive")).await;
        assert_eq!(archived.ok()["id"], first.as_str());
        let untouched = app.get_company(&format!("/customers/{second}")).await;
        assert_eq!(untouched.ok()["state"], "ACTIVE", "archiving one customer by id archived another");
    }

    async fn customer_metadata_round_trips(app) {
        let metadata = json!({"plan": "gold", "crm id": "42", "note": "Ünïcödé ✓", "empty": ""});
        let r = app.post_company("/customers", &json!({"email": "meta@example.com", "metadata": metadata})).await;
        let created = r.ok().clone();
        assert_eq!(created["metadata"], metadata);
        let id = created["id"].as_str().expect("id");
        assert_eq!(app.get_company(&format!("/customers/{id}")).await.ok()["metadata"], metadata);
        let listed = app.get_company("/customers").await;
        assert_eq!(listed.ok()["data"][0]["metadata"], metadata);
    }

    // ---------------------------------------------------------------- tenant isolation

    async fn another_tenants_resources_are_404_through_our_company_path(app) {
        let product = other_post(app, "/products", &json!({"name": "Their secret product"})).await;
        let product = product.ok()["id"].as_str().expect("id").to_string();
        let pricing = other_post(
            app,
            "/product_pricings",
            &json!({"product_id": product, "name": "Their plan",
            "currency": "USD", "items": [{"name": "Fee", "pricing_model": "FLAT", "amount": 100}]}),
        )
        .await;
        let pricing = pricing.ok()["id"].as_str().expect("id").to_string();
        let coupon = other_post(
            app,
            "/coupons",
            &json!({"name": "Their coupon", "type": "DISCOUNT_PERCENT",
            "percent": 0.1, "promo_codes": [{"code": "THEIRS"}]}),
        )
        .await;
        let coupon = coupon.ok()["id"].as_str().expect("id").to_string();
        let customer = other_post(
            app,
            "/customers",
            &json!({"email": "their@example.com",
            "identifier": "their-customer"}),
        )
        .await;
        let customer = customer.ok()["id"].as_str().expect("id").to_string();

        for path in [
            format!("/products/{product}"),
            format!("/product_pricings/{pricing}"),
            format!("/coupons/{coupon}"),
            format!("/customers/{customer}"),
            "/customers/their-customer".to_string(),
        ] {
            let r = app.get_company(&path).await;
            r.assert_error(404, "");
            assert_eq!(r.error_code(), "resource_missing", "{path}");
            let text = String::from_utf8_lossy(&r.bytes);
            assert!(!text.contains("Their") && !text.contains("their@"), "no leak from {path}: {text}");

            let r = post_empty(app, &format!("{path}/archive")).await;
            r.assert_error(404, "");
            assert_eq!(r.error_code(), "resource_missing", "{path}/archive");
            // Still active for its owner.
            let theirs = other_get(app, &path).await;
            assert_eq!(theirs.ok()["state"], "ACTIVE", "{path} untouched");
        }

        // Nor do their resources show up in our lists, filtered or not.
        for path in ["/products", "/product_pricings", "/coupons", "/customers"] {
            let r = app.get_company(&format!("{path}?include_archived=true")).await;
            assert_eq!(ids(r.ok()), Vec::<String>::new(), "{path}");
        }
        let r = app.get_company(&format!("/product_pricings?product_id={product}")).await;
        assert_eq!(ids(r.ok()), Vec::<String>::new());
        let r = app.get_company("/customers?email=their@example.com").await;
        assert_eq!(ids(r.ok()), Vec::<String>::new());
    }

    async fn our_key_cannot_use_another_tenants_company_path(app) {
        let product = other_post(app, "/products", &json!({"name": "Their secret product"})).await;
        let product = product.ok()["id"].as_str().expect("id").to_string();
        let customer = other_post(app, "/customers", &json!({"email": "their@example.com", "identifier": "vip"})).await;
        let customer = customer.ok()["id"].as_str().expect("id").to_string();
        let coupon = other_post(
            app,
            "/coupons",
            &json!({"name": "Their coupon", "type": "DISCOUNT_PERCENT",
            "percent": 0.1}),
        )
        .await;
        let coupon = coupon.ok()["id"].as_str().expect("id").to_string();
        let before: Vec<i64> = {
            let mut v = Vec::new();
            for t in ["products", "product_pricings", "item_pricings", "coupons", "promo_codes", "customers"] {
                v.push(count_of(app, t, &app.other_company_id).await);
            }
            v
        };

        let reads = [
            "/products".to_string(),
            format!("/products/{product}"),
            "/product_pricings".to_string(),
            "/coupons".to_string(),
            format!("/coupons/{coupon}"),
            "/customers".to_string(),
            format!("/customers/{customer}"),
            "/customers/vip".to_string(),
        ];
        for path in &reads {
            let r = app.get(&their_path(app, path)).await;
            r.assert_error(404, "");
            assert_eq!(r.error_code(), "resource_missing", "{path}");
            let text = String::from_utf8_lossy(&r.bytes);
            assert!(
                !text.contains("secret") && !text.contains("their@") && !text.contains("Their coupon"),
                "no leak from {path}: {text}"
            );
        }
        let writes = [
            ("/products".to_string(), json!({"name": "Planted"})),
            (
                "/product_pricings".to_string(),
                json!({"product_id": product, "name": "Planted", "currency": "USD",
                "items": [{"name": "Fee", "pricing_model": "FLAT", "amount": 1}]}),
            ),
            ("/coupons".to_string(), json!({"name": "Planted", "type": "DISCOUNT_PERCENT", "percent": 1})),
            ("/customers".to_string(), json!({"name": "Planted"})),
            (format!("/products/{product}/archive"), json!({})),
            (format!("/coupons/{coupon}/archive"), json!({})),
            (format!("/customers/{customer}/archive"), json!({})),
        ];
        for (path, body) in &writes {
            let r = app.post(&their_path(app, path), body).await;
            r.assert_error(404, "");
            assert_eq!(r.error_code(), "resource_missing", "{path}");
        }
        let mut after = Vec::new();
        for t in ["products", "product_pricings", "item_pricings", "coupons", "promo_codes", "customers"] {
            after.push(count_of(app, t, &app.other_company_id).await);
        }
        assert_eq!(before, after, "nothing written into the other tenant");
        for t in ["products", "product_pricings", "coupons", "customers"] {
            assert_eq!(app.count(t).await, 0, "nor into ours: {t}");
        }
        assert_eq!(other_get(app, &format!("/products/{product}")).await.ok()["state"], "ACTIVE");
        assert_eq!(other_get(app, &format!("/customers/{customer}")).await.ok()["state"], "ACTIVE");
        assert_eq!(other_get(app, &format!("/coupons/{coupon}")).await.ok()["state"], "ACTIVE");
    }
}
