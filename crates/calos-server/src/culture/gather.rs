//! From store rows to [`CultureProfile`]s: one batched read per input kind
//! for all the licenses asked about, grouped per install, then the pure
//! analyzer per install.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use calos_core::culture::{
    analyze, CultureInput, CultureProfile, MeterUse, MAX_SESSIONS, MAX_USER_AGENTS, WINDOW_DAYS,
};
use calos_core::ids::InstallId;
use calos_core::license::License;
use calos_core::plan::{Meter, Plan};
use calos_store::{CultureData, CultureWindow, Store, StoreResult};

/// The days of metered usage the analyzer projects limits from.
const USAGE_DAYS: i64 = 28;

/// What to read at `now`. One day more than the analysis window, so a
/// customer far from UTC still has its whole local window; the analyzer
/// trims to its own window.
pub fn window(now: DateTime<Utc>) -> CultureWindow {
    CultureWindow {
        now,
        from: now - TimeDelta::days(WINDOW_DAYS + 1),
        usage_from: (now - TimeDelta::days(USAGE_DAYS)).date_naive(),
        max_sessions: MAX_SESSIONS,
        max_user_agents: MAX_USER_AGENTS,
    }
}

/// The analyzer's input for one license from its stored data.
fn profile(
    license: &License,
    plan: &Plan,
    plans: &[Plan],
    data: &CultureData,
    now: DateTime<Utc>,
) -> CultureProfile {
    let mut used: BTreeMap<Meter, i64> = data.period_usage.clone();
    used.insert(Meter::Seats, data.seats);
    used.insert(
        Meter::Domains,
        i64::try_from(license.domains.len()).unwrap_or(i64::MAX),
    );
    let meters = MeterUse::for_plan(plan, &used);
    analyze(&CultureInput {
        now,
        license,
        plan,
        plans,
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

/// Profiles of every license given whose plan is among `plans`, keyed by
/// install. The store is read once per input kind for all of them.
pub async fn analyze_licenses(
    store: &dyn Store,
    licenses: &[&License],
    plans: &[Plan],
    now: DateTime<Utc>,
) -> StoreResult<BTreeMap<InstallId, CultureProfile>> {
    let ids: Vec<InstallId> = licenses.iter().map(|l| l.install_id.clone()).collect();
    let data = store.culture_data(&ids, &window(now)).await?;
    let empty = CultureData::default();
    Ok(licenses
        .iter()
        .filter_map(|l| {
            let plan = plans.iter().find(|p| p.slug == l.plan)?;
            let d = data.get(&l.install_id).unwrap_or(&empty);
            Some((l.install_id.clone(), profile(l, plan, plans, d, now)))
        })
        .collect())
}

/// The profile of one license; `None` when its plan is missing.
pub async fn analyze_one(
    store: &dyn Store,
    license: &License,
    plans: &[Plan],
    now: DateTime<Utc>,
) -> StoreResult<Option<CultureProfile>> {
    let mut all = analyze_licenses(store, &[license], plans, now).await?;
    Ok(all.remove(&license.install_id))
}
