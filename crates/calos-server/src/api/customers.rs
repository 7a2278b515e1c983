//! `GET /api/enterprise/customers`: one page of licenses with their customer
//! and usage. Unknown filter values are a 400, never an empty list.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use calos_core::auth::Permission;
use calos_core::customer::Customer;
use calos_core::license::LicenseStatus;
use calos_core::plan::{Limit, Meter, Plan, PlanSlug};
use calos_store::{LicenseListItem, LicenseQuery, LicenseSort};

use super::views::MeterUse;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;

pub const MAX_PER_PAGE: u32 = 200;
const DEFAULT_PER_PAGE: u32 = 50;

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListParams {
    status: Option<String>,
    tier: Option<String>,
    q: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
    sort: Option<String>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = CustomerPage)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse {
    success: bool,
    customers: Vec<CustomerItem>,
    total: u64,
    page: u32,
    per_page: u32,
}

#[derive(utoipa::ToSchema)]
#[schema(as = CustomerListItem)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerItem {
    install_id: String,
    customer: Customer,
    tier: String,
    tier_name: Option<String>,
    status: &'static str,
    billing_period: &'static str,
    domains: Vec<String>,
    created_at: DateTime<Utc>,
    last_seen_at: Option<DateTime<Utc>>,
    trial_ends_at: Option<DateTime<Utc>>,
    current_period_end: DateTime<Utc>,
    usage: ItemUsage,
    health: ItemHealth,
}

/// The culture analyzer's health score (see `api::culture`), cached.
#[derive(utoipa::ToSchema)]
#[schema(as = CustomerHealth)]
#[derive(Serialize)]
struct ItemHealth {
    score: Option<u32>,
    label: String,
}

#[derive(utoipa::ToSchema)]
#[schema(as = CustomerUsage)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemUsage {
    api_requests: MeterUse,
    events_last30_days: i64,
}

