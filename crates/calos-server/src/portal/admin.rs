//! The vendor's side of portal accounts:
//! `GET /api/enterprise/customers/{installId}/portal-users` and
//! `POST …/portal-users {email}`, which answers a one-time set-password link
//! (valid 72 hours; inviting an existing account again makes a reset link).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::json;

use calos_core::auth::Permission;
use calos_core::customer::Email;
use calos_store::PortalInvite;

use crate::api::{load_license, parse_install_id};
use crate::app::AppState;
use crate::auth::{random_urlsafe, sha256, AdminUser};
use crate::error::ApiResult;
use crate::extract::Json;

pub const INVITE_HOURS: i64 = 72;

#[derive(utoipa::ToSchema)]
#[schema(as = PortalInvite)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    email: String,
}

#[utoipa::path(
    get,
    path = "/api/enterprise/customers/{install_id}/portal-users",
    operation_id = "listPortalUsers",
    tag = "portal",
    summary = "A customer's portal accounts",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    responses((status = 200, description = "The accounts", body = crate::api::openapi::schemas::PortalUserList))
)]
pub async fn list(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    user.require(Permission::Read)?;
    let id = parse_install_id(&raw_id)?;
    load_license(&state, &id).await?;
    let users = state.store.list_portal_users(&id).await?;
    Ok(axum::Json(json!({ "success": true, "users": users })))
}

#[utoipa::path(
    post,
    path = "/api/enterprise/customers/{install_id}/portal-users",
    operation_id = "invitePortalUser",
    tag = "portal",
    summary = "Invite a portal account by e-mail",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    request_body = InviteBody,
    responses((status = 201, description = "Invited", body = crate::api::openapi::schemas::PortalInvited))
)]
pub async fn invite(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    Json(body): Json<InviteBody>,
) -> ApiResult<(StatusCode, axum::Json<serde_json::Value>)> {
    user.require(Permission::ManageLicense)?;
    let id = parse_install_id(&raw_id)?;
    load_license(&state, &id).await?;
    let email = Email::parse(&body.email)?;
    let token = random_urlsafe(32);
    let now = Utc::now();
    let invite = PortalInvite {
        install_id: id.clone(),
        email: email.clone(),
        token_hash: sha256(&token),
        expires_at: now + Duration::hours(INVITE_HOURS),
        now,
    };
    let audit = user.audit(
        "portal_user.invite",
        "license",
        id.as_str(),
        None,
        Some(json!({ "email": email })),
    );
    let portal_user = state.store.invite_portal_user(&invite, &audit).await?;
    let link = format!("/portal/{id}/set-password?token={token}");
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "success": true,
            "user": portal_user,
            "setPasswordPath": link,
            "token": token,
            "expiresAt": invite.expires_at,
        })),
    ))
}
