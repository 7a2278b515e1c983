//! Runs the store conformance suite against SQLite, one fresh database file per test.

// Test setup: failing to make a temp file or open it must fail the test loudly.
#![allow(clippy::expect_used)]

use std::sync::Arc;

use calos_store::conformance::TestStore;
use calos_store::Store;
use calos_store_sqlite::SqliteStore;

struct TempSqlite {
    store: Arc<SqliteStore>,
    dir: tempfile::TempDir,
}

#[async_trait::async_trait]
impl TestStore for TempSqlite {
    fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    async fn cleanup(self) {
        self.store.close().await;
        drop(self.dir);
    }
}

async fn make_store() -> Option<TempSqlite> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("calos-test.db").display());
    let store = SqliteStore::connect(&url)
        .await
        .expect("connect to a fresh SQLite file");
    Some(TempSqlite {
        store: Arc::new(store),
        dir,
    })
}

calos_store::store_conformance_suite!(make_store);
