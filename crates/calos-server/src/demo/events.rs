//! Telemetry as a customer's people make it: sessions of a few events by one
//! user on one device inside the customer's working hours, plus calls from
//! scripts and SDKs outside sessions. Event ids are assigned by the caller
//! once every event of the install is known.

use chrono::{DateTime, Duration, Utc};
use rand::distributions::{Distribution, WeightedIndex};
use rand::Rng;
use serde_json::{json, Map, Value};

use calos_core::ids::InstallId;
use calos_core::telemetry::{EventType, TelemetryEvent};

use super::catalog::{endpoint, page, ERRORS};
use super::days::{instant_between, spread, total_for, Day};
use super::spec::Activity;

/// The in-app and script events of one customer, unsorted, without ids.
pub fn generate(
    activity: &Activity,
    install_id: &InstallId,
    users: &[String],
    days: &[Day],
    rng: &mut impl Rng,
) -> anyhow::Result<Vec<TelemetryEvent>> {
    let total = total_for(days, activity.events_per_day);
    let scripts = (f64::from(total) * activity.script_share).round() as u32;
    let in_app = total.saturating_sub(scripts);
    let mut gen = Generator {
        activity,
        install_id,
        users,
        user_pick: WeightedIndex::new(activity.user_weights)?,
        feature_pick: WeightedIndex::new(activity.features.iter().map(|(_, w)| *w))?,
        events: Vec::with_capacity(total as usize),
        sessions: 0,
    };

    let per_day = spread(days, in_app, rng)?;
    for (day, count) in days.iter().zip(per_day) {
        gen.day_of_sessions(day, count, rng)?;
    }
    if scripts > 0 {
        let per_day = spread(days, scripts, rng)?;
        for (day, count) in days.iter().zip(per_day) {
            for _ in 0..count {
                gen.script_call(day, rng);
            }
        }
    }
    Ok(gen.events)
}

/// An event with the fields every kind shares; the rest are filled per kind.
pub fn blank(install_id: &InstallId, event_type: EventType, ts: DateTime<Utc>) -> TelemetryEvent {
    TelemetryEvent {
        install_id: install_id.clone(),
        event_id: String::new(),
        event_type,
        feature: None,
        user: None,
        session: None,
        ts,
        user_agent: None,
        endpoint: None,
        duration_ms: None,
        status: None,
        error: None,
        props: Map::new(),
    }
}

struct Generator<'a> {
    activity: &'a Activity,
    install_id: &'a InstallId,
    users: &'a [String],
    user_pick: WeightedIndex<u32>,
    feature_pick: WeightedIndex<u32>,
    events: Vec<TelemetryEvent>,
    sessions: usize,
}

