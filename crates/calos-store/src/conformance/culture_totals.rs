//! The culture totals kept at ingest (hour totals, feature days, distinct
//! users per day, users' last days): what `culture_data` builds from them
//! equals the reference fold of the raw events
//! ([`calos_core::culture::compact`], distinct users counted from the
//! events' (day, user) pairs) after repeats, retries,
//! concurrent batches and buckets that gain their first user in a later
//! batch, at analysis instants whose windows cut days anywhere; the profile
//! the analyzer computes from them is the one it computes from the reference;
//! a rebuild from the rollups changes nothing; pruning raw events keeps them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};

use calos_core::culture::{analyze, compact, ActiveUsers, CultureInput, CultureProfile, MeterUse};
use calos_core::license::License;
use calos_core::plan::{default_plans, Meter, Plan};
use calos_core::telemetry::{EventType, TelemetryEvent};

use super::support::{create, days, hours, install, license, now, seed_plans};
use crate::{CultureData, CultureWindow, IngestBatch, IngestEvent, MeteringTerms, Store};

const ONE: &str = "totals-install-01";
const TWO: &str = "totals-install-02";

fn pro() -> Plan {
    default_plans()
        .into_iter()
        .find(|p| p.slug.as_str() == "pro")
        .expect("pro plan")
}

fn batch(l: &License, events: Vec<IngestEvent>) -> IngestBatch {
    let pro = pro();
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

/// Who sends an event: a person, the same person's client before it knew
/// the user (same buckets, no user), or a script (other buckets of the same
/// hours, never a user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    User,
    Anonymous,
    Script,
}

/// Event `n` of `id`: spread every ~3h over 115 days back and 20 hours
/// ahead (so every window boundary has events on both sides), four types
/// (API calls among them), three features and none, errors by type,
/// message and status.
fn event(id: &str, n: u32, t: DateTime<Utc>, who: Who) -> IngestEvent {
    let ts = t + hours(20) - TimeDelta::minutes(i64::from(n) * 181 % (115 * 24 * 60));
    let kind = if who == Who::Script {
        EventType::Custom
    } else {
        [
            EventType::FeatureUsed,
            EventType::ApiCall,
            EventType::PageView,
            EventType::Error,
        ][n as usize % 4]
    };
    IngestEvent {
        event: TelemetryEvent {
            install_id: install(id),
            event_id: format!("t-{n}-{who:?}"),
            event_type: kind,
            feature: (!n.is_multiple_of(5))
                .then(|| ["pos", "reports", "crypto"][n as usize % 3].to_owned()),
            user: (who == Who::User).then(|| format!("user-{}", n % 4)),
            session: Some(format!("s-{}", n / 3)),
            ts,
            user_agent: None,
            endpoint: None,
            duration_ms: Some(50),
            status: Some(if n.is_multiple_of(9) { 503 } else { 200 }),
            error: n.is_multiple_of(13).then(|| "boom".to_owned()),
            props: serde_json::Map::new(),
        },
        usage: None,
    }
}

fn window(at: DateTime<Utc>) -> CultureWindow {
    CultureWindow {
        now: at,
        from: at - days(91),
        usage_from: (at - days(28)).date_naive(),
        max_sessions: 5_000,
        max_user_agents: 500,
    }
}

/// The analyzer's profile of `data` for a Pro license.
fn profile(l: &License, data: &CultureData, at: DateTime<Utc>) -> CultureProfile {
    let plans = default_plans();
    let pro = pro();
    let mut used: BTreeMap<Meter, i64> = data.period_usage.clone();
    used.insert(Meter::Seats, data.seats);
    let meters = MeterUse::for_plan(&pro, &used);
    analyze(&CultureInput {
        now: at,
        license: l,
        plan: &pro,
        plans: &plans,
        timezone_offset_minutes: data.timezone_offset_minutes,
        hours: &data.hours,
        features: &data.features,
        daily_users: &data.daily_users,
        active_users: data.active_users,
        sessions: data.sessions,
        user_agents: &data.user_agents,
        meters: &meters,
        daily_usage: &data.daily_usage,
        domains_seen: data.domains_seen,
        branding_configured: data.branding_configured,
    })
}

