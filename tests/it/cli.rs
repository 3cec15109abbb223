//! The `kasse` binary as an operator uses it: seeding, administration, start-up errors, the demo.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KASSE: &str = env!("CARGO_BIN_EXE_kasse");

fn kasse(args: &[&str], database_url: &str) -> std::process::Output {
    Command::new(KASSE)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("KASSE_BIND")
        .output()
        .expect("run kasse")
}

on_both_stores! {
    async fn seed_demo_prints_ids_and_running_it_twice_creates_nothing_new(app) {
        let first = kasse(&["seed-demo", "--json"], &app.database_url);
        assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
        let a: serde_json::Value = serde_json::from_slice(&first.stdout).expect("one JSON object");
        assert_eq!(a["created"], true);
        for key in ["Team", "Starter", "Onboarding"] {
            assert!(a["product_pricing_ids"][key].as_str().unwrap().starts_with("pp_"), "{key}");
        }
        assert_eq!(a["promo_codes"], serde_json::json!(["LAUNCH20"]));
        assert!(a["customer_ids"]["crm-1001"].as_str().unwrap().starts_with("cus_"));

        let second = kasse(&["seed-demo", "--json"], &app.database_url);
        let b: serde_json::Value = serde_json::from_slice(&second.stdout).expect("one JSON object");
        assert_eq!(b["created"], false);
        assert_eq!((&a["company_id"], &a["product_pricing_ids"], &a["customer_ids"]), (&b["company_id"], &b["product_pricing_ids"], &b["customer_ids"]));

        // The printed key works against the running server, which shares the store.
        let company = a["company_id"].as_str().unwrap();
        let url = format!("{}/api/v1/companies/{company}/product_pricings", app.base);
        let r = app.send(app.client.get(url).bearer_auth(a["api_key"].as_str().unwrap())).await;
        assert_eq!(r.ok()["data"].as_array().unwrap().len(), 3);
    }

    async fn company_create_and_api_key_create_give_a_working_key(app) {
        let out = kasse(&["company", "create", "--name", "Fresh GmbH", "--currency", "eur"], &app.database_url);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let company = String::from_utf8(out.stdout).unwrap().trim().to_string();
        assert!(company.starts_with("cmp_"), "{company}");
        let out = kasse(&["api-key", "create", "--company", &company], &app.database_url);
        let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
        assert!(key.starts_with("ksk_"), "{key}");
        let url = format!("{}/api/v1/companies/{company}/products", app.base);
        let r = app.send(app.client.post(url).bearer_auth(&key).json(&serde_json::json!({"name": "Thing"}))).await;
        r.ok();
        // Only the hash of the key is stored.
        let stored: Vec<(String,)> = match &app.db {
            kasse::db::Db::Sqlite(p) => sqlx::query_as("SELECT key_hash FROM api_keys").fetch_all(p).await.unwrap(),
            kasse::db::Db::Postgres(p) => sqlx::query_as("SELECT key_hash FROM api_keys").fetch_all(p).await.unwrap(),
        };
        assert!(stored.iter().all(|(h,)| h != &key && h.len() == 64));
    }

    async fn api_key_create_for_an_unknown_company_is_a_clear_error(app) {
        let out = kasse(&["api-key", "create", "--company", "cmp_nope"], &app.database_url);
        assert!(!out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "error: no company with id 'cmp_nope'");
    }
}

fn one_line_error(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "expected failure");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(stderr.lines().count(), 1, "one line, got: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn a_database_url_of_another_kind_is_a_one_line_error() {
    let err = one_line_error(&kasse(&["migrate"], "mysql://root@127.0.0.1/x"));
    assert!(err.contains("sqlite:// or postgres://"), "{err}");
}

#[test]
fn an_unreachable_database_is_a_one_line_error() {
    let err = one_line_error(&kasse(&["migrate"], "postgres://postgres@127.0.0.1:1/nope"));
    assert!(err.contains("cannot reach the database"), "{err}");
}

#[test]
fn a_bad_bind_address_and_a_port_in_use_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("k.db").display());
    let err = one_line_error(&kasse(&["serve", "--bind", "not-an-address"], &db));
    assert!(err.contains("invalid bind address"), "{err}");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = one_line_error(&kasse(&["serve", "--bind", &addr], &db));
    assert!(err.contains("already in use"), "{err}");
    let err = one_line_error(
        &Command::new(KASSE)
            .args(["serve", "--database-url", &db])
            .env("KASSE_PUBLIC_URL", "ftp://x")
            .output()
            .unwrap(),
    );
    assert!(err.contains("KASSE_PUBLIC_URL"), "{err}");
}

/// `kasse demo` prints a URL and a curl; both work; SIGTERM stops it cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_prints_a_url_and_a_curl_that_work_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(KASSE)
        .args(["demo", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", format!("sqlite://{}", dir.path().join("demo.db").display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn demo");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let line = lines.next().expect("demo output").expect("utf-8");
        let done = line.contains("Stop with Ctrl-C");
        printed.push(line);
        if done {
            break;
        }
    }
    let text = printed.join("\n");
    let open = text.lines().find_map(|l| l.trim().strip_prefix("Open:")).expect("an Open: line").trim().to_string();
    let page = reqwest::get(&open).await.unwrap();
    assert_eq!(page.status(), 200, "{open}");
    // The printed checkout opens on the demo's order; the printed link starts a session.
    let field = |name: &str| text.lines().find_map(|l| l.trim().strip_prefix(name)).map(|v| v.trim().to_string());
    let checkout = field("Checkout:").expect("a Checkout: line");
    let page = reqwest::get(&checkout).await.unwrap();
    assert_eq!(page.status(), 200, "{checkout}");
    assert!(page.text().await.unwrap().contains("Acme Analytics"));
    let link = field("Link:").expect("a Link: line");
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let visit = no_redirects.get(&link).send().await.unwrap();
    assert_eq!(visit.status(), 303, "{link}");
    // The printed contract link opens Ada's signing page with the rendered order form.
    let contract = field("Contract:").expect("a Contract: line");
    let page = reqwest::get(&contract).await.unwrap();
    assert_eq!(page.status(), 200, "{contract}");
    let html = page.text().await.unwrap();
    assert!(html.contains("Analytical Engines Ltd") && html.contains("name=\"document_hash\""), "{html}");
    // The printed invoice link opens Ada's open invoice with its card form.
    let invoice = field("Invoice:").expect("an Invoice: line");
    let page = reqwest::get(&invoice).await.unwrap();
    assert_eq!(page.status(), 200, "{invoice}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("INV-") && html.contains("Loyalty discount") && html.contains("name=\"card_number\""),
        "{html}"
    );

    // Take the curl apart as a shell would: URL, the two headers, the -d body.
    let curl = text[text.find("curl -s").expect("a curl")..].replace("\\\n", " ");
    let url = curl.split_whitespace().nth(2).unwrap().to_string();
    let quoted: Vec<&str> = curl.split('\'').skip(1).step_by(2).collect();
    let auth = quoted.iter().find(|q| q.starts_with("Authorization: Bearer ")).unwrap();
    let body = quoted.iter().find(|q| q.starts_with('{')).unwrap();
    let r = reqwest::Client::new()
        .post(&url)
        .header("authorization", auth.trim_start_matches("Authorization: "))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let quote: serde_json::Value = r.json().await.unwrap();
    // 12 seats, graduated: 10 × $15 + 2 × $12 = $174; LAUNCH20 takes 20 %: $34.80.
    assert_eq!(quote["subtotal"], 17400);
    assert_eq!(quote["total_due_today"], 13920);

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "demo did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
}
