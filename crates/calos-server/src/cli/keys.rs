//! `calos keys rotate|list`: the Ed25519 keys verdicts are signed with.
//! Rotating makes a new active key; the old one stays published in JWKS
//! until every token it signed has run out (lease + grace of the longest
//! plan), so deployments holding old tokens keep verifying them.

use anyhow::Context;
use chrono::Utc;
use serde_json::json;

use calos_core::verdict::{longest_token_life, VerifyPolicy};

use super::{cli_audit, print_json, Output};
use crate::config::Config;
use crate::licensing::{KeyRing, KeySealer};
use crate::secrets::MasterKey;
use crate::store::open_store;

pub async fn rotate(config: &Config) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let (master, _) = MasterKey::load(config).context("cannot load the master key")?;
    let ring = KeyRing::new(KeySealer::new(&master)?);
    // Makes the first key when there is none, and proves the master key
    // opens the current one before we retire it.
    ring.load(store.as_ref()).await?;
    let now = Utc::now();
    let key = ring.sealer().generate(now)?;
    let plans = store.list_plans().await.context("cannot read plans")?;
    let publish_until = now + longest_token_life(&plans, &VerifyPolicy::default());
    let audit = cli_audit(
        "signing_key.rotate",
        "signing_key",
        &key.kid,
        Some(json!({ "oldKeysPublishedUntil": publish_until })),
    );
    store
        .rotate_signing_key(&key, publish_until, &audit)
        .await
        .context("cannot store the new signing key")?;
    println!(
        "new active signing key {}; the previous key stays published until {}",
        key.kid,
        publish_until.to_rfc3339()
    );
    println!("running servers start signing with it within 30 seconds");
    Ok(())
}

pub async fn list(config: &Config, output: Output) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let keys = store.list_signing_keys().await?;
    let now = Utc::now();
    let state = |k: &calos_store::SigningKeyRecord| match (k.retired_at, k.publish_until) {
        (None, _) => "active",
        (Some(_), Some(until)) if until > now => "retired (published)",
        _ => "retired (unpublished)",
    };
    match output {
        Output::Json => print_json(
            &keys
                .iter()
                .map(|k| {
                    json!({
                        "kid": k.kid,
                        "state": state(k),
                        "createdAt": k.created_at,
                        "retiredAt": k.retired_at,
                        "publishUntil": k.publish_until,
                    })
                })
                .collect::<Vec<_>>(),
        ),
        Output::Table => {
            println!(
                "{:<24} {:<22} {:<26} PUBLISHED UNTIL",
                "KID", "STATE", "CREATED"
            );
            for k in &keys {
                println!(
                    "{:<24} {:<22} {:<26} {}",
                    k.kid,
                    state(k),
                    k.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    k.publish_until
                        .map_or("-".to_owned(), |t| t.format("%Y-%m-%d").to_string())
                );
            }
            Ok(())
        }
    }
}
