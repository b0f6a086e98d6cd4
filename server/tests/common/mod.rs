//! Shared harness for the HTTP integration tests: a fresh database per test (SQLite
//! temp file or a throw-away PostgreSQL database), a real `supra` server on an
//! ephemeral port, and a cookie-keeping HTTP client with helpers for the server
//! functions.
//!
//! PostgreSQL policy: with `SUPRA_REQUIRE_PG=1` an unreachable server fails the
//! test; otherwise the test prints `SKIPPED (...)` and returns early.

#![allow(dead_code)]

use std::future::Future;

use db::{Db, TenantId};
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use serde_json::Value;

pub const DEMO_PASSWORD: &str = "agua-demo-2026";
pub const DEMO_CONTRACTS: usize = 300;
pub const DEMO_SEED: u64 = 7;
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Run one scenario on both backends: `both!(scenario_fn);` defines
/// `sqlite_<scenario_fn>` and `postgres_<scenario_fn>` test functions.
#[macro_export]
macro_rules! both {
    ($sqlite:ident, $postgres:ident, $scenario:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            $scenario($crate::common::Backend::Sqlite, stringify!($sqlite)).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            $scenario($crate::common::Backend::Postgres, stringify!($postgres)).await;
        }
    };
}

/// The demo utility the server seeds on first start (deterministic).
pub fn demo_utility() -> seed::Utility {
    seed::generate(&seed::SeedParams::new(DEMO_CONTRACTS, DEMO_SEED))
}

/// Contract numbers with a phone on file; the first one is a normal contract.
pub fn demo_contracts() -> Vec<String> {
    seed::demo_logins(&demo_utility())
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

pub fn pg_base_url() -> String {
    std::env::var("SUPRA_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string())
}

fn pg_required() -> bool {
    std::env::var("SUPRA_REQUIRE_PG").is_ok_and(|v| v == "1")
}

/// `postgres://u@h:p/base?x` → `postgres://u@h:p/<name>?x`.
fn pg_url_with_db(base: &str, name: &str) -> String {
    let (main, query) = match base.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (base, None),
    };
    let scheme_end = main.find("://").map_or(0, |i| i + 3);
    let head = match main[scheme_end..].find('/') {
        Some(i) => &main[..scheme_end + i],
        None => main,
    };
    match query {
        Some(q) => format!("{head}/{name}?{q}"),
        None => format!("{head}/{name}"),
    }
}

/// A fresh, empty database for one test. Dropping it removes it (best effort).
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    /// `None` only when PostgreSQL is unreachable and not required.
    pub async fn new(backend: Backend, test_name: &str) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("supra.db");
                Some(TestDb {
                    url: format!("sqlite:{}", path.display()),
                    backend,
                    _dir: Some(dir),
                    pg_name: None,
                })
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let base = pg_base_url();
                let mut conn = match sqlx::PgConnection::connect(&base).await {
                    Ok(c) => c,
                    Err(e) => {
                        if pg_required() {
                            panic!(
                                "PostgreSQL not reachable at {base} and SUPRA_REQUIRE_PG=1: {e}"
                            );
                        }
                        // Straight to stderr: libtest would swallow eprintln! of a passing test.
                        use std::io::Write;
                        let _ = writeln!(
                            std::io::stderr(),
                            "SKIPPED (PostgreSQL not reachable at {base}): {test_name}"
                        );
                        return None;
                    }
                };
                let name = format!("supra_t_{}", hex::encode(rand::random::<[u8; 8]>()));
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
                let _ = conn.close().await;
                Some(TestDb {
                    url: pg_url_with_db(&base, &name),
                    backend,
                    _dir: None,
                    pg_name: Some(name),
                })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        let base = pg_base_url();
        // Own thread and runtime: Drop may run inside (or after) the test's runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async move {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&base).await.ok()?;
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
                let _ = conn.close().await;
                Some(())
            })
        })
        .join();
    }
}

/// A browser-ish HTTP client against the test server (keeps cookies, does not
/// follow redirects so statuses are observed as sent).
#[derive(Clone)]
pub struct Client {
    pub addr: String,
    pub http: reqwest::Client,
}

