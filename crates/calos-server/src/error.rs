//! The one HTTP error type. Every variant has an explicit status and a stable
//! machine `code`; the body is always `{"error":{"code","message"}}`. Server
//! errors log their cause (inside the request's span, so with its request id)
//! and tell the client nothing internal.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use calos_core::license::TransitionRefused;
use calos_core::InvalidValue;
use calos_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid username or password")]
    LoginFailed,
    #[error("missing or wrong X-CSRF-Token header")]
    Csrf,
    #[error("your role may not do this")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(String),
    #[error("no such route")]
    NoRoute,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{message}")]
    Conflict { message: String },
    #[error("{0}")]
    LicenseState(#[from] TransitionRefused),
    #[error("{0}")]
    InvalidField(#[from] InvalidValue),
    #[error("unknown tier {0:?}")]
    UnknownTier(String),
    #[error("{0}")]
    InvalidBody(String),
    #[error("{0}")]
    MalformedJson(String),
    #[error("{0}")]
    InvalidQuery(String),
    #[error("expected a JSON body with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("request body is too large")]
    BodyTooLarge,
    #[error("the request took too long")]
    Timeout,
    #[error("too many requests; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("the database is unavailable; retry later")]
    Unavailable(String),
    /// The database's disk is full: nothing was written; retry later.
    #[error("the server's storage is full; nothing was stored, retry later")]
    StorageFull(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated | ApiError::LoginFailed => StatusCode::UNAUTHORIZED,
            ApiError::Csrf | ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } | ApiError::LicenseState(_) => StatusCode::CONFLICT,
            ApiError::InvalidField(_) | ApiError::UnknownTier(_) | ApiError::InvalidBody(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::MalformedJson(_) | ApiError::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Timeout | ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code clients may switch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated | ApiError::LoginFailed => "unauthenticated",
            ApiError::Csrf => "csrf",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound(_) | ApiError::NoRoute => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict { .. } => "conflict",
            ApiError::LicenseState(_) => "license_state",
            ApiError::InvalidField(_) => "invalid_field",
            ApiError::UnknownTier(_) => "unknown_tier",
            ApiError::InvalidBody(_) => "invalid_body",
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::BodyTooLarge => "body_too_large",
            ApiError::Timeout => "timeout",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable(_) => "database_unavailable",
            ApiError::StorageFull(_) => "storage_full",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(err.into())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ApiError::NotFound(what.to_owned()),
            StoreError::Conflict { field, message } => ApiError::Conflict {
                message: format!("{field}: {message}"),
            },
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            StoreError::StorageFull(cause) => ApiError::StorageFull(cause),
            err @ StoreError::Backend(_) => ApiError::Internal(err.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed")
            }
            ApiError::Unavailable(cause) => tracing::error!(error = %cause, "database unavailable"),
            ApiError::StorageFull(cause) => {
                tracing::error!(error = %cause, "database storage full")
            }
            _ => tracing::debug!(code = self.code(), message = %self, "request rejected"),
        }
        let body = json!({ "error": { "code": self.code(), "message": self.to_string() } });
        let mut response = (status, axum::Json(body)).into_response();
        if let ApiError::RateLimited { retry_after_secs } = self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_secs),
            );
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_keep_not_found_conflict_and_outage_apart() {
        let nf: ApiError = StoreError::NotFound("license").into();
        assert_eq!(
            (nf.status(), nf.code()),
            (StatusCode::NOT_FOUND, "not_found")
        );
        let c: ApiError = StoreError::conflict("email", "already used").into();
        assert_eq!((c.status(), c.code()), (StatusCode::CONFLICT, "conflict"));
        assert!(c.to_string().contains("email"));
        let u: ApiError = StoreError::Unavailable("refused".into()).into();
        assert_eq!(
            (u.status(), u.code()),
            (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
        );
        let f: ApiError = StoreError::StorageFull("database or disk is full".into()).into();
        assert_eq!(
            (f.status(), f.code()),
            (StatusCode::INSUFFICIENT_STORAGE, "storage_full")
        );
        assert!(
            !f.to_string().contains("disk is full"),
            "the cause stays in the log"
        );
        let b: ApiError = StoreError::Backend("syntax error near users".into()).into();
        assert_eq!(
            (b.status(), b.code()),
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        );
    }

    #[test]
    fn server_errors_say_nothing_internal() {
        let e = ApiError::internal(anyhow::anyhow!("password=secret in connection string"));
        assert_eq!(e.to_string(), "internal error");
        let u = ApiError::Unavailable("host 10.0.0.1 refused".into());
        assert!(!u.to_string().contains("10.0.0.1"));
    }

    #[test]
    fn invalid_values_name_the_field() {
        let e: ApiError = InvalidValue::new("trialDays", "must be 0 to 365").into();
        assert_eq!(
            (e.status(), e.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field")
        );
        assert!(e.to_string().starts_with("trialDays"));
    }
}
