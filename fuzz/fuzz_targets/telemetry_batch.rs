//! `POST /api/v1/telemetry` without the network and the store: the input is
//! the request body. It goes through the handler's parse
//! (`api::v1::telemetry::parse_batch`: UTF-8, JSON, the event cap), the
//! per-event validation the ingest path runs (`calos_core::ingest::validate_batch`
//! with the context `ingest::ingest` builds), the acknowledgement the client
//! gets, and the rollup fold the stores' incremental rollups must equal.
#![no_main]

use std::sync::LazyLock;

use chrono::{DateTime, Duration, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;

use calos_core::ids::InstallId;
use calos_core::ingest::{validate_batch, IngestContext, MAX_BATCH_EVENTS};
use calos_core::plan::default_plans;
use calos_core::protocol::{RejectedEvent, TelemetryAck};
use calos_core::rollup::fold;
use calos_server::api::v1::telemetry::parse_batch;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 12, 15, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// What `ingest::ingest` builds for a pro license with the default 90-day retention.
static CONTEXT: LazyLock<IngestContext> = LazyLock::new(|| {
    let pro = default_plans()
        .into_iter()
        .find(|p| p.slug.as_str() == "pro")
        .expect("the pro plan");
    IngestContext {
        install_id: InstallId::parse("fuzz-install-01").expect("install id"),
        now: now(),
        retention: Duration::days(90),
        currency: pro.currency,
    }
});

fuzz_target!(|data: &[u8]| {
    let Ok(batch) = parse_batch(data) else {
        return;
    };
    assert!(batch.events.len() <= MAX_BATCH_EVENTS);
    let ctx = &*CONTEXT;
    let verdict = validate_batch(&batch.events, ctx);

    // Every event is accounted for exactly once.
    let judged =
        verdict.valid.len() + verdict.rejected.len() + verdict.duplicates_in_batch as usize;
    assert_eq!(judged, batch.events.len());
    for (index, event_id, _) in &verdict.rejected {
        assert!(*index < batch.events.len());
        assert!(event_id.as_ref().is_none_or(|id| id.chars().count() <= 128));
    }
    for v in &verdict.valid {
        let e = &v.event;
        assert!(e.ts <= ctx.now + Duration::hours(1) && e.ts >= ctx.now - ctx.retention);
        assert!(!e.event_id.is_empty() && e.event_id.len() <= 128);
        if let Some(u) = &v.usage {
            assert!(u.quantity >= 1);
            assert!(u.amount_minor.is_none_or(|a| a >= 0));
        }
    }

    // The answer the client gets serialises.
    let ack = TelemetryAck {
        accepted: verdict.valid.len() as u64,
        duplicates: verdict.duplicates_in_batch,
        rejected: verdict
            .rejected
            .into_iter()
            .map(|(index, event_id, reason)| {
                assert!(!reason.code().is_empty());
                RejectedEvent {
                    index,
                    event_id,
                    reason: reason.to_string(),
                }
            })
            .collect(),
    };
    serde_json::to_vec(&ack).expect("the acknowledgement serialises");

    // The reference rollup: every accepted event counted once.
    let (rows, _daily) = fold(verdict.valid.iter().map(|v| &v.event));
    let counted: i64 = rows.iter().map(|r| r.counts.events).sum();
    assert_eq!(counted, verdict.valid.len() as i64);
});
