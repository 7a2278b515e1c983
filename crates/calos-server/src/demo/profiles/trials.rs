//! Customers that began as trials: running (Pro and Enterprise), converted
//! (one later moved to Enterprise), run out unconverted (one after an
//! extension) and revoked, so the trial-conversion rate is a real ratio.

use calos_core::license::BillingPeriod::{Annual, Monthly};
use calos_core::plan::UsageType::*;

use super::BASE_ACTIVITY;
use crate::demo::catalog::*;
use crate::demo::spec::{Activity, Lifecycle, Profile, Step, UsageSpec};

pub const ALL: [&Profile; 7] = [
    &COBALT,
    &MERIDIAN,
    &PINECREST,
    &QUILL,
    &SUMMIT,
    &GRAY_FOX,
    &IRONBRIDGE,
];

/// Pro trial, running, a week in and growing.
static COBALT: Profile = Profile {
    key: "cobalt",
    install_id: None,
    name: "Cobalt Coffee Roasters",
    email: "owner@cobaltcoffee.co",
    company: "Cobalt Coffee Roasters Inc.",
    domains: &["shop.cobaltcoffee.co"],
    plan: "pro",
    period: Monthly,
    notes: "Trade-show lead; two cafés. Trial ends next week.",
    lifecycle: Lifecycle {
        created_days_ago: 6,
        trial_days: 14,
        steps: &[],
    },
    activity: Some(Activity {
        from_days_ago: 5,
        events_per_day: 22.0,
        growth: 0.8,
        weekend_factor: 1.1,
        tz_offset_hours: -8,
        hours: (6, 19),
        user_weights: &[3, 2, 1],
        agents: &[IPAD_SAFARI_17, MAC_SAFARI_17, IPHONE_SAFARI_17],
        mix: (3, 5, 1),
        features: &[
            ("pos", 12),
            ("dashboard", 4),
            ("inventory", 3),
            ("reports", 1),
        ],
        duration_ms: (80, 1_300),
        ..BASE_ACTIVITY
    }),
    usage: &[UsageSpec::new(PosInPerson, 9.0, (1, 3), Some((350, 1_600)))],
    metered_api: None,
    brand: None,
};

/// Enterprise trial, running, annual, two domains.
static MERIDIAN: Profile = Profile {
    key: "meridian",
    install_id: None,
    name: "Meridian Health Partners",
    email: "it-procurement@meridianhealth.org",
    company: "Meridian Health Partners PC",
    domains: &["portal.meridianhealth.org", "staff.meridianhealth.org"],
    plan: "enterprise",
    period: Annual,
    notes:
        "Evaluating for 11 clinics. Security review passed; procurement asked for an SLA addendum.",
    lifecycle: Lifecycle {
        created_days_ago: 13,
        trial_days: 30,
        steps: &[],
    },
    activity: Some(Activity {
        from_days_ago: 12,
        events_per_day: 55.0,
        growth: 0.6,
        weekend_factor: 0.15,
        tz_offset_hours: -5,
        hours: (7, 19),
        user_weights: &[3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1],
        agents: &[WINDOWS_EDGE_120, WINDOWS_CHROME_120, IPAD_SAFARI_17],
        session_len: (3, 10),
        mix: (3, 4, 2),
        features: &[
            ("transcripts", 30),
            ("dashboard", 10),
            ("reports", 10),
            ("locations", 3),
            ("settings", 2),
        ],
        error_rate: 0.015,
        script_share: 0.1,
        script_agents: &[PYTHON_REQUESTS],
        duration_ms: (90, 1_600),
        ..BASE_ACTIVITY
    }),
    usage: &[
        UsageSpec::new(Transcript, 14.0, (1, 3), None),
        UsageSpec::new(Location, 0.2, (1, 2), None),
        UsageSpec::new(ApiRequest, 1.0, (10, 60), None),
    ],
    metered_api: None,
    brand: Some(("Meridian CareNotes", "#2563eb")),
};

