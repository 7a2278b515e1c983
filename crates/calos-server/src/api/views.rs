//! JSON shapes the admin API renders (camelCase, as the seed named them).

use chrono::{DateTime, Utc};
use serde::Serialize;

use calos_core::audit::AuditRecord;
use calos_core::license::License;
use calos_core::plan::{Limit, Plan};

/// A license as the API shows it; `tier` is the plan slug.
#[derive(utoipa::ToSchema, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseView<'a> {
    pub install_id: &'a str,
    pub customer_id: i64,
    pub tier: &'a str,
    pub tier_name: Option<&'a str>,
    pub status: &'static str,
    pub billing_period: &'static str,
    pub trial_ends_at: Option<DateTime<Utc>>,
    pub converted_at: Option<DateTime<Utc>>,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub status_reason: Option<&'a str>,
    pub notes: &'a str,
    pub domains: Vec<&'a str>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl<'a> LicenseView<'a> {
    pub fn new(l: &'a License, plan: Option<&'a Plan>) -> Self {
        LicenseView {
            install_id: l.install_id.as_str(),
            customer_id: l.customer_id,
            tier: l.plan.as_str(),
            tier_name: plan.map(|p| p.name.as_str()),
            status: l.status.as_str(),
            billing_period: l.billing_period.as_str(),
            trial_ends_at: l.trial_ends_at,
            converted_at: l.converted_at,
            current_period_start: l.current_period_start,
            current_period_end: l.current_period_end,
            ends_at: l.ends_at,
            status_reason: l.status_reason.as_deref(),
            notes: l.notes.as_str(),
            domains: l.domains.iter().map(|d| d.as_str()).collect(),
            created_at: l.created_at,
            updated_at: l.updated_at,
            last_seen_at: l.last_seen_at,
            version: l.version,
        }
    }
}

/// Used / limit / percent for one meter; `limit` null means unlimited.
#[derive(utoipa::ToSchema, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterUse {
    pub used: i64,
    pub limit: Option<u64>,
    pub percent: Option<f64>,
}

impl MeterUse {
    pub fn new(used: i64, limit: Limit) -> Self {
        let used_u = u64::try_from(used).unwrap_or(0);
        MeterUse {
            used,
            limit: limit.into(),
            percent: limit
                .percent_used(used_u)
                .map(|p| (p * 10.0).round() / 10.0),
        }
    }
}

/// An audit record plus a readable actor label.
#[derive(utoipa::ToSchema)]
#[schema(as = AuditEntry)]
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditView<'a> {
    #[serde(flatten)]
    pub record: &'a AuditRecord,
    pub actor_label: String,
}

impl<'a> AuditView<'a> {
    pub fn new(record: &'a AuditRecord) -> Self {
        AuditView {
            actor_label: record.entry.actor.label(),
            record,
        }
    }
}

/// Major units for display fields the seed's dashboard reads (`monthlyRevenue`).
pub fn major_units(minor: i64) -> f64 {
    minor as f64 / 100.0
}
