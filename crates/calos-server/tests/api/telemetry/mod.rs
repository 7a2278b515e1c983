//! `POST /api/v1/telemetry` and `GET /api/enterprise/customer/:id/usage`:
//! accepted, duplicate and rejected events, each bad input on its own, and
//! metering seen through the usage endpoint.

mod bad_input;
mod crash;
mod ingest;
mod usage;

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::helpers::{Api, TestApp};

pub const PATH: &str = "/api/v1/telemetry";

/// A fresh install on `tier` with its key.
pub struct Install {
    pub id: String,
    pub key: String,
}

pub async fn install(app: &TestApp, admin: &Api, tier: &str) -> Install {
    let created = app.create_license(admin, tier, json!({})).await;
    Install {
        id: created["installId"].as_str().unwrap().to_owned(),
        key: created["licenseKey"].as_str().unwrap().to_owned(),
    }
}

pub fn ts_ago(minutes: i64) -> String {
    (Utc::now() - Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn event(id: &str, kind: &str) -> Value {
    json!({"eventId": id, "type": kind, "ts": ts_ago(5), "feature": "pos", "user": "u-1",
           "session": "s-1", "userAgent": "Mozilla/5.0", "durationMs": 120, "status": 200})
}

pub fn batch(i: &Install, events: Vec<Value>) -> Value {
    json!({"installId": i.id, "licenseKey": i.key, "events": events})
}

/// Posts a batch and returns the response.
pub async fn post(app: &TestApp, i: &Install, events: Vec<Value>) -> crate::client::Resp {
    app.anon().post(PATH, &batch(i, events)).await
}

/// Raw events stored for an install (through the store).
pub async fn stored(app: &TestApp, i: &Install) -> Vec<calos_core::telemetry::TelemetryEvent> {
    let id = calos_core::ids::InstallId::parse(&i.id).unwrap();
    app.store()
        .list_events(
            &id,
            Utc::now() - Duration::days(400),
            Utc::now() + Duration::days(1),
            100_000,
        )
        .await
        .unwrap()
}
