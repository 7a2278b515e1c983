//! `Api`: a reqwest client bound to the test server, adding the CSRF token
//! to mutations of a cookie session, and `Resp` with error-shape assertions.

use reqwest::StatusCode;
use serde_json::Value;

pub fn bearer_client(base: &str, token: &str) -> Api {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    Api {
        client: reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("client"),
        base: base.to_owned(),
        csrf: None,
    }
}

/// An HTTP client bound to the test server.
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    pub csrf: Option<String>,
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    /// The machine code of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or("<no error code>")
    }

    /// Asserts status and error code, and that the message is not empty.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.code(), code, "{}", self.body);
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}",
            self.body
        );
    }
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    fn with_csrf(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.csrf {
            Some(t) => req.header("X-CSRF-Token", t),
            None => req,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.client.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.with_csrf(self.client.post(self.url(path)).json(body)))
            .await
    }

    pub async fn post_empty(&self, path: &str) -> Resp {
        self.send(self.with_csrf(self.client.post(self.url(path))))
            .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send(self.with_csrf(self.client.patch(self.url(path)).json(body)))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(self.with_csrf(self.client.put(self.url(path)).json(body)))
            .await
    }

    /// A POST with a raw body and content type (for malformed input).
    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        content_type: Option<&str>,
    ) -> Resp {
        let mut req = self.client.post(self.url(path)).body(body);
        if let Some(ct) = content_type {
            req = req.header(reqwest::header::CONTENT_TYPE, ct);
        }
        self.send(self.with_csrf(req)).await
    }

    /// A POST without the CSRF header, even for a cookie session.
    pub async fn post_without_csrf(&self, path: &str, body: &Value) -> Resp {
        self.send(self.client.post(self.url(path)).json(body)).await
    }
}

/// Sends `raw` (a request, possibly with only part of its body) over a plain
/// TCP connection and reads the whole answer. Used where the server must
/// answer before the body is complete: a client library that keeps streaming
/// a body the server refused races the server's close.
pub async fn raw_request(base: &str, raw_request: &[u8]) -> Resp {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(raw_request).await.expect("write request");
    let mut raw = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut raw),
    )
    .await
    .expect("the server answered without waiting for the body")
    .expect("read");
    let text = String::from_utf8_lossy(&raw);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body_text = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Resp {
        status: StatusCode::from_u16(status).expect("status"),
        headers: reqwest::header::HeaderMap::new(),
        body: serde_json::from_str(body_text).unwrap_or(Value::Null),
    }
}
