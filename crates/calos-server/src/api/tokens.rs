//! API tokens under `/api/enterprise/tokens` (ManageAdmins): list, create
//! for the calling admin (the secret is shown once; optionally capped to a
//! narrower role and given an expiry), revoke.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use calos_core::auth::{Permission, Role};
use calos_core::InvalidValue;

use super::admins::parse_id;
use crate::app::AppState;
use crate::auth::{token, AdminUser};
use crate::error::ApiResult;
use crate::extract::Json;

/// Ten years: longer is "never", which is what omitting it means.
const MAX_EXPIRES_DAYS: i64 = 3650;

#[utoipa::path(
    get,
    path = "/api/enterprise/tokens",
    operation_id = "listTokens",
    tag = "tokens",
    summary = "Every API token (prefixes only)",
    responses((status = 200, description = "The tokens", body = crate::api::openapi::schemas::TokenList))
)]
pub async fn list(
    user: AdminUser,
    State(state): State<AppState>,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::ManageAdmins)?;
    let tokens = state.store.list_api_tokens().await?;
    Ok(JsonResponse(json!({ "success": true, "tokens": tokens })))
}

#[derive(utoipa::ToSchema)]
#[schema(as = NewApiToken)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateBody {
    name: String,
    expires_days: Option<i64>,
    role: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/enterprise/tokens",
    operation_id = "createToken",
    tag = "tokens",
    summary = "Create an API token (the secret is shown once)",
    request_body = CreateBody,
    responses((status = 201, description = "Created", body = crate::api::openapi::schemas::TokenCreated))
)]
pub async fn create(
    user: AdminUser,
    State(state): State<AppState>,
    Json(body): Json<CreateBody>,
) -> ApiResult<(StatusCode, JsonResponse<Value>)> {
    user.require(Permission::ManageAdmins)?;
    let name = token::check_name(&body.name)?;
    let now = Utc::now();
    let expires_at = match body.expires_days {
        None => None,
        Some(d) if (1..=MAX_EXPIRES_DAYS).contains(&d) => Some(now + Duration::days(d)),
        Some(_) => {
            return Err(InvalidValue::new(
                "expiresDays",
                format!("must be 1 to {MAX_EXPIRES_DAYS}"),
            )
            .into())
        }
    };
    let role = body.role.as_deref().map(Role::parse).transpose()?;
    if let Some(r) = role {
        if user.admin.role.at_most(r) != r {
            return Err(InvalidValue::new("role", "cannot be wider than your own role").into());
        }
    }
    let mut issued = token::issue(user.admin.id, name.clone(), now, expires_at);
    issued.record.role = role;
    let audit = user.audit(
        "api_token.create",
        "api_token",
        &issued.record.prefix,
        None,
        Some(json!({ "name": name, "adminId": user.admin.id, "expiresAt": expires_at, "role": role })),
    );
    let stored = state.store.create_api_token(&issued.record, &audit).await?;
    Ok((
        StatusCode::CREATED,
        // The secret is in this answer only; the store keeps its SHA-256.
        JsonResponse(json!({ "success": true, "token": stored, "secret": issued.secret })),
    ))
}

#[utoipa::path(
    post,
    path = "/api/enterprise/tokens/{id}/revoke",
    operation_id = "revokeToken",
    tag = "tokens",
    summary = "Revoke an API token",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    responses((status = 200, description = "Revoked", body = crate::api::openapi::schemas::DoneWithId))
)]
pub async fn revoke(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::ManageAdmins)?;
    let id = parse_id(&raw_id)?;
    let audit = user.audit("api_token.revoke", "api_token", &id.to_string(), None, None);
    state.store.revoke_api_token(id, Utc::now(), &audit).await?;
    Ok(JsonResponse(json!({ "success": true, "id": id })))
}
