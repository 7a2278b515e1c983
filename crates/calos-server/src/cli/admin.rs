//! `calos admin create|reset-password|reset-totp|list`.

use std::io::{BufRead, IsTerminal};

use anyhow::{bail, Context};
use chrono::Utc;

use calos_core::auth::Role;
use calos_store::NewAdmin;

use super::{cli_audit, print_json, Output};
use crate::auth::password;
use crate::config::Config;
use crate::store::open_store;

/// The password for a new or reset account: `CALOS_ADMIN_PASSWORD`, else a
/// line piped on stdin, else a generated one (returned so it can be shown).
async fn obtain_password(config: &Config) -> anyhow::Result<(String, bool)> {
    if let Some(p) = &config.admin_password {
        return Ok((p.expose().clone(), false));
    }
    let piped = tokio::task::spawn_blocking(|| -> std::io::Result<Option<String>> {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            return Ok(None);
        }
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        Ok((!line.is_empty()).then_some(line))
    })
    .await
    .context("reading stdin failed")?
    .context("cannot read the password from stdin")?;
    Ok(match piped {
        Some(p) => (p, false),
        None => (password::generate(), true),
    })
}

pub async fn create(
    config: &Config,
    username: &str,
    role: &str,
    email: Option<String>,
) -> anyhow::Result<()> {
    let username = check_username(username)?;
    let role = Role::parse(role).map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = open_store(&config.database_url).await?;
    let (plain, generated) = obtain_password(config).await?;
    password::check_strength(&plain).map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = password::hash(plain.clone()).await?;
    let new = NewAdmin {
        username: username.clone(),
        email,
        role,
        password_hash: hash,
        created_at: Utc::now(),
    };
    let audit = cli_audit(
        "admin.create",
        "admin",
        &username,
        Some(serde_json::json!({ "username": username, "role": role.as_str() })),
    );
    let admin = store
        .create_admin(&new, &audit)
        .await
        .with_context(|| format!("cannot create admin {username:?}"))?;
    println!(
        "created admin {:?} (id {}, role {})",
        admin.username,
        admin.id,
        role.as_str()
    );
    if generated {
        println!("password (shown once): {plain}");
    }
    Ok(())
}

pub async fn reset_password(config: &Config, username: &str) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let Some((admin, _)) = store.get_admin_login(username).await? else {
        bail!("no admin named {username:?}");
    };
    let (plain, generated) = obtain_password(config).await?;
    password::check_strength(&plain).map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = password::hash(plain.clone()).await?;
    let audit = cli_audit("admin.reset_password", "admin", &admin.username, None);
    store.set_admin_password(admin.id, &hash, &audit).await?;
    println!("password of {:?} changed", admin.username);
    if generated {
        println!("new password (shown once): {plain}");
    }
    Ok(())
}

/// Recovery for an admin who lost their authenticator: removes the TOTP
/// factor (audited) and ends their sessions; they log in with the password
/// alone and may enrol again.
pub async fn reset_totp(config: &Config, username: &str) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let Some((admin, _)) = store.get_admin_login(username).await? else {
        bail!("no admin named {username:?}");
    };
    let audit = cli_audit("admin.totp_reset", "admin", &admin.username, None);
    match store.remove_totp(admin.id, &audit).await {
        Ok(()) => {}
        Err(calos_store::StoreError::NotFound(_)) => {
            bail!("{:?} has no two-factor authentication", admin.username)
        }
        Err(e) => return Err(e.into()),
    }
    store.end_admin_sessions(admin.id).await?;
    println!(
        "two-factor authentication of {:?} removed; their sessions ended",
        admin.username
    );
    Ok(())
}

pub async fn list(config: &Config, output: Output) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let admins = store.list_admins().await?;
    match output {
        Output::Json => print_json(&admins)?,
        Output::Table => {
            println!(
                "{:<6} {:<24} {:<8} {:<9} CREATED",
                "ID", "USERNAME", "ROLE", "DISABLED"
            );
            for a in admins {
                println!(
                    "{:<6} {:<24} {:<8} {:<9} {}",
                    a.id,
                    a.username,
                    a.role.as_str(),
                    a.disabled,
                    a.created_at.format("%Y-%m-%d %H:%M")
                );
            }
        }
    }
    Ok(())
}

fn check_username(raw: &str) -> anyhow::Result<String> {
    let name = raw.trim();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'));
    if !ok {
        bail!("username must be 1-64 characters of letters, digits, '_', '-', '.' or '@'");
    }
    Ok(name.to_owned())
}
