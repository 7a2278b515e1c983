//! `GET /portal/{installId}/license-token`: a signed verdict for the signed-in
//! customer's install, to carry to a deployment that cannot reach the server
//! (air-gapped). Decided and signed exactly as verify does, with a fresh
//! nonce and the instance id `portal-download`; the allowed domains stay in
//! the claims for the SDK to enforce.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use calos_core::protocol::VerifyRequest;
use calos_core::verdict::{decide, InstanceRule, VerifyFacts};

use super::render::{error, message, with_headers};
use super::scope::resolve;
use super::session::viewer;
use crate::app::AppState;
use crate::auth::random_urlsafe;
use crate::error::{ApiError, ApiResult};
use crate::licensing::verdict::licensed_claims;

pub const DOWNLOAD_INSTANCE: &str = "portal-download";

async fn signed_token(
    state: &AppState,
    install_id: &calos_core::ids::InstallId,
) -> ApiResult<String> {
    let now = Utc::now();
    // The license as verify sees it (the same cache, the same claims).
    let cached = state
        .license_cache
        .lookup(install_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("portal".to_owned()))?;
    let plan = &cached.plan;
    let license = cached
        .license
        .advance_time(now)
        .unwrap_or_else(|| cached.license.clone());
    // The token is for the customer's own deployments on their allowed
    // domains: the domain rule is left to the SDK (the claims carry it).
    let mut unrestricted = license.clone();
    unrestricted.domains.clear();
    let rule = InstanceRule::for_plan(plan);
    let decision = decide(
        &VerifyFacts {
            license: &unrestricted,
            plan,
            domain: None,
            active_instances: 1,
            instance_limit: rule.limit,
            over_limit: rule.over_limit,
            now,
        },
        &state.licensing.policy,
    );
    let req = VerifyRequest {
        install_id: license.install_id.to_string(),
        license_key: String::new(),
        domain: None,
        instance_id: DOWNLOAD_INSTANCE.to_owned(),
        version: None,
        nonce: random_urlsafe(16),
    };
    let claims = licensed_claims(&cached, &license, &decision, &req, now);
    let key = state
        .licensing
        .keys
        .active()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no signing key loaded")))?;
    key.sign(&claims).map_err(ApiError::internal)
}

pub async fn download(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let scope = match resolve(&state, &raw_id, &headers, &uri).await {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    match viewer(&state, &headers, scope.install_id()).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return message(
                StatusCode::UNAUTHORIZED,
                "Sign in first",
                "Sign in to the portal to download your license token.",
            )
        }
        Err(e) => return error(e.into()),
    }
    let token = match signed_token(&state, scope.install_id()).await {
        Ok(t) => t,
        Err(e) => return error(e),
    };
    let mut res = (StatusCode::OK, token).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwt"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"calos-license-{}.jws\"",
        scope.install_id()
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    with_headers(res)
}
