//! Demo data for `calos setup --demo` and `calos serve --demo`: the seed's
//! test customer exactly, plus customers across every tier and license state
//! (among them the three behind the seed's example insights), generated
//! deterministically relative to "now" and written through the `Store` trait.
//!
//! Generation is pure (`generate`); [`load`] only writes what it returns.

mod catalog;
mod days;
mod events;
mod generate;
mod history;
mod ingest;
mod profiles;
mod spec;
mod usage;

#[cfg(test)]
mod tests;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::Serialize;

use calos_core::audit::{Actor, AuditEntry};
use calos_core::ids::{InstallId, LicenseKey};
use calos_core::license::License;
use calos_store::{CustomerRef, NewLicense, Store};

pub use generate::{generate, DemoCustomer, DEMO_SEED};
pub use history::HistoryStep;
pub use profiles::DEMO_INSTALL_ID;

/// What [`load`] did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoSummary {
    /// The demo install existed already: nothing was written.
    pub already_present: bool,
    pub customers: u64,
    pub licenses: u64,
    /// Telemetry events ingested (not counting `usage` events).
    pub events: u64,
    /// `usage` events ingested (each `api_call` event meters an API request too).
    pub usage_records: u64,
    pub demo_install_id: String,
    /// The demo install's license key, shown once; `None` when nothing was created.
    pub demo_license_key: Option<String>,
}

/// Writes the demo data unless the seed's demo install already exists.
///
/// The seed's demo customer is written last, so its presence means a
/// previous load finished; other customers found already present (a load
/// that failed half-way) are skipped rather than duplicated. Any failed
/// write ends the load with that error.
pub async fn load(
    store: &dyn Store,
    hash_key: &(dyn Fn(&LicenseKey) -> Vec<u8> + Sync),
    now: DateTime<Utc>,
    progress: &mut (dyn FnMut(&str) + Send),
) -> anyhow::Result<DemoSummary> {
    let demo_install = InstallId::parse(DEMO_INSTALL_ID)?;
    let mut summary = DemoSummary {
        already_present: false,
        customers: 0,
        licenses: 0,
        events: 0,
        usage_records: 0,
        demo_install_id: DEMO_INSTALL_ID.to_owned(),
        demo_license_key: None,
    };
    if store
        .get_license(&demo_install)
        .await
        .context("checking for existing demo data")?
        .is_some()
    {
        summary.already_present = true;
        progress("demo data already present; nothing written");
        return Ok(summary);
    }

    let customers = generate(now).context("generating demo data")?;
    for demo in &customers {
        let label = format!("{} ({})", demo.customer.name, demo.key);
        let install_id = &demo.license.install_id;
        let present = store
            .get_license(install_id)
            .await
            .with_context(|| format!("checking for demo license of {label}"))?;
        if present.is_some() {
            progress(&format!("{label}: already present, skipped"));
            continue;
        }
        let key = write_license(store, hash_key, demo)
            .await
            .with_context(|| format!("writing demo license of {label}"))?;
        summary.customers += 1;
        summary.licenses += 1;
        let current = demo.current_license();
        let history: Vec<&str> = demo
            .history
            .iter()
            .map(|step| step.action.trim_start_matches("license."))
            .collect();
        progress(&format!(
            "{label}: {} {}, {}{}",
            current.plan,
            current.billing_period.as_str(),
            current.status.as_str(),
            if history.is_empty() {
                String::new()
            } else {
                format!(" (history: {})", history.join(", "))
            }
        ));
        let stored = store
            .get_license(install_id)
            .await?
            .with_context(|| format!("demo license of {label} vanished"))?;
        let plan = store
            .get_plan(&stored.plan)
            .await?
            .with_context(|| format!("plan {} of {label} is missing", stored.plan))?;
        let oldest = demo
            .events
            .first()
            .map(|e| e.ts)
            .into_iter()
            .chain(demo.usage.first().map(|u| u.at))
            .min();
        let wire = demo
            .events
            .iter()
            .map(ingest::wire_event)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let events = ingest::send(store, &stored, &plan, &wire, now, oldest)
            .await
            .with_context(|| format!("writing demo events of {label}"))?;
        let wire: Vec<_> = demo
            .usage
            .iter()
            .enumerate()
            .map(|(n, u)| ingest::wire_usage(n + 1, u, plan.currency.as_str()))
            .collect();
        let usage = ingest::send(store, &stored, &plan, &wire, now, oldest)
            .await
            .with_context(|| format!("writing demo usage of {label}"))?;
        summary.events += events;
        summary.usage_records += usage;
        progress(&format!("{label}: {events} events, {usage} usage records"));

        if let Some(branding) = &demo.branding {
            let audit = audit(
                branding.updated_at,
                Actor::Cli,
                "demo.put_branding",
                install_id,
                None,
                None,
            );
            store
                .put_branding(branding, &audit)
                .await
                .with_context(|| format!("writing demo branding of {label}"))?;
        }
        if let Some(offset) = demo.timezone_offset_minutes {
            let audit = audit(
                current.created_at,
                Actor::Cli,
                "demo.set_timezone",
                install_id,
                None,
                Some(serde_json::json!({ "timezoneOffsetMinutes": offset })),
            );
            store
                .set_customer_timezone(install_id, Some(offset), &audit)
                .await
                .with_context(|| format!("writing the time zone of {label}"))?;
        }
        if *install_id == demo_install {
            summary.demo_license_key = Some(key.expose().to_owned());
        }
    }
    Ok(summary)
}

/// Creates the license (and its customer) and replays its history; returns
/// the fresh key, which only the caller ever sees.
async fn write_license(
    store: &dyn Store,
    hash_key: &(dyn Fn(&LicenseKey) -> Vec<u8> + Sync),
    demo: &DemoCustomer,
) -> anyhow::Result<LicenseKey> {
    let mut secret = [0u8; 32];
    OsRng.try_fill_bytes(&mut secret)?;
    let key = LicenseKey::from_random_bytes(secret);
    let install_id = &demo.license.install_id;
    let created = audit(
        demo.license.created_at,
        Actor::Cli,
        "demo.create_license",
        install_id,
        None,
        Some(snapshot(&demo.license)?),
    );
    let new = NewLicense {
        customer: CustomerRef::New(demo.customer.clone()),
        license: demo.license.clone(),
        key_hash: hash_key(&key),
        owner: None,
    };
    let (_, mut stored) = store.create_license(&new, &created).await?;
    for step in &demo.history {
        let mut next = step.license.clone();
        next.customer_id = stored.customer_id;
        next.version = stored.version;
        let entry = audit(
            step.at,
            step.actor.clone(),
            step.action,
            install_id,
            Some(snapshot(&stored)?),
            Some(snapshot(&next)?),
        );
        stored = store.update_license(&next, &entry).await?;
    }
    Ok(key)
}

fn snapshot(license: &License) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::to_value(license)?)
}

fn audit(
    at: DateTime<Utc>,
    actor: Actor,
    action: &str,
    install_id: &InstallId,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> AuditEntry {
    AuditEntry {
        at,
        actor,
        action: action.to_owned(),
        target_type: "license".to_owned(),
        target_id: install_id.as_str().to_owned(),
        before,
        after,
        ip: None,
    }
}