/// Pro, monthly: a converted trial with a short suspension long ago.
static PINECREST: Profile = Profile {
    key: "pinecrest",
    install_id: None,
    name: "Pinecrest Dental Group",
    email: "office@pinecrestdental.com",
    company: "Pinecrest Dental Group PLLC",
    domains: &["records.pinecrestdental.com"],
    plan: "pro",
    period: Monthly,
    notes:
        "Three practices; transcripts for clinical notes. Card expired once, paid three days later.",
    lifecycle: Lifecycle {
        created_days_ago: 120,
        trial_days: 14,
        steps: &[
            (108, Step::Activate),
            (95, Step::Suspend("Payment failed: card expired")),
            (92, Step::Reactivate),
        ],
    },
    activity: Some(Activity {
        events_per_day: 20.0,
        growth: 0.2,
        tz_offset_hours: -7,
        hours: (7, 18),
        user_weights: &[3, 3, 2, 2, 1],
        agents: &[WINDOWS_CHROME_120, WINDOWS_EDGE_120, IPAD_SAFARI_17],
        session_len: (3, 9),
        mix: (3, 5, 1),
        features: &[
            ("transcripts", 14),
            ("pos", 5),
            ("dashboard", 4),
            ("reports", 3),
            ("quickbooks", 2),
        ],
        error_rate: 0.01,
        duration_ms: (80, 1_200),
        ..BASE_ACTIVITY
    }),
    usage: &[
        UsageSpec::new(Transcript, 6.0, (1, 2), None),
        UsageSpec::new(PosInPerson, 4.0, (1, 1), Some((4_500, 38_000))),
    ],
    metered_api: None,
    brand: None,
};

/// Pro trial that ran out unconverted; use faded before the end.
static QUILL: Profile = Profile {
    key: "quill",
    install_id: None,
    name: "Quill & Ink Stationers",
    email: "hello@quillandink.co.uk",
    company: "Quill & Ink Stationers Ltd",
    domains: &["shop.quillandink.co.uk"],
    plan: "pro",
    period: Monthly,
    notes: "Trial lapsed; the owner found the card-reader setup more than a single shop needs.",
    lifecycle: Lifecycle {
        created_days_ago: 40,
        trial_days: 14,
        steps: &[],
    },
    activity: Some(Activity {
        from_days_ago: 39,
        until_days_ago: 27,
        events_per_day: 8.0,
        growth: -0.7,
        weekend_factor: 0.6,
        hours: (9, 18),
        user_weights: &[2, 1],
        agents: &[MAC_SAFARI_17, IPHONE_SAFARI_17],
        session_len: (2, 5),
        mix: (4, 3, 0),
        features: &[("pos", 5), ("dashboard", 3), ("inventory", 2)],
        error_rate: 0.04,
        duration_ms: (120, 1_800),
        ..BASE_ACTIVITY
    }),
    usage: &[UsageSpec::new(PosInPerson, 1.5, (1, 1), Some((300, 4_500)))],
    metered_api: None,
    brand: None,
};

/// Enterprise trial, extended once, then ran out unconverted.
static SUMMIT: Profile = Profile {
    key: "summit",
    install_id: None,
    name: "Summit Outdoor Supply",
    email: "ops@summitoutdoor.com",
    company: "Summit Outdoor Supply Co.",
    domains: &["inventory.summitoutdoor.com"],
    plan: "enterprise",
    period: Monthly,
    notes: "Trial extended a week for their buyer; chose a competitor's bundle.",
    lifecycle: Lifecycle {
        created_days_ago: 75,
        trial_days: 30,
        steps: &[(47, Step::ExtendTrial(7))],
    },
    activity: Some(Activity {
        from_days_ago: 74,
        until_days_ago: 38,
        events_per_day: 18.0,
        growth: -0.5,
        weekend_factor: 0.8,
        tz_offset_hours: -7,
        hours: (8, 20),
        user_weights: &[3, 2, 2, 1],
        agents: &[WINDOWS_CHROME_120, MAC_CHROME_120, ANDROID_CHROME_120],
        features: &[
            ("inventory", 8),
            ("pos", 6),
            ("locations", 3),
            ("reports", 2),
        ],
        error_rate: 0.03,
        script_share: 0.05,
        script_agents: &[NODE_AXIOS],
        duration_ms: (90, 1_500),
        ..BASE_ACTIVITY
    }),
    usage: &[
        UsageSpec::new(PosInPerson, 5.0, (1, 2), Some((2_500, 30_000))),
        UsageSpec::new(PosOnline, 2.0, (1, 1), Some((3_000, 20_000))),
        UsageSpec::new(Location, 0.1, (1, 1), None),
    ],
    metered_api: None,
    brand: None,
};

