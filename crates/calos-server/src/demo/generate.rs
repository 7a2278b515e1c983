//! Pure generation: profiles and "now" in, customers with their license
//! history, events, usage and brand out. No I/O and no clock, so the same
//! `now` always gives the same data.

use chrono::{DateTime, Duration, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use calos_core::branding::{Branding, HexColor};
use calos_core::customer::{DisplayText, Email, NewCustomer};
use calos_core::ids::InstallId;
use calos_core::license::License;
use calos_core::telemetry::{TelemetryEvent, UsageRecord};

use super::history::{self, HistoryStep};
use super::spec::Profile;
use super::{days, events, profiles, usage};

/// Seed of every demo RNG (mixed with each customer's key).
pub const DEMO_SEED: u64 = 0xCA10_5DE3_0000_0083;

/// One demo customer, ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoCustomer {
    pub key: &'static str,
    pub customer: NewCustomer,
    /// The license as created (its `customer_id` is set by the store).
    pub license: License,
    /// Changes after creation, oldest first.
    pub history: Vec<HistoryStep>,
    pub branding: Option<Branding>,
    /// The customer's UTC offset as the vendor recorded it (the time zone
    /// its people work in), which the culture analysis reads hours in.
    pub timezone_offset_minutes: Option<i32>,
    /// Sorted by time; event ids `demo-1`, `demo-2`, … in that order.
    pub events: Vec<TelemetryEvent>,
    /// Sorted by time.
    pub usage: Vec<UsageRecord>,
}

impl DemoCustomer {
    /// The license as it stands at "now".
    pub fn current_license(&self) -> &License {
        self.history
            .last()
            .map_or(&self.license, |step| &step.license)
    }
}

/// Every demo customer, in the order they are written.
pub fn generate(now: DateTime<Utc>) -> anyhow::Result<Vec<DemoCustomer>> {
    profiles::all()
        .into_iter()
        .map(|p| customer(p, now))
        .collect()
}

fn customer(profile: &'static Profile, now: DateTime<Utc>) -> anyhow::Result<DemoCustomer> {
    let mut rng = ChaCha8Rng::seed_from_u64(DEMO_SEED ^ key_bits(profile.key));
    let install_id = match profile.install_id {
        Some(id) => InstallId::parse(id)?,
        None => InstallId::parse(&hex_digest("calos-demo-install", profile.key, 32))?,
    };
    let (license, mut history) = history::replay(profile, install_id.clone(), now)?;

    let mut events = Vec::new();
    let mut usage = Vec::new();
    if let Some(activity) = &profile.activity {
        let days = days::days(activity, now)?;
        let users: Vec<String> = (1..=activity.user_weights.len())
            .map(|n| user_hash(profile.key, n))
            .collect();
        events = events::generate(activity, &install_id, &users, &days, &mut rng)?;
        usage = usage::generate(profile.usage, &install_id, &days, &mut rng)?;
        if let Some(metered) = &profile.metered_api {
            let period_start = history
                .last()
                .map_or(&license, |step| &step.license)
                .current_period_start;
            // Each call meters one API request at ingest, so no separate units.
            let calls = usage::metered_api(metered, &install_id, &days, period_start, &mut rng)?;
            events.extend(calls);
        }
    }
    // Stable sorts: equal timestamps keep generation order, so ids are deterministic.
    events.sort_by_key(|e| e.ts);
    for (n, event) in events.iter_mut().enumerate() {
        event.event_id = format!("demo-{}", n + 1);
    }
    usage.sort_by_key(|u| u.at);

    let mut license = license;
    let last_seen = events.last().map(|e| e.ts);
    match history.last_mut() {
        Some(step) => step.license.last_seen_at = last_seen,
        None => license.last_seen_at = last_seen,
    }

    let branding = match profile.brand {
        Some((product_name, color)) => Some(Branding {
            install_id: install_id.clone(),
            product_name: DisplayText::parse("productName", product_name)?,
            primary_color: HexColor::parse(color)?,
            logo_url: None,
            // Set up the day after the license was issued.
            updated_at: (license.created_at + Duration::days(1)).min(now),
        }),
        None => None,
    };

    Ok(DemoCustomer {
        key: profile.key,
        customer: NewCustomer {
            name: DisplayText::parse("name", profile.name)?,
            email: Email::parse(profile.email)?,
            company: Some(DisplayText::parse("company", profile.company)?),
        },
        license,
        history,
        branding,
        timezone_offset_minutes: profile.activity.as_ref().map(|a| a.tz_offset_hours * 60),
        events,
        usage,
    })
}

/// The opaque user id the SDK would send: SHA-256 of the customer's own user
/// name, truncated to 16 hex characters as the seed's obfuscator did.
/// The seed demo's users hash as `demo:user_1` … `demo:user_6`.
pub fn user_hash(key: &str, n: usize) -> String {
    hex_digest(key, &format!("user_{n}"), 16)
}

fn hex_digest(prefix: &str, value: &str, len: usize) -> String {
    let digest = Sha256::digest(format!("{prefix}:{value}").as_bytes());
    let mut hex = hex::encode(digest);
    hex.truncate(len);
    hex
}

fn key_bits(key: &str) -> u64 {
    let digest = Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}
