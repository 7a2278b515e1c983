//! What every scenario shares: the two backends it runs on (SQLite in a temp
//! directory, then a throwaway PostgreSQL database when one is reachable) and
//! the server configuration it starts with.

use std::future::Future;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use sqlx::Connection;

use calos_server::config::{Config, Secret};

/// Runs `scenario(name, database_url, dir)` on SQLite (`db_file` in a temp
/// directory), then on PostgreSQL at `TEST_DATABASE_URL` (default
/// `postgres://postgres@127.0.0.1:5432/postgres`) when reachable, dropping
/// its throwaway database afterwards.
pub async fn for_each<F, Fut>(db_file: &str, mut scenario: F) -> anyhow::Result<()>
where
    F: FnMut(&'static str, String, PathBuf) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let dir = tempfile::tempdir()?;
    let sqlite_url = format!("sqlite://{}", dir.path().join(db_file).display());
    scenario("sqlite", sqlite_url, dir.path().to_path_buf()).await?;
    let pg_admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    match create_pg_db(&pg_admin).await {
        Ok((url, name)) => {
            let outcome = scenario("postgres", url, dir.path().to_path_buf()).await;
            drop_pg_db(&pg_admin, &name).await;
            outcome?;
        }
        Err(e) => println!("postgres  skipped: {e:#}"),
    }
    Ok(())
}

/// A loopback server on a free port with a fixed master key.
pub fn config(database_url: &str, dir: &Path) -> Config {
    Config {
        port: 0,
        bind: [127, 0, 0, 1].into(),
        database_url: database_url.to_owned(),
        data_dir: dir.to_path_buf(),
        master_key: Some(Secret::new(
            base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
        )),
        ..Config::default()
    }
}

pub async fn create_pg_db(admin_url: &str) -> anyhow::Result<(String, String)> {
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .with_context(|| format!("PostgreSQL at {admin_url} is unreachable"))?;
    let name = format!("calos_bench_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    let _ = conn.close().await;
    let (base, _) = admin_url
        .rsplit_once('/')
        .context("database URL has no path")?;
    Ok((format!("{base}/{name}"), name))
}

pub async fn drop_pg_db(admin_url: &str, name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
        let _ = conn.close().await;
    }
}
