//! Admin management under `/api/enterprise/admins` (ManageAdmins): list,
//! create (a generated password is shown once), change role, disable/enable, reset
//! password. Only an owner may grant the owner role or change an owner, so an
//! admin cannot raise themselves above their role. The store refuses (409)
//! to demote or disable the last enabled owner.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use calos_core::auth::{Permission, Role};
use calos_core::customer::Email;
use calos_core::InvalidValue;
use calos_store::{Admin, NewAdmin};

use crate::app::AppState;
use crate::auth::{password, AdminUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;

pub(super) fn parse_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| InvalidValue::new("id", "must be a positive integer").into())
}

fn check_username(raw: &str) -> Result<String, InvalidValue> {
    let name = raw.trim();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(InvalidValue::new(
            "username",
            "must be 1-64 characters of letters, digits, '_', '-', '.' or '@'",
        ))
    }
}

/// Owners are managed only by owners.
fn require_owner_for(user: &AdminUser, touches_owner: bool) -> ApiResult<()> {
    if touches_owner && user.admin.role != Role::Owner {
        return Err(ApiError::Forbidden);
    }
    Ok(())
}

async fn load(state: &AppState, raw_id: &str) -> ApiResult<Admin> {
    let id = parse_id(raw_id)?;
    state
        .store
        .get_admin(id)
        .await?
        .ok_or_else(|| ApiError::NotFound("admin".into()))
}

fn view(admin: &Admin) -> Value {
    json!({ "role": admin.role, "disabled": admin.disabled })
}

#[utoipa::path(
    get,
    path = "/api/enterprise/admins",
    operation_id = "listAdmins",
    tag = "admins",
    summary = "Every admin",
    responses((status = 200, description = "The admins", body = crate::api::openapi::schemas::AdminList))
)]
pub async fn list(
    user: AdminUser,
    State(state): State<AppState>,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::ManageAdmins)?;
    let admins = state.store.list_admins().await?;
    Ok(JsonResponse(json!({ "success": true, "admins": admins })))
}

#[derive(utoipa::ToSchema)]
#[schema(as = NewAdmin)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    username: String,
    email: Option<String>,
    role: String,
    password: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/enterprise/admins",
    operation_id = "createAdmin",
    tag = "admins",
    summary = "Add an admin",
    request_body = CreateBody,
    responses((status = 201, description = "Created", body = crate::api::openapi::schemas::AdminResult))
)]
pub async fn create(
    user: AdminUser,
    State(state): State<AppState>,
    Json(body): Json<CreateBody>,
) -> ApiResult<(StatusCode, JsonResponse<Value>)> {
    user.require(Permission::ManageAdmins)?;
    let username = check_username(&body.username)?;
    let email = body
        .email
        .as_deref()
        .map(|e| Email::parse(e).map(|e| e.as_str().to_owned()))
        .transpose()?;
    let role = Role::parse(&body.role)?;
    require_owner_for(&user, role == Role::Owner)?;
    let (plain, generated) = match body.password {
        Some(p) => (p, false),
        None => (password::generate(), true),
    };
    password::check_strength(&plain)?;
    let hash = password::hash(plain.clone())
        .await
        .map_err(ApiError::internal)?;
    let new = NewAdmin {
        username: username.clone(),
        email: email.clone(),
        role,
        password_hash: hash,
        created_at: Utc::now(),
    };
    let audit = user.audit(
        "admin.create",
        "admin",
        &username,
        None,
        Some(json!({ "username": username, "email": email, "role": role })),
    );
    let admin = state.store.create_admin(&new, &audit).await?;
    let mut body = json!({ "success": true, "admin": admin });
    if generated {
        // Shown only in this answer; stored only as its argon2id hash.
        body["password"] = Value::String(plain);
    }
    Ok((StatusCode::CREATED, JsonResponse(body)))
}

#[derive(utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    role: String,
}

#[utoipa::path(
    post,
    path = "/api/enterprise/admins/{id}/role",
    operation_id = "setAdminRole",
    tag = "admins",
    summary = "Change an admin's role",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    request_body = RoleBody,
    responses((status = 200, description = "Changed", body = crate::api::openapi::schemas::AdminResult))
)]
pub async fn set_role(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    Json(body): Json<RoleBody>,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::ManageAdmins)?;
    let role = Role::parse(&body.role)?;
    let current = load(&state, &raw_id).await?;
    require_owner_for(&user, current.role == Role::Owner || role == Role::Owner)?;
    let audit = user.audit(
        "admin.role",
        "admin",
        &current.id.to_string(),
        Some(view(&current)),
        Some(json!({ "role": role, "disabled": current.disabled })),
    );
    let admin = state.store.set_admin_role(current.id, role, &audit).await?;
    Ok(JsonResponse(json!({ "success": true, "admin": admin })))
}

#[utoipa::path(
    post,
    path = "/api/enterprise/admins/{id}/disable",
    operation_id = "disableAdmin",
    tag = "admins",
    summary = "Disable an admin (ends their sessions)",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    responses((status = 200, description = "Disabled", body = crate::api::openapi::schemas::AdminResult))
)]
pub async fn disable(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<JsonResponse<Value>> {
    set_disabled(user, state, &raw_id, true).await
}

/// Lets a disabled admin log in again (their old sessions stay ended).
#[utoipa::path(
    post,
    path = "/api/enterprise/admins/{id}/enable",
    operation_id = "enableAdmin",
    tag = "admins",
    summary = "Enable an admin",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    responses((status = 200, description = "Enabled", body = crate::api::openapi::schemas::AdminResult))
)]
pub async fn enable(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<JsonResponse<Value>> {
    set_disabled(user, state, &raw_id, false).await
}

async fn set_disabled(
    user: AdminUser,
    state: AppState,
    raw_id: &str,
    disabled: bool,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::ManageAdmins)?;
    let current = load(&state, raw_id).await?;
    require_owner_for(&user, current.role == Role::Owner)?;
    let audit = user.audit(
        if disabled {
            "admin.disable"
        } else {
            "admin.enable"
        },
        "admin",
        &current.id.to_string(),
        Some(view(&current)),
        Some(json!({ "role": current.role, "disabled": disabled })),
    );
    let admin = state
        .store
        .set_admin_disabled(current.id, disabled, &audit)
        .await?;
    tracing::info!(admin = %admin.username, disabled, "admin disabled or enabled");
    Ok(JsonResponse(json!({ "success": true, "admin": admin })))
}

/// Sets a new random password, shown once in the answer.
#[utoipa::path(
    post,
    path = "/api/enterprise/admins/{id}/reset-password",
    operation_id = "resetAdminPassword",
    tag = "admins",
    summary = "Set a new random password (shown once)",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    responses((status = 200, description = "The new password", body = crate::api::openapi::schemas::AdminResult))
)]
pub async fn reset_password(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::ManageAdmins)?;
    let current = load(&state, &raw_id).await?;
    require_owner_for(&user, current.role == Role::Owner)?;
    let plain = password::generate();
    let hash = password::hash(plain.clone())
        .await
        .map_err(ApiError::internal)?;
    let audit = user.audit(
        "admin.reset_password",
        "admin",
        &current.id.to_string(),
        None,
        None,
    );
    state
        .store
        .set_admin_password(current.id, &hash, &audit)
        .await?;
    Ok(JsonResponse(
        json!({ "success": true, "admin": current, "password": plain }),
    ))
}
