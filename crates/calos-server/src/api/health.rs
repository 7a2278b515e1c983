//! `GET /healthz`: 200 when the server and its store answer, 503 otherwise.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::app::AppState;

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "health",
    summary = "Server and store health",
    responses((status = 200, description = "The server and its store answer", body = crate::api::openapi::schemas::Health))
)]
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let store = state.store.backend();
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(json!({ "status": "ok", "store": store })),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check: store unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "status": "unavailable", "store": store })),
            )
        }
    }
}
