//! Which install a portal request is for, and whether this host may show it:
//! on a customer's domain only that customer's portal exists.

use axum::http::{HeaderMap, Uri};

use calos_core::ids::InstallId;
use calos_core::license::License;

use crate::app::AppState;
use crate::domains::host::{classify, request_host, HostKind};
use crate::error::ApiError;

/// The portal of `raw_id` as this request may see it.
pub struct PortalScope {
    pub license: License,
    /// The request came in on this customer's own domain: its home is `/`.
    pub on_own_domain: bool,
}

impl PortalScope {
    pub fn home(&self) -> String {
        if self.on_own_domain {
            "/".to_owned()
        } else {
            format!("/portal/{}", self.license.install_id)
        }
    }

    pub fn install_id(&self) -> &InstallId {
        &self.license.install_id
    }
}

/// `NotFound` (the same as an unknown install) for a malformed id, an
/// unknown install, or another customer's domain.
pub async fn resolve(
    state: &AppState,
    raw_id: &str,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<PortalScope, ApiError> {
    let not_found = || ApiError::NotFound("portal".to_owned());
    let id = InstallId::parse(raw_id.trim()).map_err(|_| not_found())?;
    let kind = classify(state, request_host(headers, uri).as_ref()).await?;
    let on_own_domain = match kind {
        HostKind::Customer { install_id, .. } if install_id != id => return Err(not_found()),
        HostKind::Customer { .. } => true,
        HostKind::Admin | HostKind::Unknown => false,
    };
    scoped(state, id, on_own_domain).await
}

pub async fn scoped(
    state: &AppState,
    id: InstallId,
    on_own_domain: bool,
) -> Result<PortalScope, ApiError> {
    let license = state
        .store
        .get_license(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound("portal".to_owned()))?;
    Ok(PortalScope {
        license,
        on_own_domain,
    })
}
