//! The culture analyzer ("the scientist"): what an account manager needs
//! before a call — how a customer's people use the product, how healthy the
//! account is, where the upsells are and what signals churn.
//!
//! Pure code over aggregates ([`CultureInput`]): rollups folded per hour
//! and per feature ([`compact`]), daily
//! distinct users, per-session summaries, distinct user agents and meter
//! use. No SQL, no I/O, no async; the cost does not grow with raw events.
//! The health score's components and weights are in [`health::WEIGHTS`].

mod activity;
mod behavior;
mod churn;
mod clock;
mod compact;
mod features;
mod health;
mod input;
mod insights;
mod limits;
mod math;
mod profile;
mod reliability;
mod session_sample;
mod team;
mod techstack;
mod upsells;

#[cfg(test)]
mod tests;

use chrono::TimeDelta;

pub use compact::{
    compact, feature_totals, good_events, good_of, FeatureDay, FeatureTotals, FeatureWindows,
    HourTotals,
};
pub use health::WEIGHTS as HEALTH_WEIGHTS;
pub use input::{
    ActiveUsers, CultureInput, MeterDay, MeterUse, SessionSpan, MAX_SESSIONS, MAX_USER_AGENTS,
    WINDOW_DAYS,
};
pub use profile::*;
pub use session_sample::{
    measured_seconds, quantile_position, Bracket, SessionSample, MAX_SESSION_SECONDS, MEDIAN,
    MIN_SESSION_EVENTS, P90,
};
pub use upsells::{HEAVY_FREE_EVENTS_PER_DAY, LIMIT_HIGH_PERCENT, LIMIT_UPSELL_PERCENT};

use clock::{good, sum_within, Clock};

/// Fewer events than this in the window is not enough to judge a customer.
pub const MIN_EVENTS: i64 = 20;
/// Nor is activity on fewer distinct days than this.
pub const MIN_ACTIVE_DAYS: usize = 2;

/// Analyses one install. Never fails: missing data yields `null` figures and
/// `enoughData: false`, not an error or a guess.
pub fn analyze(input: &CultureInput<'_>) -> CultureProfile {
    let (offset, tz_source) = behavior::resolve_timezone(input);
    let clock = Clock {
        now: input.now,
        offset_minutes: offset,
    };
    // Only the analysis window counts, whatever the caller passed (copied
    // only when the caller passed more, which the store does not).
    let window = clock.window(WINDOW_DAYS, -1);
    let trimmed: Vec<HourTotals>;
    let hours = if input.hours.iter().all(|r| window.contains(r.hour)) {
        input.hours
    } else {
        trimmed = input
            .hours
            .iter()
            .filter(|r| window.contains(r.hour))
            .copied()
            .collect();
        &trimmed
    };
    let input = &CultureInput { hours, ..*input };

    let (activity, facts) = activity::analyze(input.hours, &clock);
    let enough_data = activity.events >= MIN_EVENTS && facts.days_with_events >= MIN_ACTIVE_DAYS;
    let behavior = behavior::analyze(input, &clock, tz_source);
    let working_days: Vec<usize> = behavior
        .working_days
        .iter()
        .filter_map(|d| behavior::WEEKDAYS.iter().position(|w| w == d))
        .collect();
    let today = clock.now.date_naive();
    let team_size = team::estimate(input.active_users, input.daily_users, today, &working_days);
    let adoption = features::analyze(input, &clock);
    let api_calls = sum_within(&clock, input.hours, WINDOW_DAYS, -1, |r| r.api_events);
    let tech_stack = techstack::analyze(input.user_agents, activity.events, api_calls);
    let reliability = reliability::analyze(input.hours, input.features, &clock);
    let limits = limits::analyze(input, &clock);

    let since_28 = today - TimeDelta::days(activity::RATE_DAYS);
    let health = health::score(&health::Measures {
        clock: &clock,
        license: input.license,
        activity: &activity,
        facts: &facts,
        behavior: &behavior,
        adoption: &adoption,
        error_rate: reliability::judged_rate(input.hours, &clock),
        good_events_28: sum_within(&clock, input.hours, activity::RATE_DAYS, -1, good),
        user_days_28: input
            .daily_users
            .iter()
            .filter(|(d, _)| *d >= since_28)
            .map(|(_, n)| (*n).max(0))
            .sum(),
        enough_data,
    });
    let upsells = upsells::find(&upsells::Facts {
        plan: input.plan,
        plans: input.plans,
        limits: &limits,
        adoption: &adoption,
        events_per_day: activity.events_per_day,
        domains_seen: input.domains_seen,
        enough_data,
    });
    let churn_risk = churn::assess(&churn::Inputs {
        clock: &clock,
        license: input.license,
        activity: &activity,
        facts: &facts,
        reliability: &reliability,
        breadth: adoption.breadth(),
    });

    let mut profile = CultureProfile {
        install_id: input.license.install_id.as_str().to_owned(),
        analyzed_at: input.now,
        plan: input.plan.slug.as_str().to_owned(),
        license_status: input.license.status.as_str().to_owned(),
        enough_data,
        health,
        team_size,
        activity,
        behavior,
        unused_features: if enough_data {
            adoption.unused.clone()
        } else {
            Vec::new()
        },
        rarely_used_features: adoption.rarely_used.clone(),
        features: adoption.features,
        tech_stack,
        reliability,
        limits,
        upsells,
        churn_risk,
        insights: Vec::new(),
    };
    profile.insights = insights::write(&profile, &input.plan.name);
    profile
}
