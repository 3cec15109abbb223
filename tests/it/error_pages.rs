//! The customer pages' one error page (`web::errors`): a form posted without this browser's
//! CSRF token and a failure on our side (a store that lost a table under a running server)
//! each get the branded page in the page's or the browser's language, with a request id that
//! the real server's log line of that request names too.

use serde_json::json;

use crate::checkout::{catalog, create, order, sql};
use crate::crash::Server;

/// The request id the page shows, checked against the response's `x-request-id`.
fn shown_request_id(r: &reqwest::header::HeaderMap, html: &str) -> String {
    let start = html.find("<code id=\"request-id\">").expect("a request id on the page") + 22;
    let id = &html[start..start + html[start..].find('<').unwrap()];
    assert_eq!(r["x-request-id"].to_str().unwrap(), id);
    assert!(id.len() >= 8, "{id}");
    id.to_string()
}

async fn wait_for_log(log: &std::path::Path, id: &str, level: &str) -> String {
    for _ in 0..50 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains(id) && l.contains(level)) {
            return line.to_string();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no {level} line naming {id} in the log:\n{}", std::fs::read_to_string(log).unwrap_or_default());
}

on_both_stores! {
    async fn a_refused_form_and_a_server_failure_show_the_error_page_with_the_logged_request_id(app) {
        let c = catalog(app).await;
        let (_, english) = create(app, &order(&c, |_| {})).await;
        let (_, german) = create(app, &order(&c, |b| b["locale"] = json!("de"))).await;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("kasse.log");
        let server = Server::start_logging(app, None, Some(&log)).await;
        let browser = reqwest::Client::new();

        // A forged form: 403, the page's own language (not the browser's), the merchant's header.
        for (path, heading, reference) in [
            (&english, "This form has expired", "Reference"),
            (&german, "Dieses Formular ist abgelaufen", "Referenz"),
        ] {
            let r = browser
                .post(format!("{}{path}", server.base))
                .header("accept-language", "fr")
                .form(&[("csrf", "0".repeat(64).as_str()), ("action", "pay")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403);
            assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
            let headers = r.headers().clone();
            let html = r.text().await.unwrap();
            assert!(html.contains(&format!("<h1>{heading}</h1>")), "{html}");
            assert!(html.contains(&format!("{reference}: <code")), "{html}");
            assert!(html.contains("class=\"merchant-name\""), "the merchant's header: {html}");
            let id = shown_request_id(&headers, &html);
            let line = wait_for_log(&log, &id, "WARN").await;
            assert!(line.contains("CSRF"), "{line}");
        }
        assert_eq!(app.count("payments").await, 0);

        // The store loses a table under the running server: a 500 page, in the browser's language.
        sql(&app.db, "ALTER TABLE companies RENAME TO companies_gone").await;
        for (language, heading, reference) in
            [("en-US", "Something went wrong", "Reference"), ("de-DE,de;q=0.9", "Etwas ist schiefgelaufen", "Referenz")]
        {
            let r = browser
                .get(format!("{}{english}", server.base))
                .header("accept-language", language)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 500);
            let headers = r.headers().clone();
            let html = r.text().await.unwrap();
            assert!(html.contains(&format!("<h1>{heading}</h1>")), "{html}");
            assert!(html.contains(&format!("{reference}: <code")), "{html}");
            assert!(!html.contains("companies"), "the cause stays in the log: {html}");
            let id = shown_request_id(&headers, &html);
            let line = wait_for_log(&log, &id, "ERROR").await;
            assert!(line.contains("companies"), "the log names the cause: {line}");
        }
        sql(&app.db, "ALTER TABLE companies_gone RENAME TO companies").await;
        drop(server);
    }

    async fn pages_the_framework_refuses_get_the_error_page_and_the_api_keeps_its_envelope(app) {
        // A form sent as something else than a form (the framework's own refusal), and an
        // unknown page, in German.
        let c = catalog(app).await;
        let (_, path) = create(app, &order(&c, |_| {})).await;
        let r = app
            .client
            .post(format!("{}{path}", app.base))
            .header("content-type", "text/plain")
            .header("accept-language", "de")
            .body("action=pay")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 415);
        let html = r.text().await.unwrap();
        assert!(html.contains("<h1>Wir konnten diese Anfrage nicht verarbeiten</h1>"), "{html}");
        assert!(html.contains("Referenz: <code id=\"request-id\">"), "{html}");
        let r = app.client.get(format!("{}/nowhere", app.base)).header("accept-language", "de").send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert!(r.text().await.unwrap().contains("<h1>Wir konnten diese Seite nicht finden</h1>"));
        let r = app.get("/api/v1/nowhere").await;
        assert_eq!((r.status, r.error_code()), (404, "route_not_found"));
    }
}
