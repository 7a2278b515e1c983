//! A customer's domains and their ownership checks:
//!
//! * `GET /api/enterprise/customers/{installId}/domains`: the license's
//!   domains, each with its DNS check (`txtName`, `txtValue`, `verified`);
//! * `POST …/domains {domain}`: adds a domain to the license (normalised:
//!   lower case, no port or trailing dot, international names as punycode);
//!   a domain another customer has is 409 `conflict`;
//! * `DELETE …/domains/{domain}`;
//! * `POST …/domains/{domain}/verify`: looks up the TXT record
//!   `_calos.<domain>` (for `*.acme.com`: `_calos.acme.com`) and marks the
//!   domain verified when it holds `calos-verify=<token>`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use calos_core::auth::Permission;
use calos_core::customer::Domain;
use calos_core::host::normalize_host;
use calos_core::ids::InstallId;
use calos_core::license::LicenseCommand;
use calos_core::InvalidValue;
use calos_store::DomainClaim;

use super::resolver::{LookupError, SystemResolver, TxtResolver};
use crate::api::{apply_license_command, domain_cap, load_license, parse_install_id};
use crate::app::AppState;
use crate::auth::{random_urlsafe, AdminUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;

/// The TXT value that proves ownership.
pub const TXT_PREFIX: &str = "calos-verify=";

/// Where the TXT record goes: `_calos.<domain>` (a wildcard's parent).
pub fn txt_name(domain: &Domain) -> String {
    let host = domain.as_str();
    format!("_calos.{}", host.strip_prefix("*.").unwrap_or(host))
}

fn claim_json(domain: &Domain, claim: Option<&DomainClaim>) -> serde_json::Value {
    json!({
        "domain": domain,
        "verified": claim.is_some_and(|c| c.verified_at.is_some()),
        "verifiedAt": claim.and_then(|c| c.verified_at),
        "checkedAt": claim.and_then(|c| c.checked_at),
        "txtName": txt_name(domain),
        "txtValue": claim.map(|c| format!("{TXT_PREFIX}{}", c.token)),
    })
}

async fn claims_of(state: &AppState, id: &InstallId) -> ApiResult<Vec<serde_json::Value>> {
    let license = load_license(state, id).await?;
    let mut claims = state.store.list_domain_claims(id).await?;
    let mut out = Vec::with_capacity(license.domains.len());
    for d in &license.domains {
        let claim = match claims.iter().position(|c| c.domain == *d) {
            Some(i) => claims.swap_remove(i),
            // Domains set before claims existed (or through PATCH) get one now.
            None => {
                state
                    .store
                    .ensure_domain_claim(id, d, &random_urlsafe(18), Utc::now())
                    .await?
            }
        };
        out.push(claim_json(d, Some(&claim)));
    }
    Ok(out)
}

#[utoipa::path(
    get,
    path = "/api/enterprise/customers/{install_id}/domains",
    operation_id = "listDomains",
    tag = "domains",
    summary = "A customer's portal domains",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    responses((status = 200, description = "The domains", body = crate::api::openapi::schemas::DomainList))
)]
pub async fn list(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    user.require(Permission::Read)?;
    let id = parse_install_id(&raw_id)?;
    let domains = claims_of(&state, &id).await?;
    Ok(axum::Json(json!({ "success": true, "domains": domains })))
}

#[derive(utoipa::ToSchema)]
#[schema(as = NewDomain)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    domain: String,
}

#[utoipa::path(
    post,
    path = "/api/enterprise/customers/{install_id}/domains",
    operation_id = "addDomain",
    tag = "domains",
    summary = "Add a portal domain (verified by a DNS TXT record)",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    request_body = AddBody,
    responses((status = 201, description = "Added, with the TXT record to publish", body = crate::api::openapi::schemas::DomainAdded))
)]
pub async fn add(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    Json(body): Json<AddBody>,
) -> ApiResult<(StatusCode, axum::Json<serde_json::Value>)> {
    user.require(Permission::ManageLicense)?;
    let id = parse_install_id(&raw_id)?;
    let domain = normalize_host(&body.domain)?;
    let license = load_license(&state, &id).await?;
    if !license.domains.contains(&domain) {
        // A clear answer before the store's: who has it is not told.
        let taken = state.store.find_host_owner(&domain, &[]).await?;
        if taken.is_some_and(|o| o.install_id != id) {
            return Err(ApiError::Conflict {
                message: format!("domain {domain} is already claimed by another customer"),
            });
        }
        let plan = state.store.get_plan(&license.plan).await?;
        let cap = domain_cap(plan.as_ref());
        let mut domains = license.domains.clone();
        domains.push(domain.clone());
        if domains.len() > cap {
            return Err(InvalidValue::new(
                "domain",
                format!("the license's plan allows at most {cap} domains"),
            )
            .into());
        }
        let command = LicenseCommand::UpdateDetails {
            notes: None,
            domains: Some(domains),
        };
        apply_license_command(&state, &user, &id, command).await?;
    }
    let claim = state
        .store
        .ensure_domain_claim(&id, &domain, &random_urlsafe(18), Utc::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "success": true, "domain": claim_json(&domain, Some(&claim)) })),
    ))
}

