//! Public branding routes:
//!
//! * `GET /api/v1/branding`: a deployment's branding (level, version,
//!   colours, name, logo, support, footer, CSS variables), authenticated like
//!   verify by the install id and license key — as headers
//!   `X-Calos-Install-Id` / `X-Calos-License-Key` or as the query
//!   `?installId=&licenseKey=`. Wrong credentials are 401 `unauthenticated`
//!   (the same answer for an unknown install).
//! * `GET /branding/logo/{scope}/{sha256}`: an uploaded logo, cacheable
//!   forever (the URL changes with the image).
//! * `GET /branding/theme/{installId}`: the portal's stylesheet, the
//!   branding's CSS variables as one `:root` rule (no inline styles needed).

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use calos_core::branding::{BrandScope, BrandingLevel, LogoType};
use calos_core::ids::InstallId;

use crate::api::branding::{license_is_valid, resolve, BrandView};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ClientIp, Query};
use crate::licensing::AuthFailure;

pub const INSTALL_HEADER: &str = "x-calos-install-id";
pub const KEY_HEADER: &str = "x-calos-license-key";

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Credentials {
    install_id: Option<String>,
    license_key: Option<String>,
}

fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

#[utoipa::path(
    get,
    path = "/api/v1/branding",
    operation_id = "brandingForInstall",
    tag = "branding",
    summary = "Branding a deployment shows",
    params(Credentials),
    responses((status = 200, description = "The resolved brand", body = BrandView))
)]
pub async fn show(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(query): Query<Credentials>,
) -> ApiResult<axum::Json<BrandView>> {
    // Guessing keys costs the same budget as verify does.
    let peer: Option<std::net::IpAddr> = ip.and_then(|ip| ip.parse().ok());
    if let Err(wait) = state.licensing.per_ip.check_key(&peer) {
        return Err(ApiError::RateLimited {
            retry_after_secs: wait.secs(),
        });
    }
    let install_id = header_value(&headers, INSTALL_HEADER).or(query.install_id);
    let license_key = header_value(&headers, KEY_HEADER).or(query.license_key);
    let (Some(install_id), Some(license_key)) = (install_id, license_key) else {
        return Err(ApiError::Unauthenticated);
    };
    let cached = match state
        .license_cache
        .authenticate(&install_id, &license_key)
        .await
    {
        Ok(c) => c,
        Err(AuthFailure::Store(e)) => return Err(e.into()),
        Err(failure) => {
            tracing::info!(install_id = %install_id, reason = %failure, "branding refused");
            return Err(ApiError::Unauthenticated);
        }
    };
    let level = BrandingLevel::for_plan(&cached.plan, license_is_valid(&cached.license));
    let view = resolve(&state, &cached.license.install_id, level).await?;
    Ok(axum::Json(view))
}

/// Logos are public: whoever sees the product sees its logo.
#[utoipa::path(
    get,
    path = "/branding/logo/{scope}/{sha}",
    operation_id = "brandingLogo",
    tag = "branding",
    summary = "A stored logo image",
    params(("scope" = String, Path, description = "`default` or an install id"), ("sha" = String, Path, description = "SHA-256 of the image, 64 hex digits")),
    responses((status = 200, description = "The image", body = Vec<u8>, content_type = "image/png"))
)]
pub async fn logo(
    State(state): State<AppState>,
    Path((scope, sha)): Path<(String, String)>,
) -> ApiResult<Response> {
    let not_found = || ApiError::NotFound("logo".to_owned());
    let scope = BrandScope::from_key(&scope).map_err(|_| not_found())?;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let file = state
        .store
        .get_brand_logo(&scope, &sha)
        .await?
        .ok_or_else(not_found)?;
    let mut res = (StatusCode::OK, file.data).into_response();
    let h = res.headers_mut();
    let content_type = LogoType::from_content_type(&file.content_type)
        .map_or("application/octet-stream", LogoType::content_type);
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    // An SVG opened on its own runs nothing and loads nothing.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    Ok(res)
}

/// The branding's CSS variables as a stylesheet, for the portal.
#[utoipa::path(
    get,
    path = "/branding/theme/{install_id}",
    operation_id = "brandingTheme",
    tag = "branding",
    summary = "A customer's theme stylesheet",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    responses((status = 200, description = "CSS custom properties", body = String, content_type = "text/css"))
)]
pub async fn theme(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<Response> {
    let not_found = || ApiError::NotFound("theme".to_owned());
    let id = InstallId::parse(&raw_id).map_err(|_| not_found())?;
    let cached = state
        .license_cache
        .lookup(&id)
        .await?
        .ok_or_else(not_found)?;
    let level = BrandingLevel::for_plan(&cached.plan, license_is_valid(&cached.license));
    let view = resolve(&state, &id, level).await?;
    let mut res = (StatusCode::OK, view.css_text).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(res)
}
