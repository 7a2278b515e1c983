//! `TestApp`: the real server in-process on port 0 with a fresh database,
//! handing out ready actors (a logged-in admin, an API-token client).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use calos_server::app::{self, AppState};
use calos_server::cli::bootstrap::ensure_first_admin;
use calos_server::config::{Config, Secret};
use calos_store::Store;

pub use crate::client::{bearer_client, Api};

pub const ADMIN_PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A throwaway PostgreSQL database, dropped by [`TestApp::cleanup`].
struct PgDb {
    admin_url: String,
    name: String,
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    pg: Option<PgDb>,
    _dir: tempfile::TempDir,
}

fn pg_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The same server URL with another database name.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let stem = match base.rfind('/') {
        Some(i) if i > base.find("://").map_or(0, |j| j + 2) => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{stem}/{db}?{q}"),
        None => format!("{stem}/{db}"),
    }
}

async fn create_pg_db() -> Option<PgDb> {
    let admin_url = pg_admin_url();
    let mut conn = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL at {admin_url} is unreachable and CI=true: {e}");
            }
            eprintln!("skipped: PostgreSQL at {admin_url} is unreachable: {e}");
            return None;
        }
    };
    let name = format!("calos_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create throwaway database");
    let _ = conn.close().await;
    Some(PgDb { admin_url, name })
}

impl TestApp {
    /// Starts the app with `configure` applied to the test configuration
    /// (short timeouts, a strict login throttle…); `None` when the backend
    /// is unavailable (and not CI).
    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("calos.db").display()),
                None,
            ),
            Backend::Postgres => {
                let db = create_pg_db().await?;
                (with_database(&db.admin_url, &db.name), Some(db))
            }
        };
        let mut config = Config {
            port: 0,
            bind: [127, 0, 0, 1].into(),
            database_url: url,
            data_dir: dir.path().to_path_buf(),
            master_key: Some(Secret::new(
                base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
            )),
            admin_password: Some(Secret::new(ADMIN_PASSWORD.to_owned())),
            body_limit_bytes: 64 * 1024,
            expiry_interval: Duration::from_secs(3600),
            // The whole suite shares one PostgreSQL: under its load a pool can
            // be busy for over the 1 s production default (faults_* use that).
            db_acquire_timeout: Duration::from_secs(5),
            ..Config::default()
        };
        configure(&mut config);
        let (listener, addr, state) = app::build(config).await.expect("build app");
        ensure_first_admin(
            state.store.as_ref(),
            state.config.admin_password.as_ref(),
            calos_core::audit::Actor::System,
        )
        .await
        .expect("first admin");
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app::run(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        Some(TestApp {
            base: format!("http://{addr}"),
            state,
            shutdown: Some(tx),
            server: Some(server),
            pg,
            _dir: dir,
        })
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.state.store.clone()
    }

    /// Stops the server (checking it shut down cleanly) and drops the database.
    pub async fn cleanup(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let outcome = tokio::time::timeout(Duration::from_secs(10), server).await;
            assert!(
                matches!(outcome, Ok(Ok(Ok(())))),
                "server did not shut down cleanly: {outcome:?}"
            );
        }
        if let Some(pg) = self.pg.take() {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&pg.admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg.name))
                    .execute(&mut conn)
                    .await;
                let _ = conn.close().await;
            }
        }
    }

    /// A client with no credentials.
    pub fn anon(&self) -> Api {
        Api {
            client: reqwest::Client::new(),
            base: self.base.clone(),
            csrf: None,
        }
    }

    /// A logged-in admin: session cookie plus its CSRF token on every mutation.
    pub async fn admin(&self) -> Api {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let resp = client
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
            .send()
            .await
            .expect("login request");
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.expect("login body");
        let csrf = body["csrfToken"].as_str().expect("csrfToken").to_owned();
        Api {
            client,
            base: self.base.clone(),
            csrf: Some(csrf),
        }
    }

    /// A client sending a fresh API token of the first admin as a bearer.
    pub async fn token_client(&self) -> Api {
        bearer_client(&self.base, &self.token_secret().await)
    }

    /// A fresh API token of the first admin, as the secret a script would send.
    pub async fn token_secret(&self) -> String {
        let admin = self
            .store()
            .get_admin_login("admin")
            .await
            .expect("get admin")
            .expect("admin exists")
            .0;
        let issued = calos_server::auth::token::issue(admin.id, "tests".into(), Utc::now(), None);
        let audit = calos_core::audit::AuditEntry {
            at: Utc::now(),
            actor: calos_core::audit::Actor::Cli,
            action: "api_token.create".into(),
            target_type: "api_token".into(),
            target_id: issued.record.prefix.clone(),
            before: None,
            after: None,
            ip: None,
        };
        self.store()
            .create_api_token(&issued.record, &audit)
            .await
            .expect("create token");
        issued.secret
    }

    /// Creates a license for a new customer through the API; returns the 201 body.
    pub async fn create_license(&self, api: &Api, tier: &str, extra: Value) -> Value {
        let n = uuid::Uuid::new_v4().simple().to_string();
        let mut body = json!({
            "customer": { "name": format!("Customer {}", &n[..6]), "email": format!("ops-{n}@example.com"), "company": "Acme" },
            "tier": tier,
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let resp = api.post("/api/enterprise/create-license", &body).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.body);
        resp.body
    }

    /// Everything an admin can see that a rejected request must not change.
    pub async fn snapshot(&self, api: &Api) -> (Value, Value) {
        let list = api.get("/api/enterprise/customers?perPage=200").await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        let audit = api.get("/api/enterprise/audit?limit=1000").await;
        assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
        (list.body, audit.body)
    }
}

/// Like `both_backends!`, with the server configured by `$configure`
/// (a `fn(&mut Config)` in `super`) for every named test; its modules are
/// `sqlite_configured` and `postgres_configured`, so a file may use both macros.
#[macro_export]
macro_rules! both_backends_configured {
    ($configure:ident; $($name:ident),* $(,)?) => {
        mod sqlite_configured {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::helpers::run_on_with($crate::helpers::Backend::Sqlite, super::$configure, |app| Box::pin(super::$name(app))).await;
                }
            )*
        }
        mod postgres_configured {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::helpers::run_on_with($crate::helpers::Backend::Postgres, super::$configure, |app| Box::pin(super::$name(app))).await;
                }
            )*
        }
    };
}

/// Runs each named `async fn(&TestApp)` in `super` against SQLite and PostgreSQL,
/// always cleaning up (stopping the server, dropping the database).
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::helpers::run_on($crate::helpers::Backend::Sqlite, |app| Box::pin(super::$name(app))).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::helpers::run_on($crate::helpers::Backend::Postgres, |app| Box::pin(super::$name(app))).await;
                }
            )*
        }
    };
}

pub async fn run_on<F>(backend: Backend, test: F)
where
    F: for<'a> FnOnce(
        &'a TestApp,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>,
{
    run_on_with(backend, |_| {}, test).await;
}

/// [`run_on`] with `configure` applied to the server's configuration.
pub async fn run_on_with<F>(backend: Backend, configure: impl FnOnce(&mut Config), test: F)
where
    F: for<'a> FnOnce(
        &'a TestApp,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>,
{
    use futures::FutureExt as _;
    let Some(app) = TestApp::spawn_with(backend, configure).await else {
        return;
    };
    let outcome = std::panic::AssertUnwindSafe(test(&app))
        .catch_unwind()
        .await;
    app.cleanup().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
