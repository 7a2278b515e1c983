//! What the analyzer reads: aggregates only. Every slice here is bounded by
//! hours, days, sessions, distinct user agents or meters — never by the raw
//! event count — so a customer with ten million events costs the same to
//! analyse as one with ten thousand.
//!
//! What the store must provide (and which of it it keeps today):
//!
//! | field | source | kept today |
//! |---|---|---|
//! | `hours` | hourly rollups of the window folded per hour ([`super::HourTotals`], at most 24 × 91 rows) | yes |
//! | `features` | hourly rollups of the window folded per feature over [`super::FeatureWindows`] ([`super::FeatureTotals`]) | yes |
//! | `daily_users` | distinct users per UTC day over the same 90 days, kept per (install, day) at ingest | yes |
//! | `active_users` | distinct users over the last 7 and 28 days, from each user's last day seen (kept at ingest) or, when a user was seen later, the daily memberships | yes |
//! | `meters` | period usage per meter (`IngestStore::period_usage` folded with [`crate::metering::per_meter`]), plus seats (distinct users in the period) and domains | yes |
//! | `daily_usage` | `IngestStore::usage_by_day` over the last 28 days, mapped to meters | yes |
//! | `sessions` | one row per (install, session id) upserted at ingest with the session's user, first and last event time and event count; the analyzer wants the order statistics ([`SessionSample`]) of the most recent [`MAX_SESSIONS`] of the 90 days, whose lengths and event counts the store reads as one row per install | yes |
//! | `user_agents` | **new rollup**: one row per (install, user agent string) with an event count, upserted at ingest; the analyzer wants the [`MAX_USER_AGENTS`] most frequent of the 90 days | no |
//! | `domains_seen` | distinct domains the deployment verified from (verify requests) | partly: allowed domains are on the license |

use chrono::{DateTime, NaiveDate, Utc};

use super::compact::{FeatureTotals, HourTotals};
use super::session_sample::SessionSample;
use crate::license::License;
use crate::plan::{Limit, Meter, Plan};

/// How far back the analysis looks.
pub const WINDOW_DAYS: i64 = 90;
/// Most sessions the analyzer reads (the most recent ones); more add nothing
/// to a median and a 90th percentile.
pub const MAX_SESSIONS: usize = 5_000;
/// Most distinct user agents the analyzer parses (the most frequent ones).
pub const MAX_USER_AGENTS: usize = 500;

/// Everything [`super::analyze`] needs about one install.
#[derive(Debug, Clone, Copy)]
pub struct CultureInput<'a> {
    pub now: DateTime<Utc>,
    pub license: &'a License,
    /// The plan the license is on.
    pub plan: &'a Plan,
    /// Every plan on offer: an upgrade upsell names the cheapest one that
    /// lifts the limit being hit. May be empty (upsells then name no plan).
    pub plans: &'a [Plan],
    /// The customer's UTC offset in minutes when known (set on the
    /// customer); otherwise the analyzer infers it from the daily rhythm.
    pub timezone_offset_minutes: Option<i32>,
    /// Per-hour totals of the last [`WINDOW_DAYS`] days (more is trimmed),
    /// in any order.
    pub hours: &'a [HourTotals],
    /// Per-feature totals over [`super::FeatureWindows::at`]`(now)`.
    pub features: &'a [FeatureTotals],
    /// Distinct users per UTC day over the same window.
    pub daily_users: &'a [(NaiveDate, i64)],
    pub active_users: ActiveUsers,
    /// The order statistics of the most recent sessions (at most
    /// [`MAX_SESSIONS`]) the session figures need.
    pub sessions: SessionSample,
    /// Distinct user-agent strings with their event counts (at most
    /// [`MAX_USER_AGENTS`] are read, the most frequent first).
    pub user_agents: &'a [(String, i64)],
    /// Use of each meter in the current billing period.
    pub meters: &'a [MeterUse],
    /// Metered quantity per day and meter over the last 28 days, for the
    /// projected date of hitting a limit.
    pub daily_usage: &'a [MeterDay],
    /// Distinct domains the deployment has been seen on.
    pub domains_seen: u64,
    /// Whether the customer has white-label branding configured (white
    /// label is used through configuration, not events).
    pub branding_configured: bool,
}

/// Distinct users over recent windows (exact, from the daily-user memberships).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActiveUsers {
    pub last_7_days: i64,
    pub last_28_days: i64,
}

/// One session as a per-session summary: who, when it started and ended,
/// how many events it had. Aggregate-sized: one row per session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSpan {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub user: Option<String>,
    pub events: i64,
}

/// One meter's use in the current billing period against the plan's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeterUse {
    pub meter: Meter,
    pub used: i64,
    pub limit: Limit,
}

impl MeterUse {
    /// One entry per meter of `plan`, with the used amounts given (absent = 0).
    pub fn for_plan(plan: &Plan, used: &std::collections::BTreeMap<Meter, i64>) -> Vec<MeterUse> {
        Meter::ALL
            .into_iter()
            .map(|meter| MeterUse {
                meter,
                used: used.get(&meter).copied().unwrap_or(0),
                limit: plan.limit(meter),
            })
            .collect()
    }
}

/// Metered quantity of one meter on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeterDay {
    pub day: NaiveDate,
    pub meter: Meter,
    pub quantity: i64,
}
