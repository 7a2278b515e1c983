use thiserror::Error;

pub type StoreResult<T> = Result<T, StoreError>;

/// What went wrong in storage. `NotFound` and `Conflict` are answers about the
/// data; `Unavailable` and `Backend` mean the database itself failed and must
/// never be turned into "not found".
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule or a concurrent change refused the write. The
    /// message names what clashed (`email`, `install_id`, `domain`, `version`).
    #[error("conflict on {field}: {message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// The database cannot be reached (connection refused, pool timed out).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database has no room left (disk full, SQLite `SQLITE_FULL`,
    /// PostgreSQL `53100`): writes fail until space is freed, reads still work.
    #[error("database storage full: {0}")]
    StorageFull(String),
    #[error("database error: {0}")]
    Backend(String),
}

impl StoreError {
    pub fn conflict(field: &'static str, message: impl Into<String>) -> Self {
        StoreError::Conflict {
            field,
            message: message.into(),
        }
    }
}
