//! The shape of one demo customer as plain data: who it is, how its license
//! lived, and how its people use the product. `profiles.rs` holds the values;
//! the generators turn them into licenses, events and usage relative to "now".

use calos_core::license::BillingPeriod;
use calos_core::plan::UsageType;

/// One demo customer.
pub struct Profile {
    /// Stable name: seeds this customer's RNG and derives its install id and
    /// user hashes, so adding a profile never changes another one's data.
    pub key: &'static str,
    /// A fixed install id (the seed's demo install); `None` derives one from `key`.
    pub install_id: Option<&'static str>,
    pub name: &'static str,
    pub email: &'static str,
    pub company: &'static str,
    pub domains: &'static [&'static str],
    /// The plan the license was created on (a `ChangePlan` step may move it).
    pub plan: &'static str,
    pub period: BillingPeriod,
    pub notes: &'static str,
    pub lifecycle: Lifecycle,
    pub activity: Option<Activity>,
    pub usage: &'static [UsageSpec],
    /// API calls metered one by one, with an exact count in the current period.
    pub metered_api: Option<MeteredApi>,
    /// Product name and primary colour for white-labelled deployments.
    pub brand: Option<(&'static str, &'static str)>,
}

/// When the license was created and what happened to it since, in days before now.
pub struct Lifecycle {
    pub created_days_ago: i64,
    /// 0 creates a paid (active) license, otherwise a trial of this length.
    pub trial_days: u32,
    pub steps: &'static [(i64, Step)],
}

/// An admin command in a license's past (see `calos_core::license::LicenseCommand`).
pub enum Step {
    Activate,
    Suspend(&'static str),
    Reactivate,
    Revoke(&'static str),
    /// Sets the contract end to this many days before now.
    RenewUntilDaysAgo(i64),
    ChangePlan(&'static str, Option<BillingPeriod>),
    ExtendTrial(u32),
}

/// How a customer's people use the product, in the customer's own time zone.
pub struct Activity {
    /// The window `[now - from_days_ago days, now - until_days_ago days)`.
    pub from_days_ago: i64,
    pub until_days_ago: i64,
    /// Mean events per day of use (weekends of a weekday-only team do not count).
    pub events_per_day: f64,
    /// Last day's rate relative to the first, minus one: 0.5 grows by half, -0.6 fades.
    pub growth: f64,
    /// Weekend days' weight relative to weekdays; 0 means no weekend use at all.
    pub weekend_factor: f64,
    pub tz_offset_hours: i32,
    /// Local hours `[start, end)` within which every in-app event happens.
    pub hours: (u32, u32),
    /// Relative activity of each user; its length is the number of distinct users.
    pub user_weights: &'static [u32],
    /// The devices users work on; user `i` mostly uses `agents[i % len]`.
    pub agents: &'static [&'static str],
    /// Events per session, inclusive.
    pub session_len: (u32, u32),
    /// Whether sessions of three or more events open and close with
    /// `session_start` / `session_end`.
    pub session_markers: bool,
    /// Weights of in-session `page_view`, `feature_used` and `api_call` events.
    pub mix: (u32, u32, u32),
    /// Product features and their weights; never lists a feature the customer does not use.
    pub features: &'static [(&'static str, u32)],
    /// Share of in-session events that are errors (4xx/5xx).
    pub error_rate: f64,
    /// Share of all events made by scripts and SDKs outside sessions (no user).
    pub script_share: f64,
    pub script_agents: &'static [&'static str],
    /// Inclusive bounds of `duration_ms`.
    pub duration_ms: (u32, u32),
    /// A `source` prop on every event (the seed's demo rows carried `"demo"`).
    pub source_prop: Option<&'static str>,
}

/// Metered usage spread over the activity days like the events.
pub struct UsageSpec {
    pub kind: UsageType,
    pub per_day: f64,
    /// Inclusive quantity bounds per record.
    pub quantity: (i64, i64),
    /// Inclusive bounds, in minor units, of the money amount per unit (POS, crypto).
    pub unit_amount_minor: Option<(i64, i64)>,
}

/// API calls from the customer's own integration, each one an `api_call`
/// event and one metered `api_request` unit at the same instant.
pub struct MeteredApi {
    /// Rate before the current billing period (within the activity window).
    pub per_day_before_period: f64,
    /// Exactly this many inside the current billing period.
    pub in_current_period: u32,
    pub agent: &'static str,
    pub endpoints: &'static [&'static str],
}

impl UsageSpec {
    pub const fn new(
        kind: UsageType,
        per_day: f64,
        quantity: (i64, i64),
        unit_amount_minor: Option<(i64, i64)>,
    ) -> Self {
        Self {
            kind,
            per_day,
            quantity,
            unit_amount_minor,
        }
    }
}
