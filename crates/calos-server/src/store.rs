//! Picks the storage backend from the database URL's scheme.

use std::sync::Arc;

use anyhow::{bail, Context};

use calos_store::Store;
use calos_store_postgres::PostgresStore;
use calos_store_sqlite::SqliteStore;

/// Which backend a URL names, without connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backend_for(url: &str) -> anyhow::Result<Backend> {
    let scheme = url.split_once(':').map_or("", |(s, _)| s);
    match scheme {
        "sqlite" => Ok(Backend::Sqlite),
        "postgres" | "postgresql" => Ok(Backend::Postgres),
        _ => bail!(
            "unsupported DATABASE_URL {:?}: use sqlite://PATH or postgres://USER@HOST/DB",
            redact(url)
        ),
    }
}

/// Connects to the store `url` names and applies pending migrations.
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match backend_for(url)? {
        Backend::Sqlite => Arc::new(
            SqliteStore::connect(url)
                .await
                .with_context(|| format!("cannot open SQLite database {}", redact(url)))?,
        ),
        Backend::Postgres => Arc::new(
            PostgresStore::connect(url)
                .await
                .with_context(|| format!("cannot open PostgreSQL database {}", redact(url)))?,
        ),
    };
    Ok(store)
}

/// [`open_store`] for `calos serve`: on PostgreSQL a request waits at most
/// `config.db_acquire_timeout` for a connection, so a database outage is
/// answered 503 quickly rather than when the request times out.
pub async fn open_server_store(config: &crate::config::Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = &config.database_url;
    match backend_for(url)? {
        Backend::Sqlite => open_store(url).await,
        Backend::Postgres => {
            let store = PostgresStore::connect_with_acquire_timeout(url, config.db_acquire_timeout)
                .await
                .with_context(|| format!("cannot open PostgreSQL database {}", redact(url)))?;
            // Analytics reads go to the replica when one is configured.
            let store = match &config.database_read_url {
                Some(read) => {
                    let read = read.expose();
                    store
                        .with_read_replica(read, config.db_acquire_timeout)
                        .await
                        .with_context(|| {
                            format!("cannot open the PostgreSQL read replica {}", redact(read))
                        })?
                }
                None => store,
            };
            Ok(Arc::new(store))
        }
    }
}

/// The URL without its password, fit for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // rsplit: a password may itself contain '@'.
    match rest.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_picks_the_backend() {
        assert_eq!(backend_for("sqlite://calos.db").unwrap(), Backend::Sqlite);
        assert_eq!(backend_for("sqlite::memory:").unwrap(), Backend::Sqlite);
        assert_eq!(backend_for("postgres://u@h/db").unwrap(), Backend::Postgres);
        assert_eq!(
            backend_for("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
        let err = backend_for("mysql://root:pw@h/db").unwrap_err().to_string();
        assert!(err.contains("unsupported") && !err.contains("pw"), "{err}");
    }

    #[test]
    fn redact_hides_passwords_only() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://calos.db"), "sqlite://calos.db");
    }
}
