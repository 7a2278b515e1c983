//! `GET /metrics`. On the main port it needs an authenticated admin with
//! read access — a session, or (what Prometheus sends) an API token as
//! `Authorization: Bearer …`, best one capped to the viewer role. On the
//! separate metrics port ([`super::port`]) it is open.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use calos_core::auth::Permission;

use crate::app::AppState;
use crate::auth::AdminUser;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};

/// `/metrics` for the main router: the admin-guarded route, or nothing
/// when a separate port serves it.
pub fn main_port(config: &Config) -> Router<AppState> {
    if config.metrics_addr.is_some() {
        Router::new()
    } else {
        Router::new().route("/metrics", get(scrape_admin))
    }
}

pub async fn scrape_admin(State(state): State<AppState>, admin: AdminUser) -> ApiResult<Response> {
    admin.require(Permission::Read)?;
    scrape(&state).await
}

pub async fn scrape_open(State(state): State<AppState>) -> ApiResult<Response> {
    scrape(&state).await
}

async fn scrape(state: &AppState) -> ApiResult<Response> {
    let body = state
        .metrics
        .render(state)
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("cannot render the metrics: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(prometheus_client::encoding::prometheus_text::CONTENT_TYPE),
        )],
        body,
    )
        .into_response())
}
