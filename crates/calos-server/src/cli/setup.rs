//! `calos setup [--demo]`: every step prints its outcome; the first that
//! fails stops setup with a message naming it and a non-zero exit (the seed
//! printed success while its migrations had failed).

use anyhow::Context;
use chrono::Utc;

use calos_core::audit::Actor;
use calos_core::ids::LicenseKey;
use calos_core::plan::default_plans;

use super::bootstrap::{ensure_first_admin, FirstAdmin, FIRST_ADMIN};
use crate::app::AppState;
use crate::config::Config;
use crate::demo::{self, DemoSummary};
use crate::secrets::{KeySource, LicenseKeyHasher, MasterKey};
use crate::store::{open_store, redact};

pub async fn setup(config: Config, with_demo: bool) -> anyhow::Result<()> {
    let steps = if with_demo { 5 } else { 4 };
    let url = redact(&config.database_url);

    println!("[1/{steps}] database {url}: applying migrations");
    let store = open_store(&config.database_url)
        .await
        .context("setup step 1 (database and migrations) failed")?;
    println!("      ok ({})", store.backend());

    println!("[2/{steps}] default plans");
    let inserted = store
        .ensure_plans(&default_plans())
        .await
        .context("setup step 2 (default plans) failed")?;
    println!("      ok ({inserted} added; existing plans are left as they are)");

    println!("[3/{steps}] master key");
    let (master, source) = MasterKey::load(&config).context("setup step 3 (master key) failed")?;
    match &source {
        KeySource::Env => println!("      ok (from CALOS_MASTER_KEY)"),
        KeySource::File(p) => println!("      ok (existing {})", p.display()),
        KeySource::Created(p) => println!(
            "      ok (created {}; back it up: license keys are hashed with it)",
            p.display()
        ),
    }
    let hasher = LicenseKeyHasher::new(&master).context("setup step 3 (master key) failed")?;

    println!("[4/{steps}] first admin");
    let first = ensure_first_admin(store.as_ref(), config.admin_password.as_ref(), Actor::Cli)
        .await
        .context("setup step 4 (first admin) failed")?;
    match &first {
        FirstAdmin::AlreadyThere => println!("      ok (an admin already exists)"),
        FirstAdmin::Created { generated: None } => {
            println!(
                "      ok (created {FIRST_ADMIN:?} with the password in CALOS_ADMIN_PASSWORD)"
            );
        }
        FirstAdmin::Created {
            generated: Some(pw),
        } => {
            println!("      ok (created {FIRST_ADMIN:?}; password, shown once: {pw})");
        }
    }

    let state = AppState::from_parts(store, std::sync::Arc::new(hasher), &master, config)?;
    let summary = if with_demo {
        println!("[5/{steps}] demo data");
        let s = load_demo(&state, &mut |line: &str| println!("      {line}"))
            .await
            .context("setup step 5 (demo data) failed")?;
        Some(s)
    } else {
        None
    };

    println!();
    println!("setup complete: {} store at {url}", state.store.backend());
    if let Some(s) = summary {
        if s.already_present {
            println!("  demo data was already present; nothing duplicated");
        } else {
            println!(
                "  demo: {} customers, {} licenses, {} telemetry events, {} usage records",
                s.customers, s.licenses, s.events, s.usage_records
            );
            if let Some(key) = &s.demo_license_key {
                println!(
                    "  demo install {} has license key {key} (shown once)",
                    s.demo_install_id
                );
            }
        }
    }
    println!("  next: calos serve   (then log in as {FIRST_ADMIN:?})");
    Ok(())
}

/// Loads the demo customers with license keys hashed like real ones.
pub async fn load_demo(
    state: &AppState,
    progress: &mut (dyn FnMut(&str) + Send),
) -> anyhow::Result<DemoSummary> {
    let hasher = state.hasher.clone();
    let hash_key = move |key: &LicenseKey| hasher.hash(key);
    demo::load(state.store.as_ref(), &hash_key, Utc::now(), progress).await
}
