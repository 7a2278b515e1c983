//! `GET /admin/account`: the signed-in admin's own account — change the
//! password, turn two-factor authentication on or off. `account.js` drives
//! the forms through `/api/auth/password` and `/api/auth/totp/*`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::render::{describe_store_error, error_page, html};
use super::session::PageAdmin;
use crate::app::AppState;
use crate::auth::password;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    username: String,
    csrf: String,
    role: &'static str,
    totp_enabled: bool,
    min_password: usize,
}

pub async fn page(State(state): State<AppState>, me: PageAdmin) -> Response {
    let totp_enabled = match state.store.totp_factor(me.admin.id).await {
        Ok(factor) => factor.is_some_and(|f| f.enabled),
        Err(err) => {
            tracing::error!(error = %err, "account page: reading the second factor failed");
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Server problem",
                &describe_store_error(&err),
            );
        }
    };
    html(
        StatusCode::OK,
        &AccountPage {
            role: me.admin.role.as_str(),
            username: me.admin.username,
            csrf: me.csrf,
            totp_enabled,
            min_password: password::MIN_LEN,
        },
    )
}
