//! `POST /api/enterprise/webhooks/{id}/test`: sends one signed `webhook.test`
//! event to an endpoint right away and answers how it went, so an admin can
//! check a receiver (its URL, its signature check) without waiting for a
//! real event. It goes through the same checks as every delivery (private
//! addresses refused unless the endpoint allows them, no redirects), is
//! signed with the endpoint's secret, and works on a disabled endpoint too
//! (to try it before enabling it again). It is not an outbox delivery: it is
//! not retried, not logged with the deliveries and does not count towards
//! the endpoint's failures; its `X-Calos-Delivery` is `test_…`.

use axum::extract::{Path, State};
use axum::Json as JsonResponse;
use chrono::Utc;
use rand::RngCore;
use serde_json::{json, Value};

use calos_core::auth::Permission;
use calos_core::notify::webhook::envelope_with_id;

use super::admins::parse_id;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::notify::webhook;

/// The event name of a test (never a real notification).
pub const TEST_EVENT: &str = "webhook.test";

#[utoipa::path(
    post,
    path = "/api/enterprise/webhooks/{id}/test",
    operation_id = "testWebhook",
    tag = "webhooks",
    summary = "Send a signed webhook.test event to an endpoint now",
    params(("id" = i64, Path, description = "The endpoint id")),
    responses((status = 200, description = "How the test went: delivered, HTTP status or error", body = crate::api::openapi::schemas::WebhookTestResult))
)]
pub async fn send(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::ManageAdmins)?;
    let id = parse_id(&raw_id)?;
    let missing = || ApiError::NotFound(format!("webhook endpoint {id}"));
    let hook = state.store.get_webhook(id).await?.ok_or_else(missing)?;
    let salt = state
        .store
        .webhook_secret_salt(id)
        .await?
        .ok_or_else(missing)?;
    let mut random = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let test_id = format!("test_{}", hex::encode(random));
    let body = envelope_with_id(
        &test_id,
        TEST_EVENT,
        Utc::now(),
        &json!({
            "endpointId": id,
            "message": "A test event from CALOS Enterprise: your endpoint and signature check work.",
            "requestedBy": user.admin.username,
        }),
    );
    let secret = state.webhook_secrets.secret(&salt);
    let request = webhook::Request {
        url: &hook.url,
        allow_private: hook.allow_private,
        secret: &secret,
        delivery_id: test_id.clone(),
        event: TEST_EVENT,
        body: body.to_string().into_bytes(),
        timeout: state.config.notify.delivery_timeout,
    };
    let result = webhook::send(&request).await;
    tracing::info!(
        endpoint = id,
        ok = result.is_ok(),
        "webhook test event sent"
    );
    Ok(JsonResponse(match result {
        Ok(status) => json!({
            "success": true,
            "test": { "id": test_id, "delivered": true, "status": status, "error": null },
        }),
        Err(failure) => json!({
            "success": true,
            "test": { "id": test_id, "delivered": false, "status": null, "error": failure.message },
        }),
    }))
}
