//! Brands: the vendor-wide default and each customer's, edited by admins
//! (`GET/PUT /api/enterprise/branding/default`,
//! `GET/PUT /api/enterprise/customers/{installId}/branding`, logo uploads as a
//! raw body at `…/logo`), and the one rule that decides what a deployment or
//! portal of an install shows ([`resolve`]), used by `GET /api/v1/branding`
//! and the customer portal alike.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::routing::put;
use axum::Router;
use chrono::Utc;
use serde_json::json;
use sha2::{Digest, Sha256};

use calos_core::auth::Permission;
use calos_core::branding::{
    check_logo, stylesheet, BrandScope, BrandSettings, BrandingLevel, RawBrandSettings,
    StoredBrand, MAX_LOGO_BYTES,
};
use calos_core::ids::InstallId;
use calos_core::license::{License, LicenseStatus};
use calos_store::LogoFile;

use super::mutate;
use crate::app::router::{with_body_limits, with_request_layers};
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::config::Config;
use crate::error::ApiResult;
use crate::extract::Json;

/// Where uploaded logos are served (public, cacheable forever: the URL
/// carries the image's hash).
pub const LOGO_ROUTE: &str = "/branding/logo/{scope}/{sha}";

pub use calos_core::branding::BrandView;

/// Whether a license's status grants its plan's branding level (an
/// invalid license shows the vendor's full brand).
pub fn license_is_valid(license: &License) -> bool {
    let now = Utc::now();
    let current = license.advance_time(now);
    let license = current.as_ref().unwrap_or(license);
    matches!(license.status, LicenseStatus::Active | LicenseStatus::Trial)
}

fn logo_path(brand: &StoredBrand) -> Option<String> {
    if let Some(url) = &brand.settings.logo_url {
        return Some(url.to_string());
    }
    brand
        .logo
        .as_ref()
        .map(|l| format!("/branding/logo/{}/{}", brand.scope.key(), l.sha256))
}

fn builtin(scope: BrandScope) -> StoredBrand {
    StoredBrand {
        scope,
        settings: BrandSettings::builtin(),
        version: 0,
        logo: None,
        updated_at: Utc::now(),
    }
}

/// The branding an install shows: at `full` the vendor's brand (its default,
/// else the built-in one); otherwise the customer's brand (else the
/// default), with a "Powered by" line at `minimal`. The version is the sum
/// of the install's and the default's versions (see `BrandingStore::brand_version`).
pub async fn resolve(
    state: &AppState,
    install_id: &InstallId,
    level: BrandingLevel,
) -> ApiResult<BrandView> {
    let scope = BrandScope::Install(install_id.clone());
    let (own, default) = tokio::try_join!(
        state.store.get_brand(&scope),
        state.store.get_brand(&BrandScope::Default),
    )?;
    let version = own.as_ref().map_or(0, |b| b.version) + default.as_ref().map_or(0, |b| b.version);
    let vendor = default.unwrap_or_else(|| builtin(BrandScope::Default));
    let shown = match (level.shows_customer_brand(), own) {
        (true, Some(own)) => own,
        _ => vendor.clone(),
    };
    let powered_by = match level {
        BrandingLevel::None => None,
        _ => Some(format!("Powered by {}", vendor.settings.product_name)),
    };
    let s = &shown.settings;
    let css_variables = s.css_variables();
    Ok(BrandView {
        install_id: install_id.to_string(),
        level,
        version,
        product_name: s.product_name.to_string(),
        primary_color: s.primary_color.as_str().to_owned(),
        secondary_color: s.secondary_color.as_ref().map(|c| c.as_str().to_owned()),
        logo_url: logo_path(&shown),
        support_email: s.support_email.as_ref().map(|e| e.as_str().to_owned()),
        support_url: s.support_url.as_ref().map(|u| u.to_string()),
        footer_text: s.footer_text.as_ref().map(|t| t.to_string()),
        powered_by,
        css_text: stylesheet(&css_variables),
        css_variables,
    })
}

/// The branding level of a license: from its plan, `full` when the license is
/// not valid (or its plan is gone).
pub async fn level_of(state: &AppState, license: &License) -> ApiResult<BrandingLevel> {
    let plan = state.store.get_plan(&license.plan).await?;
    Ok(plan.map_or(BrandingLevel::Full, |p| {
        BrandingLevel::for_plan(&p, license_is_valid(license))
    }))
}

