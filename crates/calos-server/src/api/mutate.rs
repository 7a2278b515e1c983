//! The one path every license change takes: load, ask the state machine,
//! store with an audit record — or do nothing when nothing would change.

use chrono::Utc;

use calos_core::ids::InstallId;
use calos_core::license::{License, LicenseCommand, Transition};
use calos_core::plan::{Limit, Meter, Plan};
use calos_core::InvalidValue;

use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};

pub struct Outcome {
    pub license: License,
    pub changed: bool,
}

/// An install id from a path or body. A malformed one cannot name any
/// license, so it is answered like an unknown one: 404.
pub fn parse_install_id(raw: &str) -> ApiResult<InstallId> {
    InstallId::parse(raw.trim()).map_err(|_| not_found(raw))
}

fn not_found(raw: &str) -> ApiError {
    ApiError::NotFound(format!("license {raw:?}"))
}

pub async fn load(state: &AppState, install_id: &InstallId) -> ApiResult<License> {
    state
        .store
        .get_license(install_id)
        .await?
        .ok_or_else(|| not_found(install_id.as_str()))
}

pub async fn apply(
    state: &AppState,
    user: &AdminUser,
    install_id: &InstallId,
    command: LicenseCommand,
) -> ApiResult<Outcome> {
    let current = load(state, install_id).await?;
    match current.apply(&command, Utc::now())? {
        Transition::Unchanged => Ok(Outcome {
            license: current,
            changed: false,
        }),
        Transition::Changed(next) => {
            let audit = user.audit(
                command.action(),
                "license",
                install_id.as_str(),
                serde_json::to_value(&current).ok(),
                serde_json::to_value(&next).ok(),
            );
            let license = state.store.update_license(&next, &audit).await?;
            // The verify path must see a revoke, suspend or tier change at once.
            state.license_cache.invalidate(install_id.as_str());
            tracing::info!(install_id = %install_id, action = command.action(), "license changed");
            Ok(Outcome {
                license,
                changed: true,
            })
        }
    }
}

/// An optional free-text reason (suspend, revoke): blank is none.
pub fn parse_reason(raw: Option<String>) -> ApiResult<Option<String>> {
    let Some(text) = raw.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > 500 || text.chars().any(char::is_control) {
        return Err(InvalidValue::new(
            "reason",
            "must be at most 500 characters without control characters",
        )
        .into());
    }
    Ok(Some(text))
}

/// Most domains any one license may list, whatever its plan says.
const DOMAIN_CAP: usize = 100;

/// How many domains a license on `plan` may list.
pub fn domain_cap(plan: Option<&Plan>) -> usize {
    match plan.map_or(Limit::Unlimited, |p| p.limit(Meter::Domains)) {
        Limit::Max(n) => usize::try_from(n).unwrap_or(DOMAIN_CAP).min(DOMAIN_CAP),
        Limit::Unlimited => DOMAIN_CAP,
    }
}
