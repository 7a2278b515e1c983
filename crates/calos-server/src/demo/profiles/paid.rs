//! Customers licensed without a trial: the free tiers (development,
//! community), self-hosted, and paid licenses that ended (contract expired),
//! were suspended for non-payment or were revoked.

use calos_core::license::BillingPeriod::{Annual, Monthly};
use calos_core::plan::UsageType::*;

use super::BASE_ACTIVITY;
use crate::demo::catalog::*;
use crate::demo::spec::{Activity, Lifecycle, Profile, Step, UsageSpec};

pub const ALL: [&Profile; 6] = [
    &CALOS_QA,
    &FJORDLINE,
    &ATLAS,
    &REDWOOD,
    &VORTEX,
    &LITTLE_LANTERN,
];

/// Development tier, active: the vendor's own QA lab, heavy on scripts and errors.
static CALOS_QA: Profile = Profile {
    key: "calos-qa",
    install_id: None,
    name: "CALOS QA Lab",
    email: "qa@calos.sh",
    company: "CALOS",
    domains: &["qa.calos.sh"],
    plan: "development",
    period: Monthly,
    notes: "Internal test deployment: release candidates run here before shipping.",
    lifecycle: Lifecycle {
        created_days_ago: 300,
        trial_days: 0,
        steps: &[],
    },
    activity: Some(Activity {
        from_days_ago: 45,
        events_per_day: 18.0,
        weekend_factor: 0.1,
        hours: (8, 20),
        user_weights: &[3, 2, 1],
        agents: &[LINUX_FIREFOX_121, MAC_CHROME_120],
        mix: (3, 3, 2),
        features: &[
            ("dashboard", 4),
            ("pos", 3),
            ("transcripts", 3),
            ("crypto", 2),
            ("quickbooks", 2),
            ("reports", 2),
            ("settings", 2),
        ],
        error_rate: 0.06,
        script_share: 0.45,
        script_agents: &[CURL, CALOS_CLIENT_RUST],
        duration_ms: (30, 2_500),
        ..BASE_ACTIVITY
    }),
    usage: &[
        UsageSpec::new(Transcript, 1.0, (1, 2), None),
        UsageSpec::new(PosOnline, 1.0, (1, 1), Some((100, 2_000))),
        UsageSpec::new(Crypto, 0.5, (1, 1), Some((100, 5_000))),
        UsageSpec::new(ApiRequest, 2.0, (5, 50), None),
    ],
    metered_api: None,
    brand: None,
};

/// Self-hosted, active, annual: air-gapped, so no telemetry at all.
static FJORDLINE: Profile = Profile {
    key: "fjordline",
    install_id: None,
    name: "Fjordline Logistics",
    email: "drift@fjordline.no",
    company: "Fjordline Logistics AS",
    domains: &["ops.fjordline.no", "lager.fjordline.no"],
    plan: "self_hosted",
    period: Annual,
    notes: "Air-gapped installation in Bergen: offline license, no telemetry leaves the site. Renewed by purchase order.",
    lifecycle: Lifecycle { created_days_ago: 250, trial_days: 0, steps: &[] },
    activity: None,
    usage: &[],
    metered_api: None,
    brand: None,
};

/// Enterprise, annual: the contract was set to end and did (expired).
static ATLAS: Profile = Profile {
    key: "atlas",
    install_id: None,
    name: "Atlas Freight Brokers",
    email: "licensing@atlasfreight.com",
    company: "Atlas Freight Brokers Inc.",
    domains: &["tms.atlasfreight.com"],
    plan: "enterprise",
    period: Annual,
    notes: "Did not renew: merged into a parent company that runs its own platform.",
    lifecycle: Lifecycle {
        created_days_ago: 420,
        trial_days: 0,
        steps: &[(60, Step::RenewUntilDaysAgo(20))],
    },
    activity: Some(Activity {
        from_days_ago: 90,
        until_days_ago: 20,
        events_per_day: 25.0,
        growth: -0.5,
        weekend_factor: 0.1,
        tz_offset_hours: -6,
        hours: (6, 20),
        user_weights: &[4, 3, 3, 2, 2, 2, 1, 1, 1, 1],
        agents: &[WINDOWS_CHROME_120, WINDOWS_EDGE_120, ANDROID_CHROME_120],
        session_len: (3, 10),
        mix: (3, 4, 2),
        features: &[
            ("dashboard", 8),
            ("reports", 8),
            ("quickbooks", 5),
            ("locations", 4),
            ("settings", 1),
        ],
        script_share: 0.2,
        script_agents: &[PYTHON_REQUESTS, CURL],
        duration_ms: (70, 2_200),
        ..BASE_ACTIVITY
    }),
    usage: &[
        UsageSpec::new(ApiRequest, 3.0, (20, 120), None),
        UsageSpec::new(Location, 0.05, (1, 1), None),
    ],
    metered_api: None,
    brand: None,
};

