//! `Idempotency-Key`: replays byte for byte, refuses reuse with another request, and 409s while in flight.

use serde_json::json;

async fn post_idem(
    app: &crate::support::TestApp,
    path: &str,
    key: &str,
    body: &serde_json::Value,
) -> crate::support::Resp {
    app.send(app.request(reqwest::Method::POST, &app.company_path(path)).header("idempotency-key", key).json(body))
        .await
}

on_both_stores! {
    async fn the_same_key_and_body_replays_the_first_response_byte_for_byte(app) {
        let body = json!({"name": "Widget", "description": "A fine widget"});
        let first = post_idem(app, "/products", "key-1", &body).await;
        first.ok();
        let second = post_idem(app, "/products", "key-1", &body).await;
        assert_eq!(second.status, 200);
        assert_eq!(second.bytes, first.bytes, "replayed body differs");
        assert_eq!(second.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
        assert_eq!(app.count("products").await, 1);
    }

    async fn a_replayed_error_is_the_same_error(app) {
        let body = json!({"name": ""});
        let first = post_idem(app, "/products", "key-err", &body).await;
        first.assert_error(422, "name");
        let second = post_idem(app, "/products", "key-err", &body).await;
        assert_eq!((second.status, second.bytes.clone()), (422, first.bytes.clone()));
    }

    async fn the_same_key_with_another_body_is_422_idempotency_error(app) {
        post_idem(app, "/products", "key-2", &json!({"name": "One"})).await.ok();
        let r = post_idem(app, "/products", "key-2", &json!({"name": "Two"})).await;
        r.assert_error(422, "Idempotency-Key");
        assert_eq!(r.error_type(), "idempotency_error");
        assert_eq!(app.count("products").await, 1);
    }

    async fn the_same_key_on_another_endpoint_is_422(app) {
        post_idem(app, "/products", "key-3", &json!({"name": "One"})).await.ok();
        let r = post_idem(app, "/customers", "key-3", &json!({"name": "One"})).await;
        r.assert_error(422, "Idempotency-Key");
        assert_eq!(app.count("customers").await, 0);
    }

    async fn a_key_whose_first_request_is_still_running_is_409(app) {
        // The first request with this key holds the claim, as it does while its handler runs.
        let body = serde_json::to_vec(&json!({"name": "Slow"})).unwrap();
        let path = app.company_path("/products");
        let fingerprint = kasse::api::idempotency::fingerprint("POST", &path, &body);
        let claim = kasse::db::idempotency::claim(&app.db, &app.company_id, "key-5", &fingerprint, app.clock.now()).await;
        assert_eq!(claim.unwrap(), kasse::db::idempotency::Claim::Acquired);

        let retry = app
            .request(reqwest::Method::POST, &path)
            .header("idempotency-key", "key-5")
            .header("content-type", "application/json")
            .body(body);
        let r = app.send(retry).await;
        r.assert_error(409, "Idempotency-Key");
        assert_eq!(r.error_code(), "idempotency_key_in_use");
        assert_eq!(app.count("products").await, 0);
    }

    async fn concurrent_requests_with_one_key_create_exactly_one_product(app) {
        let body = json!({"name": "Raced"});
        let requests = (0..12).map(|_| post_idem(app, "/products", "key-race", &body));
        let responses = futures_util::future::join_all(requests).await;
        let ids: std::collections::HashSet<String> = responses
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| r.body["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 1, "every success names the same product");
        for r in &responses {
            assert!(r.status == 200 || r.status == 409, "unexpected {}: {}", r.status, r.body);
        }
        assert_eq!(app.count("products").await, 1);
    }

    async fn keys_belong_to_one_company(app) {
        let body = json!({"name": "Mine"});
        let ours = post_idem(app, "/products", "shared-key", &body).await;
        let url = format!("{}/api/v1/companies/{}/products", app.base, app.other_company_id);
        let theirs = app
            .send(app.client.post(url).bearer_auth(&app.other_api_key).header("idempotency-key", "shared-key").json(&body))
            .await;
        assert_ne!(ours.ok()["id"], theirs.ok()["id"], "the other company's request ran on its own");
    }

    async fn a_key_older_than_24_hours_starts_afresh(app) {
        let body = json!({"name": "Daily"});
        let first = post_idem(app, "/products", "key-old", &body).await;
        app.clock.advance(chrono::Duration::hours(25));
        let second = post_idem(app, "/products", "key-old", &body).await;
        assert_ne!(first.ok()["id"], second.ok()["id"]);
        assert_eq!(app.count("products").await, 2);
    }

    async fn a_key_is_still_replayed_after_23_hours(app) {
        let body = json!({"name": "Kept"});
        let first = post_idem(app, "/products", "key-kept", &body).await;
        app.clock.advance(chrono::Duration::hours(23));
        let second = post_idem(app, "/products", "key-kept", &body).await;
        assert_eq!(second.bytes, first.bytes);
        assert_eq!(app.count("products").await, 1);
    }
}

/// A checkout body for a one-item plan of the test company.
async fn checkout_body(app: &crate::support::TestApp) -> serde_json::Value {
    let plan = app
        .pricing(
            "USD",
            json!([{"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 1500,
            "billing_period": {"count": 1, "frequency": "MONTH"}}]),
        )
        .await;
    json!({"product_pricing_ids": [plan["id"]], "config_items": [{"product_pricing_id": plan["id"], "num_licenses": 3}]})
}

fn header(r: &crate::support::Resp, name: &str) -> u32 {
    r.headers.get(name).unwrap().to_str().unwrap().parse().unwrap()
}

on_both_stores! {
    async fn a_checkout_created_with_a_key_is_stored_with_its_answer_in_one_transaction(app) {
        let body = checkout_body(app).await;
        // (The first one also reads the plan into memory.)
        app.post_company("/checkout", &body).await.ok();
        let plain = app.post_company("/checkout", &body).await;
        plain.ok();
        let first = post_idem(app, "/checkout", "checkout-1", &body).await;
        first.ok();
        // The session and the answer under the key: one transaction; beside the request without a
        // key only the answer's INSERT (the key is looked up in the authentication's query).
        assert_eq!(header(&first, "kasse-transactions"), 1);
        assert_eq!(header(&first, "kasse-statements"), header(&plain, "kasse-statements") + 1);
        let stored = crate::checkout::scalar(
            &app.db,
            &format!("SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = 'checkout-1' AND state = 'done' \
                      AND response_status = 200 AND company_id = '{}'", app.company_id),
        )
        .await;
        assert_eq!(stored, 1);

        let again = post_idem(app, "/checkout", "checkout-1", &body).await;
        assert_eq!((again.status, again.bytes.clone()), (200, first.bytes.clone()));
        assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
        assert_eq!(app.count("checkout_sessions").await, 3);

        // A refused request is answered the same way again.
        let bad = json!({"product_pricing_ids": ["ppr_00000000000000000000000000"]});
        let refused = post_idem(app, "/checkout", "checkout-2", &bad).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        let again = post_idem(app, "/checkout", "checkout-2", &bad).await;
        assert_eq!((again.status, again.bytes.clone()), (422, refused.bytes.clone()));
        // And the key, once answered, refuses another body.
        post_idem(app, "/checkout", "checkout-1", &bad).await.assert_error(422, "Idempotency-Key");
    }

    async fn concurrent_checkouts_with_one_key_over_two_servers_create_exactly_one_session(app) {
        let body = checkout_body(app).await;
        let other = app.another_process().await;
        let before = app.count("checkout_sessions").await;
        let send = |base: String| {
            let request = app
                .client
                .post(format!("{base}{}", app.company_path("/checkout")))
                .bearer_auth(&app.api_key)
                .header("idempotency-key", "checkout-race")
                .json(&body);
            app.send(request)
        };
        let requests = (0..16).map(|i| send(if i % 2 == 0 { app.base.clone() } else { other.base.clone() }));
        let responses = futures_util::future::join_all(requests).await;
        let ids: std::collections::HashSet<String> = responses
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| r.body["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 1, "every success names the same session");
        for r in &responses {
            assert!(r.status == 200 || r.status == 409, "unexpected {}: {}", r.status, r.body);
        }
        assert_eq!(app.count("checkout_sessions").await, before + 1);
        other.stop().await;
    }
}
