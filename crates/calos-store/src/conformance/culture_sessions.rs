//! The session sample of the culture read (issue 5, speed): the store picks
//! the order statistics of the newest sessions in SQL, and they must be
//! exactly what [`SessionSample::from_spans`] gives for those sessions —
//! sessions of exactly a day and a second more, single-event sessions,
//! sub-second lengths, ties on the last event, sessions spread over
//! concurrent batches and a retry, several installs in one read, and every
//! session limit from one to more than there are.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use calos_core::culture::{SessionSample, SessionSpan, MAX_SESSION_SECONDS};
use calos_core::license::License;
use calos_core::plan::default_plans;
use calos_core::telemetry::{EventType, TelemetryEvent};

use super::support::{create, days, install, license, now, seed_plans};
use crate::{CultureWindow, IngestBatch, IngestEvent, MeteringTerms, Store};

const A: &str = "culture-sample-a1";
const B: &str = "culture-sample-b2";

/// Session `k`'s last event, length in microseconds and event count.
fn shape(k: i64, t: DateTime<Utc>) -> (DateTime<Utc>, i64, i64) {
    // Every tenth session ends with the one before it (a tie on the last
    // event, broken by session id).
    let at =
        |k: i64| t - TimeDelta::minutes(k * 17) + TimeDelta::microseconds(k * 7_919 % 1_000_000);
    let end = if k % 10 == 5 { at(k - 1) } else { at(k) };
    let micros = match k % 6 {
        0 => MAX_SESSION_SECONDS * 1_000_000 + 999_999, // a day, to the second
        1 => (MAX_SESSION_SECONDS + 1) * 1_000_000,     // a second more
        2 => 0,                                         // one event
        _ => (k * 611 % 5_000) * 1_000_000 + k * 104_729 % 1_000_000,
    };
    let events = if k % 6 == 2 { 1 } else { 2 + k % 5 };
    (end, micros, events)
}

fn events_of(id: &str, sessions: i64, t: DateTime<Utc>) -> Vec<IngestEvent> {
    let mut out = Vec::new();
    for k in 0..sessions {
        let (end, micros, n) = shape(k, t);
        let start = end - TimeDelta::microseconds(micros);
        for i in 0..n {
            let ts = if n == 1 {
                end
            } else {
                start + TimeDelta::microseconds(micros / (n - 1) * i)
            };
            let ts = if i == n - 1 { end } else { ts };
            out.push(IngestEvent {
                event: TelemetryEvent {
                    install_id: install(id),
                    event_id: format!("sample-{k}-{i}"),
                    event_type: EventType::FeatureUsed,
                    feature: Some("pos".to_owned()),
                    user: (i % 2 == 0).then(|| format!("user-{}", k % 4)),
                    session: Some(format!("s-{k:03}")),
                    ts,
                    user_agent: None,
                    endpoint: None,
                    duration_ms: None,
                    status: Some(200),
                    error: None,
                    props: serde_json::Map::new(),
                },
                usage: None,
            });
        }
    }
    out
}

fn batch(l: &License, events: Vec<IngestEvent>) -> IngestBatch {
    let pro = default_plans()
        .into_iter()
        .find(|p| p.slug.as_str() == "pro")
        .expect("pro plan");
    IngestBatch {
        install_id: l.install_id.clone(),
        events,
        terms: MeteringTerms {
            period_start: l.current_period_start,
            period_end: l.current_period_end,
            limits: pro.limits,
            prices: pro.usage_prices,
            closed_before: None,
        },
    }
}

fn window(t: DateTime<Utc>, max_sessions: usize) -> CultureWindow {
    CultureWindow {
        now: t,
        from: t - days(90),
        usage_from: (t - days(28)).date_naive(),
        max_sessions,
        max_user_agents: 500,
    }
}

/// The reference sample of `l`'s newest `max` sessions from its raw events.
async fn reference(store: &Arc<dyn Store>, l: &License, w: &CultureWindow) -> SessionSample {
    let raw = store
        .list_events(&l.install_id, w.from, w.now + days(1), 1_000_000)
        .await
        .expect("list events");
    let mut spans: BTreeMap<String, SessionSpan> = BTreeMap::new();
    for e in &raw {
        let Some(s) = &e.session else { continue };
        let span = spans.entry(s.clone()).or_insert(SessionSpan {
            start: e.ts,
            end: e.ts,
            user: None,
            events: 0,
        });
        span.start = span.start.min(e.ts);
        span.end = span.end.max(e.ts);
        span.events += 1;
    }
    let mut newest: Vec<(String, SessionSpan)> = spans.into_iter().collect();
    newest.sort_by(|a, b| b.1.end.cmp(&a.1.end).then_with(|| a.0.cmp(&b.0)));
    let newest: Vec<SessionSpan> = newest
        .into_iter()
        .map(|(_, s)| s)
        .take(w.max_sessions)
        .collect();
    SessionSample::from_spans(&newest)
}

pub async fn culture_session_sample_equals_reference(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let (_, a) = create(&store, "A", "a@example.com", license(A, "pro", t - days(5))).await;
    let (_, b) = create(&store, "B", "b@example.com", license(B, "pro", t - days(5))).await;

    // Install A: 60 sessions in three concurrent batches, interleaved so
    // most sessions are split between batches, then one batch retried.
    let all = events_of(A, 60, t);
    let parts: Vec<Vec<IngestEvent>> = (0..3)
        .map(|p| {
            all.iter()
                .enumerate()
                .filter(|(n, _)| n % 3 == p)
                .map(|(_, e)| e.clone())
                .collect()
        })
        .collect();
    let batches: Vec<IngestBatch> = parts.into_iter().map(|p| batch(&a, p)).collect();
    for r in futures::future::join_all(batches.iter().map(|b| store.ingest(b))).await {
        r.expect("concurrent batch");
    }
    let retry = store.ingest(&batches[1]).await.expect("retry");
    assert_eq!(retry.inserted, 0, "a retry adds nothing");
    store
        .ingest(&batch(&b, events_of(B, 15, t)))
        .await
        .expect("install B");

    for max in [1, 2, 3, 5, 6, 10, 11, 37, 60, 5_000] {
        let w = window(t, max);
        let got = store
            .culture_data(&[install(A), install(B)], &w)
            .await
            .expect("culture data");
        for l in [&a, &b] {
            let want = reference(&store, l, &w).await;
            assert_eq!(
                got[&l.install_id].sessions, want,
                "{} newest {max}",
                l.install_id
            );
        }
        let alone = store
            .culture_data(&[install(B)], &w)
            .await
            .expect("one install");
        assert_eq!(alone[&install(B)].sessions, got[&install(B)].sessions);
    }
    // The data exercises what it claims to: all 60 read, 40 of them
    // measured (single events, open clients over a day excluded).
    let full = store
        .culture_data(&[install(A)], &window(t, 5_000))
        .await
        .expect("all sessions");
    assert_eq!(full[&install(A)].sessions.count, 40);
    assert_eq!(
        full[&install(A)].sessions.p90_seconds.high,
        MAX_SESSION_SECONDS,
        "a session of exactly a day is measured"
    );

    // An install without sessions samples nothing.
    let (_, empty) = create(
        &store,
        "Empty",
        "empty@example.com",
        license("culture-sample-c3", "pro", t - days(5)),
    )
    .await;
    let got = store
        .culture_data(std::slice::from_ref(&empty.install_id), &window(t, 5_000))
        .await
        .expect("empty");
    assert_eq!(got[&empty.install_id].sessions, SessionSample::default());
}
