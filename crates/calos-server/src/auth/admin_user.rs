//! The `AdminUser` extractor: the one place a request becomes an admin.
//! A bearer token wins over a cookie; cookie-authenticated mutations must
//! carry the session's CSRF token.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use subtle::ConstantTimeEq;

use calos_core::audit::{Actor, AuditEntry};
use calos_core::auth::Permission;
use calos_store::Admin;

use super::{session, sha256, token};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::ClientIp;

/// How the admin proved who they are.
#[derive(Debug, Clone)]
pub enum AuthMethod {
    /// A login session; the hash identifies it for logout.
    Session {
        token_hash: Vec<u8>,
    },
    ApiToken {
        id: i64,
        name: String,
    },
}

/// An authenticated, enabled admin.
#[derive(Debug, Clone)]
pub struct AdminUser {
    pub admin: Admin,
    pub method: AuthMethod,
    pub ip: Option<String>,
}

impl AdminUser {
    /// Refuses with 403 unless the admin's role allows `permission`.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.admin.role.allows(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Refuses with 403 unless the admin signed in with a session: an API
    /// token may not change its admin's password or second factor.
    pub fn require_session(&self) -> ApiResult<&[u8]> {
        match &self.method {
            AuthMethod::Session { token_hash } => Ok(token_hash),
            AuthMethod::ApiToken { .. } => Err(ApiError::Forbidden),
        }
    }

    pub fn actor(&self) -> Actor {
        match &self.method {
            AuthMethod::Session { .. } => Actor::Admin {
                id: self.admin.id,
                username: self.admin.username.clone(),
            },
            AuthMethod::ApiToken { id, name } => Actor::ApiToken {
                id: *id,
                name: name.clone(),
                admin_id: self.admin.id,
            },
        }
    }

    /// An audit entry for a change this admin is making now.
    pub fn audit(
        &self,
        action: &str,
        target_type: &str,
        target_id: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> AuditEntry {
        AuditEntry {
            at: Utc::now(),
            actor: self.actor(),
            action: action.to_owned(),
            target_type: target_type.to_owned(),
            target_id: target_id.to_owned(),
            before,
            after,
            ip: self.ip.clone(),
        }
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state)
            .await
            .unwrap_or_default();
        let now = Utc::now();

        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let secret = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| t.starts_with(token::PREFIX))
                .ok_or(ApiError::Unauthenticated)?;
            let (api_token, admin) = state
                .store
                .find_api_token(&sha256(secret), now)
                .await?
                .ok_or(ApiError::Unauthenticated)?;
            if admin.disabled {
                return Err(ApiError::Unauthenticated);
            }
            // A role-scoped token acts with the narrower of its cap and its admin's role.
            let mut admin = admin;
            if let Some(cap) = api_token.role {
                admin.role = admin.role.at_most(cap);
            }
            return Ok(AdminUser {
                admin,
                method: AuthMethod::ApiToken {
                    id: api_token.id,
                    name: api_token.name,
                },
                ip,
            });
        }

        let jar = CookieJar::from_headers(&parts.headers);
        let cookie = jar
            .get(session::COOKIE_NAME)
            .ok_or(ApiError::Unauthenticated)?;
        let token_hash = sha256(cookie.value());
        let (stored, admin) = session::lookup(
            state.store.as_ref(),
            &state.config.login,
            cookie.value(),
            now,
        )
        .await?
        .ok_or(ApiError::Unauthenticated)?;
        if admin.disabled {
            return Err(ApiError::Unauthenticated);
        }
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts
                .headers
                .get(session::CSRF_HEADER)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if !bool::from(sent.ct_eq(stored.csrf_token.as_bytes())) {
                return Err(ApiError::Csrf);
            }
        }
        Ok(AdminUser {
            admin,
            method: AuthMethod::Session { token_hash },
            ip,
        })
    }
}
