//! `/admin` and `/enterprise-dashboard.html`: stat cards, revenue by tier,
//! and the customer table (also served alone as a fragment for the live
//! filter). Each section fails on its own with a message saying what is
//! wrong; the page is never blank.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};

use calos_core::auth::Permission;
use calos_core::license::License;
use calos_core::plan::{Limit, Meter, Plan};
use calos_core::stats::{compute, Stats};
use std::collections::BTreeMap;

use calos_core::ids::InstallId;
use calos_store::{HealthScore, LicenseListItem};

use super::filters::{Filter, FilterParams, HEALTH_LABELS, PER_PAGE, SORTS, STATUSES};
use super::format::{ago, date, group, money};
use super::health_filter;
use super::render::{describe_store_error, html};
use super::session::PageAdmin;
use super::trend::{self, Trend};
use crate::app::AppState;
use crate::extract::Query;

pub struct Card {
    pub label: &'static str,
    pub value: String,
    pub detail: String,
    /// "up", "down", "flat" or "" (no trend shown).
    pub trend: &'static str,
    pub id: &'static str,
}

#[derive(Clone)]
pub struct PlanOption {
    pub slug: String,
    pub name: String,
}

pub struct Row {
    pub install_id: String,
    pub name: String,
    pub email: String,
    pub company: String,
    pub tier: String,
    pub tier_name: String,
    pub status: &'static str,
    pub billing: &'static str,
    pub domains: String,
    pub created: String,
    pub last_seen: String,
    pub api_used: String,
    pub api_limit: String,
    /// 0–100 for the bar; `None` when unlimited.
    pub api_percent: Option<u32>,
    pub api_over: bool,
    pub events_30d: String,
    /// The culture analyzer's score ("—" without enough data) and its label.
    pub health_score: String,
    pub health_label: String,
}

pub struct Table {
    pub filter: Filter,
    pub rows: Vec<Row>,
    pub total: u64,
    pub page: u32,
    pub pages: u32,
    pub error: Option<String>,
    pub plans: Vec<PlanOption>,
    pub csv_link: String,
    pub prev_link: Option<String>,
    pub next_link: Option<String>,
    pub may_manage: bool,
    pub may_revoke: bool,
    pub may_tier: bool,
}

impl Table {
    pub fn statuses(&self) -> &'static [&'static str] {
        &STATUSES
    }
    pub fn sorts(&self) -> &'static [(&'static str, &'static str)] {
        &SORTS
    }
    pub fn health_labels(&self) -> &'static [&'static str] {
        &HEALTH_LABELS
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    username: String,
    csrf: String,
    cards: Vec<Card>,
    cards_error: Option<String>,
    has_revenue: bool,
    may_create: bool,
    /// For the tier dialog.
    plans: Vec<PlanOption>,
    table: Table,
}

#[derive(Template)]
#[template(path = "customers_table.html")]
struct TableFragment {
    table: Table,
}

pub async fn page(
    user: PageAdmin,
    State(state): State<AppState>,
    Query(params): Query<FilterParams>,
) -> Response {
    let now = Utc::now();
    let store = state.store.as_ref();
    let (stats, trend, table) = tokio::join!(
        load_stats(&state),
        trend::compute(store, now),
        load_table(&state, &user, &params, now),
    );
    let (cards, cards_error, has_revenue) = match (stats, trend) {
        (Ok(stats), Ok(trend)) => {
            let has_revenue = stats.monthly_recurring_revenue_minor > 0;
            (cards(&stats, &trend), None, has_revenue)
        }
        (Err(e), _) | (_, Err(e)) => (
            Vec::new(),
            Some(format!(
                "Failed to load figures: {}",
                describe_store_error(&e)
            )),
            false,
        ),
    };
    html(
        StatusCode::OK,
        &DashboardPage {
            username: user.admin.username.clone(),
            csrf: user.csrf.clone(),
            cards,
            cards_error,
            has_revenue,
            may_create: user.may(Permission::CreateLicense),
            plans: table.plans.clone(),
            table,
        },
    )
}

