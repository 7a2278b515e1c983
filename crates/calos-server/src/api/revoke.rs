//! `POST /api/enterprise/revoke-license`: disables a license for good.
//! Revoking a revoked license answers 200 with `changed: false`.

use axum::extract::State;
use axum::Json as JsonResponse;
use serde::{Deserialize, Serialize};

use calos_core::auth::Permission;
use calos_core::license::LicenseCommand;

use super::mutate;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::ApiResult;
use crate::extract::Json;

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevokeBody {
    install_id: String,
    reason: Option<String>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = RevokedLicense)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Revoked {
    success: bool,
    install_id: String,
    status: &'static str,
    changed: bool,
}

#[utoipa::path(
    post,
    path = "/api/enterprise/revoke-license",
    operation_id = "revokeLicense",
    tag = "licenses",
    summary = "Revoke a license",
    request_body = RevokeBody,
    responses((status = 200, description = "Revoked", body = Revoked))
)]
pub async fn revoke(
    user: AdminUser,
    State(state): State<AppState>,
    Json(body): Json<RevokeBody>,
) -> ApiResult<JsonResponse<Revoked>> {
    user.require(Permission::Revoke)?;
    let install_id = mutate::parse_install_id(&body.install_id)?;
    let reason = mutate::parse_reason(body.reason)?;
    let outcome = mutate::apply(
        &state,
        &user,
        &install_id,
        LicenseCommand::Revoke { reason },
    )
    .await?;
    Ok(JsonResponse(Revoked {
        success: true,
        install_id: install_id.to_string(),
        status: outcome.license.status.as_str(),
        changed: outcome.changed,
    }))
}
