//! Test harness: the real server on port 0 over a fresh store per test, and an HTTP client that acts like a merchant.

use std::time::Duration;

use kasse::app::App;
use kasse::clock::Clock;
use kasse::config::Config;
use kasse::db::{self, Db};
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::sync::oneshot;

/// `on_db!` for tests: run `$body` with `$pool` bound to the concrete pool.
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

/// Which store a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on. Never skipped: when it is
/// unreachable the PostgreSQL half of every test fails and says why.
pub fn postgres_server_url() -> String {
    std::env::var("KASSE_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `postgres://user@host:port/db?x` → `postgres://user@host:port`.
fn server_part(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find(['/', '?']) {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// A running Kasse with two companies (ours and another tenant) and a client for each.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// A second pool onto the app's store, for asserting what rows exist.
    pub db: Db,
    pub clock: Clock,
    pub company_id: String,
    pub api_key: String,
    pub other_company_id: String,
    pub other_api_key: String,
    pub database_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
    pg_database: Option<String>,
}

/// A response, read whole.
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub body: Value,
}

impl Resp {
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    pub fn error_param(&self) -> &str {
        self.body["error"]["param"].as_str().unwrap_or("")
    }
    pub fn error_type(&self) -> &str {
        self.body["error"]["type"].as_str().unwrap_or("")
    }
    pub fn error_message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
    /// Assert a 4xx/5xx carrying the error envelope, and return self.
    #[track_caller]
    pub fn assert_error(&self, status: u16, param: &str) -> &Self {
        assert_eq!(self.status, status, "status; body: {}", self.body);
        assert!(self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "envelope: {}", self.body);
        assert!(
            self.body["error"]["type"].is_string() && self.body["error"]["code"].is_string(),
            "envelope: {}",
            self.body
        );
        assert_eq!(self.error_param(), param, "param; body: {}", self.body);
        self
    }
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "expected 200, got {}: {}", self.status, self.body);
        &self.body
    }
}

/// The migrated database every PostgreSQL test database is copied from, made once per test
/// process: copying a template is cheaper than running every migration again per test. Named
/// like the test databases, so `.ci/run` clears it with them.
async fn migrated_template(admin: &Db, server: &str) -> String {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("kasse_test_template_{}", kasse::domain::ids::token());
            on_db!(admin, |pool| sqlx::query(&format!("CREATE DATABASE {name}")).execute(pool).await.map(|_| ()))
                .expect("create template database");
            let db = Db::connect(&format!("{}/{name}", server_part(server))).await.expect("connect to template");
            db.migrate().await.expect("migrate template");
            // A template is copied only while nobody is connected to it.
            db.close().await;
            name
        })
        .await
        .clone()
}

/// `CREATE DATABASE name TEMPLATE template`; PostgreSQL refuses a copy while another session
/// briefly touches the template (a concurrent copy), so that one case is tried again.
async fn create_from_template(admin: &Db, name: &str, template: &str) {
    for attempt in 0.. {
        let sql = format!("CREATE DATABASE {name} TEMPLATE {template}");
        match on_db!(admin, |pool| sqlx::query(&sql).execute(pool).await.map(|_| ())) {
            Ok(()) => return,
            Err(e) if attempt < 50 && e.to_string().contains("being accessed by other users") => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("create test database from the template: {e}"),
        }
    }
}

