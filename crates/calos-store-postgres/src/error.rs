//! Turning sqlx errors into [`StoreError`]s. Unique violations become
//! `Conflict` by constraint name; anything that says the server cannot be
//! reached becomes `Unavailable`; everything else is `Backend`. No database
//! error is ever turned into "not found".

use calos_store::StoreError;
use sqlx::error::ErrorKind;

/// Field reported for each unique constraint in the migrations.
fn unique_field(constraint: &str) -> &'static str {
    match constraint {
        "customers_email_key" => "email",
        "licenses_pkey" => "install_id",
        "license_domains_pkey" => "domain",
        "admins_username_key" => "username",
        "api_tokens_token_hash_key" | "admin_sessions_pkey" => "token_hash",
        "plans_pkey" => "slug",
        _ => "unique",
    }
}

/// What a foreign key points at, so a dangling reference reads as the missing thing.
fn foreign_key_target(constraint: &str) -> Option<&'static str> {
    match constraint {
        "licenses_customer_id_fkey" => Some("customer"),
        "licenses_plan_slug_fkey" => Some("plan"),
        "admin_sessions_admin_id_fkey" | "api_tokens_admin_id_fkey" => Some("admin"),
        "telemetry_events_install_id_fkey"
        | "telemetry_event_ids_install_id_fkey"
        | "usage_records_install_id_fkey"
        | "brandings_install_id_fkey" => Some("license"),
        _ => None,
    }
}

/// SQLSTATE codes that mean the server is down, restarting or refusing us,
/// rather than that our statement was wrong.
fn is_unavailable_sqlstate(code: &str) -> bool {
    code.starts_with("08") // connection_exception
        || code.starts_with("57P") // admin_shutdown, crash_shutdown, cannot_connect_now
        || code == "53300" // too_many_connections
        || code == "3D000" // invalid_catalog_name: the database is not there
}

pub(crate) fn map(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::Database(db) => {
            let constraint = db.constraint().unwrap_or_default().to_owned();
            match db.kind() {
                ErrorKind::UniqueViolation => {
                    StoreError::conflict(unique_field(&constraint), db.message().to_owned())
                }
                // A row that points at something missing is an answer about the data.
                ErrorKind::ForeignKeyViolation => match foreign_key_target(&constraint) {
                    Some(target) => StoreError::NotFound(target),
                    None => StoreError::Backend(db.to_string()),
                },
                // disk_full: the server's volume has no room for the write.
                _ if db.code().is_some_and(|c| c == "53100") => {
                    StoreError::StorageFull(db.to_string())
                }
                _ if db.code().is_some_and(|c| is_unavailable_sqlstate(&c)) => {
                    StoreError::Unavailable(db.to_string())
                }
                _ => StoreError::Backend(db.to_string()),
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => StoreError::Unavailable(err.to_string()),
        other => StoreError::Backend(other.to_string()),
    }
}

pub(crate) fn map_migrate(err: sqlx::migrate::MigrateError) -> StoreError {
    use sqlx::migrate::MigrateError;
    match err {
        MigrateError::Execute(e) => map(e),
        MigrateError::ExecuteMigration(e, version) => match map(e) {
            StoreError::Unavailable(m) => StoreError::Unavailable(m),
            StoreError::StorageFull(m) => StoreError::StorageFull(m),
            other => StoreError::Backend(format!("migration {version} failed: {other}")),
        },
        other => StoreError::Backend(format!("migrations: {other}")),
    }
}

/// A stored value that no longer parses: the database holds something the
/// code never writes, which is a backend fault, not "not found".
pub(crate) fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored {what} is invalid: {err}"))
}

/// Shorthand for `.map_err(error::map)` on query results.
pub(crate) trait DbResultExt<T> {
    fn db(self) -> Result<T, StoreError>;
}

impl<T> DbResultExt<T> for Result<T, sqlx::Error> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(map)
    }
}
