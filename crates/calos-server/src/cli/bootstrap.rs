//! The first admin: created on the first `serve` or `setup` when there is
//! none, with `CALOS_ADMIN_PASSWORD` or a random password printed once.

use anyhow::Context;
use chrono::Utc;

use calos_core::audit::{Actor, AuditEntry};
use calos_core::auth::Role;
use calos_store::{NewAdmin, Store, StoreError};

use crate::auth::password;
use crate::config::Secret;

pub const FIRST_ADMIN: &str = "admin";

#[derive(Debug)]
pub enum FirstAdmin {
    AlreadyThere,
    /// `generated` holds the password when nobody chose one: show it once.
    Created {
        generated: Option<String>,
    },
}

pub async fn ensure_first_admin(
    store: &dyn Store,
    password: Option<&Secret<String>>,
    actor: Actor,
) -> anyhow::Result<FirstAdmin> {
    if store.count_admins().await.context("cannot count admins")? > 0 {
        return Ok(FirstAdmin::AlreadyThere);
    }
    let (plain, generated) = match password {
        Some(p) if !p.expose().is_empty() => (p.expose().clone(), None),
        _ => {
            let p = password::generate();
            (p.clone(), Some(p))
        }
    };
    if password::check_strength(&plain).is_err() {
        tracing::warn!(
            "CALOS_ADMIN_PASSWORD is shorter than {} characters; change it with `calos admin reset-password`",
            password::MIN_LEN
        );
    }
    let hash = password::hash(plain).await?;
    let new = NewAdmin {
        username: FIRST_ADMIN.to_owned(),
        email: None,
        role: Role::Owner,
        password_hash: hash,
        created_at: Utc::now(),
    };
    let audit = AuditEntry {
        at: Utc::now(),
        actor,
        action: "admin.create".to_owned(),
        target_type: "admin".to_owned(),
        target_id: FIRST_ADMIN.to_owned(),
        before: None,
        after: Some(serde_json::json!({ "username": FIRST_ADMIN, "role": "owner" })),
        ip: None,
    };
    match store.create_admin(&new, &audit).await {
        Ok(_) => Ok(FirstAdmin::Created { generated }),
        // Another node created it between our count and insert.
        Err(StoreError::Conflict { .. }) => Ok(FirstAdmin::AlreadyThere),
        Err(e) => Err(e).context("cannot create the first admin"),
    }
}
