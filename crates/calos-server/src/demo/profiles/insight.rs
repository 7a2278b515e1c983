//! The three customers behind the seed's example insights, shaped so an
//! analyzer over hourly rollups finds them:
//! * Harbor & Vine: Pro, uses POS heavily, never crypto;
//! * Lagoon Architects: exactly 8 people, Mon–Fri 09:00–17:00 in Lagos
//!   (UTC+1 all year), almost no errors, steady use for 60 days;
//! * Brightpath Tutoring: Community, 95 of its 100 API requests used in the
//!   current period, about 200 events a day.

use calos_core::license::BillingPeriod;
use calos_core::plan::UsageType;

use super::BASE_ACTIVITY;
use crate::demo::catalog::*;
use crate::demo::spec::{Activity, Lifecycle, MeteredApi, Profile, Step, UsageSpec};

pub static HARBOR_VINE: Profile = Profile {
    key: "harbor-vine",
    install_id: None,
    name: "Harbor & Vine Restaurant Group",
    email: "it@harborandvine.com",
    company: "Harbor & Vine Hospitality LLC",
    domains: &["pos.harborandvine.com"],
    plan: "pro",
    period: BillingPeriod::Annual,
    notes: "Four restaurants. Bought Pro (annual) after the POS pilot at the waterfront location.",
    lifecycle: Lifecycle {
        created_days_ago: 200,
        trial_days: 14,
        steps: &[(190, Step::Activate)],
    },
    activity: Some(Activity {
        events_per_day: 45.0,
        growth: 0.15,
        weekend_factor: 1.35,
        tz_offset_hours: -5,
        hours: (10, 23),
        user_weights: &[5, 5, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1],
        agents: &[
            IPAD_SAFARI_17,
            IPAD_SAFARI_17,
            WINDOWS_CHROME_120,
            IPHONE_SAFARI_17,
        ],
        session_len: (2, 8),
        mix: (2, 6, 1),
        features: &[
            ("pos", 70),
            ("inventory", 8),
            ("dashboard", 8),
            ("reports", 6),
            ("quickbooks", 4),
            ("locations", 2),
        ],
        error_rate: 0.01,
        script_share: 0.03,
        script_agents: &[CALOS_CLIENT_RUST],
        duration_ms: (60, 1400),
        ..BASE_ACTIVITY
    }),
    usage: &[
        UsageSpec {
            kind: UsageType::PosInPerson,
            per_day: 28.0,
            quantity: (1, 3),
            unit_amount_minor: Some((650, 5_400)),
        },
        UsageSpec {
            kind: UsageType::PosOnline,
            per_day: 7.0,
            quantity: (1, 2),
            unit_amount_minor: Some((1_800, 7_500)),
        },
        UsageSpec {
            kind: UsageType::Transcript,
            per_day: 0.3,
            quantity: (1, 1),
            unit_amount_minor: None,
        },
        UsageSpec {
            kind: UsageType::ApiRequest,
            per_day: 2.0,
            quantity: (20, 80),
            unit_amount_minor: None,
        },
    ],
    metered_api: None,
    brand: Some(("Harbor & Vine POS", "#1f6f5c")),
};

/// Lagos keeps UTC+1 all year (no daylight saving), so "09:00–17:00 local"
/// is the same UTC window on every day of the demo.
pub const LAGOS_UTC_OFFSET_HOURS: i32 = 1;

