//! Merchant webhooks: endpoints through the API, the outbox in the caller's transaction, signed delivery, retries, give-up, exactly-once claims, restarts.

use std::collections::HashSet;
use std::time::Duration as StdDuration;

use chrono::Duration;
use kasse::app::App;
use kasse::clock::Clock;
use kasse::config::Config;
use kasse::db::webhooks::{self, Delivery};
use kasse::db::{self, Db};
use kasse::services::outbox;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::receiver::{Receiver, eventually};
use crate::support::TestApp;

/// Create an endpoint through the API and return (id, secret).
async fn endpoint(app: &TestApp, url: &str, event_types: Value) -> (String, String) {
    let r = app.post_company("/webhook_endpoints", &json!({"url": url, "event_types": event_types})).await;
    let body = r.ok();
    (body["id"].as_str().unwrap().to_string(), body["secret"].as_str().unwrap().to_string())
}

/// Record an event the way fulfilment does: inside a transaction, committed.
async fn enqueue_at(
    db: &Db,
    company_id: &str,
    event_type: &str,
    data: Value,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let mut tx = db.begin().await.unwrap();
    let id = webhooks::enqueue(&mut tx, company_id, event_type, data, now).unwrap();
    tx.commit().await.unwrap();
    id
}

async fn enqueue(app: &TestApp, event_type: &str, data: Value) -> String {
    enqueue_at(&app.db, &app.company_id, event_type, data, app.clock.now()).await
}

async fn deliveries(db: &Db, company_id: &str, event_id: &str) -> Vec<Delivery> {
    webhooks::deliveries_of_event(db, company_id, event_id).await.unwrap()
}

/// Wait until the only delivery of `event_id` satisfies `done`, and return it.
async fn wait_delivery(
    db: &Db,
    company_id: &str,
    event_id: &str,
    what: &str,
    done: impl Fn(&Delivery) -> bool,
) -> Delivery {
    eventually(what, || async {
        let mut rows = deliveries(db, company_id, event_id).await;
        assert_eq!(rows.len(), 1, "one delivery of {event_id}");
        let d = rows.remove(0);
        done(&d).then_some(d)
    })
    .await
}

fn is_settled_after(attempts: i32) -> impl Fn(&Delivery) -> bool {
    move |d| d.attempts == attempts && d.locked_until.is_none()
}