/// Checks the store's hours and features for `l` at `at` against the
/// reference fold of its raw events, and the profile built on them.
async fn check_at(store: &Arc<dyn Store>, l: &License, at: DateTime<Utc>) -> CultureData {
    let w = window(at);
    let got = store
        .culture_data(std::slice::from_ref(&l.install_id), &w)
        .await
        .expect("culture data")
        .remove(&l.install_id)
        .expect("install read");
    let raw = store
        .list_events(&l.install_id, at - days(400), at + days(400), 1_000_000)
        .await
        .expect("raw events");
    let (mut rows, _) = calos_core::rollup::fold(&raw);
    rows.retain(|r| r.key.hour >= w.from);
    let (hours, features) = compact(&rows, at);
    assert_eq!(got.hours, hours, "hour totals at {at}");
    assert_eq!(got.features, features, "feature totals at {at}");
    // Distinct users from the events' (UTC day, user) pairs.
    let seen: BTreeSet<(NaiveDate, &str)> = raw
        .iter()
        .filter_map(|e| Some((e.ts.date_naive(), e.user.as_deref()?)))
        .collect();
    let mut daily_users: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for (day, _) in seen.iter().filter(|(d, _)| *d >= w.from.date_naive()) {
        *daily_users.entry(*day).or_insert(0) += 1;
    }
    let distinct = |from: NaiveDate, to: NaiveDate| {
        let users: BTreeSet<&str> = seen
            .iter()
            .filter(|(d, _)| *d >= from && *d <= to)
            .map(|(_, u)| *u)
            .collect();
        users.len() as i64
    };
    let today = at.date_naive();
    let active_users = ActiveUsers {
        last_7_days: distinct(today - days(6), today),
        last_28_days: distinct(today - days(27), today),
    };
    let seats = distinct(
        l.current_period_start.date_naive(),
        l.current_period_end.date_naive(),
    );
    assert_eq!(
        got.daily_users,
        daily_users.into_iter().collect::<Vec<_>>(),
        "daily users at {at}"
    );
    assert_eq!(got.active_users, active_users, "active users at {at}");
    assert_eq!(got.seats, seats, "seats at {at}");
    let reference = CultureData {
        hours,
        features,
        ..got.clone()
    };
    assert_eq!(
        profile(l, &got, at),
        profile(l, &reference, at),
        "profile at {at}"
    );
    got
}

