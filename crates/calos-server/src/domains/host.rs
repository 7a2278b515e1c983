//! What a request's `Host` says: the admin host (no customer domain:
//! localhost, an IP address, the configured `CALOS_ADMIN_HOST`), a
//! customer's domain, or a host nobody claimed.

use axum::http::{header, HeaderMap};

use calos_core::customer::Domain;
use calos_core::host::{normalize_host, wildcard_candidates};
use calos_core::ids::InstallId;

use crate::app::AppState;
use crate::config::Config;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKind {
    /// The vendor's own host: the admin dashboard lives at `/`.
    Admin,
    /// A domain of this customer (verified, or configured on the license).
    Customer {
        install_id: InstallId,
        verified: bool,
    },
    /// A host name no customer claims.
    Unknown,
}

/// The request's host (the `Host` header, which HTTP/1.1 requires, else
/// the URI's authority for HTTP/2): normalised, or `None` for an IP
/// literal, `localhost` or nothing usable.
pub fn request_host(headers: &HeaderMap, uri: &axum::http::Uri) -> Option<Domain> {
    let raw = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.host())?;
    let host = normalize_host(raw).ok()?;
    if host.as_str() == "localhost" || host.as_str().ends_with(".localhost") {
        return None;
    }
    Some(host)
}

fn is_admin_host(config: &Config, host: &Domain) -> bool {
    config
        .admin_host
        .as_deref()
        .and_then(|h| normalize_host(h).ok())
        .is_some_and(|admin| admin == *host)
}

/// Classifies a request's host; one store query for a named host.
pub async fn classify(
    state: &AppState,
    host: Option<&Domain>,
) -> Result<HostKind, calos_store::StoreError> {
    let Some(host) = host else {
        return Ok(HostKind::Admin);
    };
    if is_admin_host(&state.config, host) {
        return Ok(HostKind::Admin);
    }
    let owner = state
        .store
        .find_host_owner(host, &wildcard_candidates(host))
        .await?;
    Ok(match owner {
        Some(o) => HostKind::Customer {
            install_id: o.install_id,
            verified: o.verified,
        },
        None => HostKind::Unknown,
    })
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderValue, Uri};

    use super::*;

    fn host_of(raw: &str) -> Option<String> {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(raw).unwrap());
        request_host(&h, &Uri::from_static("/")).map(|d| d.to_string())
    }

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(
            host_of("Portal.Acme.COM:8443").as_deref(),
            Some("portal.acme.com")
        );
        assert_eq!(
            host_of("portal.acme.com.").as_deref(),
            Some("portal.acme.com")
        );
        assert_eq!(host_of("127.0.0.1:5001"), None);
        assert_eq!(host_of("localhost:5001"), None);
        assert_eq!(host_of("[::1]:5001"), None);
    }
}