/// Pro, monthly, suspended for an unpaid invoice; use was already fading.
static REDWOOD: Profile = Profile {
    key: "redwood",
    install_id: None,
    name: "Redwood Property Management",
    email: "accounts@redwoodpm.com",
    company: "Redwood Property Management LLC",
    domains: &["portal.redwoodpm.com"],
    plan: "pro",
    period: Monthly,
    notes: "Suspended for non-payment (net-30 exceeded). Reactivate when the invoice is paid.",
    lifecycle: Lifecycle {
        created_days_ago: 150,
        trial_days: 0,
        steps: &[(
            6,
            Step::Suspend("Invoice overdue more than 30 days (net-30)"),
        )],
    },
    activity: Some(Activity {
        from_days_ago: 90,
        until_days_ago: 6,
        events_per_day: 15.0,
        growth: -0.4,
        tz_offset_hours: -8,
        user_weights: &[3, 2, 2, 1, 1],
        agents: &[WINDOWS_CHROME_120, MAC_CHROME_120],
        features: &[
            ("dashboard", 5),
            ("reports", 4),
            ("quickbooks", 4),
            ("locations", 2),
            ("pos", 2),
        ],
        error_rate: 0.025,
        duration_ms: (90, 1_700),
        ..BASE_ACTIVITY
    }),
    usage: &[
        UsageSpec::new(PosOnline, 2.0, (1, 1), Some((95_000, 320_000))),
        UsageSpec::new(ApiRequest, 1.0, (5, 30), None),
    ],
    metered_api: None,
    brand: None,
};

/// Pro, monthly, revoked after its key leaked.
static VORTEX: Profile = Profile {
    key: "vortex",
    install_id: None,
    name: "Vortex Media",
    email: "billing@vortexmedia.io",
    company: "Vortex Media LLC",
    domains: &["cms.vortexmedia.io"],
    plan: "pro",
    period: Monthly,
    notes:
        "Revoked: the license key was published in a public repository and used from unknown hosts.",
    lifecycle: Lifecycle {
        created_days_ago: 95,
        trial_days: 0,
        steps: &[(
            20,
            Step::Revoke("License key leaked in a public repository"),
        )],
    },
    activity: Some(Activity {
        from_days_ago: 90,
        until_days_ago: 20,
        events_per_day: 20.0,
        growth: 0.3,
        weekend_factor: 0.5,
        hours: (8, 23),
        user_weights: &[3, 3, 2, 2, 1, 1, 1],
        agents: &[MAC_CHROME_120, MAC_SAFARI_17, LINUX_FIREFOX_121],
        session_len: (2, 9),
        mix: (4, 3, 2),
        features: &[
            ("transcripts", 10),
            ("dashboard", 4),
            ("reports", 3),
            ("crypto", 2),
        ],
        error_rate: 0.03,
        script_share: 0.15,
        script_agents: &[CURL, NODE_AXIOS],
        duration_ms: (60, 1_900),
        ..BASE_ACTIVITY
    }),
    usage: &[
        UsageSpec::new(Transcript, 4.0, (1, 4), None),
        UsageSpec::new(Crypto, 0.5, (1, 1), Some((1_000, 40_000))),
        UsageSpec::new(ApiRequest, 2.0, (10, 100), None),
    ],
    metered_api: None,
    brand: None,
};

/// Community, monthly, active: one small shop, comfortably inside its limits.
static LITTLE_LANTERN: Profile = Profile {
    key: "little-lantern",
    install_id: None,
    name: "Little Lantern Bakery",
    email: "hello@littlelanternbakery.com",
    company: "Little Lantern Bakery",
    domains: &["orders.littlelanternbakery.com"],
    plan: "community",
    period: Monthly,
    notes: "Single shop on the free tier.",
    lifecycle: Lifecycle {
        created_days_ago: 200,
        trial_days: 0,
        steps: &[],
    },
    activity: Some(Activity {
        growth: 0.1,
        weekend_factor: 1.4,
        tz_offset_hours: 10,
        hours: (6, 15),
        user_weights: &[3, 1],
        agents: &[IPAD_SAFARI_17, ANDROID_CHROME_120],
        session_len: (2, 6),
        mix: (2, 5, 0),
        features: &[("pos", 8), ("dashboard", 2), ("inventory", 1)],
        duration_ms: (80, 1_300),
        ..BASE_ACTIVITY
    }),
    usage: &[UsageSpec::new(PosInPerson, 2.2, (1, 1), Some((400, 2_600)))],
    metered_api: None,
    brand: None,
};
