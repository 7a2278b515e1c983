//! Errors of the SDK. None of them is ever turned into a panic; the license
//! state (see [`crate::LicenseState`]) is what a host application acts on.

use std::time::Duration;

/// A configuration mistake found by [`crate::ClientBuilder::build`].
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("missing setting: {0}")]
    Missing(&'static str),
    #[error("invalid server URL: {0}")]
    BadServer(String),
    #[error("no usable trusted key: {0}")]
    BadKeys(String),
    #[error("data directory: {0}")]
    DataDir(#[from] std::io::Error),
    #[error("HTTP client: {0}")]
    Http(String),
}

/// Why a signed answer was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("token algorithm is not EdDSA")]
    WrongAlgorithm,
    #[error("token has no key id")]
    MissingKid,
    #[error("token signed by an unknown key ({0})")]
    UnknownKey(String),
    #[error("bad token signature")]
    BadSignature,
    #[error("token issuer is not calos")]
    WrongIssuer,
    #[error("token is for another install")]
    WrongInstall,
    #[error("token is for another instance")]
    WrongInstance,
    #[error("token nonce does not match the request (replayed answer)")]
    NonceMismatch,
    #[error("token already expired")]
    Expired,
}

/// Why one exchange with the server failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("server unreachable: {0}")]
    Unreachable(String),
    #[error("rate limited")]
    RateLimited { retry_after: Option<Duration> },
    #[error("server answered {status}: {message}")]
    Status {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("answer larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("unreadable answer: {0}")]
    BadBody(String),
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl CallError {
    /// The delay the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::RateLimited { retry_after } | CallError::Status { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }
}
