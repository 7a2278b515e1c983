//! The demo customers as data. The seed's test customer comes first; then the
//! three customers behind the seed's example insights (`insight.rs`); then
//! customers that together show every tier, license state and billing
//! period (`paid.rs`, `trials.rs`).

mod insight;
mod paid;
mod trials;

use calos_core::license::BillingPeriod;
use calos_core::plan::UsageType;

use super::catalog::*;
use super::spec::{Activity, Lifecycle, Profile, UsageSpec};

#[cfg(test)]
pub use insight::{BRIGHTPATH_API_CALLS_THIS_PERIOD, LAGOS_UTC_OFFSET_HOURS};

/// The seed's demo install id (`083_seed_test_customer.sql`).
pub const DEMO_INSTALL_ID: &str = "demo-install-abc123456789abcdef";

/// Every demo customer, the seed's test customer last: it is written last, so
/// its presence means a previous load finished.
pub fn all() -> Vec<&'static Profile> {
    let mut out: Vec<&'static Profile> = vec![
        &insight::HARBOR_VINE,
        &insight::LAGOON,
        &insight::BRIGHTPATH,
    ];
    out.extend(paid::ALL);
    out.extend(trials::ALL);
    out.push(&DEMO);
    out
}

/// Defaults the profiles override; alone it would describe a quiet office.
pub const BASE_ACTIVITY: Activity = Activity {
    from_days_ago: 60,
    until_days_ago: 0,
    events_per_day: 10.0,
    growth: 0.0,
    weekend_factor: 0.2,
    tz_offset_hours: 0,
    hours: (8, 18),
    user_weights: &[1],
    agents: &[WINDOWS_CHROME_120],
    session_len: (2, 8),
    session_markers: true,
    mix: (3, 4, 1),
    features: &[("dashboard", 1)],
    error_rate: 0.02,
    script_share: 0.0,
    script_agents: &[],
    duration_ms: (80, 1500),
    source_prop: None,
};

/// Rate of each of the six usage types in the seed demo: 50 records in 30 days.
const DEMO_USAGE_RATE: f64 = 50.0 / 30.0 / 6.0;

const fn demo_usage(kind: UsageType, unit_amount_minor: Option<(i64, i64)>) -> UsageSpec {
    UsageSpec {
        kind,
        per_day: DEMO_USAGE_RATE,
        quantity: (1, 11),
        unit_amount_minor,
    }
}

/// The seed's test customer, as `083_seed_test_customer.sql` described it:
/// Pro, monthly, active, about 100 events from six users on three browsers
/// over the last 30 days, about 50 usage records of every type.
pub static DEMO: Profile = Profile {
    key: "demo",
    install_id: Some(DEMO_INSTALL_ID),
    name: "Demo Corp",
    email: "demo@calos.sh",
    company: "Demo Corp",
    domains: &["demo.calos.sh"],
    plan: "pro",
    period: BillingPeriod::Monthly,
    notes: "The seed's test customer (083_seed_test_customer.sql).",
    // Created 45 days ago so its current period runs from about 15 days ago
    // to 15 days ahead, as the seed's did, and its 30 days of events all
    // come after its creation.
    lifecycle: Lifecycle {
        created_days_ago: 45,
        trial_days: 0,
        steps: &[],
    },
    activity: Some(Activity {
        from_days_ago: 30,
        events_per_day: 100.0 / 30.0,
        weekend_factor: 1.0,
        hours: (0, 24),
        // user_1 and user_6 at half weight, as the seed's rounding made them.
        user_weights: &[1, 2, 2, 2, 2, 1],
        agents: &[MAC_CHROME_120, WINDOWS_FIREFOX_121, IPHONE_SAFARI_17],
        session_len: (1, 4),
        session_markers: false,
        mix: (4, 4, 1),
        features: &[
            ("pos", 3),
            ("transcripts", 2),
            ("quickbooks", 1),
            ("dashboard", 3),
            ("reports", 2),
        ],
        error_rate: 0.0,
        duration_ms: (100, 1100),
        source_prop: Some("demo"),
        ..BASE_ACTIVITY
    }),
    usage: &[
        demo_usage(UsageType::Transcript, None),
        demo_usage(UsageType::PosInPerson, Some((500, 4_000))),
        demo_usage(UsageType::PosOnline, Some((1_000, 9_000))),
        demo_usage(UsageType::Crypto, Some((2_000, 25_000))),
        demo_usage(UsageType::Location, None),
        demo_usage(UsageType::ApiRequest, None),
    ],
    metered_api: None,
    brand: Some(("Demo Corp", "#667eea")),
};
