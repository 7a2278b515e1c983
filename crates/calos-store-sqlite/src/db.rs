//! Shared plumbing: error mapping, time columns, row access, write transactions.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Row, Sqlite, SqlitePool, Transaction, Type};

use calos_core::audit::AuditEntry;
use calos_store::{StoreError, StoreResult};

/// SQLite's primary result codes for "another connection holds the lock".
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
/// "Insertion failed because the database is full": the disk (or the
/// volume holding the database, its WAL or its temp files) has no room.
const SQLITE_FULL: i32 = 13;

/// Maps a driver error to the store's error. Unique violations become
/// `Conflict` named by column, lost connections `Unavailable`; anything else
/// is `Backend` — never "not found".
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(db) => {
            if db.is_unique_violation() {
                return StoreError::conflict(
                    unique_field(db.message()),
                    conflict_message(db.message()),
                );
            }
            let primary = db
                .code()
                .and_then(|c| c.parse::<i32>().ok())
                .map(|c| c & 0xff);
            if matches!(primary, Some(SQLITE_BUSY | SQLITE_LOCKED)) {
                return StoreError::Unavailable(e.to_string());
            }
            if primary == Some(SQLITE_FULL) {
                return StoreError::StorageFull(e.to_string());
            }
            StoreError::Backend(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

/// SQLite reports unique violations as `UNIQUE constraint failed: table.column`.
fn unique_field(message: &str) -> &'static str {
    let column = message
        .rsplit(": ")
        .next()
        .unwrap_or_default()
        .split(", ")
        .next()
        .unwrap_or_default();
    match column {
        "customers.email" => "email",
        "licenses.install_id" => "install_id",
        "license_domains.domain" => "domain",
        "admins.username" => "username",
        "plans.slug" => "slug",
        "api_tokens.token_hash" | "admin_sessions.token_hash" => "token_hash",
        _ => "unique",
    }
}

fn conflict_message(message: &str) -> String {
    match unique_field(message) {
        "email" => "a customer with this e-mail already exists".to_owned(),
        "install_id" => "a license with this install id already exists".to_owned(),
        "domain" => "a domain is already used by another license".to_owned(),
        "username" => "an admin with this username already exists".to_owned(),
        _ => message.to_owned(),
    }
}

/// A stored value that no longer parses: the database holds something the
/// code never writes, which is a backend fault, not a missing row.
pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored {what} is invalid: {e}"))
}

pub(crate) fn get<'r, T>(row: &'r SqliteRow, column: &str) -> StoreResult<T>
where
    T: Decode<'r, Sqlite> + Type<Sqlite>,
{
    row.try_get(column).map_err(db_err)
}

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn opt_micros(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(micros)
}

pub(crate) fn time(row: &SqliteRow, column: &str) -> StoreResult<DateTime<Utc>> {
    let v: i64 = get(row, column)?;
    DateTime::from_timestamp_micros(v).ok_or_else(|| corrupt(column, v))
}

pub(crate) fn opt_time(row: &SqliteRow, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    let v: Option<i64> = get(row, column)?;
    v.map(|v| DateTime::from_timestamp_micros(v).ok_or_else(|| corrupt(column, v)))
        .transpose()
}

/// A transaction that takes the write lock up front (`BEGIN IMMEDIATE`), so
/// two writers queue on `busy_timeout` instead of deadlocking when both try to
/// upgrade a read lock.
pub(crate) async fn write_tx(pool: &SqlitePool) -> StoreResult<Transaction<'static, Sqlite>> {
    pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)
}

pub(crate) async fn commit(tx: Transaction<'static, Sqlite>) -> StoreResult<()> {
    tx.commit().await.map_err(db_err)
}

fn json_text(value: &impl serde::Serialize, what: &str) -> StoreResult<String> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Backend(format!("cannot encode {what}: {e}")))
}

pub(crate) fn to_json(value: &impl serde::Serialize, what: &str) -> StoreResult<String> {
    json_text(value, what)
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

/// Writes an audit entry inside the caller's transaction.
pub(crate) async fn insert_audit(
    tx: &mut Transaction<'static, Sqlite>,
    entry: &AuditEntry,
) -> StoreResult<()> {
    // Appending links the record into the audit hash chain.
    crate::audit::append(tx, entry).await
}

/// Converts a count or limit coming from SQLite's signed integers.
pub(crate) fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