#[utoipa::path(
    get,
    path = "/api/enterprise/customers",
    operation_id = "listCustomers",
    tag = "licenses",
    summary = "One page of licenses with customer, usage and health",
    params(ListParams),
    responses((status = 200, description = "The page", body = ListResponse))
)]
pub async fn list(
    user: AdminUser,
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<ListResponse>> {
    user.require(Permission::Read)?;
    let plans: BTreeMap<PlanSlug, Plan> = state
        .store
        .list_plans()
        .await?
        .into_iter()
        .map(|p| (p.slug.clone(), p))
        .collect();
    let query = parse_params(params, &plans, Utc::now())?;
    let page = state.store.list_licenses(&query).await?;
    let licenses: Vec<&calos_core::license::License> =
        page.items.iter().map(|i| &i.license).collect();
    let plan_list: Vec<Plan> = plans.values().cloned().collect();
    let mut health =
        crate::culture::health_for(state.store.as_ref(), &licenses, &plan_list, query.now).await?;
    Ok(Json(ListResponse {
        success: true,
        customers: page
            .items
            .into_iter()
            .map(|i| {
                let h = health.remove(&i.license.install_id);
                render(i, &plans, h)
            })
            .collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

fn bad(message: String) -> ApiError {
    ApiError::InvalidQuery(message)
}

/// Blank values (`?status=&tier=`, as the seed's dashboard sends) mean "any".
fn present(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn parse_params(
    p: ListParams,
    plans: &BTreeMap<PlanSlug, Plan>,
    now: DateTime<Utc>,
) -> ApiResult<LicenseQuery> {
    let status = present(p.status)
        .map(|s| LicenseStatus::parse(&s).map_err(|e| bad(e.message)))
        .transpose()?;
    let plan = match present(p.tier) {
        None => None,
        Some(t) => match PlanSlug::parse(&t) {
            Ok(slug) if plans.contains_key(&slug) => Some(slug),
            _ => {
                let known: Vec<&str> = plans.keys().map(PlanSlug::as_str).collect();
                return Err(bad(format!("unknown tier {t:?} ({})", known.join(", "))));
            }
        },
    };
    let search = present(p.q);
    if search.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(bad("q must be at most 200 characters".to_owned()));
    }
    let page = match present(p.page) {
        None => 1,
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(bad(format!(
                    "page must be a whole number from 1, not {raw:?}"
                )))
            }
        },
    };
    let per_page = match present(p.per_page) {
        None => DEFAULT_PER_PAGE,
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => n,
            _ => {
                return Err(bad(format!(
                    "perPage must be 1 to {MAX_PER_PAGE}, not {raw:?}"
                )))
            }
        },
    };
    let sort = match present(p.sort) {
        None => LicenseSort::default(),
        Some(raw) => parse_sort(&raw).ok_or_else(|| {
            bad(format!(
                "unknown sort {raw:?} (created, -created, name, -name, lastSeen, -lastSeen, tier, status, -events)"
            ))
        })?,
    };
    Ok(LicenseQuery {
        status,
        plan,
        search,
        page,
        per_page,
        sort,
        now,
    })
}

fn parse_sort(raw: &str) -> Option<LicenseSort> {
    Some(match raw {
        "-created" => LicenseSort::CreatedDesc,
        "created" => LicenseSort::CreatedAsc,
        "name" => LicenseSort::NameAsc,
        "-name" => LicenseSort::NameDesc,
        "-lastSeen" => LicenseSort::LastSeenDesc,
        "lastSeen" => LicenseSort::LastSeenAsc,
        "tier" => LicenseSort::TierAsc,
        "status" => LicenseSort::StatusAsc,
        "-events" => LicenseSort::EventsDesc,
        _ => return None,
    })
}

fn render(
    item: LicenseListItem,
    plans: &BTreeMap<PlanSlug, Plan>,
    health: Option<calos_store::HealthScore>,
) -> CustomerItem {
    let plan = plans.get(&item.license.plan);
    let limit = plan.map_or(Limit::Unlimited, |p| p.limit(Meter::ApiRequests));
    let l = item.license;
    CustomerItem {
        install_id: l.install_id.to_string(),
        customer: item.customer,
        tier: l.plan.to_string(),
        tier_name: plan.map(|p| p.name.clone()),
        status: l.status.as_str(),
        billing_period: l.billing_period.as_str(),
        domains: l.domains.iter().map(|d| d.to_string()).collect(),
        created_at: l.created_at,
        last_seen_at: l.last_seen_at,
        trial_ends_at: l.trial_ends_at,
        current_period_end: l.current_period_end,
        usage: ItemUsage {
            api_requests: MeterUse::new(item.api_requests_this_period, limit),
            events_last30_days: item.events_last_30_days,
        },
        health: health.map_or(
            ItemHealth {
                score: None,
                label: "not enough data".to_owned(),
            },
            |h| ItemHealth {
                score: h.score,
                label: h.label,
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calos_core::plan::default_plans;

    fn plans() -> BTreeMap<PlanSlug, Plan> {
        default_plans()
            .into_iter()
            .map(|p| (p.slug.clone(), p))
            .collect()
    }

    fn params(f: impl FnOnce(&mut ListParams)) -> ApiResult<LicenseQuery> {
        let mut p = ListParams::default();
        f(&mut p);
        parse_params(p, &plans(), Utc::now())
    }

    #[test]
    fn blank_filters_mean_any() {
        let q = params(|p| {
            p.status = Some(String::new());
            p.tier = Some(" ".into());
        })
        .unwrap();
        assert_eq!(
            (q.status, q.plan, q.page, q.per_page),
            (None, None, 1, DEFAULT_PER_PAGE)
        );
    }

    #[test]
    fn unknown_values_are_rejected() {
        assert!(params(|p| p.status = Some("paused".into())).is_err());
        assert!(params(|p| p.tier = Some("gold".into())).is_err());
        assert!(params(|p| p.sort = Some("price".into())).is_err());
        assert!(params(|p| p.page = Some("0".into())).is_err());
        assert!(params(|p| p.per_page = Some("201".into())).is_err());
        assert!(params(|p| p.per_page = Some("-1".into())).is_err());
    }

    #[test]
    fn every_documented_sort_parses() {
        for s in [
            "created",
            "-created",
            "name",
            "-name",
            "lastSeen",
            "-lastSeen",
            "tier",
            "status",
            "-events",
        ] {
            assert!(parse_sort(s).is_some(), "{s}");
        }
    }
}
