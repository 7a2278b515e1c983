//! `GET /api/enterprise/customer/{installId}/profile`: one license with its
//! customer, plan, usage this period, recent telemetry, branding and history.

use axum::extract::{Path, State};
use axum::Json;
use chrono::{Duration, Utc};
use serde::Serialize;

use calos_core::audit::AuditRecord;
use calos_core::auth::Permission;
use calos_core::branding::Branding;
use calos_core::customer::Customer;
use calos_core::license::License;
use calos_core::plan::Plan;
use calos_store::{AuditQuery, EventCount};

use super::mutate;
use super::usage::{current_period, CurrentPeriod};
use super::views::{AuditView, LicenseView};
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::ApiResult;

const HISTORY_LIMIT: u32 = 100;
const TELEMETRY_ROWS: u32 = 50;

#[derive(utoipa::ToSchema)]
#[schema(as = CustomerProfileResult)]
#[derive(Serialize)]
pub struct ProfileResponse {
    success: bool,
    #[schema(value_type = Profile)]
    profile: serde_json::Value,
}

#[derive(utoipa::ToSchema)]
#[schema(as = CustomerProfile)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Profile<'a> {
    license: LicenseView<'a>,
    customer: Option<&'a Customer>,
    plan: Option<&'a Plan>,
    entitled_features: Vec<String>,
    /// The current billing period per meter, as `GET …/usage` reports it.
    usage: Option<CurrentPeriod>,
    telemetry: Telemetry<'a>,
    branding: Option<&'a Branding>,
    domains: Vec<&'a str>,
    history: Vec<AuditView<'a>>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = ProfileTelemetry)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Telemetry<'a> {
    last30_days: Vec<EventRow<'a>>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = EventCountRow)]
#[derive(Serialize)]
struct EventRow<'a> {
    #[serde(rename = "type")]
    event_type: &'static str,
    feature: Option<&'a str>,
    count: i64,
}

#[utoipa::path(
    get,
    path = "/api/enterprise/customer/{install_id}/profile",
    operation_id = "customerProfile",
    tag = "licenses",
    summary = "A customer's license, plan and instances",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    responses((status = 200, description = "The profile", body = ProfileResponse))
)]
pub async fn show(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<ProfileResponse>> {
    user.require(Permission::Read)?;
    let install_id = mutate::parse_install_id(&raw_id)?;
    let license = mutate::load(&state, &install_id).await?;
    let now = Utc::now();
    let history_query = AuditQuery {
        target_type: Some("license".to_owned()),
        target_id: Some(install_id.to_string()),
        limit: HISTORY_LIMIT,
    };
    let (customer, plan, events, branding, history) = tokio::try_join!(
        state.store.get_customer(license.customer_id),
        state.store.get_plan(&license.plan),
        state
            .store
            .event_counts(&install_id, now - Duration::days(30), TELEMETRY_ROWS),
        state.store.get_branding(&install_id),
        state.store.list_audit(&history_query),
    )?;
    let usage = match &plan {
        Some(plan) => Some(current_period(&state, &license, plan).await?),
        None => None,
    };
    let profile = render(
        &license,
        customer.as_ref(),
        plan.as_ref(),
        usage,
        &events,
        branding.as_ref(),
        &history,
    );
    let profile = serde_json::to_value(profile).map_err(crate::error::ApiError::internal)?;
    Ok(Json(ProfileResponse {
        success: true,
        profile,
    }))
}

fn render<'a>(
    license: &'a License,
    customer: Option<&'a Customer>,
    plan: Option<&'a Plan>,
    usage: Option<CurrentPeriod>,
    events: &'a [EventCount],
    branding: Option<&'a Branding>,
    history: &'a [AuditRecord],
) -> Profile<'a> {
    Profile {
        license: LicenseView::new(license, plan),
        customer,
        plan,
        entitled_features: plan.map(Plan::entitled_features).unwrap_or_default(),
        usage,
        telemetry: Telemetry {
            last30_days: events
                .iter()
                .map(|e| EventRow {
                    event_type: e.event_type.as_str(),
                    feature: e.feature.as_deref(),
                    count: e.count,
                })
                .collect(),
        },
        branding,
        domains: license.domains.iter().map(|d| d.as_str()).collect(),
        history: history.iter().map(AuditView::new).collect(),
    }
}
