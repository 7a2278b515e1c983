//! A synthetic customer with known habits: team size, working hours and days
//! in its own time zone, features, error rate, devices, scripts and limit
//! use. It makes raw events, folds them with the real rollup code, and
//! derives every aggregate the analyzer reads — so a test can check the
//! analyzer recovers what went in.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

use crate::culture::{
    analyze, ActiveUsers, CultureInput, CultureProfile, MeterDay, MeterUse, SessionSample,
    SessionSpan,
};
use crate::customer::Notes;
use crate::ids::InstallId;
use crate::license::{BillingPeriod, License, LicenseStatus, LicenseTerms};
use crate::plan::{default_plans, Meter, Plan, PlanSlug};
use crate::rollup::{fold, RollupRow};
use crate::telemetry::{EventType, TelemetryEvent};

pub const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
pub const EDGE_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";
pub const SAFARI_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15";
pub const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
pub const CHROME_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
pub const SAFARI_IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1";
pub const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1";
pub const CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36";
pub const PYTHON_REQUESTS: &str = "python-requests/2.31.0";
pub const CALOS_CLIENT_RUST: &str = "calos-client-rust/0.1.0";

pub const MON_FRI: &[u32] = &[0, 1, 2, 3, 4];
pub const EVERY_DAY: &[u32] = &[0, 1, 2, 3, 4, 5, 6];

/// A Wednesday afternoon.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 12, 15, 0, 0).unwrap()
}

pub fn plan(slug: &str) -> Plan {
    default_plans()
        .into_iter()
        .find(|p| p.slug.as_str() == slug)
        .unwrap()
}

/// What the customer is like.
#[derive(Debug, Clone)]
pub struct Synth {
    pub now: DateTime<Utc>,
    pub plan: &'static str,
    pub status: LicenseStatus,
    pub created_days_ago: i64,
    /// Where the customer is; `tz_set` says whether the analyzer is told.
    pub tz_hours: i32,
    pub tz_set: bool,
    /// Local working hours `[start, end)` and days (0 = Monday).
    pub hours: (u32, u32),
    pub days: &'static [u32],
    /// Days of history before now.
    pub history_days: i64,
    /// In-app events per working day.
    pub events_per_day: f64,
    /// Relative change of the daily rate from the first day to the last.
    pub growth: f64,
    pub team: usize,
    pub session_len: (u32, u32),
    pub gap_secs: (u32, u32),
    pub features: Vec<(&'static str, u32)>,
    pub error_rate: f64,
    /// Weights of page_view, feature_used, api_call among in-app events.
    pub mix: (u32, u32, u32),
    pub agents: Vec<&'static str>,
    /// Script calls (no user, any hour) per day, and their user agent.
    pub script_per_day: f64,
    pub script_agent: &'static str,
    pub meters_used: Vec<(Meter, i64)>,
    pub daily_usage: Vec<(Meter, i64)>,
    pub domains_seen: u64,
    pub branding: bool,
    pub seed: u64,
}

impl Default for Synth {
    fn default() -> Self {
        Self {
            now: default_now(),
            plan: "pro",
            status: LicenseStatus::Active,
            created_days_ago: 200,
            tz_hours: 0,
            tz_set: true,
            hours: (9, 17),
            days: MON_FRI,
            history_days: 60,
            events_per_day: 80.0,
            growth: 0.0,
            team: 8,
            session_len: (4, 14),
            gap_secs: (20, 240),
            features: vec![("reports", 3), ("dashboard", 2)],
            error_rate: 0.002,
            mix: (3, 5, 2),
            agents: vec![CHROME_MAC, EDGE_WIN, SAFARI_MAC, FIREFOX_LINUX, CHROME_WIN],
            script_per_day: 0.0,
            script_agent: CALOS_CLIENT_RUST,
            meters_used: Vec::new(),
            daily_usage: Vec::new(),
            domains_seen: 1,
            branding: false,
            seed: 7,
        }
    }
}

/// The rollups as the analyzer reads them.
pub type Compacted = (
    Vec<super::super::HourTotals>,
    Vec<super::super::FeatureTotals>,
);

/// Everything the analyzer reads, owned.
pub struct Customer {
    pub spec: Synth,
    pub events: Vec<TelemetryEvent>,
    pub rows: Vec<RollupRow>,
    pub daily_users: Vec<(NaiveDate, i64)>,
    pub active_users: ActiveUsers,
    pub sessions: Vec<SessionSpan>,
    pub user_agents: Vec<(String, i64)>,
    pub license: License,
    pub plan: Plan,
    pub plans: Vec<Plan>,
    pub meters: Vec<MeterUse>,
    pub daily_usage: Vec<MeterDay>,
}

/// xorshift64*: deterministic, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() % u64::from(hi - lo + 1)) as u32
    }
    pub fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut pick = self.range(0, total - 1);
        for (item, w) in items {
            if pick < *w {
                return item;
            }
            pick -= w;
        }
        &items[items.len() - 1].0
    }
}

