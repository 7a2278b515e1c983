//! Storage for the culture analyzer (issue 5): everything
//! [`calos_core::culture::CultureInput`] needs about a set of installs, read
//! from rollups only (never raw events), plus the customer's time zone and a
//! cache of health scores for the customer list.
//!
//! Two rollups exist for the analyzer alone and are folded at ingest in the
//! same transaction as the hourly rollups (only events stored for the first
//! time are folded, so retries and duplicates count once):
//! * sessions: one row per (install, session id) with the session's user
//!   (the smallest user id seen in it, byte order), first and last event
//!   time and event count;
//! * user agents: one row per (install, UTC day, user-agent string) with an
//!   event count — the day lets the analysis keep to its window;
//! * metered usage per (install, UTC day, meter), from the usage the new
//!   events meter.
//!
//! Two more tables keep the hourly rollups in the folded forms the analyzer
//! reads ([`calos_core::culture::compact`]), so a read costs the same for
//! ten million events as for ten thousand:
//! * hour totals: one row per (install, hour) — a
//!   [`HourTotals`] of every rollup row of the hour;
//! * feature days: one row per (install, UTC day, feature) — a
//!   [`FeatureDay`](calos_core::culture::FeatureDay); the few days an
//!   analysis window cuts are read from that day's rollups instead
//!   ([`calos_core::culture::feature_totals`]).
//!
//! Ingest changes them in the transaction that upserts the rollups, by the
//! difference each changed rollup bucket makes ([`crate::totals_delta`]).
//! Like the rollups they are kept beyond raw-event retention (pruning
//! removes raw events and distinct-count memberships only, and events older
//! than retention are refused, so those hours never change again).
//! Rollups written some other way (an import, the bench) are folded in with
//! [`CultureStore::rebuild_culture_totals`] — the same statements the
//! migration ran for the data that existed before the tables did.
//!
//! [`CultureStore::culture_data`] reads a whole set of installs in a fixed
//! number of statements (one per input kind, whatever the number of
//! installs), which is what lets the customer list show every license's
//! health without a query per license.

use std::collections::BTreeMap;

use async_trait::async_trait;
use calos_core::audit::AuditEntry;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use calos_core::culture::{ActiveUsers, FeatureTotals, HourTotals, MeterDay, SessionSample};
use calos_core::ids::InstallId;
use calos_core::plan::Meter;

use crate::StoreResult;

/// What to read for each install.
#[derive(Debug, Clone, Copy)]
pub struct CultureWindow {
    pub now: DateTime<Utc>,
    /// Hourly totals, daily users, sessions (by last event) and user agents
    /// from here on.
    pub from: DateTime<Utc>,
    /// Metered usage per day from this day on (the analyzer projects limits
    /// from the last 28 days).
    pub usage_from: NaiveDate,
    /// Most recent sessions per install the session sample is taken of.
    pub max_sessions: usize,
    /// Most frequent user agents per install.
    pub max_user_agents: usize,
}

/// Everything stored about one install that the analyzer reads, except
/// its license and plan (which the caller has).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CultureData {
    /// Set on the customer by an admin; `None` lets the analyzer infer it.
    pub timezone_offset_minutes: Option<i32>,
    /// The hourly rollups from `window.from` folded per hour, by hour (the
    /// hour totals as kept).
    pub hours: Vec<HourTotals>,
    /// The hourly rollups folded per feature (from the feature days) over
    /// [`FeatureWindows::at`](calos_core::culture::FeatureWindows::at)`(window.now)`,
    /// by feature.
    pub features: Vec<FeatureTotals>,
    /// Distinct users per UTC day, by day.
    pub daily_users: Vec<(NaiveDate, i64)>,
    /// Distinct users on the 7 and 28 UTC days ending with `now`'s day.
    pub active_users: ActiveUsers,
    /// The order statistics of the `window.max_sessions` newest sessions
    /// (by last event, ties by session id) since `window.from`:
    /// [`SessionSample::from_spans`] of them, built with
    /// [`SessionSample::from_lengths`] from their lengths and event counts
    /// read as one row per install (not one row per session).
    pub sessions: SessionSample,
    /// Most events first; ties by the string.
    pub user_agents: Vec<(String, i64)>,
    /// Units metered per meter in the license's current billing period.
    pub period_usage: BTreeMap<Meter, i64>,
    /// Distinct users in the license's current billing period (its days).
    pub seats: i64,
    /// Metered units per UTC day and meter, by day then meter.
    pub daily_usage: Vec<MeterDay>,
    /// Domains verify has seen the deployment on since `window.from`.
    pub domains_seen: u64,
    pub branding_configured: bool,
}

impl CultureData {
    /// Puts every list in the order documented on its field, whatever order
    /// the database returned (both backends call this last).
    pub fn settle(&mut self) {
        self.hours.sort_by_key(|h| h.hour);
        self.features.sort_by(|a, b| a.feature.cmp(&b.feature));
        self.daily_users.sort();
        self.user_agents
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.daily_usage.sort_by_key(|u| (u.day, u.meter));
    }
}

/// A cached health score of one license.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthScore {
    pub install_id: InstallId,
    /// `None` when there was not enough data.
    pub score: Option<u32>,
    pub label: String,
    pub computed_at: DateTime<Utc>,
}

/// Part of [`Store`](crate::Store).
#[async_trait]
pub trait CultureStore: Send + Sync {
    /// The analyzer's data for each install that exists, keyed by install
    /// (unknown installs are left out). A fixed number of statements for any
    /// number of installs.
    async fn culture_data(
        &self,
        installs: &[InstallId],
        window: &CultureWindow,
    ) -> StoreResult<BTreeMap<InstallId, CultureData>>;

    /// Recomputes the hour totals and feature days of these installs from
    /// their hourly rollups, replacing what was kept, for rollups that were
    /// written other than through ingest. Waits for ingest transactions in
    /// flight and holds off new ones until it commits, so no batch is
    /// counted twice or missed. Unknown installs are ignored.
    async fn rebuild_culture_totals(&self, installs: &[InstallId]) -> StoreResult<()>;

    /// Sets (or clears, with `None`) the time zone of the customer owning
    /// `install_id`, with its audit entry. `NotFound` for an unknown install.
    async fn set_customer_timezone(
        &self,
        install_id: &InstallId,
        offset_minutes: Option<i32>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;

    /// Creates or replaces cached health scores. Every install must exist.
    async fn put_health_scores(&self, scores: &[HealthScore]) -> StoreResult<()>;

    /// The cached health scores of these installs (absent when never
    /// computed), in one statement.
    async fn health_scores(&self, installs: &[InstallId]) -> StoreResult<Vec<HealthScore>>;
}
