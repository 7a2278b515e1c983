//! `/admin/customers/{installId}` and `/culture-profile.html?install_id=…`:
//! one customer. Everything stored (license, customer, usage, instances,
//! domains, history) is rendered here; the culture analysis is fetched by
//! `profile.js` from `/api/enterprise/customer/{id}/culture` and shown when
//! that route answers. Without an install id the seed URL shows a picker.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use calos_core::auth::Permission;
use calos_core::ids::InstallId;
use calos_core::license::License;
use calos_core::plan::{Limit, Meter, Plan, UsageType};
use calos_store::{AuditQuery, LicenseQuery, LicenseSort, StoreError, UsageTotal};

use super::dashboard::{plan_options, PlanOption};
use super::format::{ago, date, date_time, group};
use super::render::{describe_store_error, error_page, html};
use super::session::PageAdmin;
use crate::app::AppState;
use crate::extract::Query;

const HISTORY_LIMIT: u32 = 100;
const PICKER_SIZE: u32 = 60;

pub struct MeterRow {
    pub name: &'static str,
    pub used: String,
    pub limit: String,
    pub percent: Option<u32>,
    pub over: bool,
}

pub struct InstanceRow {
    pub id: String,
    pub domain: String,
    pub version: String,
    pub user_agent: String,
    pub first_seen: String,
    pub last_seen: String,
}

pub struct HistoryRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub change: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    username: String,
    csrf: String,
    install_id: String,
    name: String,
    email: String,
    company: String,
    tier: String,
    tier_name: String,
    status: &'static str,
    billing: &'static str,
    created: String,
    last_seen: String,
    period: String,
    trial_ends: String,
    notes: String,
    license_domains: Vec<String>,
    features: Vec<String>,
    meters: Vec<MeterRow>,
    instances: Vec<InstanceRow>,
    domains_seen: Vec<(String, String)>,
    history: Vec<HistoryRow>,
    plans: Vec<PlanOption>,
    may_manage: bool,
    may_revoke: bool,
    may_tier: bool,
    /// The account owner panel (`account_owner_panel.html`).
    owner: super::account_owner::OwnerPanel,
}

pub struct PickerRow {
    pub install_id: String,
    pub name: String,
    pub company: String,
    pub domains: String,
    pub tier: String,
    pub status: &'static str,
    pub created: String,
}

