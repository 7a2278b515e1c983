//! `/admin/tokens`: every API token (never a secret: only its recognisable
//! prefix), for roles that may manage admins. `tokens.js` creates (the secret
//! is shown once, with a copy button) and revokes (after a confirmation)
//! through `/api/enterprise/tokens…`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};

use calos_core::auth::{Permission, Role};
use calos_store::{Admin, ApiToken};

use super::admins::require;
use super::format::{date, date_time};
use super::render::{describe_store_error, html};
use super::session::PageAdmin;
use crate::app::AppState;

struct Row {
    id: i64,
    name: String,
    prefix: String,
    /// The role cap, or "" when the token acts with its admin's role.
    role: &'static str,
    owner: String,
    created: String,
    expires: String,
    /// `active`, `expired` or `revoked`.
    status: &'static str,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    username: String,
    csrf: String,
    rows: Vec<Row>,
    /// Scopes the admin may give a token: none wider than their own role.
    roles: Vec<&'static str>,
    error: Option<String>,
}

pub async fn page(user: PageAdmin, State(state): State<AppState>) -> Response {
    if let Err(refusal) = require(&user, Permission::ManageAdmins, "manage API tokens") {
        return refusal;
    }
    let now = Utc::now();
    let loaded = tokio::try_join!(state.store.list_api_tokens(), state.store.list_admins());
    let (rows, error) = match loaded {
        Ok((tokens, admins)) => {
            let names: HashMap<i64, &Admin> = admins.iter().map(|a| (a.id, a)).collect();
            let rows = tokens
                .iter()
                .map(|t| row(t, names.get(&t.admin_id).copied(), now))
                .collect();
            (rows, None)
        }
        Err(e) => {
            tracing::error!(error = %e, "tokens page: listing tokens failed");
            (
                Vec::new(),
                Some(format!(
                    "Failed to load API tokens: {}",
                    describe_store_error(&e)
                )),
            )
        }
    };
    let mine = user.admin.role;
    html(
        StatusCode::OK,
        &TokensPage {
            username: user.admin.username.clone(),
            csrf: user.csrf.clone(),
            rows,
            roles: Role::ALL
                .into_iter()
                .filter(|r| mine.at_most(*r) == *r)
                .map(Role::as_str)
                .collect(),
            error,
        },
    )
}

fn status(t: &ApiToken, now: DateTime<Utc>) -> &'static str {
    if t.revoked_at.is_some() {
        "revoked"
    } else if t.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else {
        "active"
    }
}

fn row(t: &ApiToken, owner: Option<&Admin>, now: DateTime<Utc>) -> Row {
    Row {
        id: t.id,
        name: t.name.clone(),
        prefix: t.prefix.clone(),
        role: t.role.map_or("", Role::as_str),
        owner: owner.map_or_else(|| format!("admin #{}", t.admin_id), |a| a.username.clone()),
        created: date(t.created_at),
        expires: t.expires_at.map_or_else(|| "never".to_owned(), date_time),
        status: status(t, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn status_prefers_revoked_then_expired() {
        let now = Utc::now();
        let mut t = ApiToken {
            id: 1,
            admin_id: 1,
            name: "ci".into(),
            prefix: "calos_at_12345678".into(),
            created_at: now,
            expires_at: Some(now),
            revoked_at: None,
            role: None,
        };
        assert_eq!(status(&t, now), "expired", "expiry is exclusive");
        t.expires_at = Some(now + Duration::days(1));
        assert_eq!(status(&t, now), "active");
        t.revoked_at = Some(now);
        assert_eq!(status(&t, now), "revoked");
    }
}
