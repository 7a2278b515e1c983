//! License actions on `/api/enterprise/customer/{installId}/…`: change tier,
//! suspend, reactivate, activate, renew, extend a trial, edit notes/domains.
//! Each goes through the core state machine via [`mutate::apply`].

use axum::extract::{Path, State};
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use calos_core::auth::Permission;
use calos_core::customer::{parse_domains, Notes};
use calos_core::license::{BillingPeriod, LicenseCommand, MAX_TRIAL_DAYS};
use calos_core::InvalidValue;

use super::create_license::find_plan;
use super::mutate::{self, Outcome};
use super::views::LicenseView;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::ApiResult;
use crate::extract::{Json, OptionalJson};

/// What every action answers: the license after the action and whether it changed.
#[derive(utoipa::ToSchema)]
#[schema(as = LicenseActionResult)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionResponse {
    success: bool,
    install_id: String,
    status: &'static str,
    tier: String,
    billing_period: &'static str,
    changed: bool,
    #[schema(value_type = super::views::LicenseView)]
    license: serde_json::Value,
}

async fn respond(state: &AppState, outcome: Outcome) -> ApiResult<JsonResponse<ActionResponse>> {
    let l = &outcome.license;
    let plan = state.store.get_plan(&l.plan).await?;
    let view = serde_json::to_value(LicenseView::new(l, plan.as_ref()))
        .map_err(crate::error::ApiError::internal)?;
    Ok(JsonResponse(ActionResponse {
        success: true,
        install_id: l.install_id.to_string(),
        status: l.status.as_str(),
        tier: l.plan.to_string(),
        billing_period: l.billing_period.as_str(),
        changed: outcome.changed,
        license: view,
    }))
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTierBody {
    new_tier: String,
    billing_period: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/enterprise/customer/{install_id}/update-tier",
    operation_id = "updateTier",
    tag = "licenses",
    summary = "Move a license to another plan",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    request_body = UpdateTierBody,
    responses((status = 200, description = "Updated", body = ActionResponse))
)]
pub async fn update_tier(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    Json(body): Json<UpdateTierBody>,
) -> ApiResult<JsonResponse<ActionResponse>> {
    user.require(Permission::ChangeTier)?;
    let install_id = mutate::parse_install_id(&raw_id)?;
    let plan = find_plan(&state, &body.new_tier).await?;
    let billing_period = match body.billing_period.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(BillingPeriod::parse(raw)?),
    };
    let command = LicenseCommand::ChangePlan {
        plan: plan.slug,
        billing_period,
    };
    let outcome = mutate::apply(&state, &user, &install_id, command).await?;
    respond(&state, outcome).await
}

#[derive(utoipa::ToSchema, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    reason: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/enterprise/customer/{install_id}/suspend",
    operation_id = "suspendLicense",
    tag = "licenses",
    summary = "Suspend a license",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    request_body = Option<ReasonBody>,
    responses((status = 200, description = "Suspended", body = ActionResponse))
)]
pub async fn suspend(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    OptionalJson(body): OptionalJson<ReasonBody>,
) -> ApiResult<JsonResponse<ActionResponse>> {
    user.require(Permission::ManageLicense)?;
    let install_id = mutate::parse_install_id(&raw_id)?;
    let reason = mutate::parse_reason(body.reason)?;
    let outcome = mutate::apply(
        &state,
        &user,
        &install_id,
        LicenseCommand::Suspend { reason },
    )
    .await?;
    respond(&state, outcome).await
}

#[utoipa::path(
    post,
    path = "/api/enterprise/customer/{install_id}/reactivate",
    operation_id = "reactivateLicense",
    tag = "licenses",
    summary = "Lift a suspension",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    responses((status = 200, description = "Reactivated", body = ActionResponse))
)]
pub async fn reactivate(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<JsonResponse<ActionResponse>> {
    user.require(Permission::ManageLicense)?;
    let install_id = mutate::parse_install_id(&raw_id)?;
    let outcome = mutate::apply(&state, &user, &install_id, LicenseCommand::Reactivate).await?;
    respond(&state, outcome).await
}

#[utoipa::path(
    post,
    path = "/api/enterprise/customer/{install_id}/activate",
    operation_id = "activateLicense",
    tag = "licenses",
    summary = "Convert a trial to a paid license",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    responses((status = 200, description = "Activated", body = ActionResponse))
)]
pub async fn activate(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<JsonResponse<ActionResponse>> {
    user.require(Permission::ManageLicense)?;
    let install_id = mutate::parse_install_id(&raw_id)?;
    let outcome = mutate::apply(&state, &user, &install_id, LicenseCommand::Activate).await?;
    respond(&state, outcome).await
}

#[derive(utoipa::ToSchema, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenewBody {
    ends_at: Option<DateTime<Utc>>,
}