#[derive(Template)]
#[template(path = "picker.html")]
struct PickerPage {
    username: String,
    csrf: String,
    q: String,
    rows: Vec<PickerRow>,
    total: u64,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SeedParams {
    #[serde(default)]
    install_id: String,
    #[serde(default)]
    q: String,
}

pub async fn seed_page(
    user: PageAdmin,
    State(state): State<AppState>,
    Query(params): Query<SeedParams>,
) -> Response {
    let id = params.install_id.trim();
    if id.is_empty() {
        picker(user, &state, params.q.trim()).await
    } else {
        show(user, &state, id).await
    }
}

pub async fn page(
    user: PageAdmin,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> Response {
    show(user, &state, &raw_id).await
}

async fn picker(user: PageAdmin, state: &AppState, q: &str) -> Response {
    let q: String = q.chars().take(200).collect();
    let query = LicenseQuery {
        status: None,
        plan: None,
        search: Some(q.clone()).filter(|s| !s.is_empty()),
        page: 1,
        per_page: PICKER_SIZE,
        sort: LicenseSort::NameAsc,
        now: Utc::now(),
    };
    let (rows, total, error) = match state.store.list_licenses(&query).await {
        Ok(p) => (
            p.items
                .iter()
                .map(|i| PickerRow {
                    install_id: i.license.install_id.to_string(),
                    name: i.customer.name.as_str().to_owned(),
                    company: i
                        .customer
                        .company
                        .as_ref()
                        .map(|c| c.as_str().to_owned())
                        .unwrap_or_default(),
                    domains: i
                        .license
                        .domains
                        .iter()
                        .map(|d| d.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    tier: i.license.plan.to_string(),
                    status: i.license.status.as_str(),
                    created: date(i.license.created_at),
                })
                .collect(),
            p.total,
            None,
        ),
        Err(e) => {
            tracing::error!(error = %e, "picker: loading customers failed");
            (
                Vec::new(),
                0,
                Some(format!(
                    "Failed to load customers: {}",
                    describe_store_error(&e)
                )),
            )
        }
    };
    html(
        StatusCode::OK,
        &PickerPage {
            username: user.admin.username.clone(),
            csrf: user.csrf.clone(),
            q,
            rows,
            total,
            error,
        },
    )
}

async fn show(user: PageAdmin, state: &AppState, raw_id: &str) -> Response {
    let Ok(install_id) = InstallId::parse(raw_id.trim()) else {
        return error_page(
            StatusCode::NOT_FOUND,
            "No such customer",
            "That is not a valid install id. Pick a customer from the list.",
        );
    };
    match load(user, state, &install_id).await {
        Ok(Some(page)) => html(StatusCode::OK, &page),
        Ok(None) => error_page(
            StatusCode::NOT_FOUND,
            "No such customer",
            "No license has this install id. Pick a customer from the list.",
        ),
        Err(e) => {
            tracing::error!(error = %e, "profile page failed");
            error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Failed to load the customer",
                &describe_store_error(&e),
            )
        }
    }
}

async fn load(
    user: PageAdmin,
    state: &AppState,
    install_id: &InstallId,
) -> Result<Option<ProfilePage>, StoreError> {
    let store = &state.store;
    let Some(license) = store.get_license(install_id).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    let history_query = AuditQuery {
        target_type: Some("license".to_owned()),
        target_id: Some(install_id.to_string()),
        limit: HISTORY_LIMIT,
    };
    let (customer, plans, totals, instances, domains_seen, history) = tokio::try_join!(
        store.get_customer(license.customer_id),
        store.list_plans(),
        store.usage_totals(
            install_id,
            license.current_period_start,
            license.current_period_end
        ),
        store.list_instances(install_id),
        store.list_domains_seen(install_id),
        store.list_audit(&history_query),
    )?;
    let plan = plans.iter().find(|p| p.slug == license.plan);
    let owner = super::account_owner::panel(
        store.as_ref(),
        customer.as_ref().map(|c| c.id),
        user.may(Permission::CreateLicense),
    )
    .await?;
    let (name, email, company) = customer.map_or_else(
        || {
            (
                "(customer missing)".to_owned(),
                String::new(),
                String::new(),
            )
        },
        |c| {
            (
                c.name.as_str().to_owned(),
                c.email.as_str().to_owned(),
                c.company.map(|x| x.as_str().to_owned()).unwrap_or_default(),
            )
        },
    );
    Ok(Some(ProfilePage {
        username: user.admin.username.clone(),
        csrf: user.csrf.clone(),
        install_id: install_id.to_string(),
        name,
        email,
        company,
        tier: license.plan.to_string(),
        tier_name: plan.map_or_else(|| license.plan.to_string(), |p| p.name.clone()),
        status: license.status.as_str(),
        billing: license.billing_period.as_str(),
        created: date(license.created_at),
        last_seen: ago(license.last_seen_at, now),
        period: format!(
            "{} → {}",
            date(license.current_period_start),
            date(license.current_period_end)
        ),
        trial_ends: license.trial_ends_at.map(date).unwrap_or_default(),
        notes: license.notes.as_str().to_owned(),
        license_domains: license.domains.iter().map(|d| d.to_string()).collect(),
        features: plan.map(Plan::entitled_features).unwrap_or_default(),
        meters: meters(&license, plan, &totals),
        instances: instances
            .into_iter()
            .map(|i| InstanceRow {
                id: i.instance_id,
                domain: i.domain.unwrap_or_default(),
                version: i.version.unwrap_or_default(),
                user_agent: i.user_agent.unwrap_or_default(),
                first_seen: date(i.first_seen_at),
                last_seen: ago(Some(i.last_seen_at), now),
            })
            .collect(),
        domains_seen: domains_seen
            .into_iter()
            .map(|d| (d.domain, ago(Some(d.last_seen_at), now)))
            .collect(),
        history: history
            .iter()
            .map(|r| HistoryRow {
                at: date_time(r.entry.at),
                actor: r.entry.actor.label(),
                action: r.entry.action.clone(),
                change: change_summary(r.entry.before.as_ref(), r.entry.after.as_ref()),
            })
            .collect(),
        plans: plan_options(&plans),
        may_manage: user.may(Permission::ManageLicense),
        may_revoke: user.may(Permission::Revoke),
        may_tier: user.may(Permission::ChangeTier),
        owner,
    }))
}

/// "status: trial → active; plan: pro → enterprise" from an audit record's
/// before and after, over the fields an admin cares about.
fn change_summary(before: Option<&serde_json::Value>, after: Option<&serde_json::Value>) -> String {
    const FIELDS: [&str; 5] = ["status", "plan", "billingPeriod", "statusReason", "endsAt"];
    let text = |v: Option<&serde_json::Value>, k: &str| match v.and_then(|v| v.get(k)) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => "—".to_owned(),
        Some(other) => other.to_string(),
    };
    let mut parts = Vec::new();
    for k in FIELDS {
        let (b, a) = (text(before, k), text(after, k));
        if b != a {
            parts.push(format!("{k}: {b} → {a}"));
        }
    }
    parts.join("; ")
}

/// Usage this period folded per meter (both POS channels draw on one), and
/// the listed domains, against the plan's limits.
fn meters(license: &License, plan: Option<&Plan>, totals: &[UsageTotal]) -> Vec<MeterRow> {
    let mut used: BTreeMap<Meter, i64> = UsageType::ALL.iter().map(|u| (u.meter(), 0)).collect();
    for t in totals {
        *used.entry(t.usage_type.meter()).or_default() += t.quantity;
    }
    used.insert(
        Meter::Domains,
        i64::try_from(license.domains.len()).unwrap_or(i64::MAX),
    );
    Meter::ALL
        .into_iter()
        .filter_map(|m| used.get(&m).map(|u| (m, *u)))
        .map(|(m, u)| {
            let limit = plan.map_or(Limit::Unlimited, |p| p.limit(m));
            let u = u64::try_from(u).unwrap_or(0);
            let percent = limit.percent_used(u);
            let limit_n: Option<u64> = limit.into();
            MeterRow {
                name: m.as_str(),
                used: group(u),
                limit: limit_n.map_or_else(|| "unlimited".to_owned(), group),
                percent: percent.map(|p| p.clamp(0.0, 100.0).round() as u32),
                over: percent.is_some_and(|p| p >= 100.0),
            }
        })
        .collect()
}

/// The last 30 days, for the charts.
pub fn window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (now - Duration::days(30), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn change_summary_names_changed_fields() {
        let s = change_summary(
            Some(&json!({"status": "trial", "plan": "pro"})),
            Some(&json!({"status": "active", "plan": "pro"})),
        );
        assert_eq!(s, "status: trial → active");
        assert_eq!(change_summary(None, None), "");
    }
}