pub static LAGOON: Profile = Profile {
    key: "lagoon",
    install_id: None,
    name: "Lagoon Architects",
    email: "studio@lagoonarchitects.ng",
    company: "Lagoon Architects Ltd",
    domains: &["studio.lagoonarchitects.ng"],
    plan: "pro",
    period: BillingPeriod::Annual,
    notes: "Eight-person studio in Lagos (WAT, UTC+1). Office hours Mon–Fri 09:00–17:00.",
    lifecycle: Lifecycle {
        created_days_ago: 400,
        trial_days: 0,
        steps: &[],
    },
    activity: Some(Activity {
        events_per_day: 80.0,
        growth: 0.05,
        weekend_factor: 0.0,
        tz_offset_hours: LAGOS_UTC_OFFSET_HOURS,
        hours: (9, 17),
        user_weights: &[4, 4, 3, 3, 3, 2, 2, 2],
        agents: &[
            MAC_CHROME_120,
            WINDOWS_EDGE_120,
            MAC_SAFARI_17,
            LINUX_FIREFOX_121,
            WINDOWS_CHROME_120,
        ],
        session_len: (4, 14),
        mix: (3, 5, 2),
        features: &[
            ("transcripts", 22),
            ("reports", 18),
            ("dashboard", 14),
            ("quickbooks", 10),
            ("pos", 6),
            ("locations", 4),
            ("crypto", 3),
            ("settings", 2),
        ],
        error_rate: 0.002,
        duration_ms: (80, 900),
        ..BASE_ACTIVITY
    }),
    usage: &[
        UsageSpec {
            kind: UsageType::Transcript,
            per_day: 6.0,
            quantity: (1, 2),
            unit_amount_minor: None,
        },
        UsageSpec {
            kind: UsageType::PosOnline,
            per_day: 1.5,
            quantity: (1, 1),
            unit_amount_minor: Some((15_000, 250_000)),
        },
        UsageSpec {
            kind: UsageType::Crypto,
            per_day: 0.1,
            quantity: (1, 1),
            unit_amount_minor: Some((50_000, 400_000)),
        },
        UsageSpec {
            kind: UsageType::ApiRequest,
            per_day: 3.0,
            quantity: (10, 40),
            unit_amount_minor: None,
        },
    ],
    metered_api: None,
    brand: Some(("Lagoon Studio Hub", "#0e7490")),
};

/// Community allows 100 API requests per billing period; 95 is 95%.
pub const BRIGHTPATH_API_CALLS_THIS_PERIOD: u32 = 95;

pub static BRIGHTPATH: Profile = Profile {
    key: "brightpath",
    install_id: None,
    name: "Brightpath Tutoring",
    email: "admin@brightpathtutoring.org",
    company: "Brightpath Tutoring Cooperative",
    domains: &["learn.brightpathtutoring.org"],
    plan: "community",
    period: BillingPeriod::Monthly,
    notes: "Free tier. A student-sync script calls the API several times a day.",
    lifecycle: Lifecycle {
        created_days_ago: 50,
        trial_days: 0,
        steps: &[],
    },
    activity: Some(Activity {
        from_days_ago: 30,
        events_per_day: 200.0,
        growth: 0.1,
        weekend_factor: 0.7,
        tz_offset_hours: -6,
        hours: (7, 23),
        user_weights: &[6, 5, 5, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 1],
        agents: &[
            WINDOWS_CHROME_120,
            MAC_CHROME_120,
            ANDROID_CHROME_120,
            IPHONE_SAFARI_17,
            IPAD_SAFARI_17,
        ],
        session_len: (3, 12),
        // No in-app API calls: the script's calls below are all of them.
        mix: (5, 4, 0),
        features: &[
            ("scheduling", 30),
            ("students", 25),
            ("dashboard", 20),
            ("messaging", 15),
            ("reports", 8),
            ("transcripts", 2),
        ],
        error_rate: 0.012,
        duration_ms: (60, 1200),
        ..BASE_ACTIVITY
    }),
    usage: &[UsageSpec {
        kind: UsageType::Transcript,
        per_day: 0.07,
        quantity: (1, 1),
        unit_amount_minor: None,
    }],
    metered_api: Some(MeteredApi {
        per_day_before_period: 4.5,
        in_current_period: BRIGHTPATH_API_CALLS_THIS_PERIOD,
        agent: PYTHON_REQUESTS,
        endpoints: &[
            "/api/v1/students/:id",
            "/api/v1/schedule/slots",
            "/api/v1/sessions/:id/notes",
        ],
    }),
    brand: None,
};
