//! Security headers on every response, JSON and errors included (pages add
//! their own, stricter-for-HTML CSP inside; whatever a route set is kept):
//! a CSP that lets a JSON answer load and frame nothing, no MIME sniffing,
//! no framing, no referrer, and HSTS only when the server is reached over
//! HTTPS (secure cookies configured), since HSTS over plain HTTP would lock
//! browsers out. No CORS headers are ever added: cross-origin browser calls
//! stay refused unless an operator puts a proxy in front.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

fn set_default(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// `hsts`: whether this server is served over HTTPS.
pub async fn headers(State(hsts): State<bool>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    set_default(h, header::CONTENT_SECURITY_POLICY, API_CSP);
    set_default(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(h, header::X_FRAME_OPTIONS, "DENY");
    set_default(h, header::REFERRER_POLICY, "no-referrer");
    if hsts {
        set_default(h, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    res
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    async fn answer(hsts: bool) -> Response {
        let app = Router::new()
            .route("/", get(|| async { "{}" }))
            .layer(axum::middleware::from_fn_with_state(hsts, headers));
        app.oneshot(Request::builder().uri("/").body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn hsts_only_when_served_over_https() {
        let plain = answer(false).await;
        assert!(!plain
            .headers()
            .contains_key(header::STRICT_TRANSPORT_SECURITY));
        assert_eq!(plain.headers()[header::CONTENT_SECURITY_POLICY], API_CSP);
        let tls = answer(true).await;
        assert_eq!(tls.headers()[header::STRICT_TRANSPORT_SECURITY], HSTS);
        assert_eq!(tls.headers()[header::X_FRAME_OPTIONS], "DENY");
    }
}
