//! The insight path: an arbitrary set of telemetry events (with arbitrary
//! user agents) through to the culture profile an account manager reads.
//! The input is JSON — the customer (plan, license status, age, time zone,
//! meters) and a telemetry batch's `events`. Events go through the ingest
//! validation (`validate_batch`), the rollup fold, `compact`, and the
//! aggregates the store keeps (daily and active users, sessions, user-agent
//! counts, seats); then `culture::analyze` (user-agent parsing with woothee
//! and the product-token table, scores, upsells, churn, insights) and the
//! JSON the endpoint serves.
//!
//! Values the store cannot produce are brought into the range it can (the
//! API admits time zones of ±14 h; usage counts are sums of bounded events).
#![no_main]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use chrono::{DateTime, Duration, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

use calos_core::culture::{
    analyze, compact, ActiveUsers, CultureInput, MeterDay, MeterUse, SessionSample, SessionSpan,
    MAX_USER_AGENTS,
};
use calos_core::customer::Notes;
use calos_core::ids::InstallId;
use calos_core::ingest::{validate_batch, IngestContext};
use calos_core::license::{BillingPeriod, License, LicenseStatus, LicenseTerms};
use calos_core::plan::{default_plans, Meter, Plan};
use calos_core::rollup::fold;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Customer {
    #[serde(default)]
    plan: Option<String>,
    #[serde(default)]
    status: Option<LicenseStatus>,
    #[serde(default)]
    trial_days: Option<u32>,
    #[serde(default)]
    created_days_ago: Option<i64>,
    #[serde(default)]
    timezone_offset_minutes: Option<i32>,
    #[serde(default)]
    domains_seen: Option<u64>,
    #[serde(default)]
    branding: bool,
    /// Period usage per meter (seats and domains are counted, not given).
    #[serde(default)]
    meters: BTreeMap<Meter, i64>,
    /// `(days ago, meter, quantity)`.
    #[serde(default)]
    daily_usage: Vec<(i64, Meter, i64)>,
    #[serde(default)]
    events: Vec<serde_json::Value>,
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 11, 15, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

static PLANS: LazyLock<Vec<Plan>> = LazyLock::new(default_plans);

const MAX_USAGE: i64 = 1_000_000_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(c) = serde_json::from_slice::<Customer>(data) else {
        return;
    };
    let now = now();
    let plans = &*PLANS;
    let plan = c
        .plan
        .as_deref()
        .and_then(|s| plans.iter().find(|p| p.slug.as_str() == s))
        .unwrap_or(&plans[0]);
    let install_id = InstallId::parse("fuzz-culture-0001").expect("install id");

    let created = now - Duration::days(c.created_days_ago.unwrap_or(30).clamp(0, 3_650));
    let license = License::create(
        LicenseTerms {
            install_id: install_id.clone(),
            customer_id: 1,
            plan: plan.slug.clone(),
            billing_period: BillingPeriod::Monthly,
            trial_days: c.trial_days.unwrap_or(0).min(365),
            notes: Notes::default(),
            domains: Vec::new(),
        },
        created,
    );
    // The store holds licenses the workers moved on in time.
    let mut license = license.advance_time(now).unwrap_or(license);
    if let Some(status) = c.status {
        license.status = status;
    }

    let ctx = IngestContext {
        install_id,
        now,
        retention: Duration::days(90),
        currency: plan.currency.clone(),
    };
    let verdict = validate_batch(&c.events, &ctx);
    let events: Vec<_> = verdict.valid.into_iter().map(|v| v.event).collect();

    let (rows, daily) = fold(&events);
    let daily_users: Vec<_> = daily.into_iter().map(|((_, d), n)| (d, n)).collect();
    let distinct = |days: i64| {
        events
            .iter()
            .filter(|e| e.ts >= now - Duration::days(days))
            .filter_map(|e| e.user.as_deref())
            .collect::<BTreeSet<_>>()
            .len() as i64
    };
    let active_users = ActiveUsers {
        last_7_days: distinct(7),
        last_28_days: distinct(28),
    };
    let mut spans: HashMap<&str, SessionSpan> = HashMap::new();
    for e in &events {
        let Some(s) = e.session.as_deref() else {
            continue;
        };
        let span = spans.entry(s).or_insert(SessionSpan {
            start: e.ts,
            end: e.ts,
            user: e.user.clone(),
            events: 0,
        });
        span.start = span.start.min(e.ts);
        span.end = span.end.max(e.ts);
        span.events += 1;
    }
    // The reference the stores' SQL must equal (it keeps the most recent).
    let sessions: Vec<_> = spans.into_values().collect();
    let sessions = SessionSample::from_spans(&sessions);
    let mut uas: HashMap<&str, i64> = HashMap::new();
    for e in &events {
        if let Some(ua) = e.user_agent.as_deref() {
            *uas.entry(ua).or_insert(0) += 1;
        }
    }
    let mut user_agents: Vec<_> = uas.into_iter().map(|(u, n)| (u.to_owned(), n)).collect();
    user_agents.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    user_agents.truncate(MAX_USER_AGENTS);

    let mut used: BTreeMap<Meter, i64> = c
        .meters
        .into_iter()
        .map(|(m, n)| (m, n.clamp(0, MAX_USAGE)))
        .collect();
    used.insert(Meter::Seats, active_users.last_28_days);
    used.insert(Meter::Domains, 0);
    let meters = MeterUse::for_plan(plan, &used);
    let today = now.date_naive();
    let daily_usage: Vec<_> = c
        .daily_usage
        .into_iter()
        .map(|(back, meter, quantity)| MeterDay {
            day: today - Duration::days(back.clamp(1, 28)),
            meter,
            quantity: quantity.clamp(0, MAX_USAGE),
        })
        .collect();

    let compacted = compact(&rows, now);
    let profile = analyze(&CultureInput {
        now,
        license: &license,
        plan,
        plans,
        timezone_offset_minutes: c.timezone_offset_minutes.map(|m| m.clamp(-840, 840)),
        hours: &compacted.0,
        features: &compacted.1,
        daily_users: &daily_users,
        active_users,
        sessions,
        user_agents: &user_agents,
        meters: &meters,
        daily_usage: &daily_usage,
        domains_seen: c.domains_seen.unwrap_or(0).min(10_000),
        branding_configured: c.branding,
    });

    assert_eq!(profile.activity.events, events.len() as i64);
    if let Some(score) = profile.health.score {
        assert!(score <= 100, "health score {score}");
    }
    let json = serde_json::to_string(&profile).expect("the profile serialises");
    assert!(!json.is_empty());
    // The tech stack names only what the parser or our table know, never
    // the customer's own user-agent strings.
    let stack = serde_json::to_string(&profile.tech_stack).expect("the tech stack serialises");
    for (ua, _) in &user_agents {
        if ua.len() >= 24 {
            assert!(
                !stack.contains(ua.as_str()),
                "a raw user agent leaked: {ua}"
            );
        }
    }
});
