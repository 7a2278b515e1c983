//! `GET /api/enterprise/customer/{installId}/culture`: the culture analyzer's
//! profile of one customer (health score, team size, behaviour, features,
//! limits, upsells, insights), computed from rollups only; and
//! `PUT /api/enterprise/customer/{installId}/timezone`, which sets the
//! customer's UTC offset the analysis reads hours and days in.

use axum::extract::{Path, State};
use axum::Json as JsonResponse;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use calos_core::auth::Permission;
use calos_core::culture::CultureProfile;
use calos_core::InvalidValue;
use calos_store::HealthScore;

use super::mutate;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;

/// UTC offsets in use run from −12:00 to +14:00.
const MAX_OFFSET_MINUTES: i32 = 14 * 60;

#[derive(utoipa::ToSchema)]
#[schema(as = CultureResult)]
#[derive(Serialize)]
pub struct CultureResponse {
    success: bool,
    culture: CultureProfile,
}

#[utoipa::path(
    get,
    path = "/api/enterprise/customer/{install_id}/culture",
    operation_id = "customerCulture",
    tag = "licenses",
    summary = "Culture analysis: profile, health score, upsells",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    responses((status = 200, description = "The analysis", body = CultureResponse))
)]
pub async fn show(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<JsonResponse<CultureResponse>> {
    user.require(Permission::Read)?;
    let install_id = mutate::parse_install_id(&raw_id)?;
    let license = mutate::load(&state, &install_id).await?;
    let plans = state.store.list_plans().await?;
    let now = Utc::now();
    let culture = crate::culture::analyze_one(state.store.as_ref(), &license, &plans, now)
        .await?
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "plan {} of {install_id} is missing",
                license.plan
            ))
        })?;
    // The list's health column reuses this score; refreshing the cache must
    // not slow down or fail this read.
    let store = state.store.clone();
    let score = HealthScore {
        install_id,
        score: culture.health.score,
        label: culture.health.label.clone(),
        computed_at: now,
    };
    tokio::spawn(async move {
        if let Err(e) = store.put_health_scores(&[score]).await {
            tracing::warn!(error = %e, "could not cache a health score");
        }
    });
    Ok(JsonResponse(CultureResponse {
        success: true,
        culture,
    }))
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimezoneBody {
    /// Minutes east of UTC (`60` for UTC+1, `-300` for UTC−5); `null` lets
    /// the analyzer infer the zone from activity.
    timezone_offset_minutes: Option<i64>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = TimezoneResult)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimezoneResponse {
    success: bool,
    install_id: String,
    timezone_offset_minutes: Option<i32>,
}

fn parse_offset(raw: Option<i64>) -> ApiResult<Option<i32>> {
    raw.map(|m| match i32::try_from(m) {
        Ok(m) if (-MAX_OFFSET_MINUTES..=MAX_OFFSET_MINUTES).contains(&m) => Ok(m),
        _ => Err(InvalidValue::new(
            "timezoneOffsetMinutes",
            format!(
                "must be whole minutes from -{MAX_OFFSET_MINUTES} to {MAX_OFFSET_MINUTES}, or null"
            ),
        )
        .into()),
    })
    .transpose()
}

/// Customer details, so the same permission as notes.
#[utoipa::path(
    put,
    path = "/api/enterprise/customer/{install_id}/timezone",
    operation_id = "setCustomerTimezone",
    tag = "licenses",
    summary = "Set or clear the customer's time zone",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    request_body = TimezoneBody,
    responses((status = 200, description = "Saved", body = TimezoneResponse))
)]
pub async fn set_timezone(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    Json(body): Json<TimezoneBody>,
) -> ApiResult<JsonResponse<TimezoneResponse>> {
    user.require(Permission::EditNotes)?;
    let install_id = mutate::parse_install_id(&raw_id)?;
    let offset = parse_offset(body.timezone_offset_minutes)?;
    let audit = user.audit(
        "customer.timezone",
        "license",
        install_id.as_str(),
        None,
        Some(serde_json::json!({ "timezoneOffsetMinutes": offset })),
    );
    state
        .store
        .set_customer_timezone(&install_id, offset, &audit)
        .await
        .map_err(|e| match e {
            calos_store::StoreError::NotFound(_) => {
                ApiError::NotFound(format!("license {:?}", install_id.as_str()))
            }
            other => other.into(),
        })?;
    Ok(JsonResponse(TimezoneResponse {
        success: true,
        install_id: install_id.to_string(),
        timezone_offset_minutes: offset,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_whole_minutes_within_real_zones() {
        assert_eq!(parse_offset(None).unwrap(), None);
        assert_eq!(parse_offset(Some(60)).unwrap(), Some(60));
        assert_eq!(parse_offset(Some(-720)).unwrap(), Some(-720));
        assert_eq!(parse_offset(Some(840)).unwrap(), Some(840));
        assert!(parse_offset(Some(841)).is_err());
        assert!(parse_offset(Some(-841)).is_err());
        assert!(parse_offset(Some(i64::MAX)).is_err());
    }
}