impl Client {
    pub fn new(addr: &str, cookies: bool) -> Client {
        let http = reqwest::Client::builder()
            .cookie_store(cookies)
            .redirect(reqwest::redirect::Policy::none())
            // A hung request fails the test instead of hanging the run.
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .expect("reqwest client");
        Client {
            addr: addr.to_string(),
            http,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// POST a server function (`/api/<endpoint>`) with a form-urlencoded body.
    pub async fn post_fn(&self, endpoint: &str, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.url(&format!("/api/{endpoint}")))
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST /api/{endpoint}: {e}"))
    }

    /// POST a raw body with the given content type to a server function.
    pub async fn post_raw(
        &self,
        endpoint: &str,
        content_type: &str,
        body: &'static str,
    ) -> Response {
        self.http
            .post(self.url(&format!("/api/{endpoint}")))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST /api/{endpoint}: {e}"))
    }

    pub async fn request_code(&self, contract: &str) -> Response {
        self.post_fn("citizen/request_code", &[("contrato", contract)])
            .await
    }

    pub async fn verify_code(&self, contract: &str, code: &str) -> Response {
        self.post_fn(
            "citizen/verify_code",
            &[("contrato", contract), ("codigo", code)],
        )
        .await
    }

    pub async fn staff_login(&self, email: &str, password: &str) -> Response {
        self.post_fn(
            "staff/login",
            &[("correo", email), ("contrasena", password)],
        )
        .await
    }
}

/// A running server on its own fresh database.
pub struct TestApp {
    pub addr: String,
    /// Cookie-keeping client; more with [`TestApp::new_client`].
    pub client: Client,
    pub db: Db,
    /// The default tenant ("cea-qro").
    pub tenant: TenantId,
    pub backend: Backend,
    /// The development Conekta simulator the server started (its base URL).
    pub conekta_sim: Option<String>,
    /// The development STP simulator (its base URL).
    pub stp_sim: Option<String>,
    /// The server's payment providers (its Conekta client), for tests that create
    /// references through the engine.
    pub payment_providers: std::sync::Arc<invoicing::orders::Providers>,
    /// The development AquaCIS simulator the server started, seeded from the demo.
    pub aquacis_sim: Option<std::sync::Arc<server::sim::aquacis::AquacisSim>>,
    /// The server's AquaCIS bridge (its client, cache and settings).
    pub legacy: Option<std::sync::Arc<bridge::Bridge>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    // Last: the database is dropped after the server has stopped.
    test_db: Option<TestDb>,
    /// The demo CSD the server generates (development) lives here.
    _csd_dir: tempfile::TempDir,
}

impl std::ops::Deref for TestApp {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// Start a server on a fresh, empty database (the server seeds the demo utility).
pub async fn spawn(backend: Backend, test_name: &str) -> Option<TestApp> {
    spawn_with(backend, test_name, |_db| async {}).await
}

/// Like [`spawn`], but first migrates the database and runs `before` on it (e.g. to
/// seed several tenants), so `prepare` finds tenants and does not seed.
pub async fn spawn_with<F, Fut>(backend: Backend, test_name: &str, before: F) -> Option<TestApp>
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    spawn_full(backend, test_name, before, |_| {}).await
}

/// Like [`spawn`], with the server's configuration changed by `configure` first.
pub async fn spawn_configured(
    backend: Backend,
    test_name: &str,
    configure: impl FnOnce(&mut server::Config),
) -> Option<TestApp> {
    spawn_full(backend, test_name, |_db| async {}, configure).await
}

async fn spawn_full<F, Fut>(
    backend: Backend,
    test_name: &str,
    before: F,
    configure: impl FnOnce(&mut server::Config),
) -> Option<TestApp>
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let test_db = TestDb::new(backend, test_name).await?;
    {
        let db = Db::connect(Some(&test_db.url)).await.expect("connect");
        db.migrate().await.expect("migrate");
        before(db.clone()).await;
        db.close().await;
    }
    let csd_dir = tempfile::tempdir().expect("CSD dir");
    let mut config = server::Config {
        mode: server::Mode::Development,
        cfdi: server::config::CfdiConfig {
            csd_dir: csd_dir.path().display().to_string(),
        },
        database_url: Some(test_db.url.clone()),
        listen: Some("127.0.0.1:0".into()),
        demo_contracts: DEMO_CONTRACTS,
        demo_seed: DEMO_SEED,
        ..server::Config::default()
    };
    configure(&mut config);
    let (srv, _logins) = server::prepare(config).await.expect("server::prepare");
    let db = srv.state.db.clone();
    let tenant = srv.state.default_tenant;
    let conekta_sim = srv.dev_sims.as_ref().map(|d| d.conekta_url.clone());
    let payment_providers = srv.state.payments.clone();
    let stp_sim = srv.dev_sims.as_ref().map(|d| d.stp_url.clone());
    let aquacis_sim = srv.aquacis_sim.clone();
    let legacy = srv.state.legacy.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = format!("http://{}", listener.local_addr().expect("local addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server::serve(srv, listener, async move {
        let _ = rx.await;
    }));
    // Serving starts after start-up work (e.g. pointing the Conekta simulator's
    // webhooks here): a first answer means it is done.
    let probe = Client::new(&addr, false);
    assert_eq!(
        probe.get("/healthz").await.status(),
        StatusCode::OK,
        "healthz"
    );
    Some(TestApp {
        client: Client::new(&addr, true),
        addr,
        db,
        tenant,
        backend,
        conekta_sim,
        stp_sim,
        payment_providers,
        aquacis_sim,
        legacy,
        stop: Some(tx),
        handle: Some(handle),
        test_db: Some(test_db),
        _csd_dir: csd_dir,
    })
}

