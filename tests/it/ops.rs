//! Probes, security headers, request ids, the landing page and the OpenAPI document.

on_both_stores! {
    async fn healthz_and_readyz_answer_ok_while_the_database_is_up(app) {
        let h = app.send(app.client.get(format!("{}/healthz", app.base))).await;
        assert_eq!((h.status, h.body["status"].as_str()), (200, Some("ok")));
        let r = app.send(app.client.get(format!("{}/readyz", app.base))).await;
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("ready")));
    }

    async fn every_response_carries_security_headers_and_a_request_id(app) {
        for path in ["/", "/healthz", "/api/v1/companies/x/products", "/nowhere"] {
            let r = app.send(app.client.get(format!("{}{path}", app.base))).await;
            let h = |name: &str| r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
            assert!(h("content-security-policy").contains("frame-ancestors 'none'"), "{path}");
            assert!(h("content-security-policy").contains("'nonce-"), "{path}");
            assert_eq!(h("x-frame-options"), "DENY", "{path}");
            assert_eq!(h("referrer-policy"), "strict-origin-when-cross-origin", "{path}");
            assert_eq!(h("x-request-id").len(), 16, "{path}");
        }
        let r = app.send(app.client.get(format!("{}/healthz", app.base)).header("x-request-id", "trace-me-123")).await;
        assert_eq!(r.headers.get("x-request-id").unwrap(), "trace-me-123");
        let r = app.send(app.client.get(format!("{}/healthz", app.base)).header("x-request-id", "a b\tc")).await;
        assert_eq!(r.headers.get("x-request-id").unwrap().len(), 16, "an unsafe id is replaced by ours");
    }

    async fn the_landing_page_and_the_not_found_page_are_html(app) {
        let r = app.client.get(format!("{}/", app.base)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Kasse is running") && html.contains("/api/openapi.json"), "{html}");
        let r = app.client.get(format!("{}/no/such/page", app.base)).send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(r.text().await.unwrap().contains("couldn't find that page"));
    }

    async fn the_openapi_document_is_3_1_and_covers_every_route(app) {
        let r = app.send(app.client.get(format!("{}/api/openapi.json", app.base))).await;
        let doc = r.ok();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
        let paths = doc["paths"].as_object().unwrap();
        let company = "/api/v1/companies/{company_id}";
        for resource in ["products", "product_pricings", "coupons", "customers"] {
            let collection = &paths[&format!("{company}/{resource}")];
            assert!(collection["get"].is_object() && collection["post"].is_object(), "{resource}");
            assert!(paths[&format!("{company}/{resource}/{{id}}")]["get"].is_object(), "{resource} get");
            assert!(paths[&format!("{company}/{resource}/{{id}}/archive")]["post"].is_object(), "{resource} archive");
        }
        assert!(paths[&format!("{company}/pricing/preview")]["post"].is_object());
        for (path, method) in [
            (format!("{company}/checkout"), "post"),
            (format!("{company}/checkout/{{id}}"), "get"),
            (format!("{company}/checkout/{{id}}/expire"), "post"),
            (format!("{company}/checkout/{{id}}/preview_link"), "post"),
            (format!("{company}/checkout_links"), "post"),
            (format!("{company}/checkout_links/{{id}}/disable"), "post"),
            (format!("{company}/webhook_endpoints"), "post"),
            (format!("{company}/contract_templates"), "post"),
            (format!("{company}/contracts"), "post"),
            (format!("{company}/contracts/{{id}}"), "get"),
            (format!("{company}/contracts/{{id}}/finalize"), "post"),
            (format!("{company}/contracts/{{id}}/void"), "post"),
            (format!("{company}/contracts/{{id}}/mark_signed_offline"), "post"),
            (format!("{company}/contracts/{{id}}/counter_signatories/{{signatory_id}}"), "delete"),
            (format!("{company}/contracts/{{id}}/preview_link"), "post"),
            (format!("{company}/invoices"), "get"),
            (format!("{company}/invoices"), "post"),
            (format!("{company}/one_times"), "post"),
            (format!("{company}/invoices/{{id}}/mark_paid"), "post"),
            (format!("{company}/invoices/{{id}}/void"), "post"),
            ("/api/v1/checkout-sessions".to_string(), "post"),
            ("/api/v1/checkout-sessions/{id}/cancel".to_string(), "post"),
        ] {
            assert!(paths[&path][method].is_object(), "{method} {path} missing");
        }
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for schema in ["ErrorBody", "QuoteBody", "ItemPricingInput", "DiscountBody", "CreateCoupon", "CustomerResponse"] {
            assert!(schemas.contains_key(schema), "schema {schema} missing");
        }
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    }

    async fn every_documented_operation_is_routed_and_every_route_is_documented(app) {
        // Documented ⊆ routed: every operation of the document reaches a handler (an unknown
        // route answers `route_not_found`, a wrong method 405).
        let r = app.send(app.client.get(format!("{}/api/openapi.json", app.base))).await;
        let doc = r.ok();
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            let url = path.replace("{company_id}", &app.company_id).replace("{id}", "x").replace("{file_id}", "x");
            let url = format!("{}{}", app.base, url.replace("{signatory_id}", "x"));
            for method in item.as_object().unwrap().keys() {
                let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let r = app.send(app.client.request(method.clone(), &url).bearer_auth(&app.api_key)).await;
                assert_ne!(r.status, 405, "{method} {path}: {}", r.body);
                assert_ne!(r.body["error"]["code"], "route_not_found", "{method} {path}: {}", r.body);
                operations += 1;
            }
        }
        assert!(operations >= 48, "{operations} operations documented");
        // Routed ⊆ documented: the API router is made only from `api::routes`, whose `routes!`
        // take their paths from the handlers' documentation; a plain `.route(` would bypass it.
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/api")).unwrap() {
            let path = entry.unwrap().path();
            let source = std::fs::read_to_string(&path).unwrap();
            assert!(!source.contains(".route("), "{} routes a path outside api::routes", path.display());
        }
    }
}