impl Generator<'_> {
    /// `count` events on one day, as sessions that all stay inside working hours.
    fn day_of_sessions(&mut self, day: &Day, count: u32, rng: &mut impl Rng) -> anyhow::Result<()> {
        let a = self.activity;
        let (open, close) = (day.open, day.close);
        // Sessions start at least a minute before closing so each yields an event.
        let last_start = close - Duration::minutes(1);
        let mut remaining = count;
        while remaining > 0 {
            // Everyone on the team shows up at least once: the first
            // sessions go to each user in turn, the rest by weight.
            let user = if self.sessions < self.users.len() {
                self.sessions
            } else {
                self.user_pick.sample(rng)
            };
            self.sessions += 1;
            let agent = self.agent_of(user, rng);
            let wanted = rng
                .gen_range(a.session_len.0..=a.session_len.1)
                .clamp(1, remaining);
            let session = format!("{:016x}", rng.gen::<u64>());
            let started = instant_between(open, last_start, rng);
            let mut ts = started;
            let mut made = 0;
            while made < wanted && ts < close {
                let marker = if a.session_markers && wanted >= 3 && made == 0 {
                    Some(EventType::SessionStart)
                } else if a.session_markers && wanted >= 3 && made + 1 == wanted {
                    Some(EventType::SessionEnd)
                } else {
                    None
                };
                let mut event = match marker {
                    Some(EventType::SessionEnd) => {
                        let mut e = blank(self.install_id, EventType::SessionEnd, ts);
                        let length = (ts - started)
                            .num_milliseconds()
                            .clamp(0, i64::from(u32::MAX));
                        e.duration_ms = u32::try_from(length).ok();
                        e.props.insert("events".into(), json!(wanted));
                        e
                    }
                    Some(kind) => blank(self.install_id, kind, ts),
                    None => self.in_app_event(ts, rng)?,
                };
                event.user = Some(self.users[user].clone());
                event.session = Some(session.clone());
                event.user_agent = agent.map(str::to_owned);
                self.tag(&mut event);
                self.events.push(event);
                made += 1;
                ts += Duration::seconds(rng.gen_range(20..=240));
            }
            remaining -= made;
        }
        Ok(())
    }

    /// Users stay on their own device, with an occasional visit from a second one.
    fn agent_of(&self, user: usize, rng: &mut impl Rng) -> Option<&'static str> {
        let agents = self.activity.agents;
        let second = rng.gen_bool(0.1) && agents.len() > 1;
        let index = (user + usize::from(second)).checked_rem(agents.len())?;
        agents.get(index).copied()
    }

    fn in_app_event(
        &self,
        ts: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> anyhow::Result<TelemetryEvent> {
        let a = self.activity;
        let feature = a.features[self.feature_pick.sample(rng)].0;
        if rng.gen_bool(a.error_rate.clamp(0.0, 1.0)) {
            return Ok(self.error_event(feature, ts, rng));
        }
        let (pv, fu, api) = a.mix;
        let kind = WeightedIndex::new([pv, fu, api])?.sample(rng);
        let mut e = match kind {
            0 => {
                let mut e = blank(self.install_id, EventType::PageView, ts);
                e.props.insert("path".into(), Value::String(page(feature)));
                e
            }
            1 => {
                let mut e = blank(self.install_id, EventType::FeatureUsed, ts);
                let action = ["open", "create", "update", "export"][rng.gen_range(0..4)];
                e.props.insert("action".into(), json!(action));
                e
            }
            _ => {
                let mut e = blank(self.install_id, EventType::ApiCall, ts);
                e.endpoint = Some(endpoint(feature).to_owned());
                e.props.insert(
                    "method".into(),
                    json!(if rng.gen_bool(0.7) { "GET" } else { "POST" }),
                );
                e
            }
        };
        e.feature = Some(feature.to_owned());
        e.duration_ms = Some(self.duration(rng));
        e.status = Some(200);
        Ok(e)
    }

    fn error_event(&self, feature: &str, ts: DateTime<Utc>, rng: &mut impl Rng) -> TelemetryEvent {
        let (status, message) = ERRORS[rng.gen_range(0..ERRORS.len())];
        let mut e = blank(self.install_id, EventType::Error, ts);
        e.feature = Some(feature.to_owned());
        e.endpoint = Some(endpoint(feature).to_owned());
        e.status = Some(status);
        e.error = Some(message.to_owned());
        e.duration_ms = Some(self.duration(rng));
        let category = if status >= 500 { "server" } else { "client" };
        e.props.insert("category".into(), json!(category));
        e
    }

    /// A call from the customer's scripts or SDK: any hour, no user, no session.
    fn script_call(&mut self, day: &Day, rng: &mut impl Rng) {
        let a = self.activity;
        let ts = instant_between(day.from, day.to, rng);
        let feature = a.features[self.feature_pick.sample(rng)].0;
        let mut e = if rng.gen_bool(a.error_rate.clamp(0.0, 1.0)) {
            self.error_event(feature, ts, rng)
        } else {
            let mut e = blank(self.install_id, EventType::ApiCall, ts);
            e.feature = Some(feature.to_owned());
            e.endpoint = Some(endpoint(feature).to_owned());
            e.status = Some(if rng.gen_bool(0.8) { 200 } else { 201 });
            e.duration_ms = Some(self.duration(rng));
            e.props.insert(
                "method".into(),
                json!(if rng.gen_bool(0.6) { "GET" } else { "POST" }),
            );
            e
        };
        if !a.script_agents.is_empty() {
            e.user_agent =
                Some(a.script_agents[rng.gen_range(0..a.script_agents.len())].to_owned());
        }
        self.tag(&mut e);
        self.events.push(e);
    }

    fn duration(&self, rng: &mut impl Rng) -> u32 {
        let (lo, hi) = self.activity.duration_ms;
        rng.gen_range(lo..=hi.max(lo))
    }

    fn tag(&self, event: &mut TelemetryEvent) {
        if let Some(source) = self.activity.source_prop {
            event.props.insert("source".into(), json!(source));
        }
    }
}
