//! HTTP exchanges with the server: bounded in time (request timeout) and in
//! size (answers are read in chunks and refused past a limit, so a 10 MB or
//! endless body costs nothing), with `Retry-After` read on 429 and 503.

use std::time::Duration;

use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use serde::Serialize;

use crate::error::CallError;

/// Limit of a verify answer (a token is a few KB).
pub const VERIFY_LIMIT: usize = 64 * 1024;
/// Limit of a JWKS document.
pub const JWKS_LIMIT: usize = 256 * 1024;
/// Limit of a telemetry acknowledgement (1,000 rejections with reasons).
pub const ACK_LIMIT: usize = 1024 * 1024;
/// Limit of an error body we read for its message.
const ERROR_LIMIT: usize = 16 * 1024;

#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    pub fn new(base: &str, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            .user_agent(concat!("calos-client/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// POSTs `body` as JSON and returns a 2xx answer's bytes.
    pub async fn post_json<T: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
        limit: usize,
    ) -> Result<Vec<u8>, CallError> {
        let bytes = serde_json::to_vec(body).map_err(|e| CallError::BadBody(e.to_string()))?;
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, "application/json")
            .body(bytes)
            .send()
            .await
            .map_err(|e| CallError::Unreachable(describe(&e)))?;
        answer(resp, limit).await
    }

    /// GETs `path` with extra request headers (credentials) and returns a 2xx answer's bytes.
    pub async fn get_with_headers(
        &self,
        path: &str,
        headers: &[(&'static str, &str)],
        limit: usize,
    ) -> Result<Vec<u8>, CallError> {
        let mut req = self.client.get(format!("{}{path}", self.base));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| CallError::Unreachable(describe(&e)))?;
        answer(resp, limit).await
    }

    /// The server's base URL (no trailing slash).
    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn get(&self, path: &str, limit: usize) -> Result<Vec<u8>, CallError> {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|e| CallError::Unreachable(describe(&e)))?;
        answer(resp, limit).await
    }
}

async fn answer(resp: Response, limit: usize) -> Result<Vec<u8>, CallError> {
    let status = resp.status();
    let retry_after = parse_retry_after(resp.headers());
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(CallError::RateLimited { retry_after });
    }
    if !status.is_success() {
        let message = read_limited(resp, ERROR_LIMIT)
            .await
            .ok()
            .and_then(|b| error_message(&b))
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
        return Err(CallError::Status {
            status: status.as_u16(),
            message,
            retry_after,
        });
    }
    read_limited(resp, limit).await
}

/// Reads the body, refusing it as soon as it passes `limit` bytes.
async fn read_limited(mut resp: Response, limit: usize) -> Result<Vec<u8>, CallError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(CallError::TooLarge { limit });
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(CallError::TooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(CallError::Unreachable(describe(&e))),
        }
    }
}

/// The `message` of our `{"error":{"code","message"}}` shape, shortened.
fn error_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let err = v.get("error")?;
    let code = err.get("code").and_then(|c| c.as_str()).unwrap_or("");
    let message = err.get("message").and_then(|m| m.as_str()).unwrap_or("");
    let text = format!("{code}: {message}");
    Some(text.chars().take(200).collect())
}

/// `Retry-After` as delay-seconds or an HTTP date.
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = (at.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection failed".to_owned()
    } else {
        e.to_string()
    }
}
