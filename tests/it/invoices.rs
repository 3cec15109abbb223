//! Invoices through the API: read, list by status and customer, mark paid outside Kasse, void;
//! each transition once, with its webhook, and refused from the wrong status.

use serde_json::{Value, json};

use crate::support::TestApp;

/// An OPEN invoice: a contract without payment, marked signed offline, is fulfilled with one.
async fn open_invoice(app: &TestApp, customer_name: &str) -> (String, String) {
    let pricing =
        app.pricing("USD", json!([{"name": "Training day", "pricing_model": "PER_UNIT", "unit_amount": 25000}])).await;
    let customer =
        app.post_company("/customers", &json!({"name": customer_name})).await.ok()["id"].as_str().unwrap().to_string();
    let contract = app
        .post_company(
            "/contracts",
            &json!({"customer_id": customer,
                "onetime_items": [{"product_pricing_id": pricing["id"], "aggregate": 2}],
                "signatories": [{"name": customer_name}], "status": "PENDING_SIGNATURES"}),
        )
        .await;
    let id = contract.ok()["id"].as_str().unwrap().to_string();
    let done = app.post_company(&format!("/contracts/{id}/mark_signed_offline"), &json!({})).await;
    (done.ok()["invoice_id"].as_str().expect("an invoice").to_string(), customer)
}

async fn events(app: &TestApp, event_type: &str) -> i64 {
    let sql = "SELECT COUNT(*) FROM outbox_events WHERE company_id = $1 AND event_type = $2";
    let (n,): (i64,) = match &app.db {
        kasse::db::Db::Sqlite(p) => sqlx::query_as(sql).bind(&app.company_id).bind(event_type).fetch_one(p).await,
        kasse::db::Db::Postgres(p) => sqlx::query_as(sql).bind(&app.company_id).bind(event_type).fetch_one(p).await,
    }
    .unwrap();
    n
}

on_both_stores! {
    async fn an_open_invoice_is_read_listed_and_marked_paid_once(app) {
        let (id, customer) = open_invoice(app, "Ada").await;
        let (other, _) = open_invoice(app, "Bob").await;
        let invoice = app.get_company(&format!("/invoices/{id}")).await;
        let i = invoice.ok();
        assert_eq!((i["status"].as_str(), i["total"].as_i64(), i["amount_due"].as_i64()), (Some("OPEN"), Some(50000), Some(50000)));
        assert!(i["number"].as_str().unwrap().starts_with("INV-"));
        assert_eq!((i["lines"]["lines"][0]["quantity"].as_i64(), i["lines"]["lines"][0]["amount"].as_i64()), (Some(2), Some(50000)));
        assert!(i["due_at"].is_string() && i["paid_at"].is_null());

        let open = app.get_company("/invoices?status=open").await;
        assert_eq!(open.ok()["data"].as_array().unwrap().len(), 2);
        let ada = app.get_company(&format!("/invoices?customer_id={customer}")).await;
        assert_eq!(ada.ok()["data"].as_array().unwrap().iter().map(|i| i["id"].clone()).collect::<Vec<Value>>(), vec![json!(id)]);
        app.get_company("/invoices?status=DRAFT").await.assert_error(422, "status");

        let paid = app.post_company(&format!("/invoices/{id}/mark_paid"), &json!({"note": "Wire received"})).await;
        let p = paid.ok();
        assert_eq!((p["status"].as_str(), p["amount_due"].as_i64()), (Some("PAID"), Some(0)));
        assert!(p["paid_at"].is_string());
        assert_eq!(events(app, "invoice.paid").await, 1);
        // Again: the same answer, no second event.
        assert_eq!(app.post_company(&format!("/invoices/{id}/mark_paid"), &json!({})).await.ok()["status"], "PAID");
        assert_eq!(events(app, "invoice.paid").await, 1);
        let refused = app.post_company(&format!("/invoices/{id}/void"), &json!({})).await;
        refused.assert_error(409, "");
        assert_eq!(refused.error_code(), "invoice_not_open");
        assert_eq!(app.get_company(&format!("/invoices/{other}")).await.ok()["status"], "OPEN");
    }

    async fn a_voided_invoice_cannot_be_paid(app) {
        let (id, _) = open_invoice(app, "Ada").await;
        let voided = app.post_company(&format!("/invoices/{id}/void"), &json!({})).await;
        assert_eq!(voided.ok()["status"], "VOID");
        assert_eq!(voided.body["amount_due"], 50000, "a void invoice keeps what it said");
        assert_eq!(events(app, "invoice.voided").await, 1);
        assert_eq!(app.post_company(&format!("/invoices/{id}/void"), &json!({})).await.ok()["status"], "VOID");
        assert_eq!(events(app, "invoice.voided").await, 1);
        app.post_company(&format!("/invoices/{id}/mark_paid"), &json!({})).await.assert_error(409, "");
        assert_eq!(events(app, "invoice.paid").await, 0);
        app.post_company(&format!("/invoices/{id}/mark_paid"), &json!({"amount": 1})).await.assert_error(422, "amount");
    }

    async fn another_companys_invoice_is_not_found(app) {
        let (id, _) = open_invoice(app, "Ada").await;
        let theirs = |path: String| app.send(app.client.post(format!("{}/api/v1/companies/{}{path}", app.base, app.other_company_id))
            .bearer_auth(&app.other_api_key).json(&json!({})));
        assert_eq!(theirs(format!("/invoices/{id}/void")).await.status, 404);
        assert_eq!(theirs(format!("/invoices/{id}/mark_paid")).await.status, 404);
        let get = app.send(app.client.get(format!("{}/api/v1/companies/{}/invoices/{id}", app.base, app.other_company_id))
            .bearer_auth(&app.other_api_key)).await;
        assert_eq!(get.status, 404);
        assert_eq!(app.get_company(&format!("/invoices/{id}")).await.ok()["status"], "OPEN");
    }
}
