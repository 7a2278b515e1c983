//! Throwaway PostgreSQL databases for tests: each test gets its own database,
//! dropped again afterwards.

// Test code: a failed unwrap or panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use sqlx::{Connection, Executor, PgConnection};

use calos_store::conformance::TestStore;
use calos_store::Store;
use calos_store_postgres::PostgresStore;

pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The server tests run against: `TEST_DATABASE_URL`, or the local default.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// `url` with its database name replaced by `db` (query parameters kept).
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A store on a fresh database `calos_test_<uuid>`, dropped by `cleanup`.
pub struct PgTestStore {
    pub store: Arc<PostgresStore>,
    server_url: String,
    db_name: String,
}

/// Creates a throwaway database and connects a migrated store to it. `None`
/// (after saying why) when the server is unreachable — a failure under `CI=true`.
pub async fn make_store() -> Option<PgTestStore> {
    let server_url = server_url();
    let mut admin = match PgConnection::connect(&server_url).await {
        Ok(conn) => conn,
        Err(e) => {
            let msg = format!("skipped: PostgreSQL unreachable at {server_url}: {e}");
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{msg} (CI=true: PostgreSQL tests must run)");
            }
            eprintln!("{msg}");
            return None;
        }
    };
    let db_name = format!("calos_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute(format!(r#"CREATE DATABASE "{db_name}""#).as_str())
        .await
        .expect("create throwaway database");
    drop(admin.close().await);
    let store = PostgresStore::connect(&with_database(&server_url, &db_name))
        .await
        .expect("connect store to throwaway database");
    Some(PgTestStore {
        store: Arc::new(store),
        server_url,
        db_name,
    })
}

#[async_trait::async_trait]
impl TestStore for PgTestStore {
    fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    async fn cleanup(self) {
        self.store.close().await;
        match PgConnection::connect(&self.server_url).await {
            Ok(mut admin) => {
                let drop_sql =
                    format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, self.db_name);
                if let Err(e) = admin.execute(drop_sql.as_str()).await {
                    eprintln!("could not drop test database {}: {e}", self.db_name);
                }
                drop(admin.close().await);
            }
            Err(e) => eprintln!("could not drop test database {}: {e}", self.db_name),
        }
    }
}
