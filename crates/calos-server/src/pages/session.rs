//! `PageAdmin`: the logged-in admin behind a page request, read from the
//! same session cookie the API uses. Without a valid session a page answers
//! with a redirect to `/login?next=<this page>`; a fragment fetched by page
//! JavaScript (header `x-calos-fragment`) gets a plain 401 instead, so the
//! script can send the user to log in and back.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use calos_core::auth::Permission;
use calos_store::Admin;

use super::render::error_page;
use crate::app::AppState;
use crate::auth::session;

pub const FRAGMENT_HEADER: &str = "x-calos-fragment";

pub struct PageAdmin {
    pub admin: Admin,
    /// The session's CSRF token, put in a `<meta>` for the page's API calls.
    pub csrf: String,
}

impl PageAdmin {
    pub fn may(&self, permission: Permission) -> bool {
        self.admin.role.allows(permission)
    }
}

/// `/login?next=…` back to `path_and_query`.
pub fn login_redirect(path_and_query: &str) -> Redirect {
    let next = utf8_percent_encode(path_and_query, NON_ALPHANUMERIC);
    Redirect::to(&format!("/login?next={next}"))
}

/// Only a local path may be a `next` target: starts with one `/`, no
/// scheme-relative `//`, no backslash tricks, no control characters.
pub fn safe_next(raw: Option<&str>) -> String {
    match raw {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
                && !n.starts_with("/login")
                && !n.starts_with("/admin/login") =>
        {
            n.to_owned()
        }
        _ => "/admin".to_owned(),
    }
}

/// Looks up the session; `Ok(None)` when there is none or it is not valid.
pub async fn lookup(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<PageAdmin>, calos_store::StoreError> {
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(cookie) = jar.get(session::COOKIE_NAME) else {
        return Ok(None);
    };
    let found = session::lookup(
        state.store.as_ref(),
        &state.config.login,
        cookie.value(),
        Utc::now(),
    )
    .await?;
    Ok(found
        .filter(|(_, admin)| !admin.disabled)
        .map(|(stored, admin)| PageAdmin {
            admin,
            csrf: stored.csrf_token,
        }))
}

impl FromRequestParts<AppState> for PageAdmin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let fragment = parts.headers.contains_key(FRAGMENT_HEADER);
        match lookup(parts, state).await {
            Ok(Some(user)) if user.may(Permission::Read) => Ok(user),
            Ok(Some(_)) => Err(error_page(
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Your role may not read customer data.",
            )),
            Ok(None) if fragment => {
                Err((StatusCode::UNAUTHORIZED, "not authenticated").into_response())
            }
            Ok(None) => {
                let target = parts
                    .uri
                    .path_and_query()
                    .map_or("/admin", |pq| pq.as_str());
                Err(login_redirect(target).into_response())
            }
            Err(err) => {
                tracing::error!(error = %err, "page session lookup failed");
                Err(error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Server problem",
                    &super::render::describe_store_error(&err),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_next_targets() {
        assert_eq!(safe_next(Some("/admin?q=a")), "/admin?q=a");
        assert_eq!(safe_next(Some("//evil.example")), "/admin");
        assert_eq!(safe_next(Some("https://evil.example")), "/admin");
        assert_eq!(safe_next(Some("/\\evil.example")), "/admin");
        assert_eq!(safe_next(Some("/login?next=/x")), "/admin");
        assert_eq!(safe_next(None), "/admin");
    }

    #[test]
    fn the_redirect_encodes_the_target() {
        let res = login_redirect("/culture-profile.html?install_id=a&b=1").into_response();
        let loc = res.headers()["location"].to_str().unwrap();
        assert_eq!(
            loc,
            "/login?next=%2Fculture%2Dprofile%2Ehtml%3Finstall%5Fid%3Da%26b%3D1"
        );
    }
}
