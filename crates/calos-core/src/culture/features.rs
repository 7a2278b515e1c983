//! Feature usage and adoption. A feature is the exact `feature` name events
//! carry (`"pos"` never matches `"forum_post"`). Plan entitlements are mapped
//! to the telemetry that shows their use; an entitlement nothing can show
//! (SLA, priority support, seats) is never reported unused.

use std::collections::BTreeMap;

use super::clock::{sum_within, Clock};
use super::input::CultureInput;
use super::math::{ratio, round_to, trend_word};
use super::profile::FeatureUsage;
use crate::plan::Meter;

/// Below this share of feature activity a used entitlement is "rarely used".
pub const RARE_SHARE: f64 = 0.02;

/// An entitlement that telemetry can show in use.
struct Observable {
    /// Names in [`crate::plan::Plan::entitled_features`] (flags and meter features).
    entitlements: &'static [&'static str],
    /// The name reported in `unusedFeatures`.
    name: &'static str,
    /// Exact telemetry feature names that count as use.
    telemetry: &'static [&'static str],
    /// The meter whose metered usage counts as use.
    meter: Option<Meter>,
    /// Whether `api_call` events count as use.
    api_calls: bool,
    /// Whether configured white-label branding counts as use.
    branding: bool,
}

const OBSERVABLE: [Observable; 7] = [
    Observable {
        entitlements: &["pos"],
        name: "pos",
        telemetry: &["pos"],
        meter: Some(Meter::PosTransactions),
        api_calls: false,
        branding: false,
    },
    Observable {
        entitlements: &["transcripts"],
        name: "transcripts",
        telemetry: &["transcripts", "transcript"],
        meter: Some(Meter::Transcripts),
        api_calls: false,
        branding: false,
    },
    Observable {
        entitlements: &["crypto"],
        name: "crypto",
        telemetry: &["crypto"],
        meter: Some(Meter::CryptoCharges),
        api_calls: false,
        branding: false,
    },
    Observable {
        entitlements: &["locations"],
        name: "locations",
        telemetry: &["locations"],
        meter: Some(Meter::Locations),
        api_calls: false,
        branding: false,
    },
    Observable {
        entitlements: &["api", "apiAccess"],
        name: "api",
        telemetry: &["api"],
        meter: Some(Meter::ApiRequests),
        api_calls: true,
        branding: false,
    },
    Observable {
        entitlements: &["quickbooksSync"],
        name: "quickbooks",
        telemetry: &["quickbooks"],
        meter: None,
        api_calls: false,
        branding: false,
    },
    Observable {
        entitlements: &["whiteLabel"],
        name: "white_label",
        telemetry: &["white_label", "branding"],
        meter: None,
        api_calls: false,
        branding: true,
    },
];

/// How a customer uses its features and its plan's.
#[derive(Debug, Clone, Default)]
pub struct Adoption {
    pub features: Vec<FeatureUsage>,
    /// Observable entitlements of the plan, by reported name.
    pub entitled: Vec<&'static str>,
    pub unused: Vec<String>,
    pub rarely_used: Vec<String>,
}

impl Adoption {
    /// Share (0–1) of observable entitlements in use; `None` when the plan
    /// has none that telemetry can show.
    pub fn breadth(&self) -> Option<f64> {
        let n = self.entitled.len();
        (n > 0).then(|| (n - self.unused.len()) as f64 / n as f64)
    }
}

#[derive(Default)]
struct Tally {
    events: i64,
    good: i64,
    errors: i64,
    last_7: i64,
    previous_7: i64,
}

pub fn analyze(input: &CultureInput<'_>, clock: &Clock) -> Adoption {
    // Already summed over the windows of `FeatureWindows::at(now)`.
    let mut by_feature: BTreeMap<&str, Tally> = BTreeMap::new();
    for f in input.features {
        if f.feature.is_empty() {
            continue;
        }
        let t = by_feature.entry(f.feature.as_str()).or_default();
        t.events += f.events;
        t.good += f.good;
        t.errors += f.errors;
        t.last_7 += f.last_7_days;
        t.previous_7 += f.previous_7_days;
    }
    let tagged: i64 = by_feature.values().map(|t| t.events).sum();
    let mut features: Vec<FeatureUsage> = by_feature
        .iter()
        .map(|(name, t)| FeatureUsage {
            name: (*name).to_owned(),
            events: t.events,
            share: round_to(ratio(t.events, tagged).unwrap_or(0.0), 4),
            trend: trend_word(t.last_7, t.previous_7, "stopped").to_owned(),
            last_7_days: t.last_7,
            previous_7_days: t.previous_7,
            errors: t.errors,
            error_rate: round_to(ratio(t.errors, t.events).unwrap_or(0.0), 4),
            entitlement: OBSERVABLE
                .iter()
                .find(|o| o.telemetry.contains(name))
                .map(|o| o.name.to_owned()),
        })
        .collect();
    features.sort_by(|a, b| b.events.cmp(&a.events).then(a.name.cmp(&b.name)));

    let entitlements = input.plan.entitled_features();
    let entitled: Vec<&Observable> = OBSERVABLE
        .iter()
        .filter(|o| {
            o.entitlements
                .iter()
                .any(|e| entitlements.iter().any(|x| x == e))
        })
        .collect();
    let api_calls = sum_within(clock, input.hours, super::input::WINDOW_DAYS, 0, |r| {
        r.api_good
    });
    let all_events: i64 = input.hours.iter().map(|r| r.events).sum();
    let mut unused = Vec::new();
    let mut rarely_used = Vec::new();
    for o in &entitled {
        let seen: i64 = o
            .telemetry
            .iter()
            .filter_map(|n| by_feature.get(n))
            .map(|t| t.good)
            .sum();
        let metered = o.meter.is_some_and(|m| {
            input.meters.iter().any(|u| u.meter == m && u.used > 0)
                || input
                    .daily_usage
                    .iter()
                    .any(|d| d.meter == m && d.quantity > 0)
        });
        let via_api = o.api_calls && api_calls > 0;
        let via_branding = o.branding && input.branding_configured;
        if seen == 0 && !metered && !via_api && !via_branding {
            unused.push(o.name.to_owned());
            continue;
        }
        // Share of activity: feature-tagged events, or all events for API calls.
        let share = if o.api_calls {
            ratio(api_calls.max(seen), all_events)
        } else {
            ratio(seen, tagged)
        };
        let only_by_use = !metered && !via_branding;
        if only_by_use && share.is_some_and(|s| s < RARE_SHARE) {
            rarely_used.push(o.name.to_owned());
        }
    }
    Adoption {
        features,
        entitled: entitled.iter().map(|o| o.name).collect(),
        unused,
        rarely_used,
    }
}

/// A feature's name as a salesperson says it.
pub fn spoken(name: &str) -> String {
    match name {
        "pos" => "POS".to_owned(),
        "api" => "API".to_owned(),
        "quickbooks" => "QuickBooks".to_owned(),
        "white_label" => "white-label branding".to_owned(),
        other => other.replace('_', " "),
    }
}
