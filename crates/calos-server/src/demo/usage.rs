//! Metered usage: records spread over the customer's active days like its
//! events, and API calls metered one by one with an exact count in the
//! current billing period (the customer at 95% of its API limit).

use chrono::{DateTime, Utc};
use rand::distributions::{Distribution, WeightedIndex};
use rand::Rng;
use serde_json::json;

use calos_core::ids::InstallId;

use calos_core::telemetry::{EventType, TelemetryEvent, UsageRecord};

use super::days::{instant_between, spread, total_for, Day};
use super::events::blank;
use super::spec::{MeteredApi, UsageSpec};

/// Usage records for `specs` over the activity days, inside working hours.
pub fn generate(
    specs: &[UsageSpec],
    install_id: &InstallId,
    days: &[Day],
    rng: &mut impl Rng,
) -> anyhow::Result<Vec<UsageRecord>> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let total = total_for(days, specs.iter().map(|s| s.per_day).sum());
    let kind_pick = WeightedIndex::new(specs.iter().map(|s| s.per_day))?;
    let per_day = spread(days, total, rng)?;
    let mut out = Vec::with_capacity(total as usize);
    for (day, count) in days.iter().zip(per_day) {
        let (open, close) = (day.open, day.close);
        for _ in 0..count {
            let spec = &specs[kind_pick.sample(rng)];
            let quantity = rng.gen_range(spec.quantity.0..=spec.quantity.1.max(spec.quantity.0));
            let amount_minor = spec
                .unit_amount_minor
                .map(|(lo, hi)| (0..quantity).map(|_| rng.gen_range(lo..=hi.max(lo))).sum());
            out.push(UsageRecord {
                install_id: install_id.clone(),
                usage_type: spec.kind,
                quantity,
                amount_minor,
                at: instant_between(open, close, rng),
            });
        }
    }
    Ok(out)
}

/// The metered API calls: before the current period at the given rate, and
/// exactly `in_current_period` from `period_start` to the window's end.
/// Each call is an `api_call` event, which meters one API request at ingest.
pub fn metered_api(
    spec: &MeteredApi,
    install_id: &InstallId,
    days: &[Day],
    period_start: DateTime<Utc>,
    rng: &mut impl Rng,
) -> anyhow::Result<Vec<TelemetryEvent>> {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Ok(Vec::new());
    };
    let window_end = last.to;
    if period_start >= window_end {
        anyhow::bail!("the current billing period starts after the activity window ends");
    }
    let before_days: Vec<Day> = days
        .iter()
        .filter(|d| d.to <= period_start)
        .copied()
        .collect();
    let before = total_for(&before_days, spec.per_day_before_period);
    let mut times = Vec::with_capacity((before + spec.in_current_period) as usize);
    for _ in 0..before {
        times.push(instant_between(
            first.from,
            period_start.min(window_end),
            rng,
        ));
    }
    let current_from = period_start.max(first.from);
    for _ in 0..spec.in_current_period {
        times.push(instant_between(current_from, window_end, rng));
    }

    let mut events = Vec::with_capacity(times.len());
    for ts in times {
        let index = rng.gen_range(0..spec.endpoints.len().max(1));
        let path = spec
            .endpoints
            .get(index)
            .copied()
            .unwrap_or("/api/v1/status");
        let mut e = blank(install_id, EventType::ApiCall, ts);
        e.feature = Some("api".to_owned());
        e.endpoint = Some(path.to_owned());
        e.user_agent = Some(spec.agent.to_owned());
        e.status = Some(200);
        e.duration_ms = Some(rng.gen_range(40..=420));
        e.props.insert("method".into(), json!("GET"));
        events.push(e);
    }
    Ok(events)
}
