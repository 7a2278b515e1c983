//! The culture analyzer's store: the rollups folded at ingest (sessions,
//! user agents per day, metered usage per day) equal a recomputation from
//! the raw events, with repeats, retries and concurrent batches; one read
//! returns every install's data apart; the time zone and the health cache.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeDelta, Utc};

use calos_core::branding::{Branding, HexColor};
use calos_core::culture::{MeterDay, SessionSample, SessionSpan};
use calos_core::ids::InstallId;
use calos_core::license::License;
use calos_core::metering;
use calos_core::plan::{default_plans, Meter, UsageType};
use calos_core::telemetry::{EventType, TelemetryEvent, UsageRecord};

use super::support::{
    assert_not_found, audit, audit_of, create, days, hours, install, license, now, seed_plans, text,
};
use crate::{
    CultureData, CultureWindow, HealthScore, IngestBatch, IngestEvent, MeteringTerms, Store,
    VerifySeen,
};

const ONE: &str = "culture-install-01";
const TWO: &str = "culture-install-02";

fn terms(l: &License) -> MeteringTerms {
    let pro = default_plans()
        .into_iter()
        .find(|p| p.slug.as_str() == "pro")
        .expect("pro plan");
    MeteringTerms {
        period_start: l.current_period_start,
        period_end: l.current_period_end,
        limits: pro.limits,
        prices: pro.usage_prices,
        closed_before: None,
    }
}

const AGENTS: [&str; 3] = [
    "Mozilla/5.0 (Macintosh) Chrome/120.0",
    "python-requests/2.31.0",
    "Mozilla/5.0 (iPad) Safari/604.1",
];

/// Event `n` of `id`: sessions shared across batches, several users per
/// session (so the session's user is a real choice), events without a
/// session or user agent, and some metering usage.
fn event(id: &str, n: u32, t: DateTime<Utc>) -> IngestEvent {
    let ts = t - Duration::minutes(i64::from(n * 37 % 4_000));
    let event = TelemetryEvent {
        install_id: install(id),
        event_id: format!("c-{n}"),
        event_type: if n.is_multiple_of(4) {
            EventType::Usage
        } else {
            EventType::FeatureUsed
        },
        feature: Some(["pos", "reports", "crypto"][n as usize % 3].to_owned()),
        user: (!n.is_multiple_of(5)).then(|| format!("user-{}", n % 6)),
        session: (!n.is_multiple_of(7)).then(|| format!("session-{}", n % 13)),
        ts,
        user_agent: (!n.is_multiple_of(6)).then(|| AGENTS[n as usize % 3].to_owned()),
        endpoint: None,
        duration_ms: Some(100),
        status: Some(200),
        error: None,
        props: serde_json::Map::new(),
    };
    let usage = n.is_multiple_of(4).then(|| UsageRecord {
        install_id: install(id),
        usage_type: [UsageType::ApiRequest, UsageType::PosOnline][(n / 4) as usize % 2],
        quantity: i64::from(n % 3 + 1),
        amount_minor: Some(1_000),
        at: ts,
    });
    IngestEvent { event, usage }
}

