//! `GET /api/enterprise/plans` and `PUT /api/enterprise/plans/{slug}`: plans
//! are data admins may edit; the body is the core `Plan` JSON.

use axum::extract::{Path, State};
use axum::Json as JsonResponse;
use serde::Serialize;

use calos_core::auth::Permission;
use calos_core::plan::Plan;
use calos_core::InvalidValue;

use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::ApiResult;
use crate::extract::Json;

#[derive(Serialize)]
pub struct PlansResponse {
    success: bool,
    plans: Vec<PlanView>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanView {
    #[serde(flatten)]
    plan: Plan,
    entitled_features: Vec<String>,
}

impl From<Plan> for PlanView {
    fn from(plan: Plan) -> Self {
        PlanView {
            entitled_features: plan.entitled_features(),
            plan,
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/enterprise/plans",
    operation_id = "listPlans",
    tag = "plans",
    summary = "Every plan",
    responses((status = 200, description = "The plans", body = crate::api::openapi::schemas::Success))
)]
pub async fn list(
    user: AdminUser,
    State(state): State<AppState>,
) -> ApiResult<JsonResponse<PlansResponse>> {
    user.require(Permission::Read)?;
    let plans = state.store.list_plans().await?;
    Ok(JsonResponse(PlansResponse {
        success: true,
        plans: plans.into_iter().map(PlanView::from).collect(),
    }))
}

#[derive(Serialize)]
pub struct PutResponse {
    success: bool,
    created: bool,
    plan: PlanView,
}

#[utoipa::path(
    put,
    path = "/api/enterprise/plans/{slug}",
    operation_id = "putPlan",
    tag = "plans",
    summary = "Create or replace a plan",
    params(("slug" = String, Path, description = "The plan's slug, equal to the body's `slug`")),
    request_body = Object,
    responses((status = 200, description = "Saved", body = crate::api::openapi::schemas::Success))
)]
pub async fn put(
    user: AdminUser,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Json(plan): Json<Plan>,
) -> ApiResult<JsonResponse<PutResponse>> {
    user.require(Permission::ManagePlans)?;
    if plan.slug.as_str() != slug {
        return Err(InvalidValue::new("slug", format!("must match the URL ({slug:?})")).into());
    }
    plan.validate()?;
    let before = state.store.get_plan(&plan.slug).await?;
    let audit = user.audit(
        if before.is_some() {
            "plan.update"
        } else {
            "plan.create"
        },
        "plan",
        plan.slug.as_str(),
        before.as_ref().and_then(|p| serde_json::to_value(p).ok()),
        serde_json::to_value(&plan).ok(),
    );
    state.store.put_plan(&plan, &audit).await?;
    // Every cached license on this plan now decides differently.
    state.license_cache.invalidate_all();
    Ok(JsonResponse(PutResponse {
        success: true,
        created: before.is_none(),
        plan: plan.into(),
    }))
}