/// The table alone, for the live filter (`x-calos-fragment` requests).
pub async fn table_fragment(
    user: PageAdmin,
    State(state): State<AppState>,
    Query(params): Query<FilterParams>,
) -> Response {
    let table = load_table(&state, &user, &params, Utc::now()).await;
    html(StatusCode::OK, &TableFragment { table })
}

async fn load_stats(state: &AppState) -> calos_store::StoreResult<Stats> {
    let (customers, facts, plans) = tokio::try_join!(
        state.store.count_customers(),
        state.store.license_facts(),
        state.store.list_plans(),
    )?;
    Ok(compute(customers, &facts, &plans))
}

fn cards(s: &Stats, t: &Trend) -> Vec<Card> {
    let conversion = s
        .trial_conversion_rate
        .map_or_else(|| "—".to_owned(), |r| format!("{r:.0}%"));
    let conversion_detail = if s.trial_conversion_rate.is_some() {
        "of finished trials became paid"
    } else {
        "no trial has finished yet"
    };
    vec![
        Card {
            id: "customers",
            label: "Customers",
            value: group(s.total_customers),
            detail: trend::line(t.customers_last_30, t.customers_prev_30),
            trend: trend::direction(t.customers_last_30, t.customers_prev_30),
        },
        Card {
            id: "active",
            label: "Active licenses",
            value: group(s.active_licenses),
            detail: format!(
                "{} new ({} paid, {} suspended now)",
                trend::line(t.licenses_last_30, t.licenses_prev_30),
                group(s.paid_licenses),
                group(s.suspended),
            ),
            trend: trend::direction(t.licenses_last_30, t.licenses_prev_30),
        },
        Card {
            id: "trials",
            label: "Trials",
            value: group(s.trials),
            detail: "running now".to_owned(),
            trend: "",
        },
        Card {
            id: "mrr",
            label: "MRR",
            value: money(s.monthly_recurring_revenue_minor, &s.currency),
            detail: "active licenses; annual plans count 1/12".to_owned(),
            trend: "",
        },
        Card {
            id: "arr",
            label: "ARR",
            value: money(s.annual_recurring_revenue_minor, &s.currency),
            detail: "annual recurring revenue".to_owned(),
            trend: "",
        },
        Card {
            id: "conversion",
            label: "Trial conversion",
            value: conversion,
            detail: conversion_detail.to_owned(),
            trend: "",
        },
    ]
}

async fn load_table(
    state: &AppState,
    user: &PageAdmin,
    params: &FilterParams,
    now: DateTime<Utc>,
) -> Table {
    let plans = match state.store.list_plans().await {
        Ok(p) => p,
        Err(e) => return Table::failed(user, Filter::default(), &e),
    };
    let filter = Filter::parse(params, &plans);
    let loaded = if filter.health.is_empty() {
        load_page(state, &filter, &plans, now).await
    } else {
        health_filter::matching(state, &filter, &plans, now)
            .await
            .map(|(all, health)| {
                let total = all.len() as u64;
                let skip = filter.page.saturating_sub(1).saturating_mul(PER_PAGE) as usize;
                let page = all.into_iter().skip(skip).take(PER_PAGE as usize).collect();
                (page, total, health)
            })
    };
    let (items, total, mut health) = match loaded {
        Ok(l) => l,
        Err(e) => return Table::failed(user, filter, &e),
    };
    let pages = u32::try_from(total.div_ceil(u64::from(PER_PAGE)))
        .unwrap_or(u32::MAX)
        .max(1);
    let qs = filter.query_string();
    Table {
        rows: items
            .iter()
            .map(|i| {
                let h = health.remove(&i.license.install_id);
                row(i, &plans, h, now)
            })
            .collect(),
        total,
        page: filter.page,
        pages,
        error: None,
        plans: plan_options(&plans),
        csv_link: if qs.is_empty() {
            "/admin/customers.csv".to_owned()
        } else {
            format!("/admin/customers.csv?{qs}")
        },
        prev_link: (filter.page > 1).then(|| filter.page_link(filter.page - 1)),
        next_link: (filter.page < pages).then(|| filter.page_link(filter.page + 1)),
        may_manage: user.may(Permission::ManageLicense),
        may_revoke: user.may(Permission::Revoke),
        may_tier: user.may(Permission::ChangeTier),
        filter,
    }
}