impl Synth {
    pub fn build(self) -> Customer {
        let mut rng = Rng::new(self.seed);
        let install = InstallId::parse("synthetic-install-0001").unwrap();
        let offset = Duration::hours(i64::from(self.tz_hours));
        let local_today = (self.now + offset).date_naive();
        let mut events = Vec::new();
        let mut session_no = 0usize;
        let mut next_id = 0u64;
        let mut blank = |kind: EventType, ts: DateTime<Utc>| {
            next_id += 1;
            TelemetryEvent {
                install_id: install.clone(),
                event_id: format!("e{next_id}"),
                event_type: kind,
                feature: None,
                user: None,
                session: None,
                ts,
                user_agent: None,
                endpoint: None,
                duration_ms: Some(200),
                status: Some(200),
                error: None,
                props: serde_json::Map::new(),
            }
        };
        for back in (0..=self.history_days).rev() {
            let date = local_today - Duration::days(back);
            let progress = 1.0 - back as f64 / self.history_days.max(1) as f64;
            let rate = self.events_per_day * (1.0 + self.growth * progress);
            if self.days.contains(&date.weekday().num_days_from_monday()) {
                let open =
                    Utc.from_utc_datetime(&date.and_hms_opt(self.hours.0, 0, 0).unwrap()) - offset;
                let close = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
                    + Duration::hours(i64::from(self.hours.1))
                    - offset;
                let mut remaining = (rate * (0.85 + 0.3 * rng.unit())).round() as u32;
                while remaining > 0 {
                    // Everyone takes turns, so the team is who it says it is.
                    let user = session_no % self.team;
                    session_no += 1;
                    let agent = self.agents[user % self.agents.len()];
                    let wanted = rng
                        .range(self.session_len.0, self.session_len.1)
                        .min(remaining);
                    let span = (close - open).num_seconds().max(60) as f64;
                    let mut ts = open + Duration::seconds((rng.unit() * (span - 60.0)) as i64);
                    let session = format!("s{session_no}");
                    let mut made = 0;
                    while made < wanted && ts < close && ts <= self.now {
                        let feature = *rng.weighted(&self.features);
                        let is_error = rng.unit() < self.error_rate;
                        let kind = if is_error {
                            EventType::Error
                        } else {
                            *rng.weighted(&[
                                (EventType::PageView, self.mix.0),
                                (EventType::FeatureUsed, self.mix.1),
                                (EventType::ApiCall, self.mix.2),
                            ])
                        };
                        let mut e = blank(kind, ts);
                        e.feature = Some(feature.to_owned());
                        e.user = Some(format!("user-{user}"));
                        e.session = Some(session.clone());
                        e.user_agent = Some(agent.to_owned());
                        if is_error {
                            e.status = Some(500);
                            e.error = Some("DatabaseError".to_owned());
                        }
                        events.push(e);
                        made += 1;
                        ts += Duration::seconds(i64::from(
                            rng.range(self.gap_secs.0, self.gap_secs.1),
                        ));
                    }
                    remaining -= made.max(1).min(remaining);
                    if made == 0 {
                        break;
                    }
                }
            }
            let scripts = (self.script_per_day * (0.85 + 0.3 * rng.unit())).round() as u32;
            let day_start = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap()) - offset;
            for _ in 0..scripts {
                let ts = day_start + Duration::seconds(rng.range(0, 86_399).into());
                if ts > self.now {
                    continue;
                }
                let feature = *rng.weighted(&self.features);
                let mut e = blank(EventType::ApiCall, ts);
                e.feature = Some(feature.to_owned());
                e.user_agent = Some(self.script_agent.to_owned());
                events.push(e);
            }
        }
        self.assemble(events)
    }

    fn assemble(self, events: Vec<TelemetryEvent>) -> Customer {
        let (rows, daily) = fold(&events);
        let daily_users = daily.into_iter().map(|((_, d), n)| (d, n)).collect();
        let distinct = |days: i64| {
            events
                .iter()
                .filter(|e| e.ts >= self.now - Duration::days(days))
                .filter_map(|e| e.user.as_deref())
                .collect::<BTreeSet<_>>()
                .len() as i64
        };
        let active_users = ActiveUsers {
            last_7_days: distinct(7),
            last_28_days: distinct(28),
        };
        let mut spans: BTreeMap<&str, SessionSpan> = BTreeMap::new();
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
        let sessions = spans.into_values().collect();
        let mut uas: BTreeMap<&str, i64> = BTreeMap::new();
        for e in &events {
            if let Some(ua) = e.user_agent.as_deref() {
                *uas.entry(ua).or_insert(0) += 1;
            }
        }
        let user_agents = uas.into_iter().map(|(u, n)| (u.to_owned(), n)).collect();

        let plan = plan(self.plan);
        let created = self.now - Duration::days(self.created_days_ago);
        let mut license = License::create(
            LicenseTerms {
                install_id: InstallId::parse("synthetic-install-0001").unwrap(),
                customer_id: 1,
                plan: PlanSlug::parse(self.plan).unwrap(),
                billing_period: BillingPeriod::Monthly,
                trial_days: 0,
                notes: Notes::parse("").unwrap(),
                domains: Vec::new(),
            },
            created,
        );
        license.status = self.status;
        license.current_period_start = self.now - Duration::days(15);
        license.current_period_end = self.now + Duration::days(15);
        let meters = MeterUse::for_plan(&plan, &self.meters_used.iter().copied().collect());
        let today = self.now.date_naive();
        let daily_usage = self
            .daily_usage
            .iter()
            .flat_map(|(meter, per_day)| {
                (1..=28).map(move |back| MeterDay {
                    day: today - Duration::days(back),
                    meter: *meter,
                    quantity: *per_day,
                })
            })
            .collect();
        Customer {
            events,
            rows,
            daily_users,
            active_users,
            sessions,
            user_agents,
            license,
            plan,
            plans: default_plans(),
            meters,
            daily_usage,
            spec: self,
        }
    }
}

impl Customer {
    /// The input with `compacted` (from [`super::super::compact`]) as the
    /// rollups: tests edit `rows`, so the compact forms are made per use.
    pub fn input<'a>(&'a self, compacted: &'a Compacted) -> CultureInput<'a> {
        CultureInput {
            now: self.spec.now,
            license: &self.license,
            plan: &self.plan,
            plans: &self.plans,
            timezone_offset_minutes: self.spec.tz_set.then_some(self.spec.tz_hours * 60),
            hours: &compacted.0,
            features: &compacted.1,
            daily_users: &self.daily_users,
            active_users: self.active_users,
            sessions: SessionSample::from_spans(&self.sessions),
            user_agents: &self.user_agents,
            meters: &self.meters,
            daily_usage: &self.daily_usage,
            domains_seen: self.spec.domains_seen,
            branding_configured: self.spec.branding,
        }
    }

    pub fn analyze(&self) -> CultureProfile {
        let compacted = super::super::compact(&self.rows, self.spec.now);
        analyze(&self.input(&compacted))
    }
}
