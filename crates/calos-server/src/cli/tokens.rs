//! `calos admin token create|list|revoke`.

use anyhow::{bail, Context};
use chrono::{Duration, Utc};

use super::{cli_audit, print_json, Output};
use crate::auth::token;
use crate::config::Config;
use crate::store::open_store;

/// Prints the new token alone on the last line of stdout, so scripts can
/// take it with `tail -n 1`.
pub async fn create(
    config: &Config,
    name: &str,
    username: &str,
    expires_days: Option<u32>,
) -> anyhow::Result<()> {
    let name = token::check_name(name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = open_store(&config.database_url).await?;
    let Some((admin, _)) = store.get_admin_login(username).await? else {
        bail!("no admin named {username:?} (create one with `calos admin create`)");
    };
    let now = Utc::now();
    let expires_at = expires_days.map(|d| now + Duration::days(i64::from(d)));
    let issued = token::issue(admin.id, name.clone(), now, expires_at);
    let audit = cli_audit(
        "api_token.create",
        "api_token",
        &issued.record.prefix,
        Some(serde_json::json!({ "name": name, "adminId": admin.id, "expiresAt": expires_at })),
    );
    let stored = store
        .create_api_token(&issued.record, &audit)
        .await
        .context("cannot store the API token")?;
    let expiry = expires_at.map_or_else(
        || "never expires".to_owned(),
        |t| format!("expires {}", t.to_rfc3339()),
    );
    println!(
        "created API token #{} {:?} for admin {:?} ({expiry}); it is shown only now:",
        stored.id, stored.name, admin.username
    );
    println!("{}", issued.secret);
    Ok(())
}

pub async fn list(config: &Config, output: Output) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let tokens = store.list_api_tokens().await?;
    match output {
        Output::Json => print_json(&tokens)?,
        Output::Table => {
            println!(
                "{:<6} {:<24} {:<20} {:<8} {:<20} REVOKED",
                "ID", "NAME", "PREFIX", "ADMIN", "EXPIRES"
            );
            for t in tokens {
                println!(
                    "{:<6} {:<24} {:<20} {:<8} {:<20} {}",
                    t.id,
                    t.name,
                    t.prefix,
                    t.admin_id,
                    t.expires_at.map_or_else(
                        || "never".to_owned(),
                        |e| e.format("%Y-%m-%d %H:%M").to_string()
                    ),
                    t.revoked_at.map_or_else(
                        || "-".to_owned(),
                        |r| r.format("%Y-%m-%d %H:%M").to_string()
                    ),
                );
            }
        }
    }
    Ok(())
}

pub async fn revoke(config: &Config, id: i64) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let audit = cli_audit("api_token.revoke", "api_token", &id.to_string(), None);
    store
        .revoke_api_token(id, Utc::now(), &audit)
        .await
        .with_context(|| format!("cannot revoke API token #{id}"))?;
    println!("revoked API token #{id}");
    Ok(())
}
