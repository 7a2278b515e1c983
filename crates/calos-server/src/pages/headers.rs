//! Security headers on every page, asset and chart response: a strict CSP
//! (scripts and styles only from our own embedded files, no inline code),
//! no MIME sniffing, no framing, no referrer leaks. Responses that set their
//! own CSP (SVG charts) keep it.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Charts are standalone SVG documents shown through `<img>`: no script at
/// all, and the styles charts-rs puts inside the SVG.
pub const SVG_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

pub async fn security_headers(req: Request, next: Next) -> Response {
    with_page_headers(next.run(req).await, PAGE_CSP)
}

/// The headers every HTML page gets (admin pages and the customer portal,
/// each with its own CSP): `csp` unless the route set its own, no sniffing,
/// no framing, same-origin referrers, and no caching unless the route chose.
pub fn with_page_headers(mut res: Response, csp: &'static str) -> Response {
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages show customer data: never cache them.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
