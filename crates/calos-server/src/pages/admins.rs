//! `/admin/admins`: the admin accounts, for roles that may manage admins
//! (owner, admin; everyone else gets a 403 page). The page only lists and
//! offers the controls; `admins.js` makes the changes through the JSON API
//! (`/api/enterprise/admins…`) with the session's CSRF token, where the same
//! rules are enforced again.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use calos_core::auth::{Permission, Role};
use calos_store::Admin;

use super::format::date;
use super::render::{describe_store_error, error_page, html};
use super::session::PageAdmin;
use crate::app::AppState;

/// The 403 page unless the admin's role allows `permission`.
// The error is the response a handler returns as it is: boxing it would only
// add an allocation to the refusal.
#[allow(clippy::result_large_err)]
pub(super) fn require(
    user: &PageAdmin,
    permission: Permission,
    what: &str,
) -> Result<(), Response> {
    if user.may(permission) {
        Ok(())
    } else {
        Err(error_page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            &format!("Your role ({}) may not {what}.", user.admin.role.as_str()),
        ))
    }
}

/// The roles `user` may hand out: only an owner makes owners.
pub(super) fn grantable_roles(user: &Admin) -> Vec<&'static str> {
    Role::ALL
        .into_iter()
        .filter(|r| *r != Role::Owner || user.role == Role::Owner)
        .map(Role::as_str)
        .collect()
}

struct Row {
    id: i64,
    username: String,
    email: String,
    role: &'static str,
    disabled: bool,
    created: String,
    /// The signed-in admin's own row.
    is_self: bool,
    /// Owners are changed only by owners.
    may_change: bool,
}

#[derive(Template)]
#[template(path = "admins.html")]
struct AdminsPage {
    username: String,
    csrf: String,
    rows: Vec<Row>,
    roles: Vec<&'static str>,
    error: Option<String>,
}

pub async fn page(user: PageAdmin, State(state): State<AppState>) -> Response {
    if let Err(refusal) = require(&user, Permission::ManageAdmins, "manage admins") {
        return refusal;
    }
    let (rows, error) = match state.store.list_admins().await {
        Ok(admins) => (admins.iter().map(|a| row(a, &user.admin)).collect(), None),
        Err(e) => {
            tracing::error!(error = %e, "admins page: listing admins failed");
            (
                Vec::new(),
                Some(format!(
                    "Failed to load admins: {}",
                    describe_store_error(&e)
                )),
            )
        }
    };
    html(
        StatusCode::OK,
        &AdminsPage {
            username: user.admin.username.clone(),
            csrf: user.csrf.clone(),
            rows,
            roles: grantable_roles(&user.admin),
            error,
        },
    )
}

fn row(a: &Admin, me: &Admin) -> Row {
    Row {
        id: a.id,
        username: a.username.clone(),
        email: a.email.clone().unwrap_or_default(),
        role: a.role.as_str(),
        disabled: a.disabled,
        created: date(a.created_at),
        is_self: a.id == me.id,
        may_change: me.role == Role::Owner || a.role != Role::Owner,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn admin(role: Role) -> Admin {
        Admin {
            id: 1,
            username: "x".into(),
            email: None,
            role,
            disabled: false,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn only_owners_grant_owner() {
        assert!(grantable_roles(&admin(Role::Owner)).contains(&"owner"));
        assert_eq!(
            grantable_roles(&admin(Role::Admin)),
            ["admin", "sales", "support", "viewer"]
        );
    }
}
