//! The portal's start page: the sign-in form, or for a signed-in account of
//! this install its license, tier, limits and usage against them,
//! instances and the offline token download — under the brand its plan
//! allows.

use askama::Template;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};

use calos_core::ids::InstallId;
use calos_core::plan::{Limit, Meter};

use super::render::{error, with_headers};
use super::scope::{resolve, scoped, PortalScope};
use super::session::{viewer, PortalViewer};
use crate::api::branding::{level_of, resolve as resolve_brand, BrandView};
use crate::api::current_period;
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::pages::html;

/// The brand's stylesheet, versioned so a change is seen at once.
pub fn theme_url(brand: &BrandView) -> String {
    format!("/branding/theme/{}?v={}", brand.install_id, brand.version)
}

async fn brand_of(state: &AppState, scope: &PortalScope) -> ApiResult<BrandView> {
    let level = level_of(state, &scope.license).await?;
    resolve_brand(state, scope.install_id(), level).await
}

#[derive(Template)]
#[template(path = "portal_login.html")]
struct LoginPage<'a> {
    brand: &'a BrandView,
    theme_url: String,
    action: String,
    problem: Option<&'a str>,
}

pub async fn login_page(
    state: &AppState,
    scope: &PortalScope,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let brand = match brand_of(state, scope).await {
        Ok(b) => b,
        Err(e) => return error(e),
    };
    with_headers(html(
        status,
        &LoginPage {
            theme_url: theme_url(&brand),
            brand: &brand,
            action: format!("/portal/{}/login", scope.install_id()),
            problem,
        },
    ))
}

struct MeterRow {
    name: &'static str,
    used: i64,
    limit: String,
    percent: Option<u32>,
    warning: bool,
    over: bool,
}

struct InstanceRow {
    id: String,
    domain: String,
    version: String,
    last_seen: String,
}

#[derive(Template)]
#[template(path = "portal.html")]
struct DashboardPage<'a> {
    brand: &'a BrandView,
    theme_url: String,
    base: String,
    email: &'a str,
    csrf: &'a str,
    install_id: &'a str,
    status: &'static str,
    tier: String,
    period: String,
    trial_ends: Option<String>,
    contract_ends: Option<String>,
    domains: Vec<String>,
    meters: Vec<MeterRow>,
    instances: Vec<InstanceRow>,
    invoices: Vec<super::invoices::InvoiceRow>,
    home: String,
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn meter_rows(period: &serde_json::Value, plan: &calos_core::plan::Plan) -> Vec<MeterRow> {
    let Some(meters) = period.get("meters").and_then(|m| m.as_array()) else {
        return Vec::new();
    };
    meters
        .iter()
        .filter_map(|m| {
            let meter = Meter::parse(m.get("meter")?.as_str()?).ok()?;
            let limit = match plan.limit(meter) {
                Limit::Unlimited => "unlimited".to_owned(),
                Limit::Max(n) => n.to_string(),
            };
            Some(MeterRow {
                name: meter.as_str(),
                used: m
                    .get("used")
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(0),
                limit,
                percent: m
                    .get("percent")
                    .and_then(serde_json::Value::as_f64)
                    .map(|p| p.clamp(0.0, 100.0).round() as u32),
                warning: m
                    .get("warning")
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false),
                over: m
                    .get("overLimit")
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false),
            })
        })
        .collect()
}

async fn dashboard(
    state: &AppState,
    scope: &PortalScope,
    who: &PortalViewer,
) -> ApiResult<Response> {
    let license = &scope.license;
    let plan = state.store.get_plan(&license.plan).await?.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "plan {} of {} is missing",
            license.plan,
            license.install_id
        ))
    })?;
    let brand = brand_of(state, scope).await?;
    let period = current_period(state, license, &plan).await?;
    let period = serde_json::to_value(&period).map_err(ApiError::internal)?;
    let instances = state.store.list_instances(&license.install_id).await?;
    let invoices = super::invoices::rows(state, &license.install_id).await?;
    let page = DashboardPage {
        theme_url: theme_url(&brand),
        brand: &brand,
        base: format!("/portal/{}", license.install_id),
        email: who.user.email.as_str(),
        csrf: &who.csrf,
        install_id: license.install_id.as_str(),
        status: license.status.as_str(),
        tier: plan.name.clone(),
        period: format!(
            "{} to {}",
            day(license.current_period_start),
            day(license.current_period_end)
        ),
        trial_ends: license.trial_ends_at.map(day),
        contract_ends: license.ends_at.map(day),
        domains: license.domains.iter().map(|d| d.to_string()).collect(),
        meters: meter_rows(&period, &plan),
        instances: instances
            .into_iter()
            .map(|i| InstanceRow {
                id: i.instance_id,
                domain: i.domain.unwrap_or_default(),
                version: i.version.unwrap_or_default(),
                last_seen: i.last_seen_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            })
            .collect(),
        invoices,
        home: scope.home(),
    };
    Ok(with_headers(html(StatusCode::OK, &page)))
}

async fn show(state: &AppState, scope: PortalScope, headers: &HeaderMap) -> Response {
    match viewer(state, headers, scope.install_id()).await {
        Ok(Some(who)) => dashboard(state, &scope, &who).await.unwrap_or_else(error),
        Ok(None) => login_page(state, &scope, None, StatusCode::OK).await,
        Err(e) => error(e.into()),
    }
}

/// `GET /portal/{installId}`.
pub async fn home(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    match resolve(&state, &raw_id, &headers, &uri).await {
        Ok(scope) => show(&state, scope, &headers).await,
        Err(e) => error(e),
    }
}

/// `GET /` on a customer's own domain (called by the domain router).
pub async fn home_for_customer_host(
    state: &AppState,
    install_id: InstallId,
    headers: &HeaderMap,
) -> Response {
    match scoped(state, install_id, true).await {
        Ok(scope) => show(state, scope, headers).await,
        Err(e) => error(e),
    }
}