/// The totals kept at ingest equal the reference fold of the raw events
/// and give the analyzer the same profile; rebuilding them from the rollups
/// and pruning raw events change nothing.
pub async fn culture_totals_equal_recomputation(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    // Not on an hour, so the feature windows cut five days.
    let t = now().duration_trunc(TimeDelta::hours(1)).expect("hour") - TimeDelta::minutes(23);
    let (_, one) = create(
        &store,
        "One",
        "one@example.com",
        license(ONE, "pro", t - days(200)),
    )
    .await;
    let (_, two) = create(
        &store,
        "Two",
        "two@example.com",
        // In its first period at every analysis instant (the other's
        // period as stored ended long ago).
        license(TWO, "pro", t - days(10)),
    )
    .await;

    // Events without users first: their buckets gain their first user (and
    // so count as people's activity) only in later batches.
    let anonymous: Vec<IngestEvent> = (0..900)
        .map(|n| event(ONE, n, t, Who::Anonymous))
        .chain((0..300).map(|n| event(ONE, n, t, Who::Script)))
        .collect();
    let mut first = anonymous.clone();
    first.extend(anonymous[100..300].iter().cloned());
    let out = store.ingest(&batch(&one, first)).await.expect("first");
    assert_eq!((out.inserted, out.duplicates), (1_200, 200));
    let retry = store.ingest(&batch(&one, anonymous)).await.expect("retry");
    assert_eq!(retry.inserted, 0);
    // Overlapping concurrent batches with users.
    let batches: Vec<IngestBatch> = (0..4u32)
        .map(|k| {
            batch(
                &one,
                (k * 200..k * 200 + 400)
                    .map(|n| event(ONE, n, t, Who::User))
                    .collect(),
            )
        })
        .collect();
    let inserted: u64 = futures::future::join_all(batches.iter().map(|b| store.ingest(b)))
        .await
        .into_iter()
        .map(|r| r.expect("concurrent").inserted)
        .sum();
    assert_eq!(inserted, 1_000);
    // Users seen on one day each, 0 to 96 days back (and one a day ahead):
    // each window counts a different number of them.
    for (l, id) in [(&one, ONE), (&two, TWO)] {
        let rare: Vec<IngestEvent> = (0..25u32)
            .map(|k| {
                let mut e = event(id, k * 7, t, Who::User);
                e.event.event_id = format!("rare-{k}");
                e.event.user = Some(format!("rare-user-{k}"));
                e.event.ts = t + days(1) - days(i64::from(k) * 4);
                e
            })
            .collect();
        store.ingest(&batch(l, rare)).await.expect("rare users");
    }
    store
        .ingest(&batch(
            &two,
            (0..300)
                .map(|n| event(TWO, n, t, [Who::User, Who::Script][n as usize % 2]))
                .collect(),
        ))
        .await
        .expect("two");

    // Windows cutting days at several times of day, and at midnight (none).
    let midnight = t.duration_trunc(TimeDelta::days(1)).expect("day");
    // The last one is after every event (no user seen after its day).
    let instants = [
        t,
        t - hours(5) - TimeDelta::minutes(17),
        t - days(7) + TimeDelta::minutes(41),
        midnight,
        t + days(2),
    ];
    let mut kept = Vec::new();
    for at in instants {
        let got = check_at(&store, &one, at).await;
        assert!(got.features.len() == 3 && got.hours.len() > 500);
        assert!(got
            .features
            .iter()
            .all(|f| f.last_7_days > 0 && f.previous_7_days > 0));
        assert!(got
            .hours
            .iter()
            .any(|h| h.people_events > 0 && h.people_events < h.events));
        kept.push(got);
    }
    let two_data = check_at(&store, &two, t).await;
    // After every event and inside the stored period: the counts come from
    // the users' last days alone.
    let two_later = check_at(&store, &two, t + days(2)).await;
    assert!(two_later.seats > two_later.active_users.last_7_days);

    // A rebuild from the rollups finds what ingest kept.
    store
        .rebuild_culture_totals(&[install(ONE), install("totals-unknown-9")])
        .await
        .expect("rebuild");
    store
        .rebuild_culture_totals(&[])
        .await
        .expect("rebuild none");
    for (at, want) in instants.iter().zip(&kept) {
        assert_eq!(
            &check_at(&store, &one, *at).await,
            want,
            "after rebuild at {at}"
        );
    }

    // Pruning raw events keeps the totals, as it keeps the rollups.
    let report = store
        .prune_raw_events(t - days(30), 1_000_000)
        .await
        .expect("prune");
    assert!(report.events > 0);
    let after = store
        .culture_data(&[install(ONE), install(TWO)], &window(t))
        .await
        .expect("after prune");
    assert_eq!(after[&install(ONE)].hours, kept[0].hours);
    assert_eq!(after[&install(ONE)].features, kept[0].features);
    assert_eq!(after[&install(TWO)].hours, two_data.hours);
    assert_eq!(after[&install(TWO)].features, two_data.features);
    for (got, want) in [
        (&after[&install(ONE)], &kept[0]),
        (&after[&install(TWO)], &two_data),
    ] {
        assert_eq!(got.daily_users, want.daily_users);
        assert_eq!(got.active_users, want.active_users);
        assert_eq!(got.seats, want.seats);
    }
    // The counts are the rare users' as well as the regular ones'.
    let last = kept.last().expect("instants");
    assert!(last.active_users.last_7_days > 4);
    assert!(last.active_users.last_28_days > last.active_users.last_7_days);
}
