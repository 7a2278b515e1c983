//! `GET /api/enterprise/stats`: figures computed from stored plans and
//! licenses by `calos_core::stats::compute` (nothing hard-coded).

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use calos_core::auth::Permission;
use calos_core::stats::{compute, Stats};

use super::views::major_units;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::ApiResult;

#[derive(utoipa::ToSchema)]
#[schema(as = StatsFigures)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsView {
    #[serde(flatten)]
    stats: Stats,
    /// The seed's field: MRR in major units.
    monthly_revenue: f64,
    annual_revenue: f64,
    /// The seed's field: trial conversion in percent, null when no trial has finished.
    trial_conversion: Option<f64>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = StatsResult)]
#[derive(Serialize)]
pub struct StatsResponse {
    success: bool,
    stats: StatsView,
}

#[utoipa::path(
    get,
    path = "/api/enterprise/stats",
    operation_id = "stats",
    tag = "licenses",
    summary = "Revenue, customer and trial figures",
    responses((status = 200, description = "The figures", body = StatsResponse))
)]
pub async fn show(
    user: AdminUser,
    State(state): State<AppState>,
) -> ApiResult<Json<StatsResponse>> {
    user.require(Permission::Read)?;
    let (customers, facts, plans) = tokio::try_join!(
        state.store.count_customers(),
        state.store.license_facts(),
        state.store.list_plans(),
    )?;
    let stats = compute(customers, &facts, &plans);
    Ok(Json(StatsResponse {
        success: true,
        stats: StatsView {
            monthly_revenue: major_units(stats.monthly_recurring_revenue_minor),
            annual_revenue: major_units(stats.annual_recurring_revenue_minor),
            trial_conversion: stats.trial_conversion_rate,
            stats,
        },
    }))
}