fn stored_json(brand: Option<&StoredBrand>) -> serde_json::Value {
    match brand {
        None => serde_json::Value::Null,
        Some(b) => json!({
            "settings": b.settings,
            "version": b.version,
            "logo": b.logo,
            "logoUrl": logo_path(b),
            "updatedAt": b.updated_at,
        }),
    }
}

/// A brand change reaches deployments through the verdict's branding
/// version, which the license cache holds: drop what it cached.
fn changed(state: &AppState, scope: &BrandScope) {
    match scope {
        BrandScope::Default => state.license_cache.invalidate_all(),
        BrandScope::Install(id) => state.license_cache.invalidate(id.as_str()),
    }
}

#[utoipa::path(
    get,
    path = "/api/enterprise/branding/default",
    operation_id = "getDefaultBranding",
    tag = "branding",
    summary = "The default brand",
    responses((status = 200, description = "The brand", body = crate::api::openapi::schemas::DefaultBranding))
)]
pub async fn get_default(
    user: AdminUser,
    State(state): State<AppState>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    user.require(Permission::Read)?;
    let stored = state.store.get_brand(&BrandScope::Default).await?;
    Ok(axum::Json(json!({
        "success": true,
        "branding": stored_json(stored.as_ref()),
        "builtin": BrandSettings::builtin(),
    })))
}

#[utoipa::path(
    put,
    path = "/api/enterprise/branding/default",
    operation_id = "putDefaultBranding",
    tag = "branding",
    summary = "Set the default brand",
    request_body = RawBrandSettings,
    responses((status = 200, description = "Saved", body = crate::api::openapi::schemas::BrandingSaved))
)]
pub async fn put_default(
    user: AdminUser,
    State(state): State<AppState>,
    Json(raw): Json<RawBrandSettings>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    user.require(Permission::ManagePlans)?;
    put_scope(&state, &user, BrandScope::Default, &raw).await
}

fn customer_scope(raw_id: &str) -> ApiResult<(InstallId, BrandScope)> {
    let id = mutate::parse_install_id(raw_id)?;
    Ok((id.clone(), BrandScope::Install(id)))
}

#[utoipa::path(
    get,
    path = "/api/enterprise/customers/{install_id}/branding",
    operation_id = "getCustomerBranding",
    tag = "branding",
    summary = "A customer's brand",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    responses((status = 200, description = "The brand", body = crate::api::openapi::schemas::CustomerBranding))
)]
pub async fn get_customer(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    user.require(Permission::Read)?;
    let (id, scope) = customer_scope(&raw_id)?;
    let license = mutate::load(&state, &id).await?;
    let level = level_of(&state, &license).await?;
    let stored = state.store.get_brand(&scope).await?;
    let effective = resolve(&state, &id, level).await?;
    Ok(axum::Json(json!({
        "success": true,
        "installId": id,
        "level": level,
        "branding": stored_json(stored.as_ref()),
        "effective": effective,
    })))
}

#[utoipa::path(
    put,
    path = "/api/enterprise/customers/{install_id}/branding",
    operation_id = "putCustomerBranding",
    tag = "branding",
    summary = "Set a customer's brand",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    request_body = RawBrandSettings,
    responses((status = 200, description = "Saved", body = crate::api::openapi::schemas::BrandingSaved))
)]
pub async fn put_customer(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    Json(raw): Json<RawBrandSettings>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    user.require(Permission::ManageLicense)?;
    let (_, scope) = customer_scope(&raw_id)?;
    put_scope(&state, &user, scope, &raw).await
}

async fn put_scope(
    state: &AppState,
    user: &AdminUser,
    scope: BrandScope,
    raw: &RawBrandSettings,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let settings = BrandSettings::parse(raw)?;
    let before = state.store.get_brand(&scope).await?;
    let audit = user.audit(
        "branding.update",
        "branding",
        scope.key(),
        before.as_ref().map(|b| json!(b.settings)),
        Some(json!(settings)),
    );
    let stored = state
        .store
        .put_brand(&scope, &settings, Utc::now(), &audit)
        .await?;
    changed(state, &scope);
    Ok(axum::Json(
        json!({ "success": true, "branding": stored_json(Some(&stored)) }),
    ))
}