/// Pro trial revoked within days (an unverifiable sign-up): a lost trial.
static GRAY_FOX: Profile = Profile {
    key: "gray-fox",
    install_id: None,
    name: "Gray Fox Trading",
    email: "contact@grayfoxtrading.biz",
    company: "Gray Fox Trading Co.",
    domains: &["app.grayfoxtrading.biz"],
    plan: "pro",
    period: Monthly,
    notes: "Trial revoked: the sign-up details matched no registered company.",
    lifecycle: Lifecycle {
        created_days_ago: 30,
        trial_days: 14,
        steps: &[(27, Step::Revoke("Sign-up could not be verified"))],
    },
    activity: Some(Activity {
        from_days_ago: 29,
        until_days_ago: 27,
        events_per_day: 12.0,
        weekend_factor: 1.0,
        tz_offset_hours: 3,
        hours: (0, 24),
        mix: (5, 2, 1),
        features: &[("crypto", 5), ("pos", 2), ("dashboard", 2)],
        error_rate: 0.05,
        script_share: 0.3,
        script_agents: &[PYTHON_REQUESTS],
        duration_ms: (100, 2_000),
        ..BASE_ACTIVITY
    }),
    usage: &[UsageSpec::new(
        Crypto,
        2.0,
        (1, 1),
        Some((100_000, 900_000)),
    )],
    metered_api: None,
    brand: None,
};

/// Converted Pro trial, later moved to Enterprise annual (two domains).
static IRONBRIDGE: Profile = Profile {
    key: "ironbridge",
    install_id: None,
    name: "Ironbridge Consulting",
    email: "it@ironbridgeconsulting.com",
    company: "Ironbridge Consulting Group Ltd",
    domains: &[
        "clients.ironbridgeconsulting.com",
        "portal.ironbridge.co.uk",
    ],
    plan: "pro",
    period: Monthly,
    notes: "Moved to Enterprise (annual) for multi-domain and the SLA.",
    lifecycle: Lifecycle {
        created_days_ago: 160,
        trial_days: 14,
        steps: &[
            (150, Step::Activate),
            (45, Step::ChangePlan("enterprise", Some(Annual))),
        ],
    },
    activity: Some(Activity {
        events_per_day: 35.0,
        growth: 0.25,
        weekend_factor: 0.1,
        hours: (8, 19),
        user_weights: &[3, 3, 2, 2, 2, 1, 1, 1, 1],
        agents: &[
            MAC_CHROME_120,
            WINDOWS_EDGE_120,
            MAC_SAFARI_17,
            IPHONE_SAFARI_17,
        ],
        session_len: (3, 10),
        mix: (3, 4, 2),
        features: &[
            ("reports", 10),
            ("quickbooks", 8),
            ("transcripts", 6),
            ("dashboard", 6),
            ("locations", 2),
        ],
        error_rate: 0.012,
        script_share: 0.25,
        script_agents: &[CALOS_CLIENT_RUST, CURL],
        duration_ms: (60, 1_500),
        ..BASE_ACTIVITY
    }),
    usage: &[
        UsageSpec::new(Transcript, 3.0, (1, 2), None),
        UsageSpec::new(ApiRequest, 4.0, (20, 200), None),
        UsageSpec::new(Location, 0.05, (1, 1), None),
    ],
    metered_api: None,
    brand: Some(("Ironbridge Client Portal", "#b45309")),
};