impl TestApp {
    /// Another independent client (its own cookie jar).
    pub fn new_client(&self) -> Client {
        Client::new(&self.addr, true)
    }

    /// The newest one-time code sent for `contract`, read from the outbox.
    pub async fn latest_code(&self, contract: &str) -> String {
        self.latest_code_in(self.tenant, contract)
            .await
            .unwrap_or_else(|| panic!("no code in the outbox for {contract}"))
    }

    pub async fn latest_code_in(&self, tenant: TenantId, contract: &str) -> Option<String> {
        let mut tx = self.db.read(tenant).await.expect("read tx");
        let items = db::repo::outbox_recent(&mut tx, "notify.", 50)
            .await
            .expect("outbox_recent");
        // Newest first.
        items.into_iter().find_map(|i| {
            let p = &i.payload.0;
            if p.get("contract").and_then(Value::as_str) != Some(contract) {
                return None;
            }
            let text = p.get("text").and_then(Value::as_str).unwrap_or("");
            text.split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 6)
                .map(str::to_string)
        })
    }

    /// Request a code and sign in with it on `client`; panics on failure.
    pub async fn citizen_sign_in(&self, client: &Client, contract: &str) {
        let r = client.request_code(contract).await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "request_code: {}",
            r.text().await.unwrap_or_default()
        );
        let code = self.latest_code(contract).await;
        let r = client.verify_code(contract, &code).await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "verify_code: {}",
            r.text().await.unwrap_or_default()
        );
    }

    /// Sign in as staff on `client`; panics on failure.
    pub async fn staff_sign_in(&self, client: &Client, email: &str) {
        let r = client.staff_login(email, DEMO_PASSWORD).await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "staff_login: {}",
            r.text().await.unwrap_or_default()
        );
    }

    /// Wait until the outbox worker has applied every stored provider webhook.
    pub async fn settle_webhooks(&self) {
        for _ in 0..600 {
            let mut tx = self.db.read(self.tenant).await.expect("read tx");
            let pending = db::payments::webhook_events_pending(&mut tx)
                .await
                .expect("pending webhooks");
            if pending == 0 {
                return;
            }
            drop(tx);
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("stored webhooks still pending after 60 s");
    }

    /// Recent audit events of the default tenant, newest first.
    pub async fn recent_events(&self, limit: i64) -> Vec<db::models::DomainEvent> {
        let mut tx = self.db.read(self.tenant).await.expect("read tx");
        db::repo::recent_events(&mut tx, limit)
            .await
            .expect("recent_events")
    }

    /// Stop the server and remove the database.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            match tokio::time::timeout(std::time::Duration::from_secs(10), h).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => panic!("server exited with an error: {e:#}"),
                Ok(Err(e)) => panic!("server task panicked: {e}"),
                Err(_) => eprintln!("warning: server did not stop within 10 s"),
            }
        }
        self.db.close().await;
        drop(self.test_db.take());
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // On a panic mid-test: stop the server before the database is removed.
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}

/// Read a response as (status, headers, body text).
pub async fn parts(r: Response) -> (StatusCode, HeaderMap, String) {
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.text().await.expect("response body");
    (status, headers, body)
}

/// Read a JSON body, failing with the raw text if it is not JSON.
pub async fn json(r: Response) -> (StatusCode, Value) {
    let (status, _, body) = parts(r).await;
    let v = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("status {status}: body is not JSON ({e}): {body}"));
    (status, v)
}

/// Assert `r` has `status` and its body mentions `needle`; returns the body.
pub async fn expect_error(r: Response, status: u16, needle: &str) -> String {
    let (s, _, body) = parts(r).await;
    assert_eq!(
        s.as_u16(),
        status,
        "expected {status} mentioning {needle:?}, got {s}: {body}"
    );
    assert!(
        body.contains(needle),
        "expected body to mention {needle:?}, got {s}: {body}"
    );
    body
}

/// A ChirpStack v4 `up` event (JSON encoding) with the codec's decoded volume, as
/// ChirpStack posts it (HTTP integration) or publishes it (MQTT).
pub fn chirpstack_up(
    dedup: &str,
    eui: &str,
    litres: u64,
    at: chrono::DateTime<chrono::Utc>,
) -> String {
    serde_json::json!({
        "deduplicationId": dedup,
        "time": at.to_rfc3339(),
        "deviceInfo": {"tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
                       "tenantName": "CEA", "applicationId": "app-1",
                       "applicationName": "medidores", "deviceProfileName": "W1",
                       "deviceName": "medidor", "devEui": eui, "tags": {}},
        "devAddr": "01fb8f95", "adr": true, "dr": 3, "fCnt": 12, "fPort": 1,
        "confirmed": false, "data": "AQ==",
        "object": {"volume_m3": format!("{}.{:03}", litres / 1000, litres % 1000),
                   "leak": false},
        "rxInfo": [], "txInfo": {"frequency": 902300000}
    })
    .to_string()
}