fn batch(l: &License, events: Vec<IngestEvent>) -> IngestBatch {
    IngestBatch {
        install_id: l.install_id.clone(),
        events,
        terms: terms(l),
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

/// What `culture_data` must return, recomputed from the raw events.
async fn recompute(store: &Arc<dyn Store>, l: &License, w: &CultureWindow) -> CultureData {
    let id = &l.install_id;
    let raw = store
        .list_events(id, w.from, w.now + days(1), 1_000_000)
        .await
        .expect("list events");
    let mut spans: BTreeMap<&str, SessionSpan> = BTreeMap::new();
    for e in &raw {
        let Some(s) = e.session.as_deref() else {
            continue;
        };
        let span = spans.entry(s).or_insert(SessionSpan {
            start: e.ts,
            end: e.ts,
            user: None,
            events: 0,
        });
        span.start = span.start.min(e.ts);
        span.end = span.end.max(e.ts);
        span.events += 1;
        if let Some(u) = &e.user {
            if span.user.as_ref().is_none_or(|cur| u < cur) {
                span.user = Some(u.clone());
            }
        }
    }
    // Newest first, ties by session id.
    let mut sessions: Vec<(&str, SessionSpan)> = spans.into_iter().collect();
    sessions.sort_by(|a, b| b.1.end.cmp(&a.1.end).then_with(|| a.0.cmp(b.0)));
    let sessions: Vec<SessionSpan> = sessions
        .into_iter()
        .map(|(_, s)| s)
        .take(w.max_sessions)
        .collect();
    assert!(
        sessions.len() >= w.max_sessions.min(10),
        "the data has sessions to sample"
    );

    let mut agents: BTreeMap<String, i64> = BTreeMap::new();
    for e in &raw {
        if let Some(ua) = &e.user_agent {
            *agents.entry(ua.clone()).or_insert(0) += 1;
        }
    }
    let mut user_agents: Vec<(String, i64)> = agents.into_iter().collect();
    user_agents.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

    let today = w.now.date_naive();
    let users_since = |first: NaiveDate, last: NaiveDate| {
        raw.iter()
            .filter(|e| (first..=last).contains(&e.ts.date_naive()))
            .filter_map(|e| e.user.clone())
            .collect::<BTreeSet<_>>()
            .len() as i64
    };
    let mut daily_users: BTreeMap<NaiveDate, BTreeSet<&str>> = BTreeMap::new();
    for e in &raw {
        if let Some(u) = &e.user {
            daily_users.entry(e.ts.date_naive()).or_default().insert(u);
        }
    }

    let by_day = store
        .usage_by_day(id, w.from, w.now + days(1))
        .await
        .expect("usage by day");
    let mut usage_days: BTreeMap<(NaiveDate, Meter), i64> = BTreeMap::new();
    for u in by_day.iter().filter(|u| u.day >= w.usage_from) {
        *usage_days.entry((u.day, u.usage_type.meter())).or_insert(0) += u.quantity;
    }
    let period = store
        .period_usage(id, l.current_period_start)
        .await
        .expect("period usage");

    // The rollups as the analyzer reads them, folded from the raw events
    // (the store reads hours from `w.from`, a whole bucket).
    let (mut rows, _) = calos_core::rollup::fold(&raw);
    rows.retain(|r| r.key.hour >= w.from);
    let (hour_totals, feature_totals) = calos_core::culture::compact(&rows, w.now);
    CultureData {
        timezone_offset_minutes: None,
        hours: hour_totals,
        features: feature_totals,
        daily_users: daily_users
            .into_iter()
            .map(|(d, u)| (d, u.len() as i64))
            .collect(),
        active_users: calos_core::culture::ActiveUsers {
            last_7_days: users_since(today - TimeDelta::days(6), today),
            last_28_days: users_since(today - TimeDelta::days(27), today),
        },
        sessions: SessionSample::from_spans(&sessions),
        user_agents,
        period_usage: metering::per_meter(period.iter().map(|p| (p.usage_type, p.quantity))),
        seats: users_since(
            l.current_period_start.date_naive(),
            l.current_period_end.date_naive(),
        ),
        daily_usage: usage_days
            .into_iter()
            .map(|((day, meter), quantity)| MeterDay {
                day,
                meter,
                quantity,
            })
            .collect(),
        domains_seen: 0,
        branding_configured: false,
    }
}

/// The culture rollups equal a recomputation from raw events after repeats
/// inside a batch, a retried batch and overlapping concurrent batches; one
/// read keeps installs apart and skips unknown ones; the session limit keeps
/// the newest sessions.
pub async fn culture_rollups_equal_recomputation(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    // The period started 10 days ago, so seats and period usage are a subset.
    let (_, one) = create(
        &store,
        "One",
        "one@example.com",
        license(ONE, "pro", t - days(10)),
    )
    .await;
    let (_, two) = create(
        &store,
        "Two",
        "two@example.com",
        license(TWO, "pro", t - days(40)),
    )
    .await;

    let mut first: Vec<IngestEvent> = (0..120).map(|n| event(ONE, n, t)).collect();
    first.extend((30..50).map(|n| event(ONE, n, t)));
    let out = store.ingest(&batch(&one, first)).await.expect("first");
    assert_eq!((out.inserted, out.duplicates), (120, 20));
    let retry: Vec<IngestEvent> = (0..120).map(|n| event(ONE, n, t)).collect();
    assert_eq!(
        store
            .ingest(&batch(&one, retry))
            .await
            .expect("retry")
            .inserted,
        0
    );
    let batches: Vec<IngestBatch> = (0..5u32)
        .map(|k| {
            batch(
                &one,
                (100 + k * 30..180 + k * 30)
                    .map(|n| event(ONE, n, t))
                    .collect(),
            )
        })
        .collect();
    let results = futures::future::join_all(batches.iter().map(|b| store.ingest(b))).await;
    let inserted: u64 = results
        .into_iter()
        .map(|r| r.expect("concurrent").inserted)
        .sum();
    assert_eq!(inserted, 300 - 120);
    store
        .ingest(&batch(&two, (0..40).map(|n| event(TWO, n, t)).collect()))
        .await
        .expect("two");

    store
        .record_verifications(&[VerifySeen {
            install_id: install(ONE),
            instance_id: "node-a".to_owned(),
            domain: Some("a.one.example".to_owned()),
            version: None,
            ip: None,
            user_agent: None,
            at: t - hours(1),
        }])
        .await
        .expect("verify");
    let branding = Branding {
        install_id: install(TWO),
        product_name: text("Two Hub"),
        primary_color: HexColor::parse("#123456").expect("colour"),
        logo_url: None,
        updated_at: t,
    };
    store
        .put_branding(&branding, &audit("branding.put", "license", TWO))
        .await
        .expect("branding");

    let w = window(t, 10_000);
    let got = store
        .culture_data(
            &[
                install(TWO),
                install(ONE),
                install("culture-unknown-9"),
                install(ONE),
            ],
            &w,
        )
        .await
        .expect("culture data");
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        [install(ONE), install(TWO)]
    );

    let mut want_one = recompute(&store, &one, &w).await;
    want_one.domains_seen = 1;
    assert_eq!(got[&install(ONE)], want_one);
    // (Its sessions mostly last over a day: `culture_session_sample_equals_reference`
    // checks the session sample on data made for it.)
    assert_eq!(want_one.user_agents.len(), 3);
    assert!(want_one.seats > 0 && want_one.seats <= want_one.active_users.last_28_days);
    assert!(
        want_one
            .period_usage
            .get(&Meter::ApiRequests)
            .copied()
            .unwrap_or(0)
            > 0
    );
    let mut want_two = recompute(&store, &two, &w).await;
    want_two.branding_configured = true;
    assert_eq!(got[&install(TWO)], want_two);

    // At most `max_sessions`, the newest: a sample of fewer sessions.
    for max in [1, 3, 4] {
        let w = window(t, max);
        let few = store.culture_data(&[install(ONE)], &w).await.expect("few");
        let want = recompute(&store, &one, &w).await.sessions;
        assert_eq!(few[&install(ONE)].sessions, want, "{max} sessions");
        assert!(want.count <= max);
    }
    assert!(store
        .culture_data(&[], &w)
        .await
        .expect("no installs")
        .is_empty());
}

/// The customer's time zone is set with an audit record, cleared with
/// `None`, refused for an unknown install; health scores are cached,
/// replaced and read back in one call.
pub async fn culture_timezone_and_health_cache(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    create(&store, "One", "one@example.com", license(ONE, "pro", t)).await;
    create(
        &store,
        "Two",
        "two@example.com",
        license(TWO, "community", t),
    )
    .await;
    let tz = |data: &BTreeMap<InstallId, CultureData>, id: &str| {
        data[&install(id)].timezone_offset_minutes
    };
    let ids = [install(ONE), install(TWO)];
    let w = window(t, 10);
    let read = || store.culture_data(&ids, &w);

    store
        .set_customer_timezone(
            &install(ONE),
            Some(60),
            &audit("customer.timezone", "license", ONE),
        )
        .await
        .expect("set");
    let data = read().await.expect("read");
    assert_eq!((tz(&data, ONE), tz(&data, TWO)), (Some(60), None));
    assert_eq!(
        audit_of(&store, "license", ONE).await[0].entry.action,
        "customer.timezone"
    );
    store
        .set_customer_timezone(
            &install(ONE),
            Some(-330),
            &audit("customer.timezone", "license", ONE),
        )
        .await
        .expect("change");
    assert_eq!(tz(&read().await.expect("read"), ONE), Some(-330));
    store
        .set_customer_timezone(
            &install(ONE),
            None,
            &audit("customer.timezone", "license", ONE),
        )
        .await
        .expect("clear");
    assert_eq!(tz(&read().await.expect("read"), ONE), None);
    let before = audit_of(&store, "license", "culture-unknown-9").await.len();
    assert_not_found(
        store
            .set_customer_timezone(
                &install("culture-unknown-9"),
                Some(0),
                &audit("customer.timezone", "license", "culture-unknown-9"),
            )
            .await,
    );
    assert_eq!(
        audit_of(&store, "license", "culture-unknown-9").await.len(),
        before
    );

    let score = |id: &str, score: Option<u32>, label: &str, at: DateTime<Utc>| HealthScore {
        install_id: install(id),
        score,
        label: label.to_owned(),
        computed_at: at,
    };
    assert!(store
        .health_scores(&[install(ONE)])
        .await
        .expect("empty")
        .is_empty());
    store
        .put_health_scores(&[
            score(ONE, Some(91), "excellent", t),
            score(TWO, None, "not enough data", t),
        ])
        .await
        .expect("put");
    store
        .put_health_scores(&[score(ONE, Some(55), "at risk", t + hours(1))])
        .await
        .expect("replace");
    let got = store
        .health_scores(&[install(TWO), install(ONE), install("culture-unknown-9")])
        .await
        .expect("scores");
    assert_eq!(
        got,
        [
            score(ONE, Some(55), "at risk", t + hours(1)),
            score(TWO, None, "not enough data", t),
        ]
    );
}
