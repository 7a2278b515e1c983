//! The notification outbox under `/api/enterprise/notifications`: the list
//! of deliveries with their state (Read), a resend (ManageAdmins), and the
//! calling admin's e-mail subscriptions.

use axum::extract::{Path, State};
use axum::Json as JsonResponse;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use calos_core::auth::Permission;
use calos_core::notify::EventKind;
use calos_store::{Channel, DeliveryQuery, DeliveryStatus};

use super::admins::parse_id;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListParams {
    status: Option<String>,
    channel: Option<String>,
    endpoint_id: Option<i64>,
    install_id: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

impl ListParams {
    /// The filters of the dashboard page.
    pub fn from_page(status: &str, channel: &str, page: u32, per_page: u32) -> Self {
        Self {
            status: Some(status.to_owned()),
            channel: Some(channel.to_owned()),
            page: Some(page),
            per_page: Some(per_page),
            ..Self::default()
        }
    }
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The store query a list request asks for; bad values are 400 `invalid_query`.
pub fn query(p: &ListParams) -> ApiResult<DeliveryQuery> {
    let bad = |e: calos_core::InvalidValue| ApiError::InvalidQuery(e.to_string());
    Ok(DeliveryQuery {
        status: present(&p.status)
            .map(DeliveryStatus::parse)
            .transpose()
            .map_err(bad)?,
        channel: present(&p.channel)
            .map(Channel::parse)
            .transpose()
            .map_err(bad)?,
        endpoint_id: p.endpoint_id,
        install_id: present(&p.install_id).map(str::to_owned),
        page: p.page.unwrap_or(1),
        per_page: p.per_page.unwrap_or(50),
    })
}

#[utoipa::path(
    get,
    path = "/api/enterprise/notifications",
    operation_id = "listNotifications",
    tag = "notifications",
    summary = "The notification outbox",
    params(ListParams),
    responses((status = 200, description = "One page of notifications", body = crate::api::openapi::schemas::NotificationList))
)]
pub async fn list(
    user: AdminUser,
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::Read)?;
    let page = state.store.list_deliveries(&query(&params)?).await?;
    Ok(JsonResponse(
        json!({ "success": true, "notifications": page }),
    ))
}

#[utoipa::path(
    post,
    path = "/api/enterprise/notifications/{id}/resend",
    operation_id = "resendNotification",
    tag = "notifications",
    summary = "Send a notification again",
    params(("id" = String, Path, description = "Numeric id", example = "1")),
    responses((status = 200, description = "Queued again", body = crate::api::openapi::schemas::NotificationResult))
)]
pub async fn resend(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::ManageAdmins)?;
    let id = parse_id(&raw_id)?;
    let audit = user.audit(
        "notification.resend",
        "notification",
        &id.to_string(),
        None,
        None,
    );
    let view = state.store.resend_delivery(id, Utc::now(), &audit).await?;
    Ok(JsonResponse(
        json!({ "success": true, "notification": view }),
    ))
}

#[utoipa::path(
    get,
    path = "/api/enterprise/notifications/subscriptions",
    operation_id = "notificationSubscriptions",
    tag = "notifications",
    summary = "Events e-mailed to this admin",
    responses((status = 200, description = "The subscribed events", body = crate::api::openapi::schemas::Subscriptions))
)]
pub async fn subscriptions(
    user: AdminUser,
    State(state): State<AppState>,
) -> ApiResult<JsonResponse<Value>> {
    let events = state.store.notify_subscriptions(user.admin.id).await?;
    Ok(JsonResponse(json!({
        "success": true,
        "events": events,
        "available": EventKind::ALL,
        "email": user.admin.email,
    })))
}

#[derive(utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionsBody {
    events: Vec<String>,
}

#[utoipa::path(
    put,
    path = "/api/enterprise/notifications/subscriptions",
    operation_id = "setNotificationSubscriptions",
    tag = "notifications",
    summary = "Choose the events e-mailed to this admin",
    request_body = SubscriptionsBody,
    responses((status = 200, description = "Saved", body = crate::api::openapi::schemas::SubscriptionsSaved))
)]
pub async fn set_subscriptions(
    user: AdminUser,
    State(state): State<AppState>,
    Json(body): Json<SubscriptionsBody>,
) -> ApiResult<JsonResponse<Value>> {
    let mut events = body
        .events
        .iter()
        .map(|e| EventKind::parse(e.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    events.sort();
    events.dedup();
    let audit = user.audit(
        "notify.subscribe",
        "admin",
        &user.admin.id.to_string(),
        None,
        Some(json!({ "events": events })),
    );
    state
        .store
        .set_notify_subscriptions(user.admin.id, &events, &audit)
        .await?;
    Ok(JsonResponse(json!({ "success": true, "events": events })))
}