/// One page of the table as the store sorts and pages it, with health
/// scores for its rows (cached, the stale ones recomputed in one batch).
async fn load_page(
    state: &AppState,
    filter: &Filter,
    plans: &[Plan],
    now: DateTime<Utc>,
) -> calos_store::StoreResult<(Vec<LicenseListItem>, u64, BTreeMap<InstallId, HealthScore>)> {
    let page = state
        .store
        .list_licenses(&filter.query(filter.page, PER_PAGE, now))
        .await?;
    let licenses: Vec<&License> = page.items.iter().map(|i| &i.license).collect();
    let health = crate::culture::health_for(state.store.as_ref(), &licenses, plans, now).await?;
    Ok((page.items, page.total, health))
}

impl Table {
    fn failed(user: &PageAdmin, filter: Filter, err: &calos_store::StoreError) -> Table {
        tracing::error!(error = %err, "dashboard: loading customers failed");
        Table {
            filter,
            rows: Vec::new(),
            total: 0,
            page: 1,
            pages: 1,
            error: Some(format!(
                "Failed to load customers: {}",
                describe_store_error(err)
            )),
            plans: Vec::new(),
            csv_link: "/admin/customers.csv".to_owned(),
            prev_link: None,
            next_link: None,
            may_manage: user.may(Permission::ManageLicense),
            may_revoke: user.may(Permission::Revoke),
            may_tier: user.may(Permission::ChangeTier),
        }
    }
}

pub fn plan_options(plans: &[Plan]) -> Vec<PlanOption> {
    plans
        .iter()
        .map(|p| PlanOption {
            slug: p.slug.to_string(),
            name: p.name.clone(),
        })
        .collect()
}

fn row(
    item: &LicenseListItem,
    plans: &[Plan],
    health: Option<HealthScore>,
    now: DateTime<Utc>,
) -> Row {
    let l = &item.license;
    let plan = plans.iter().find(|p| p.slug == l.plan);
    let limit = plan.map_or(Limit::Unlimited, |p| p.limit(Meter::ApiRequests));
    let used = u64::try_from(item.api_requests_this_period).unwrap_or(0);
    let percent = limit.percent_used(used);
    let limit_text: Option<u64> = limit.into();
    Row {
        install_id: l.install_id.to_string(),
        name: item.customer.name.as_str().to_owned(),
        email: item.customer.email.as_str().to_owned(),
        company: item
            .customer
            .company
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        tier: l.plan.to_string(),
        tier_name: plan.map_or_else(|| l.plan.to_string(), |p| p.name.clone()),
        status: l.status.as_str(),
        billing: l.billing_period.as_str(),
        domains: l
            .domains
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        created: date(l.created_at),
        last_seen: ago(l.last_seen_at, now),
        api_used: group(used),
        api_limit: limit_text.map_or_else(|| "unlimited".to_owned(), group),
        // Clamped for the bar; the text shows the true figure.
        api_percent: percent.map(|p| p.clamp(0.0, 100.0).round() as u32),
        api_over: percent.is_some_and(|p| p >= 100.0),
        events_30d: group(u64::try_from(item.events_last_30_days).unwrap_or(0)),
        health_score: health
            .as_ref()
            .and_then(|h| h.score)
            .map_or_else(|| "—".to_owned(), |s| s.to_string()),
        health_label: health.map_or_else(|| "not enough data".to_owned(), |h| h.label),
    }
}