on_both_stores! {
    async fn creating_an_endpoint_shows_its_secret_once(app) {
        let r = app
            .post_company(
                "/webhook_endpoints",
                &json!({"url": "https://example.com/hooks", "event_types": ["invoice.paid", "checkout.completed"],
                        "description": "Billing backend"}),
            )
            .await;
        let created = r.ok().clone();
        let id = created["id"].as_str().unwrap();
        assert!(id.starts_with("we_"), "{id}");
        let secret = created["secret"].as_str().unwrap();
        let hex = secret.strip_prefix("whsec_").expect("whsec_ prefix");
        assert!(hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()), "{secret}");
        assert_eq!(created["url"], "https://example.com/hooks");
        assert_eq!(created["event_types"], json!(["invoice.paid", "checkout.completed"]));
        assert_eq!(created["description"], "Billing backend");
        assert_eq!(created["enabled"], true);

        let fetched = app.get_company(&format!("/webhook_endpoints/{id}")).await;
        let fetched = fetched.ok();
        assert!(fetched.get("secret").is_none(), "GET shows the secret: {fetched}");
        assert_eq!(fetched["id"], created["id"]);
        assert_eq!(fetched["event_types"], created["event_types"]);
        assert!(!String::from_utf8_lossy(&app.get_company(&format!("/webhook_endpoints/{id}")).await.bytes).contains(hex));

        let listed = app.get_company("/webhook_endpoints").await;
        let data = listed.ok()["data"].as_array().unwrap().clone();
        assert_eq!(data.len(), 1);
        assert_eq!(data[0]["id"], created["id"]);
        assert!(data[0].get("secret").is_none(), "list shows the secret: {}", data[0]);
        assert!(!String::from_utf8_lossy(&listed.bytes).contains(hex));
    }

    async fn an_endpoint_without_event_types_receives_every_type(app) {
        let r = app.post_company("/webhook_endpoints", &json!({"url": "http://127.0.0.1:9/hook"})).await;
        assert_eq!(r.ok()["event_types"], json!([]));
    }

    async fn an_endpoint_url_must_be_http_or_https(app) {
        let long = format!("https://example.com/{}", "a".repeat(2000));
        for url in ["ftp://example.com/hooks", "javascript:alert(1)", "example.com/hooks", "https://", "", long.as_str()] {
            let r = app.post_company("/webhook_endpoints", &json!({"url": url})).await;
            r.assert_error(422, "url");
        }
        app.post_company("/webhook_endpoints", &json!({})).await.assert_error(422, "url");
        assert_eq!(app.count("webhook_endpoints").await, 0);
    }

    async fn an_unknown_event_type_is_422_naming_it(app) {
        let body = json!({"url": "https://example.com/hooks", "event_types": ["invoice.paid", "invoice.exploded"]});
        let r = app.post_company("/webhook_endpoints", &body).await;
        r.assert_error(422, "event_types[1]");
        assert!(r.error_message().contains("checkout.completed"), "{}", r.error_message());
        let r = app.post_company("/webhook_endpoints", &json!({"url": "https://example.com/h", "event_types": "invoice.paid"})).await;
        r.assert_error(422, "event_types");
        assert_eq!(app.count("webhook_endpoints").await, 0);
    }

    async fn another_company_cannot_see_or_disable_an_endpoint(app) {
        let (id, _) = endpoint(app, "https://example.com/hooks", json!([])).await;
        let path = format!("/api/v1/companies/{}/webhook_endpoints/{id}", app.other_company_id);
        let theirs = |method, path: String| {
            app.client.request(method, format!("{}{path}", app.base)).bearer_auth(&app.other_api_key)
        };
        assert_eq!(app.send(theirs(reqwest::Method::GET, path.clone())).await.status, 404);
        let r = app.send(theirs(reqwest::Method::POST, format!("{path}/disable"))).await;
        assert_eq!(r.status, 404);
        let listed = app.send(theirs(reqwest::Method::GET, format!("/api/v1/companies/{}/webhook_endpoints", app.other_company_id))).await;
        assert_eq!(listed.ok()["data"], json!([]));
        assert_eq!(app.get_company(&format!("/webhook_endpoints/{id}")).await.ok()["enabled"], true);
    }

    async fn an_enqueued_event_is_delivered_with_its_stored_payload_and_a_valid_signature(app) {
        let receiver = Receiver::start(0).await;
        let (_, secret) = endpoint(app, &receiver.url, json!(["checkout.completed"])).await;

        let event_id = enqueue(app, "checkout.completed", json!({"checkout_id": "chk_1", "amount": 4200})).await;

        let hits = receiver.wait_for(1).await;
        let hit = &hits[0];
        let stored = webhooks::event_payload(&app.db, &app.company_id, &event_id).await.unwrap().unwrap();
        assert_eq!(hit.body, stored.as_bytes(), "the body is the stored payload byte for byte");
        let payload: Value = serde_json::from_slice(&hit.body).unwrap();
        assert_eq!(payload["id"], event_id.as_str());
        assert_eq!(payload["type"], "checkout.completed");
        assert_eq!(payload["company_id"], app.company_id.as_str());
        assert_eq!(payload["data"], json!({"checkout_id": "chk_1", "amount": 4200}));
        assert!(payload["created"].as_i64().unwrap() > 1_600_000_000, "{payload}");
        assert!(event_id.starts_with("evt_"));

        assert_eq!(hit.header("kasse-event-id"), event_id);
        assert_eq!(hit.header("content-type"), "application/json");
        let signature = hit.header("kasse-signature");
        let now = app.clock.now();
        let tolerance = outbox::DEFAULT_TOLERANCE;
        assert!(outbox::verify(&secret, signature, &hit.body, now, tolerance), "{signature}");
        let other_secret = kasse::api::webhook_endpoints::new_secret();
        assert!(!outbox::verify(&other_secret, signature, &hit.body, now, tolerance));
        let mut tampered = hit.body.clone();
        tampered.extend_from_slice(b" ");
        assert!(!outbox::verify(&secret, signature, &tampered, now, tolerance));
        let tampered = String::from_utf8(hit.body.clone()).unwrap().replace("4200", "1");
        assert!(!outbox::verify(&secret, signature, tampered.as_bytes(), now, tolerance));
        assert!(!outbox::verify(&secret, signature, &hit.body, now + Duration::minutes(6), tolerance), "too old");

        let d = wait_delivery(&app.db, &app.company_id, &event_id, "the delivery recorded", |d| d.status == "DELIVERED").await;
        assert_eq!((d.attempts, d.last_status, d.locked_until), (1, Some(200), None));
        assert!(d.delivered_at.is_some());
        assert_eq!(receiver.hits().len(), 1, "delivered once");
    }

    async fn only_enabled_endpoints_subscribed_to_the_type_get_a_delivery(app) {
        let (every, paid, disabled, other) =
            (Receiver::start(0).await, Receiver::start(0).await, Receiver::start(0).await, Receiver::start(0).await);
        let (every_id, _) = endpoint(app, &every.url, json!([])).await;
        let (paid_id, _) = endpoint(app, &paid.url, json!(["invoice.paid"])).await;
        let (disabled_id, _) = endpoint(app, &disabled.url, json!(["checkout.completed"])).await;
        let r = app.post_company(&format!("/webhook_endpoints/{disabled_id}/disable"), &json!({})).await;
        assert_eq!(r.ok()["enabled"], false);
        let theirs = app
            .client
            .post(format!("{}/api/v1/companies/{}/webhook_endpoints", app.base, app.other_company_id))
            .bearer_auth(&app.other_api_key)
            .json(&json!({"url": other.url}));
        app.send(theirs).await.ok();

        let completed = enqueue(app, "checkout.completed", json!({})).await;
        let rows = deliveries(&app.db, &app.company_id, &completed).await;
        assert_eq!(rows.iter().map(|d| d.endpoint_id.as_str()).collect::<Vec<_>>(), [every_id.as_str()]);

        let invoice = enqueue(app, "invoice.paid", json!({})).await;
        let rows = deliveries(&app.db, &app.company_id, &invoice).await;
        let endpoints: HashSet<&str> = rows.iter().map(|d| d.endpoint_id.as_str()).collect();
        assert_eq!(endpoints, HashSet::from([every_id.as_str(), paid_id.as_str()]));

        let hits = every.wait_for(2).await;
        let ids: HashSet<&str> = hits.iter().map(|h| h.header("kasse-event-id")).collect();
        assert_eq!(ids, HashSet::from([completed.as_str(), invoice.as_str()]));
        let hits = paid.wait_for(1).await;
        assert_eq!(hits[0].header("kasse-event-id"), invoice);
        // No delivery rows exist for these, so nothing can reach them later either.
        assert!(disabled.hits().is_empty());
        assert!(other.hits().is_empty());
        let (n,): (i64,) = on_db!(&app.db, |pool| sqlx::query_as(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE company_id = $1"
        )
        .bind(&app.other_company_id)
        .fetch_one(pool)
        .await)
        .unwrap();
        assert_eq!(n, 0, "another company's endpoint gets none of our events");
    }

    async fn disabling_an_endpoint_gives_up_its_queued_deliveries(app) {
        let receiver = Receiver::start(0).await;
        let (id, _) = endpoint(app, &receiver.url, json!([])).await;
        // Queued for tomorrow, so the worker has not sent it yet when the endpoint is disabled.
        let tomorrow = app.clock.now() + Duration::days(1);
        let event = enqueue_at(&app.db, &app.company_id, "invoice.paid", json!({}), tomorrow).await;

        app.post_company(&format!("/webhook_endpoints/{id}/disable"), &json!({})).await.ok();
        let again = app.post_company(&format!("/webhook_endpoints/{id}/disable"), &json!({})).await;
        assert_eq!(again.ok()["enabled"], false, "disabling twice is fine");

        let d = &deliveries(&app.db, &app.company_id, &event).await[0];
        assert_eq!((d.status.as_str(), d.last_error.as_deref()), ("FAILED", Some("endpoint disabled")));
        let due = webhooks::claim_due(&app.db, tomorrow + Duration::days(30), 100, outbox::LEASE).await.unwrap();
        assert!(due.is_empty(), "{due:?}");
        assert!(receiver.hits().is_empty());
    }

    async fn a_failed_delivery_is_retried_after_the_backoff(app) {
        let receiver = Receiver::start(1).await;
        let (_, secret) = endpoint(app, &receiver.url, json!([])).await;
        let event = enqueue(app, "invoice.paid", json!({"invoice_id": "inv_1"})).await;

        let first = wait_delivery(&app.db, &app.company_id, &event, "the first attempt recorded", is_settled_after(1)).await;
        assert_eq!((first.status.as_str(), first.last_status), ("PENDING", Some(500)));
        assert_eq!(first.next_attempt_at - first.updated_at, Duration::seconds(30), "first retry after 30 s");
        assert_eq!(receiver.hits().len(), 1);

        app.clock.advance(Duration::seconds(31));
        let hits = receiver.wait_for(2).await;
        let d = wait_delivery(&app.db, &app.company_id, &event, "the retry recorded", |d| d.status == "DELIVERED").await;
        assert_eq!((d.attempts, d.last_status, d.last_error.as_deref()), (2, Some(200), None));
        assert_eq!(hits[1].body, hits[0].body, "every attempt sends the same bytes");
        assert_eq!(hits[1].header("kasse-event-id"), event);
        assert!(outbox::verify(&secret, hits[1].header("kasse-signature"), &hits[1].body, app.clock.now(), outbox::DEFAULT_TOLERANCE));
        assert_eq!(receiver.hits().len(), 2);
    }

    async fn a_delivery_that_keeps_failing_is_given_up_after_three_days(app) {
        let receiver = Receiver::always_failing().await;
        endpoint(app, &receiver.url, json!(["payment.failed"])).await;
        let event = enqueue(app, "payment.failed", json!({})).await;

        let first = wait_delivery(&app.db, &app.company_id, &event, "the first attempt recorded", is_settled_after(1)).await;
        assert_eq!(first.status, "PENDING");

        app.clock.advance(Duration::days(3) + Duration::hours(1));
        let dead = wait_delivery(&app.db, &app.company_id, &event, "the delivery given up", |d| d.status == "FAILED").await;
        assert_eq!((dead.attempts, dead.last_status, dead.locked_until), (2, Some(500), None));
        assert_eq!(receiver.hits().len(), 2);

        // A FAILED delivery is never due again, however late it gets.
        app.clock.advance(Duration::days(30));
        let due = webhooks::claim_due(&app.db, app.clock.now(), 100, outbox::LEASE).await.unwrap();
        assert!(due.is_empty(), "{due:?}");
        let d = &deliveries(&app.db, &app.company_id, &event).await[0];
        assert_eq!((d.status.as_str(), d.attempts), ("FAILED", 2));
    }

    async fn every_due_delivery_is_claimed_by_exactly_one_of_many_concurrent_workers(app) {
        endpoint(app, "http://127.0.0.1:9/a", json!([])).await;
        endpoint(app, "http://127.0.0.1:9/b", json!([])).await;
        // Due tomorrow: the app's own worker (on today's clock) leaves them to the claimers below.
        let tomorrow = app.clock.now() + Duration::days(1);
        for i in 0..20 {
            enqueue_at(&app.db, &app.company_id, "invoice.created", json!({"n": i}), tomorrow).await;
        }
        let (total,): (i64,) = on_db!(&app.db, |pool| sqlx::query_as("SELECT COUNT(*) FROM webhook_deliveries")
            .fetch_one(pool)
            .await)
        .unwrap();
        assert_eq!(total, 40);

        // Four pools stand for four Kasse processes; two claimers each.
        let mut pools = Vec::new();
        for _ in 0..4 {
            pools.push(Db::connect(&app.database_url).await.unwrap());
        }
        let at = tomorrow + Duration::seconds(1);
        let start = Arc::new(tokio::sync::Barrier::new(8));
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (db, start) = (pools[i % 4].clone(), start.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                webhooks::claim_due(&db, at, 100, outbox::LEASE).await.unwrap()
            }));
        }
        let mut claimed = Vec::new();
        for task in tasks {
            claimed.extend(task.await.unwrap().into_iter().map(|d| d.id));
        }
        let distinct: HashSet<&String> = claimed.iter().collect();
        assert_eq!(distinct.len(), claimed.len(), "a delivery went to two claimers");
        assert_eq!(claimed.len(), 40, "every due delivery was claimed");
        assert!(webhooks::claim_due(&app.db, at, 100, outbox::LEASE).await.unwrap().is_empty(), "all are leased");
        // A claim whose worker vanished runs out with its lease; the delivery is claimable again.
        let after_lease = at + outbox::LEASE + Duration::seconds(1);
        assert_eq!(webhooks::claim_due(&app.db, after_lease, 100, outbox::LEASE).await.unwrap().len(), 40);
        for db in pools {
            db.close().await;
        }
    }

    async fn a_queued_delivery_survives_a_restart(app) {
        // This test runs its own Kasse processes, one after the other, on a store of its own,
        // so that no worker but theirs ever sees its deliveries.
        let store = OwnStore::create(app).await;
        let clock = Clock::default();
        let receiver = Receiver::start(1).await;

        let first = Kasse::start(&store.url, &clock).await;
        let company = db::companies::create(
            &first.db,
            &db::companies::NewCompany { name: "Restarted", currency: "EUR", legal_name: None, brand_color: None,
                logo_url: None, support_email: None },
            clock.now(),
        )
        .await
        .unwrap();
        let now = clock.now();
        let secret = kasse::api::webhook_endpoints::new_secret();
        webhooks::insert_endpoint(&first.db, &webhooks::Endpoint {
            id: kasse::domain::ids::new_id("we", now),
            company_id: company.id.clone(),
            url: receiver.url.clone(),
            event_types: vec![],
            secret: secret.clone(),
            description: None,
            enabled: true,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
        let failed_once = enqueue_at(&first.db, &company.id, "invoice.paid", json!({"n": 1}), clock.now()).await;
        wait_delivery(&first.db, &company.id, &failed_once, "the first attempt recorded", is_settled_after(1)).await;
        first.stop().await;

        // Written while no Kasse runs at all.
        let offline = Db::connect(&store.url).await.unwrap();
        let queued = enqueue_at(&offline, &company.id, "invoice.paid", json!({"n": 2}), clock.now()).await;
        offline.close().await;
        assert_eq!(receiver.hits().len(), 1);

        clock.advance(Duration::seconds(31));
        let second = Kasse::start(&store.url, &clock).await;
        let hits = receiver.wait_for(3).await;
        let ids: Vec<&str> = hits.iter().map(|h| h.header("kasse-event-id")).collect();
        assert_eq!(ids.iter().filter(|id| **id == failed_once).count(), 2, "{ids:?}");
        assert_eq!(ids.iter().filter(|id| **id == queued).count(), 1, "{ids:?}");
        for hit in &hits {
            assert!(outbox::verify(&secret, hit.header("kasse-signature"), &hit.body, clock.now(), outbox::DEFAULT_TOLERANCE));
        }
        let a = wait_delivery(&second.db, &company.id, &failed_once, "the retry recorded", |d| d.status == "DELIVERED").await;
        assert_eq!(a.attempts, 2);
        let b = wait_delivery(&second.db, &company.id, &queued, "the queued one recorded", |d| d.status == "DELIVERED").await;
        assert_eq!(b.attempts, 1);
        second.stop().await;
        store.drop_it().await;
    }
}

/// A store of the test's own, on the same kind of database as `app`.
struct OwnStore {
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg_database: Option<String>,
}

impl OwnStore {
    async fn create(app: &TestApp) -> OwnStore {
        if !app.db.is_postgres() {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("restart.db").display());
            return OwnStore { url, _dir: Some(dir), pg_database: None };
        }
        let name = format!("kasse_test_{}", kasse::domain::ids::token());
        let admin = Db::connect(&crate::support::postgres_server_url()).await.unwrap();
        on_db!(&admin, |pool| sqlx::query(&format!("CREATE DATABASE {name}")).execute(pool).await.map(|_| ())).unwrap();
        admin.close().await;
        let (server, _) = app.database_url.rsplit_once('/').unwrap();
        OwnStore { url: format!("{server}/{name}"), _dir: None, pg_database: Some(name) }
    }

    async fn drop_it(self) {
        if let Some(name) = &self.pg_database {
            let admin = Db::connect(&crate::support::postgres_server_url()).await.unwrap();
            on_db!(&admin, |pool| sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(pool)
                .await
                .map(|_| ()))
            .unwrap();
            admin.close().await;
        }
    }
}

/// One running Kasse process (server and webhook worker) over its own connection pool.
struct Kasse {
    db: Db,
    shutdown: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Kasse {
    async fn start(url: &str, clock: &Clock) -> Kasse {
        let db = Db::connect(url).await.unwrap();
        db.migrate().await.unwrap();
        let mut config = Config::new("127.0.0.1:0", url, None).unwrap();
        config.outbox_poll = StdDuration::from_millis(50);
        let app = App::build(&config, db.clone(), clock.clone()).await.unwrap();
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        Kasse { db, shutdown, server }
    }

    /// Stop serving and close the pool, so nothing of this process can touch the store again.
    async fn stop(self) {
        let _ = self.shutdown.send(());
        self.server.await.unwrap().unwrap();
        self.db.close().await;
    }
}