fn path_domain(raw: &str) -> ApiResult<Domain> {
    normalize_host(raw).map_err(|_| {
        ApiError::NotFound(format!(
            "domain {:?}",
            raw.chars().take(80).collect::<String>()
        ))
    })
}

#[utoipa::path(
    delete,
    path = "/api/enterprise/customers/{install_id}/domains/{domain}",
    operation_id = "removeDomain",
    tag = "domains",
    summary = "Remove a portal domain",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef"), ("domain" = String, Path, description = "The domain")),
    responses((status = 200, description = "Removed", body = crate::api::openapi::schemas::Done))
)]
pub async fn remove(
    user: AdminUser,
    State(state): State<AppState>,
    Path((raw_id, raw_domain)): Path<(String, String)>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    user.require(Permission::ManageLicense)?;
    let id = parse_install_id(&raw_id)?;
    let domain = path_domain(&raw_domain)?;
    let license = load_license(&state, &id).await?;
    if !license.domains.contains(&domain) {
        return Err(ApiError::NotFound(format!(
            "domain {domain} of this license"
        )));
    }
    let domains = license
        .domains
        .iter()
        .filter(|d| **d != domain)
        .cloned()
        .collect();
    let command = LicenseCommand::UpdateDetails {
        notes: None,
        domains: Some(domains),
    };
    apply_license_command(&state, &user, &id, command).await?;
    Ok(axum::Json(json!({ "success": true })))
}

#[utoipa::path(
    post,
    path = "/api/enterprise/customers/{install_id}/domains/{domain}/verify",
    operation_id = "verifyDomain",
    tag = "domains",
    summary = "Check the domain's TXT record now",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef"), ("domain" = String, Path, description = "The domain")),
    responses((status = 200, description = "The verification outcome", body = crate::api::openapi::schemas::DomainChecked))
)]
pub async fn verify(
    user: AdminUser,
    State(state): State<AppState>,
    resolver: Option<Extension<Arc<dyn TxtResolver>>>,
    Path((raw_id, raw_domain)): Path<(String, String)>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    user.require(Permission::ManageLicense)?;
    let id = parse_install_id(&raw_id)?;
    let domain = path_domain(&raw_domain)?;
    let license = load_license(&state, &id).await?;
    if !license.domains.contains(&domain) {
        return Err(ApiError::NotFound(format!(
            "domain {domain} of this license"
        )));
    }
    let claim = state
        .store
        .ensure_domain_claim(&id, &domain, &random_urlsafe(18), Utc::now())
        .await?;
    let resolver = resolver.map_or_else(SystemResolver::shared, |Extension(r)| r);
    let name = txt_name(&domain);
    let expected = format!("{TXT_PREFIX}{}", claim.token);
    let (verified, reason) = match resolver.txt(&name).await {
        Ok(records) if records.iter().any(|r| r.trim() == expected) => (true, None),
        Ok(_) => (
            false,
            Some(format!("no TXT record at {name} says {expected}")),
        ),
        Err(LookupError::NotFound(_)) => (false, Some(format!("no TXT record at {name}"))),
        Err(e @ LookupError::Failed(_)) => {
            tracing::warn!(domain = %domain, error = %e, "domain verification lookup failed");
            (false, Some(e.to_string()))
        }
    };
    let audit = user.audit(
        if verified {
            "domain.verify"
        } else {
            "domain.check"
        },
        "license",
        id.as_str(),
        None,
        Some(json!({ "domain": domain, "verified": verified })),
    );
    let stored = state
        .store
        .record_domain_check(&id, &domain, verified, Utc::now(), &audit)
        .await?;
    let mut answer = claim_json(&domain, Some(&stored));
    answer["reason"] = json!(reason);
    Ok(axum::Json(
        json!({ "success": true, "verifiedNow": verified, "domain": answer }),
    ))
}
