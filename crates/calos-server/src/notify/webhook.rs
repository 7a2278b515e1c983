//! Sending webhooks: the endpoint's URL is checked, its host resolved and
//! every address checked (private, loopback, link-local, unspecified and
//! other non-public addresses are refused unless the endpoint allows
//! private addresses), and the request goes to exactly the addresses that
//! were checked — no second lookup an attacker's DNS could answer
//! differently. Redirects are never followed (a 3xx is a failed delivery),
//! so a public endpoint cannot bounce the request to an internal one.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, USER_AGENT};
use reqwest::Url;

use calos_core::notify::{address, signature, webhook};
use calos_core::InvalidValue;

/// Longest URL an endpoint may have.
const MAX_URL_LEN: usize = 2048;
/// How much of a failing endpoint's answer is kept in the delivery log.
const MAX_ERROR_BODY: usize = 200;

/// Parses an endpoint URL: http or https, a host, no credentials.
pub fn parse_url(raw: &str) -> Result<Url, InvalidValue> {
    let raw = raw.trim();
    let bad = |why: &str| InvalidValue::new("url", why.to_owned());
    if raw.is_empty() || raw.len() > MAX_URL_LEN {
        return Err(bad("must be an http(s) URL of at most 2048 characters"));
    }
    let url = Url::parse(raw).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must start with https:// or http://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "must not carry credentials; the signature authenticates us",
        ));
    }
    Ok(url)
}

/// Resolves `url`'s host and checks every address. `Err` names the refused
/// address or the lookup failure.
pub async fn destination(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let host = url.host_str().ok_or("the URL has no host")?;
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    // An IPv6 literal comes bracketed.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(format!("{host} has no address"));
    }
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| address::is_refused(a.ip())) {
            return Err(format!(
                "{host} resolves to {}, a private or reserved address; \
                 an admin must allow private addresses for this endpoint",
                bad.ip()
            ));
        }
    }
    Ok(addrs)
}

/// One webhook request.
pub struct Request<'a> {
    pub url: &'a str,
    pub allow_private: bool,
    pub secret: &'a str,
    /// The `X-Calos-Delivery` idempotency key: the outbox delivery id, or
    /// `test_…` for a test event.
    pub delivery_id: String,
    /// The `X-Calos-Event` name.
    pub event: &'a str,
    pub body: Vec<u8>,
    pub timeout: Duration,
}

/// A failed webhook; `retry` is false when trying again cannot help.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub retry: bool,
}

fn failure(message: impl Into<String>, retry: bool) -> Failure {
    Failure {
        message: message.into(),
        retry,
    }
}

/// Signs and sends `req`; `Ok` with the status for a 2xx answer.
pub async fn send(req: &Request<'_>) -> Result<u16, Failure> {
    let url = parse_url(req.url).map_err(|e| failure(e.to_string(), false))?;
    // A refused address may be fixed by DNS later: retried like an outage.
    let addrs = destination(&url, req.allow_private)
        .await
        .map_err(|e| failure(e, true))?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(req.timeout)
        .resolve_to_addrs(&host, &addrs)
        .build()
        .map_err(|e| failure(format!("cannot build the HTTP client: {e}"), true))?;
    let timestamp = chrono::Utc::now().timestamp();
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, HeaderValue::from_static("calos-webhooks/1"));
    let sig = signature::sign(req.secret.as_bytes(), timestamp, &req.body);
    let values = [
        (signature::HEADER, sig),
        (webhook::DELIVERY_HEADER, req.delivery_id.clone()),
        (webhook::EVENT_HEADER, req.event.to_owned()),
    ];
    for (name, value) in values {
        let value = HeaderValue::from_str(&value)
            .map_err(|e| failure(format!("bad {name} header: {e}"), false))?;
        headers.insert(name, value);
    }
    let resp = client
        .post(url)
        .headers(headers)
        .body(req.body.clone())
        .send()
        .await
        .map_err(|e| failure(format!("request failed: {}", without_url(&e)), true))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(status.as_u16());
    }
    let text = resp.text().await.unwrap_or_default();
    let snippet: String = text.chars().take(MAX_ERROR_BODY).collect();
    Err(failure(
        format!(
            "HTTP {}{}",
            status.as_u16(),
            if snippet.is_empty() {
                String::new()
            } else {
                format!(": {snippet}")
            }
        ),
        true,
    ))
}

/// reqwest's error text without the URL (which may carry a token in its
/// query), for the delivery log.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_redirect() {
        "redirect refused"
    } else {
        "error"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} ({detail})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(parse_url("https://hooks.example.com/x?y=1").is_ok());
        for bad in [
            "",
            "ftp://example.com",
            "https://user:pw@example.com/",
            "not a url",
            "mailto:ops@example.com",
        ] {
            assert!(parse_url(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn private_literals_are_refused_unless_allowed() {
        for raw in [
            "http://127.0.0.1:9/",
            "http://[::1]:9/",
            "http://10.0.0.8/",
            "http://169.254.169.254/latest/meta-data",
            "http://0.0.0.0/",
            "http://localhost:9/",
        ] {
            let url = parse_url(raw).unwrap();
            assert!(destination(&url, false).await.is_err(), "{raw}");
            assert!(destination(&url, true).await.is_ok(), "{raw} allowed");
        }
        let public = parse_url("http://93.184.215.14/").unwrap();
        assert!(destination(&public, false).await.is_ok());
    }
}
