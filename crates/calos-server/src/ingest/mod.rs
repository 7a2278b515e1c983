//! The one telemetry ingest path: the HTTP endpoint and the demo generator
//! both go through [`ingest`], so what the demo shows is what real traffic
//! produces. Validation is pure (`calos_core::ingest`); this module turns a
//! validated batch into a store write and the answer the client gets.

pub mod limits;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use calos_core::ingest::{validate_batch, IngestContext};
use calos_core::license::License;
use calos_core::plan::Plan;
use calos_core::protocol::{RejectedEvent, TelemetryAck};
use calos_store::{IngestBatch, IngestEvent, MeteringTerms, Store, StoreResult};

/// Validates `events` for `license` on `plan`, stores the good ones (with
/// their rollups and metered usage) in one transaction, and says what
/// happened to each. Nothing is written when no event is valid.
pub async fn ingest(
    store: &dyn Store,
    license: &License,
    plan: &Plan,
    events: &[Value],
    now: DateTime<Utc>,
    retention: Duration,
) -> StoreResult<TelemetryAck> {
    let ctx = IngestContext {
        install_id: license.install_id.clone(),
        now,
        retention,
        currency: plan.currency.clone(),
    };
    let verdict = validate_batch(events, &ctx);
    let rejected = verdict
        .rejected
        .into_iter()
        .map(|(index, event_id, reason)| RejectedEvent {
            index,
            event_id,
            reason: reason.to_string(),
        })
        .collect();
    let mut ack = TelemetryAck {
        accepted: 0,
        duplicates: verdict.duplicates_in_batch,
        rejected,
    };
    if verdict.valid.is_empty() {
        return Ok(ack);
    }
    let batch = IngestBatch {
        install_id: license.install_id.clone(),
        events: verdict
            .valid
            .into_iter()
            .map(|v| IngestEvent {
                event: v.event,
                usage: v.usage,
            })
            .collect(),
        terms: terms(license, plan),
    };
    let outcome = store.ingest(&batch).await?;
    ack.accepted = outcome.inserted;
    ack.duplicates += outcome.duplicates;
    Ok(ack)
}

/// Usage is metered in the license's current billing period, against its
/// plan's limits and prices. In a license's first period everything counts
/// toward it (events made minutes before the license was issued included);
/// later, usage from before the period start belongs to a closed period.
pub fn terms(license: &License, plan: &Plan) -> MeteringTerms {
    let first_period = license.current_period_start <= license.created_at + Duration::minutes(1);
    MeteringTerms {
        period_start: license.current_period_start,
        period_end: license.current_period_end,
        limits: plan.limits.clone(),
        prices: plan.usage_prices.clone(),
        closed_before: (!first_period).then_some(license.current_period_start),
    }
}
