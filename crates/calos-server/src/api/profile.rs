//! `GET /api/enterprise/customer/{installId}/profile`: one license with its
//! customer, plan, usage this period, recent telemetry, branding and history.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use calos_core::audit::AuditRecord;
use calos_core::auth::Permission;
use calos_core::branding::Branding;
use calos_core::customer::Customer;
use calos_core::license::License;
use calos_core::plan::{Meter, Plan, UsageType};
use calos_store::{AuditQuery, EventCount, UsageTotal};

use super::mutate;
use super::views::{AuditView, LicenseView, MeterUse};
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::ApiResult;

const HISTORY_LIMIT: u32 = 100;
const TELEMETRY_ROWS: u32 = 50;

#[derive(Serialize)]
pub struct ProfileResponse {
    success: bool,
    profile: serde_json::Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Profile<'a> {
    license: LicenseView<'a>,
    customer: Option<&'a Customer>,
    plan: Option<&'a Plan>,
    entitled_features: Vec<String>,
    usage: Usage,
    telemetry: Telemetry<'a>,
    branding: Option<&'a Branding>,
    domains: Vec<&'a str>,
    history: Vec<AuditView<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Usage {
    period_start: DateTime<Utc>,
    period_end: DateTime<Utc>,
    meters: Vec<MeterRow>,
}

#[derive(Serialize)]
struct MeterRow {
    meter: &'static str,
    #[serde(flatten)]
    usage: MeterUse,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Telemetry<'a> {
    last30_days: Vec<EventRow<'a>>,
}

#[derive(Serialize)]
struct EventRow<'a> {
    #[serde(rename = "type")]
    event_type: &'static str,
    feature: Option<&'a str>,
    count: i64,
}

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
    let (customer, plan, totals, events, branding, history) = tokio::try_join!(
        state.store.get_customer(license.customer_id),
        state.store.get_plan(&license.plan),
        state.store.usage_totals(
            &install_id,
            license.current_period_start,
            license.current_period_end
        ),
        state
            .store
            .event_counts(&install_id, now - Duration::days(30), TELEMETRY_ROWS),
        state.store.get_branding(&install_id),
        state.store.list_audit(&history_query),
    )?;
    let profile = render(
        &license,
        customer.as_ref(),
        plan.as_ref(),
        &totals,
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
    totals: &[UsageTotal],
    events: &'a [EventCount],
    branding: Option<&'a Branding>,
    history: &'a [AuditRecord],
) -> Profile<'a> {
    Profile {
        license: LicenseView::new(license, plan),
        customer,
        plan,
        entitled_features: plan.map(Plan::entitled_features).unwrap_or_default(),
        usage: Usage {
            period_start: license.current_period_start,
            period_end: license.current_period_end,
            meters: meters(license, plan, totals),
        },
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

/// Usage folded per meter (both POS channels draw on one), plus the domains
/// the license lists, each against the plan's limit.
fn meters(license: &License, plan: Option<&Plan>, totals: &[UsageTotal]) -> Vec<MeterRow> {
    let mut used: BTreeMap<Meter, i64> = UsageType::ALL.iter().map(|u| (u.meter(), 0)).collect();
    for t in totals {
        *used.entry(t.usage_type.meter()).or_default() += t.quantity;
    }
    used.insert(
        Meter::Domains,
        i64::try_from(license.domains.len()).unwrap_or(i64::MAX),
    );
    let limit = |m: Meter| plan.map_or(calos_core::plan::Limit::Unlimited, |p| p.limit(m));
    Meter::ALL
        .into_iter()
        .filter_map(|m| used.get(&m).map(|u| (m, *u)))
        .map(|(m, u)| MeterRow {
            meter: m.as_str(),
            usage: MeterUse::new(u, limit(m)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calos_core::plan::default_plans;

    #[test]
    fn pos_channels_fold_into_one_meter() {
        let community = default_plans()
            .into_iter()
            .find(|p| p.slug.as_str() == "community")
            .unwrap();
        let license: License = serde_json::from_value(serde_json::json!({
            "installId": "demo-install-abc123456789abcdef", "customerId": 1, "plan": "community",
            "billingPeriod": "monthly", "status": "active", "trialEndsAt": null, "convertedAt": null,
            "currentPeriodStart": "2024-01-01T00:00:00Z", "currentPeriodEnd": "2024-02-01T00:00:00Z",
            "endsAt": null, "statusReason": null, "notes": "", "domains": ["a.example.com"],
            "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z", "version": 0,
            "lastSeenAt": null
        }))
        .unwrap();
        let totals = [
            UsageTotal {
                usage_type: UsageType::PosInPerson,
                quantity: 30,
                amount_minor: 0,
            },
            UsageTotal {
                usage_type: UsageType::PosOnline,
                quantity: 20,
                amount_minor: 0,
            },
        ];
        let rows = meters(&license, Some(&community), &totals);
        let pos = rows.iter().find(|r| r.meter == "pos_transactions").unwrap();
        assert_eq!(
            (pos.usage.used, pos.usage.limit, pos.usage.percent),
            (50, Some(100), Some(50.0))
        );
        let domains = rows.iter().find(|r| r.meter == "domains").unwrap();
        assert_eq!(domains.usage.used, 1);
        assert!(
            rows.iter().all(|r| r.meter != "seats"),
            "seats are not metered yet"
        );
    }
}
