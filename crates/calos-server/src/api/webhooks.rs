//! Webhook endpoints under `/api/enterprise/webhooks` (owners and admins:
//! ManageAdmins): list, create (the signing secret is in the answer once),
//! show with its delivery log, replace (optionally rotating the secret),
//! delete. A URL whose host is or resolves to a private, loopback,
//! link-local or otherwise non-public address is refused unless
//! `allowPrivate` is set explicitly.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use calos_core::auth::Permission;
use calos_core::notify::EventKind;
use calos_core::InvalidValue;
use calos_store::{DeliveryQuery, WebhookEndpoint, WebhookSettings};

use super::admins::parse_id;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::notify::secret::WebhookSecrets;
use crate::notify::webhook;

const MAX_DESCRIPTION: usize = 200;
/// Entries of the delivery log shown with an endpoint.
const LOG_ENTRIES: u32 = 50;

#[derive(utoipa::ToSchema)]
#[schema(as = WebhookEndpoint)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Body {
    url: String,
    description: Option<String>,
    /// Event names; omitted or empty: every event.
    #[serde(default)]
    events: Vec<String>,
    enabled: Option<bool>,
    allow_private: Option<bool>,
    /// `PUT` only: issue a new secret (shown once in the answer).
    #[serde(default)]
    rotate_secret: bool,
}

/// The checked settings of a body; a new salt when `new_secret`.
async fn settings(body: &Body, new_secret: bool) -> ApiResult<WebhookSettings> {
    let url = webhook::parse_url(&body.url)?;
    let allow_private = body.allow_private.unwrap_or(false);
    if !allow_private {
        webhook::destination(&url, false)
            .await
            .map_err(|why| InvalidValue::new("url", why))?;
    }
    let mut events = body
        .events
        .iter()
        .map(|e| EventKind::parse(e.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    events.sort();
    events.dedup();
    if events.contains(&EventKind::WebhookDisabled) {
        return Err(InvalidValue::new("events", "webhook.disabled is sent by e-mail only").into());
    }
    let description = body
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    if let Some(d) = &description {
        if d.chars().count() > MAX_DESCRIPTION || d.chars().any(char::is_control) {
            return Err(InvalidValue::new(
                "description",
                format!("must be at most {MAX_DESCRIPTION} characters without control characters"),
            )
            .into());
        }
    }
    Ok(WebhookSettings {
        url: url.to_string(),
        description,
        events,
        enabled: body.enabled.unwrap_or(true),
        allow_private,
        secret_salt: new_secret.then(WebhookSecrets::new_salt),
        now: Utc::now(),
    })
}

fn secret_of(state: &AppState, settings: &WebhookSettings) -> ApiResult<Option<String>> {
    let Some(salt) = &settings.secret_salt else {
        return Ok(None);
    };
    Ok(Some(state.webhook_secrets.secret(salt)))
}

fn shown(e: &WebhookEndpoint) -> Value {
    json!(e)
}

#[utoipa::path(
    get,
    path = "/api/enterprise/webhooks",
    operation_id = "listWebhooks",
    tag = "webhooks",
    summary = "Every webhook endpoint",
    responses((status = 200, description = "The endpoints", body = crate::api::openapi::schemas::WebhookList))
)]
pub async fn list(
    user: AdminUser,
    State(state): State<AppState>,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::ManageAdmins)?;
    let hooks = state.store.list_webhooks().await?;
    Ok(JsonResponse(json!({ "success": true, "webhooks": hooks })))
}

#[utoipa::path(
    post,
    path = "/api/enterprise/webhooks",
    operation_id = "createWebhook",
    tag = "webhooks",
    summary = "Add a webhook endpoint (the secret is shown once)",
    request_body = Body,
    responses((status = 201, description = "Created", body = crate::api::openapi::schemas::WebhookResult))
)]
pub async fn create(
    user: AdminUser,
    State(state): State<AppState>,
    Json(body): Json<Body>,
) -> ApiResult<(StatusCode, JsonResponse<Value>)> {
    user.require(Permission::ManageAdmins)?;
    if body.rotate_secret {
        return Err(InvalidValue::new("rotateSecret", "only when replacing an endpoint").into());
    }
    let s = settings(&body, true).await?;
    let secret = secret_of(&state, &s)?;
    let audit = user.audit(
        "webhook.create",
        "webhook",
        "new",
        None,
        Some(json!({ "url": s.url, "events": s.events, "enabled": s.enabled, "allowPrivate": s.allow_private })),
    );
    let created = state.store.create_webhook(&s, &audit).await?;
    Ok((
        StatusCode::CREATED,
        // The secret is in this answer only; it is derived, never stored.
        JsonResponse(json!({ "success": true, "webhook": shown(&created), "secret": secret })),
    ))
}

#[utoipa::path(
    get,
    path = "/api/enterprise/webhooks/{id}",
    operation_id = "showWebhook",
    tag = "webhooks",
    summary = "One webhook endpoint",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    responses((status = 200, description = "The endpoint", body = crate::api::openapi::schemas::WebhookDetail))
)]
pub async fn show(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::ManageAdmins)?;
    let id = parse_id(&raw_id)?;
    let hook = state
        .store
        .get_webhook(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("webhook endpoint {id}")))?;
    let log = state
        .store
        .list_deliveries(&DeliveryQuery {
            endpoint_id: Some(id),
            per_page: LOG_ENTRIES,
            ..DeliveryQuery::default()
        })
        .await?;
    Ok(JsonResponse(
        json!({ "success": true, "webhook": shown(&hook), "deliveries": log }),
    ))
}

#[utoipa::path(
    put,
    path = "/api/enterprise/webhooks/{id}",
    operation_id = "replaceWebhook",
    tag = "webhooks",
    summary = "Replace a webhook endpoint",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    request_body = Body,
    responses((status = 200, description = "Replaced", body = crate::api::openapi::schemas::WebhookResult))
)]
pub async fn replace(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    Json(body): Json<Body>,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::ManageAdmins)?;
    let id = parse_id(&raw_id)?;
    let before = state
        .store
        .get_webhook(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("webhook endpoint {id}")))?;
    let s = settings(&body, body.rotate_secret).await?;
    let secret = secret_of(&state, &s)?;
    let audit = user.audit(
        "webhook.update",
        "webhook",
        &id.to_string(),
        Some(json!(before)),
        Some(
            json!({ "url": s.url, "events": s.events, "enabled": s.enabled,
                     "allowPrivate": s.allow_private, "secretRotated": s.secret_salt.is_some() }),
        ),
    );
    let updated = state.store.update_webhook(id, &s, &audit).await?;
    let mut answer = json!({ "success": true, "webhook": shown(&updated) });
    if let Some(secret) = secret {
        answer["secret"] = json!(secret);
    }
    Ok(JsonResponse(answer))
}

#[utoipa::path(
    delete,
    path = "/api/enterprise/webhooks/{id}",
    operation_id = "deleteWebhook",
    tag = "webhooks",
    summary = "Delete a webhook endpoint",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    responses((status = 200, description = "Deleted", body = crate::api::openapi::schemas::DoneWithId))
)]
pub async fn delete(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::ManageAdmins)?;
    let id = parse_id(&raw_id)?;
    let audit = user.audit("webhook.delete", "webhook", &id.to_string(), None, None);
    state.store.delete_webhook(id, &audit).await?;
    Ok(JsonResponse(json!({ "success": true, "id": id })))
}