impl TestApp {
    /// A server on a fresh `store`, with the configuration adjusted first (a Stripe account,
    /// trusted proxies).
    pub async fn spawn_configured(store: Store, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let (database_url, dir, pg_database) = match store {
            Store::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("kasse.db").display());
                (url, Some(dir), None)
            }
            Store::Postgres => {
                let server = postgres_server_url();
                let admin = Db::connect(&server).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is required for the postgres half of the tests ({server}): {e}. Start it or set KASSE_TEST_POSTGRES_URL.")
                });
                let name = format!("kasse_test_{}", kasse::domain::ids::token());
                let template = migrated_template(&admin, &server).await;
                create_from_template(&admin, &name, &template).await;
                admin.close().await;
                (format!("{}/{name}", server_part(&server)), None, Some(name))
            }
        };
        let db = Db::connect(&database_url).await.expect("connect");
        db.migrate().await.expect("migrate");
        let clock = Clock::default();
        let mut config = Config::new("127.0.0.1:0", &database_url, None).expect("config");
        config.outbox_poll = Duration::from_millis(50);
        config.statement_header = true;
        adjust(&mut config);
        let app = App::build(&config, db.clone(), clock.clone()).await.expect("build app");
        let base = format!("http://127.0.0.1:{}", app.port());
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));

        let now = clock.now();
        let new = |name| db::companies::NewCompany {
            name,
            currency: "USD",
            legal_name: None,
            brand_color: None,
            logo_url: None,
            support_email: None,
        };
        let ours = db::companies::create(&db, &new("Test Merchant"), now).await.expect("company");
        let theirs = db::companies::create(&db, &new("Other Tenant"), now).await.expect("company");
        let api_key = db::companies::create_api_key(&db, &ours.id, now).await.expect("key");
        let other_api_key = db::companies::create_api_key(&db, &theirs.id, now).await.expect("key");
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        TestApp {
            base,
            client,
            db,
            clock,
            company_id: ours.id,
            api_key,
            other_company_id: theirs.id,
            other_api_key,
            database_url,
            shutdown: Some(tx),
            server: Some(server),
            _dir: dir,
            pg_database,
        }
    }

    /// `/api/v1/companies/{our company}{path}`.
    pub fn company_path(&self, path: &str) -> String {
        format!("/api/v1/companies/{}{path}", self.company_id)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let response = req.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body").to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp { status, headers, bytes, body }
    }

    /// A request with our API key.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.api_key)
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request(reqwest::Method::POST, path).json(body)).await
    }

    /// POST to a path under our company.
    pub async fn post_company(&self, path: &str, body: &Value) -> Resp {
        self.post(&self.company_path(path), body).await
    }

    pub async fn get_company(&self, path: &str) -> Resp {
        self.get(&self.company_path(path)).await
    }

    /// POST a raw body with a given content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
        self.send(self.request(reqwest::Method::POST, path).header("content-type", content_type).body(body)).await
    }

    /// Rows of `table` belonging to our company.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE company_id = $1");
        let (n,): (i64,) =
            on_db!(&self.db, |pool| sqlx::query_as(&sql).bind(&self.company_id).fetch_one(pool).await).expect("count");
        n
    }

    /// Create a product and return its id.
    pub async fn product(&self, name: &str) -> String {
        let r = self.post_company("/products", &serde_json::json!({"name": name})).await;
        r.ok()["id"].as_str().expect("id").to_string()
    }

    /// Create a product pricing with `items` (currency USD unless given) and return the whole response.
    pub async fn pricing(&self, currency: &str, items: Value) -> Value {
        let product = self.product("Thing").await;
        let r = self
            .post_company(
                "/product_pricings",
                &serde_json::json!({"product_id": product, "name": "Plan", "currency": currency, "items": items}),
            )
            .await;
        r.ok().clone()
    }

    /// Stop the server, close pools and drop the PostgreSQL database.
    pub async fn finish(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        }
        self.db.close().await;
        if let Some(name) = self.pg_database.take()
            && let Ok(admin) = Db::connect(&postgres_server_url()).await
        {
            let _ = on_db!(&admin, |pool| sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(pool)
                .await
                .map(|_| ()));
            admin.close().await;
        }
    }
}

/// Define each test twice, as `<name>::sqlite` and `<name>::postgres`, with `app: &TestApp`.
/// `on_both_stores! { config = |c| …; async fn … }` first adjusts each server's configuration.
macro_rules! on_both_stores {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        on_both_stores! { config = |_| {}; $(async fn $name($app) $body)* }
    };
    (config = $adjust:expr; $(async fn $name:ident($app:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::support::TestApp::spawn_configured($crate::support::Store::Sqlite, $adjust).await;
                    {
                        let $app = &app;
                        $body
                    }
                    app.finish().await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let app = $crate::support::TestApp::spawn_configured($crate::support::Store::Postgres, $adjust).await;
                    {
                        let $app = &app;
                        $body
                    }
                    app.finish().await;
                }
            }
        )*
    };
}

/// A second Kasse process (server, webhook worker, sweeper) on the same store as `app`, as a
/// second instance behind a load balancer would be.
pub struct OtherProcess {
    pub base: String,
    db: Db,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    pub async fn another_process(&self) -> OtherProcess {
        let db = Db::connect(&self.database_url).await.expect("connect");
        let mut config = Config::new("127.0.0.1:0", &self.database_url, None).expect("config");
        config.outbox_poll = Duration::from_millis(50);
        let app = App::build(&config, db.clone(), self.clock.clone()).await.expect("build app");
        let base = format!("http://127.0.0.1:{}", app.port());
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        OtherProcess { base, db, shutdown: Some(tx), server: Some(server) }
    }
}

impl OtherProcess {
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        }
        self.db.close().await;
    }
}
