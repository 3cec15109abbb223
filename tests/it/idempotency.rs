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
