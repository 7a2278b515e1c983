//! `GET /api/enterprise/plans` and `PUT /api/enterprise/plans/{slug}`: plans
//! are data admins may edit; the body is the core `Plan` JSON.

use axum::extract::{Path, State};
use axum::Json as JsonResponse;
use serde::Serialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

use calos_core::auth::Permission;
use calos_core::plan::Plan;
use calos_core::InvalidValue;

use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::ApiResult;
use crate::extract::Json;

#[derive(utoipa::ToSchema)]
#[schema(as = PlanList)]
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

/// A plan's fields (as `Plan`, which as a request body refuses unknown
/// fields) plus `entitledFeatures`. Written out because a derived
/// `allOf[Plan, …]` would inherit `Plan`'s `additionalProperties: false`
/// and so refuse `entitledFeatures` itself.
impl utoipa::PartialSchema for PlanView {
    fn schema() -> RefOr<Schema> {
        let mut schema = <Plan as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::Object(plan)) = &mut schema {
            plan.additional_properties = None;
            plan.description = Some(
                "A plan (see `Plan`) with the features a license on it is entitled to.".into(),
            );
            plan.properties.insert(
                "entitledFeatures".into(),
                ArrayBuilder::new()
                    .items(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some(
                        "The plan's true feature flags plus every included meter.",
                    ))
                    .into(),
            );
            plan.required.push("entitledFeatures".into());
        }
        schema
    }
}

impl utoipa::ToSchema for PlanView {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        <Plan as utoipa::ToSchema>::schemas(schemas);
    }
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
    responses((status = 200, description = "The plans", body = PlansResponse))
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

#[derive(utoipa::ToSchema)]
#[schema(as = PlanSaved)]
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
    request_body = calos_core::plan::Plan,
    responses((status = 200, description = "Saved", body = PutResponse))
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
