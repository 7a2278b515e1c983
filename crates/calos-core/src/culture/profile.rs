//! The analyzer's answer, as the culture endpoint serialises it (camelCase).
//! Every figure carries the numbers behind it so an account manager can
//! check it; anything that could not be measured is `null`, never invented.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CultureProfile {
    pub install_id: String,
    pub analyzed_at: DateTime<Utc>,
    pub plan: String,
    pub license_status: String,
    /// False when there is too little telemetry to judge: the score is then
    /// `null` and no telemetry-based upsell is raised.
    pub enough_data: bool,
    pub health: Health,
    pub team_size: TeamSize,
    pub activity: Activity,
    pub behavior: Behavior,
    pub features: Vec<FeatureUsage>,
    /// Observable plan features with no use at all in the window.
    pub unused_features: Vec<String>,
    /// Observable plan features used, but for under 2% of activity.
    pub rarely_used_features: Vec<String>,
    pub tech_stack: TechStack,
    pub reliability: Reliability,
    pub limits: Vec<LimitUse>,
    /// Sorted: high priority first.
    pub upsells: Vec<Upsell>,
    pub churn_risk: ChurnRisk,
    pub insights: Vec<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CultureHealth))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// 0–100, or `null` when there is not enough data.
    pub score: Option<u32>,
    /// `excellent`, `good`, `at risk`, `critical` or `not enough data`.
    pub label: String,
    pub components: Vec<HealthComponent>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthComponent {
    pub name: String,
    /// Share of the total score, in points (the weights add up to 100).
    pub weight: u32,
    /// 0–100 for this component alone; `null` without data.
    pub score: Option<f64>,
    /// What was measured, in words.
    pub detail: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamSize {
    pub estimate: Option<i64>,
    pub low: Option<i64>,
    pub high: Option<i64>,
    /// Distinct users in the last 7 days.
    pub weekly_users: i64,
    /// Distinct users in the last 28 days.
    pub monthly_users: i64,
    /// Median distinct users on an active working day (UTC days).
    pub median_daily_users: Option<f64>,
    pub basis: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    pub events: i64,
    pub errors: i64,
    /// Events per day over the last 28 days, or over the days since the
    /// first event when that is shorter.
    pub events_per_day: f64,
    pub days_measured: f64,
    /// Days with activity among the last 28 (customer's time zone).
    pub active_days_last_28: u32,
    pub first_activity: Option<DateTime<Utc>>,
    pub last_activity: Option<DateTime<Utc>>,
    /// Non-error events in the last 14 days and the 14 before.
    pub last_14_days: i64,
    pub previous_14_days: i64,
    /// `rising`, `steady`, `falling`, `new` or `none`.
    pub trend: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Behavior {
    /// The time zone every hour and day below is in, e.g. `UTC+01:00`.
    pub timezone: String,
    pub timezone_offset_minutes: i32,
    /// `customer` (set on the customer), `inferred` (from the daily rhythm)
    /// or `default` (UTC: no rhythm to infer from).
    pub timezone_source: String,
    /// Events of people (not scripts) by local hour, 0–23.
    pub hourly: Vec<i64>,
    /// Events of people by local weekday, Monday first.
    pub weekdays: Vec<i64>,
    /// Local hours with at least half the busiest hour's activity.
    pub peak_hours: Vec<u32>,
    /// e.g. `09:00–17:00` when the peak hours are one block.
    pub working_hours: Option<String>,
    /// Weekdays with at least a third of the busiest day's activity.
    pub working_days: Vec<String>,
    /// Share of people's activity on Saturday and Sunday, 0–1.
    pub weekend_share: f64,
    pub sessions: SessionStats,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStats {
    /// Sessions with two or more events (a lone event has no length).
    pub count: usize,
    pub median_minutes: Option<f64>,
    pub p90_minutes: Option<f64>,
    pub median_events: Option<f64>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureUsage {
    pub name: String,
    pub events: i64,
    /// Share of all feature-tagged events, 0–1.
    pub share: f64,
    /// `rising`, `steady`, `falling`, `new` or `stopped` (last 7 days vs the 7 before).
    pub trend: String,
    pub last_7_days: i64,
    pub previous_7_days: i64,
    pub errors: i64,
    pub error_rate: f64,
    /// The plan entitlement this feature counts towards, if any.
    pub entitlement: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TechStack {
    pub browsers: Vec<Share>,
    pub operating_systems: Vec<Share>,
    pub device_categories: Vec<Share>,
    pub api_clients: Vec<Share>,
    pub sdk_languages: Vec<Share>,
    pub crawlers: i64,
    /// Events from user agents no rule recognised.
    pub unrecognised: i64,
    /// Share of all events that were API calls, 0–1.
    pub api_call_share: f64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Share {
    pub name: String,
    pub events: i64,
    /// 0–1 of the events in the same list.
    pub share: f64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reliability {
    pub events: i64,
    pub errors: i64,
    /// 0–1 over the whole window.
    pub error_rate: f64,
    pub last_7_days_rate: Option<f64>,
    pub previous_7_days_rate: Option<f64>,
    /// `rising`, `steady`, `falling` or `unknown`.
    pub trend: String,
    /// Features with at least one error, worst rate first.
    pub by_feature: Vec<FeatureErrors>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureErrors {
    pub name: String,
    pub events: i64,
    pub errors: i64,
    pub error_rate: f64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitUse {
    /// The meter, e.g. `api_requests`.
    pub name: String,
    pub used: i64,
    /// The allowance; 0 means the plan does not include it.
    pub limit: u64,
    /// Exactly `used × 100 ÷ limit`; `null` when the limit is 0.
    pub percent: Option<f64>,
    /// Counted per billing period (not seats or domains).
    pub per_period: bool,
    pub period_end: Option<DateTime<Utc>>,
    /// Recent daily use (mean of the last 7 days).
    pub daily_rate: Option<f64>,
    /// When the allowance runs out at the current pace and growth, if that
    /// happens before the period ends.
    pub projected_date: Option<NaiveDate>,
    pub reached: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Medium,
    High,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Upsell {
    /// `tier_upgrade`, `limit_raise`, `adoption` or `multi_domain`.
    pub kind: String,
    pub priority: Priority,
    /// One line a salesperson can read aloud.
    pub message: String,
    /// The plan to propose, when there is one.
    pub target_plan: Option<String>,
    /// The numbers behind it.
    pub evidence: serde_json::Value,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChurnRisk {
    /// `low`, `medium` or `high`.
    pub level: String,
    pub signals: Vec<ChurnSignal>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChurnSignal {
    /// `falling_activity`, `gone_quiet`, `rising_errors`, `trial_ending_low_use`
    /// or `license_inactive`.
    pub kind: String,
    pub message: String,
    pub evidence: serde_json::Value,
}
