//! Storage for telemetry ingest: raw events, hourly rollups and metered
//! usage (issue 4).
//!
//! [`IngestStore::ingest`] writes a batch in one transaction: the raw events
//! (skipping any whose (install, event id) is stored already), the rollup
//! counters and distinct-user/session memberships of the new events, the
//! per-day distinct users, and one metered usage record per new event that
//! meters something. A retried or concurrent batch therefore never counts
//! anything twice, and the rollups always equal a recomputation from the raw
//! events ([`calos_core::rollup::fold`]) until retention prunes raw events.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use calos_core::ids::InstallId;
use calos_core::plan::{Limit, Meter, PricingModel, UsageType};
use calos_core::rollup::RollupRow;
use calos_core::telemetry::{TelemetryEvent, UsageRecord};

use crate::StoreResult;

/// One accepted event and the usage it meters, if any.
#[derive(Debug, Clone)]
pub struct IngestEvent {
    pub event: TelemetryEvent,
    pub usage: Option<UsageRecord>,
}

/// The billing period and plan terms usage is metered against.
#[derive(Debug, Clone)]
pub struct MeteringTerms {
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub limits: BTreeMap<Meter, Limit>,
    pub prices: BTreeMap<UsageType, PricingModel>,
    /// Usage from before this time belongs to a billing period that has
    /// closed: it is stored but not metered against the current allowance.
    /// `None` when the current period is the license's first (there is no
    /// earlier period for it to belong to).
    pub closed_before: Option<DateTime<Utc>>,
}

/// A batch of one install's accepted events.
#[derive(Debug, Clone)]
pub struct IngestBatch {
    pub install_id: InstallId,
    pub events: Vec<IngestEvent>,
    pub terms: MeteringTerms,
}

/// What [`IngestStore::ingest`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IngestOutcome {
    /// Events stored now.
    pub inserted: u64,
    /// Events whose id was stored already (a retry, or a concurrent batch).
    pub duplicates: u64,
}

/// Distinct users of one install on one UTC day.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyUsers {
    pub day: NaiveDate,
    pub users: i64,
}

/// Metered usage of one type on one UTC day.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageDay {
    pub day: NaiveDate,
    pub usage_type: UsageType,
    pub quantity: i64,
    pub amount_minor: i64,
}

/// Metered usage of one type in one billing period, split as metered at
/// ingest: what an invoice needs.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodUsage {
    pub usage_type: UsageType,
    pub quantity: i64,
    pub free_quantity: i64,
    pub billable_quantity: i64,
    pub amount_minor: i64,
    /// Overage cost in micro-units of the plan's currency.
    pub cost_micros: i64,
}

/// What one retention pass removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PruneReport {
    pub events: u64,
    pub memberships: u64,
}

/// Part of [`Store`](crate::Store); kept in its own trait so ingest storage
/// can grow without touching the admin-side methods.
#[async_trait]
pub trait IngestStore: Send + Sync {
    /// Stores a batch (see the module docs). Usage is metered against
    /// `terms`: counted in the period starting at `terms.period_start`, free
    /// up to the limit, the rest billable at the plan's price. `Backend` when
    /// the install does not exist (nothing is written).
    async fn ingest(&self, batch: &IngestBatch) -> StoreResult<IngestOutcome>;

    /// Rollup rows of one install with `from <= hour < to`, by hour, type, feature.
    async fn rollups(
        &self,
        install_id: &InstallId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<RollupRow>>;

    /// Distinct users per day with `from <= day < to`, by day.
    async fn daily_users(
        &self,
        install_id: &InstallId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<DailyUsers>>;

    /// Distinct users over the days `from <= day < to` (seats in a period).
    async fn distinct_users(
        &self,
        install_id: &InstallId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<i64>;

    /// Raw events with `from <= ts < to`, by time then event id, at most `limit`.
    async fn list_events(
        &self,
        install_id: &InstallId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<TelemetryEvent>>;

    /// Usage per day and type with `from <= at < to`, by day then type.
    async fn usage_by_day(
        &self,
        install_id: &InstallId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<UsageDay>>;

    /// Usage metered in the billing period starting at `period_start`, by type.
    async fn period_usage(
        &self,
        install_id: &InstallId,
        period_start: DateTime<Utc>,
    ) -> StoreResult<Vec<PeriodUsage>>;

    /// Deletes raw events with `ts < before` and the distinct-count
    /// memberships of hours before it, at most `limit` events per call.
    /// Rollups, daily users and usage records are kept.
    async fn prune_raw_events(&self, before: DateTime<Utc>, limit: u32)
        -> StoreResult<PruneReport>;
}
