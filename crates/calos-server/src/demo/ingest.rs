//! Sends the generated telemetry and usage through the real ingest path
//! (`crate::ingest::ingest`: validation, dedup, rollups, metering), as a
//! deployment's SDK would, so demo rollups and metered usage are real.

use anyhow::Context;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use calos_core::ingest::MAX_BATCH_EVENTS;
use calos_core::license::License;
use calos_core::plan::Plan;
use calos_core::protocol::WireEvent;
use calos_core::telemetry::{TelemetryEvent, UsageRecord};
use calos_store::Store;

/// An event as the SDK would send it.
pub fn wire_event(e: &TelemetryEvent) -> anyhow::Result<Value> {
    let wire = WireEvent {
        event_id: e.event_id.clone(),
        event_type: e.event_type.as_str().to_owned(),
        feature: e.feature.clone(),
        user: e.user.clone(),
        session: e.session.clone(),
        ts: e.ts.to_rfc3339_opts(SecondsFormat::Micros, true),
        user_agent: e.user_agent.clone(),
        endpoint: e.endpoint.clone(),
        duration_ms: e.duration_ms.map(f64::from),
        status: e.status,
        error: e.error.clone(),
        meter: None,
        quantity: None,
        amount_minor: None,
        currency: None,
        props: e.props.clone(),
    };
    Ok(serde_json::to_value(wire)?)
}

/// A usage record as the SDK's `usage` event, with id `demo-u-<n>`.
pub fn wire_usage(n: usize, u: &UsageRecord, currency: &str) -> Value {
    let mut v = json!({
        "eventId": format!("demo-u-{n}"),
        "type": "usage",
        "ts": u.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "meter": u.usage_type.as_str(),
        "quantity": u.quantity,
    });
    if let Some(amount) = u.amount_minor {
        v["amountMinor"] = json!(amount);
        v["currency"] = json!(currency);
    }
    v
}

/// Ingests `events` in batches; every one must be accepted or already
/// stored (demo data that fails validation is a bug). Returns how many were new.
pub async fn send(
    store: &dyn Store,
    license: &License,
    plan: &Plan,
    events: &[Value],
    now: DateTime<Utc>,
    oldest: Option<DateTime<Utc>>,
) -> anyhow::Result<u64> {
    // A backfill: the window reaches back to the oldest generated event (the
    // retention worker later prunes raw events past the configured window;
    // their rollups stay).
    let retention = oldest.map_or(Duration::days(90), |t| (now - t) + Duration::days(1));
    let mut accepted = 0;
    for batch in events.chunks(MAX_BATCH_EVENTS) {
        let ack = crate::ingest::ingest(store, license, plan, batch, now, retention)
            .await
            .context("ingesting demo telemetry")?;
        if let Some(r) = ack.rejected.first() {
            anyhow::bail!("demo event {:?} was refused: {}", r.event_id, r.reason);
        }
        accepted += ack.accepted;
    }
    Ok(accepted)
}
