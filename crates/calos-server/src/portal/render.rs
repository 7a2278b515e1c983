//! Rendering portal pages: their own security headers (the customer's logo
//! may be an https image elsewhere, nothing else may come from outside; no
//! inline script or style: the brand's colours come as a stylesheet), error
//! pages in the portal's plain style, and the neutral page for unknown hosts.

use askama::Template;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::pages::html;

pub const PORTAL_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data: https:; font-src 'self'; connect-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Sets the portal's headers on a response (kept where a route set its own).
pub fn with_headers(res: Response) -> Response {
    crate::pages::with_page_headers(res, PORTAL_CSP)
}

pub async fn portal_headers(req: Request, next: Next) -> Response {
    with_headers(next.run(req).await)
}

#[derive(Template)]
#[template(path = "portal_message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
}

pub fn message(status: StatusCode, title: &str, message: &str) -> Response {
    with_headers(html(status, &MessagePage { title, message }))
}

/// An error as a portal page: what went wrong, nothing internal.
pub fn error(err: ApiError) -> Response {
    let status = err.status();
    let (title, text) = match &err {
        ApiError::NotFound(_) => ("Not found", "There is no customer portal here.".to_owned()),
        ApiError::Unavailable(_) | ApiError::Internal(_) => (
            "Server problem",
            "The portal is unavailable right now; please try again later.".to_owned(),
        ),
        other => ("Request refused", other.to_string()),
    };
    if matches!(err, ApiError::Internal(_) | ApiError::Unavailable(_)) {
        // Logged with its cause by the JSON error path.
        let _ = err.into_response();
    }
    message(status, title, &text)
}

#[derive(Template)]
#[template(path = "portal_neutral.html")]
struct NeutralPage;

/// `/` on a host no customer claims: says so, shows no brand and no data.
pub fn neutral_page() -> Response {
    with_headers(html(StatusCode::NOT_FOUND, &NeutralPage))
}