#[utoipa::path(
    post,
    path = "/api/enterprise/customer/{install_id}/renew",
    operation_id = "renewLicense",
    tag = "licenses",
    summary = "Renew for a period (or to a date)",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    request_body = Option<RenewBody>,
    responses((status = 200, description = "Renewed", body = ActionResponse))
)]
pub async fn renew(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    OptionalJson(body): OptionalJson<RenewBody>,
) -> ApiResult<JsonResponse<ActionResponse>> {
    user.require(Permission::ManageLicense)?;
    let install_id = mutate::parse_install_id(&raw_id)?;
    let command = LicenseCommand::Renew {
        ends_at: body.ends_at,
    };
    let outcome = mutate::apply(&state, &user, &install_id, command).await?;
    respond(&state, outcome).await
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendTrialBody {
    days: i64,
}

#[utoipa::path(
    post,
    path = "/api/enterprise/customer/{install_id}/extend-trial",
    operation_id = "extendTrial",
    tag = "licenses",
    summary = "Extend a trial by days",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    request_body = ExtendTrialBody,
    responses((status = 200, description = "Extended", body = ActionResponse))
)]
pub async fn extend_trial(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    Json(body): Json<ExtendTrialBody>,
) -> ApiResult<JsonResponse<ActionResponse>> {
    user.require(Permission::ManageLicense)?;
    let install_id = mutate::parse_install_id(&raw_id)?;
    let days = match u32::try_from(body.days) {
        Ok(d) if (1..=MAX_TRIAL_DAYS).contains(&d) => d,
        _ => {
            return Err(InvalidValue::new(
                "days",
                format!("must be a whole number from 1 to {MAX_TRIAL_DAYS}"),
            )
            .into())
        }
    };
    let outcome = mutate::apply(
        &state,
        &user,
        &install_id,
        LicenseCommand::ExtendTrial { days },
    )
    .await?;
    respond(&state, outcome).await
}

#[derive(utoipa::ToSchema)]
#[schema(as = LicenseDetails)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailsBody {
    notes: Option<String>,
    domains: Option<Vec<String>>,
}

/// `PATCH /api/enterprise/customer/{installId}`: notes need `EditNotes`;
/// domains change where a license may run, so they need `ManageLicense`.
#[utoipa::path(
    patch,
    path = "/api/enterprise/customer/{install_id}",
    operation_id = "updateLicenseDetails",
    tag = "licenses",
    summary = "Change notes and allowed domains",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    request_body = DetailsBody,
    responses((status = 200, description = "Updated", body = ActionResponse))
)]
pub async fn update_details(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    Json(body): Json<DetailsBody>,
) -> ApiResult<JsonResponse<ActionResponse>> {
    if body.notes.is_none() && body.domains.is_none() {
        return Err(InvalidValue::new("notes", "give notes, domains or both").into());
    }
    user.require(if body.domains.is_some() {
        Permission::ManageLicense
    } else {
        Permission::EditNotes
    })?;
    let install_id = mutate::parse_install_id(&raw_id)?;
    let notes = body.notes.as_deref().map(Notes::parse).transpose()?;
    let domains = match body.domains {
        None => None,
        Some(raw) => {
            let current = mutate::load(&state, &install_id).await?;
            let plan = state.store.get_plan(&current.plan).await?;
            Some(parse_domains(&raw, mutate::domain_cap(plan.as_ref()))?)
        }
    };
    let command = LicenseCommand::UpdateDetails { notes, domains };
    let outcome = mutate::apply(&state, &user, &install_id, command).await?;
    respond(&state, outcome).await
}
