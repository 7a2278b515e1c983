//! `POST /api/v1/telemetry`: a deployment's batch of events, authenticated
//! with its install id and license key. Good events are stored even when
//! others in the batch are refused; the answer lists each refusal.
//!
//! This route has its own body limit (the batch limit, 1 MiB) rather than
//! the admin API's, and reads the body itself so a batch over a limit gets a
//! 413 naming that limit.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Duration, Utc};
use serde_json::json;

use calos_core::ingest::{MAX_BATCH_BYTES, MAX_BATCH_EVENTS};
use calos_core::license::LicenseStatus;
use calos_core::protocol::TelemetryBatch;

use crate::app::AppState;
use crate::error::ApiError;
use crate::ingest;
use crate::licensing::AuthFailure;

/// Why a whole batch was refused (nothing of it is stored).
#[derive(Debug)]
pub enum Refusal {
    TooManyEvents(usize),
    TooLarge,
    Api(ApiError),
    Inactive(LicenseStatus),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            Refusal::TooManyEvents(n) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "batch_too_large",
                format!(
                    "the batch has {n} events; the limit is {MAX_BATCH_EVENTS} events per batch"
                ),
            ),
            Refusal::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "batch_too_large",
                format!("the batch is over the limit of {MAX_BATCH_BYTES} bytes (1 MiB) per batch"),
            ),
            Refusal::Inactive(status) => (
                StatusCode::FORBIDDEN,
                "license_inactive",
                format!(
                    "the license is {}; telemetry is not accepted",
                    status.as_str()
                ),
            ),
            Refusal::Api(e) => return e.into_response(),
        };
        tracing::debug!(code, %message, "telemetry batch refused");
        (
            status,
            Json(json!({ "error": { "code": code, "message": message } })),
        )
            .into_response()
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/telemetry",
    operation_id = "ingestTelemetry",
    tag = "telemetry",
    summary = "Send a batch of telemetry events",
    request_body = calos_core::protocol::TelemetryBatch,
    responses((status = 200, description = "Accepted, duplicate and rejected events (each rejection with its reason)", body = calos_core::protocol::TelemetryAck))
)]
pub async fn ingest(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let outcome = handle(&state, &headers, body).await;
    state.metrics.telemetry_batch(outcome.as_ref().ok());
    match outcome {
        Ok(ack) => Json(ack).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// A batch body as the handler reads it: UTF-8, JSON of the batch's shape,
/// at most [`MAX_BATCH_EVENTS`] events. Pure (no state, no I/O), so the
/// `telemetry_batch` fuzz target (fuzz/) runs exactly this.
pub fn parse_batch(bytes: &[u8]) -> Result<TelemetryBatch, Refusal> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::MalformedJson("the body is not valid UTF-8".into()).into());
    }
    let batch: TelemetryBatch = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            ApiError::InvalidBody(e.to_string())
        } else {
            ApiError::MalformedJson(e.to_string())
        }
    })?;
    if batch.events.len() > MAX_BATCH_EVENTS {
        return Err(Refusal::TooManyEvents(batch.events.len()));
    }
    Ok(batch)
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<calos_core::protocol::TelemetryAck, Refusal> {
    // A declared length over the limit is refused before reading anything.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BATCH_BYTES as u64) {
        return Err(Refusal::TooLarge);
    }
    let bytes = axum::body::to_bytes(body, MAX_BATCH_BYTES)
        .await
        .map_err(|_| Refusal::TooLarge)?;
    let batch = parse_batch(&bytes)?;
    let cached = state
        .license_cache
        .authenticate(&batch.install_id, &batch.license_key)
        .await
        .map_err(|e| match e {
            AuthFailure::UnknownInstall | AuthFailure::BadKey => ApiError::Unauthenticated,
            AuthFailure::Store(e) => ApiError::from(e),
        })?;
    let license = &cached.license;
    if !matches!(license.status, LicenseStatus::Active | LicenseStatus::Trial) {
        return Err(Refusal::Inactive(license.status));
    }
    state
        .telemetry_limits
        .check(
            &cached.plan,
            license.install_id.as_str(),
            batch.events.len(),
        )
        .map_err(ApiError::from)?;
    let retention = Duration::days(i64::from(state.config.telemetry_retention_days));
    let ack = ingest::ingest(
        state.store.as_ref(),
        license,
        &cached.plan,
        &batch.events,
        Utc::now(),
        retention,
    )
    .await
    .map_err(ApiError::from)?;
    Ok(ack)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: &[u8]) -> Refusal {
        match parse_batch(body) {
            Ok(batch) => panic!("accepted {} events", batch.events.len()),
            Err(r) => r,
        }
    }

    #[test]
    fn parse_batch_refuses_each_kind_of_bad_body_as_the_handler_answers_it() {
        assert!(matches!(
            refusal(b"{\"installId\":\"\xff\"}"),
            Refusal::Api(ApiError::MalformedJson(_))
        ));
        assert!(matches!(
            refusal(b"{\"installId\":"),
            Refusal::Api(ApiError::MalformedJson(_))
        ));
        assert!(matches!(
            refusal(br#"{"installId":"a","licenseKey":"b","events":{}}"#),
            Refusal::Api(ApiError::InvalidBody(_))
        ));
        let many = format!(
            r#"{{"installId":"a","licenseKey":"b","events":[{}]}}"#,
            vec!["{}"; MAX_BATCH_EVENTS + 1].join(",")
        );
        assert!(matches!(
            refusal(many.as_bytes()),
            Refusal::TooManyEvents(n) if n == MAX_BATCH_EVENTS + 1
        ));
    }

    #[test]
    fn parse_batch_keeps_events_for_per_event_validation() {
        let batch = parse_batch(br#"{"installId":"a","licenseKey":"b","events":[1,{"x":2}]}"#)
            .expect("a well-formed batch");
        assert_eq!(batch.install_id, "a");
        assert_eq!(
            batch.events.len(),
            2,
            "bad events are judged one by one later"
        );
    }
}
