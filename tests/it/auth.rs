//! Bearer authentication and tenant isolation of the merchant API.

use serde_json::json;

on_both_stores! {
    async fn a_request_without_an_api_key_is_401_with_the_error_envelope(app) {
        let r = app.send(app.client.get(format!("{}{}", app.base, app.company_path("/products")))).await;
        r.assert_error(401, "");
        assert_eq!(r.error_type(), "authentication_error");
        assert!(r.error_message().contains("Authorization: Bearer"), "{}", r.body);
    }

    async fn a_wrong_api_key_is_401_and_stores_nothing(app) {
        let url = format!("{}{}", app.base, app.company_path("/products"));
        let r = app.send(app.client.post(url).bearer_auth("ksk_not_a_real_key").json(&json!({"name": "X"}))).await;
        r.assert_error(401, "");
        assert_eq!(r.error_message(), "Invalid API key.");
        assert_eq!(app.count("products").await, 0);
    }

    async fn an_authorization_header_that_is_not_bearer_is_401(app) {
        let url = format!("{}{}", app.base, app.company_path("/products"));
        let r = app.send(app.client.get(&url).header("authorization", format!("Basic {}", app.api_key))).await;
        r.assert_error(401, "");
        let r = app.send(app.client.get(&url).header("authorization", "Bearer ")).await;
        r.assert_error(401, "");
    }

    async fn another_companys_path_is_404_exactly_like_an_unknown_company(app) {
        let theirs = app.get(&format!("/api/v1/companies/{}/products", app.other_company_id)).await;
        theirs.assert_error(404, "");
        assert_eq!(theirs.error_code(), "resource_missing");
        let unknown = app.get("/api/v1/companies/cmp_00000000000000000000000000/products").await;
        unknown.assert_error(404, "");
        // Same code and the same wording but for the id: nothing tells the two apart.
        assert_eq!(
            theirs.error_message().replace(&app.other_company_id, "ID"),
            unknown.error_message().replace("cmp_00000000000000000000000000", "ID")
        );
        let created = app.post(&format!("/api/v1/companies/{}/products", app.other_company_id), &json!({"name": "X"})).await;
        created.assert_error(404, "");
        let (n,): (i64,) = match &app.db {
            kasse::db::Db::Sqlite(p) => sqlx::query_as("SELECT COUNT(*) FROM products").fetch_one(p).await.unwrap(),
            kasse::db::Db::Postgres(p) => sqlx::query_as("SELECT COUNT(*) FROM products").fetch_one(p).await.unwrap(),
        };
        assert_eq!(n, 0, "nothing was created in either company");
    }

    async fn another_tenants_product_id_is_404_through_our_own_path(app) {
        let url = format!("{}/api/v1/companies/{}/products", app.base, app.other_company_id);
        let theirs = app.send(app.client.post(url).bearer_auth(&app.other_api_key).json(&json!({"name": "Secret"}))).await;
        let id = theirs.ok()["id"].as_str().unwrap().to_string();
        let r = app.get_company(&format!("/products/{id}")).await;
        r.assert_error(404, "");
        assert!(!String::from_utf8_lossy(&r.bytes).contains("Secret"));
        app.post_company(&format!("/products/{id}/archive"), &json!({})).await.assert_error(404, "");
    }

    async fn each_key_sees_only_its_own_company(app) {
        app.product("Ours").await;
        let url = format!("{}/api/v1/companies/{}/products", app.base, app.other_company_id);
        let r = app.send(app.client.get(url).bearer_auth(&app.other_api_key)).await;
        assert_eq!(r.ok()["data"].as_array().unwrap().len(), 0);
        let ours = app.get_company("/products").await;
        assert_eq!(ours.ok()["data"][0]["name"], "Ours");
    }
}