async fn put_logo_of(
    state: &AppState,
    user: &AdminUser,
    scope: BrandScope,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<axum::Json<serde_json::Value>> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let kind = check_logo(declared, body)?;
    let sha256 = hex::encode(Sha256::digest(body));
    // A customer without a brand starts from what it shows now: the default.
    let base = match &scope {
        BrandScope::Install(_) => state.store.get_brand(&BrandScope::Default).await?,
        BrandScope::Default => None,
    }
    .map_or_else(BrandSettings::builtin, |b| b.settings);
    let audit = user.audit(
        "branding.logo",
        "branding",
        scope.key(),
        None,
        Some(json!({ "contentType": kind.content_type(), "sha256": sha256, "size": body.len() })),
    );
    let logo = LogoFile {
        content_type: kind.content_type().to_owned(),
        sha256,
        data: body.to_vec(),
    };
    let stored = state
        .store
        .put_brand_logo(&scope, &logo, &base, Utc::now(), &audit)
        .await?;
    changed(state, &scope);
    Ok(axum::Json(
        json!({ "success": true, "branding": stored_json(Some(&stored)) }),
    ))
}

async fn delete_logo_of(
    state: &AppState,
    user: &AdminUser,
    scope: BrandScope,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let audit = user.audit("branding.logo.delete", "branding", scope.key(), None, None);
    let stored = state
        .store
        .delete_brand_logo(&scope, Utc::now(), &audit)
        .await?;
    changed(state, &scope);
    Ok(axum::Json(
        json!({ "success": true, "branding": stored_json(stored.as_ref()) }),
    ))
}

#[utoipa::path(
    put,
    path = "/api/enterprise/branding/default/logo",
    operation_id = "putDefaultLogo",
    tag = "branding",
    summary = "Upload the default logo",
    request_body(content = Vec<u8>, content_type = "image/png", description = "PNG, JPEG or SVG, at most 512 KiB"),
    responses((status = 200, description = "Stored", body = crate::api::openapi::schemas::BrandingSaved))
)]
pub async fn put_default_logo(
    user: AdminUser,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<serde_json::Value>> {
    user.require(Permission::ManagePlans)?;
    put_logo_of(&state, &user, BrandScope::Default, &headers, &body).await
}

#[utoipa::path(
    delete,
    path = "/api/enterprise/branding/default/logo",
    operation_id = "deleteDefaultLogo",
    tag = "branding",
    summary = "Remove the default logo",
    responses((status = 200, description = "Removed", body = crate::api::openapi::schemas::BrandingSaved))
)]
pub async fn delete_default_logo(
    user: AdminUser,
    State(state): State<AppState>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    user.require(Permission::ManagePlans)?;
    delete_logo_of(&state, &user, BrandScope::Default).await
}

#[utoipa::path(
    put,
    path = "/api/enterprise/customers/{install_id}/branding/logo",
    operation_id = "putCustomerLogo",
    tag = "branding",
    summary = "Upload a customer's logo",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    request_body(content = Vec<u8>, content_type = "image/png", description = "PNG, JPEG or SVG, at most 512 KiB"),
    responses((status = 200, description = "Stored", body = crate::api::openapi::schemas::BrandingSaved))
)]
pub async fn put_customer_logo(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<serde_json::Value>> {
    user.require(Permission::ManageLicense)?;
    let (_, scope) = customer_scope(&raw_id)?;
    put_logo_of(&state, &user, scope, &headers, &body).await
}

#[utoipa::path(
    delete,
    path = "/api/enterprise/customers/{install_id}/branding/logo",
    operation_id = "deleteCustomerLogo",
    tag = "branding",
    summary = "Remove a customer's logo",
    params(("install_id" = String, Path, description = "The install id", example = "demo-install-abc123456789abcdef")),
    responses((status = 200, description = "Removed", body = crate::api::openapi::schemas::BrandingSaved))
)]
pub async fn delete_customer_logo(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    user.require(Permission::ManageLicense)?;
    let (_, scope) = customer_scope(&raw_id)?;
    delete_logo_of(&state, &user, scope).await
}

/// Logo uploads take up to the logo limit whatever the admin API's body
/// limit is, so they are layered apart (like telemetry): a larger declared
/// body is refused with 413 before it is read.
pub fn logo_upload_routes(config: &Config) -> Router<AppState> {
    let routes = Router::new()
        .route(
            "/api/enterprise/branding/default/logo",
            put(put_default_logo).delete(delete_default_logo),
        )
        .route(
            "/api/enterprise/customers/{install_id}/branding/logo",
            put(put_customer_logo).delete(delete_customer_logo),
        );
    with_request_layers(with_body_limits(routes, MAX_LOGO_BYTES), config)
}
