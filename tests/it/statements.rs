//! How many SQL statements a customer's page costs, counted by the server itself
//! (`Kasse-Statements`: every statement Kasse sends; `BEGIN`/`COMMIT` are counted apart, in
//! `Kasse-Transactions`): the checkout page at most 2, a contract's signing page at most 4 (8 on
//! the first view, which records it), the hosted invoice at most 2, and paying at most 12.

use serde_json::json;

use crate::checkout::{SUCCESS, catalog, create, csrf_of, order, pay_fields, post_form};
use crate::receiver::Receiver;
use crate::support::TestApp;

/// GET `path` as a browser would; (status, statements the server sent).
async fn statements_of_get(app: &TestApp, path: &str) -> (u16, u32, String) {
    let r = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
    let n = statements(r.headers());
    (r.status().as_u16(), n, r.text().await.unwrap())
}

fn statements(headers: &reqwest::header::HeaderMap) -> u32 {
    headers.get("kasse-statements").expect("Kasse-Statements header").to_str().unwrap().parse().unwrap()
}

on_both_stores! {
    async fn the_checkout_page_and_paying_it_send_few_statements(app) {
        let c = catalog(app).await;
        // A merchant listening for events: paying writes them in its transaction.
        let receiver = Receiver::start(0).await;
        app.post_company("/webhook_endpoints", &json!({"url": receiver.url})).await.ok();
        let (_, path) = create(app, &order(&c, |_| {})).await;

        let (status, n, page) = statements_of_get(app, &path).await;
        assert_eq!(status, 200, "{page}");
        assert!(n <= 2, "the checkout page sent {n} statements");
        // Again, with the catalog already read once.
        let (status, n, page) = statements_of_get(app, &path).await;
        assert_eq!(status, 200);
        assert!(n <= 2, "the checkout page sent {n} statements the second time");

        // The first payment after the start (or after an endpoint changed) reads the endpoints
        // once; later ones find them in memory.
        let r = post_form(app, &path, &csrf_of(&page), &pay_fields(SUCCESS)).await;
        assert_eq!(r.status, 303, "{:?}", r.body);
        let n = statements(&r.headers);
        assert!(n <= 13, "the first payment sent {n} statements");
        let (_, path) = create(app, &order(&c, |_| {})).await;
        let (_, _, page) = statements_of_get(app, &path).await;
        let r = post_form(app, &path, &csrf_of(&page), &pay_fields(SUCCESS)).await;
        assert_eq!(r.status, 303, "{:?}", r.body);
        let n = statements(&r.headers);
        assert!(n <= 12, "paying sent {n} statements");
        assert_eq!(r.headers.get("kasse-transactions").unwrap(), "1", "paying is one transaction");
        assert_eq!(crate::checkout::count_where(app, "payments", "status = 'SUCCEEDED'").await, 2);
        // Both payments told the merchant: three events each, one delivery each.
        assert_eq!(crate::checkout::count_where(app, "webhook_deliveries", "status IN ('PENDING', 'DELIVERED')").await, 6);
    }
}

on_both_stores! {
    async fn a_signing_page_and_a_hosted_invoice_send_few_statements(app) {
        let c = catalog(app).await;
        let customer = app
            .post_company("/customers", &json!({"name": "Ada Lovelace", "email": "ada@example.com"}))
            .await
            .ok()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let contract = app
            .post_company(
                "/contracts",
                &json!({"customer_id": customer, "product_pricing_ids": [c.team],
                    "term": {"count": 12, "frequency": "MONTH"}, "status": "PENDING_SIGNATURES",
                    "signatories": [{"name": "Ada Lovelace", "email": "ada@example.com", "title": "CEO"}]}),
            )
            .await;
        let link = contract.ok()["signatories"][0]["signature_link"].as_str().unwrap().to_string();
        let path = link.strip_prefix(&app.base).unwrap().to_string();
        // The first view records itself (its event, and contract.viewed for the merchant, in one
        // transaction); later views only read.
        let (status, n, page) = statements_of_get(app, &path).await;
        assert_eq!(status, 200, "{page}");
        assert!(n <= 8, "the first view of a signing page sent {n} statements");
        assert_eq!(crate::checkout::events(app, "contract.viewed").await, 1);
        let (status, n, _) = statements_of_get(app, &path).await;
        assert_eq!(status, 200);
        assert!(n <= 2, "a signing page sent {n} statements");

        let charge = app
            .post_company(
                "/one_times",
                &json!({"customer_id": customer, "type": "IMMEDIATE",
                    "onetime_items": [{"product_pricing_id": c.onboarding, "aggregate": 1}]}),
            )
            .await;
        let url = charge.ok()[0]["invoice_url"].as_str().unwrap().to_string();
        let path = url.strip_prefix(&app.base).unwrap().to_string();
        let (status, n, page) = statements_of_get(app, &path).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("$499.00"), "{page}");
        assert!(n <= 1, "the hosted invoice sent {n} statements");
    }
}
