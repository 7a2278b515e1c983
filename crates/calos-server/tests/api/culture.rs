//! `GET /api/enterprise/customer/{installId}/culture` and the customer's
//! time zone: the interface outside tests rely on, "not enough data"
//! without telemetry, 404s, bad input; the seed's three examples as the
//! analyzer's real output over the demo data (`culture_demo.rs`).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

crate::both_backends!(
    culture_without_telemetry_is_not_enough_data,
    culture_of_an_unknown_install_is_404,
    culture_needs_an_admin,
    timezone_is_set_cleared_and_audited,
    timezone_out_of_range_is_422,
    timezone_malformed_body_is_refused,
    timezone_of_an_unknown_install_is_404,
);

/// The interface keys the issue fixes, present and of the right shape.
pub fn assert_interface(c: &Value) {
    for key in ["score", "label", "components"] {
        assert!(c["health"].get(key).is_some(), "health.{key}: {c}");
    }
    assert!(c["health"]["components"].is_array());
    for key in ["estimate", "low", "high"] {
        assert!(c["teamSize"].get(key).is_some(), "teamSize.{key}: {c}");
    }
    assert!(c["behavior"]["peakHours"].is_array());
    assert!(c["behavior"]["workingDays"].is_array());
    assert!(c["behavior"]["timezone"].is_string());
    for f in c["features"].as_array().expect("features") {
        for key in ["name", "share", "trend"] {
            assert!(f.get(key).is_some(), "features[].{key}: {f}");
        }
    }
    assert!(c["unusedFeatures"].is_array());
    for l in c["limits"].as_array().expect("limits") {
        for key in ["name", "used", "limit", "percent"] {
            assert!(l.get(key).is_some(), "limits[].{key}: {l}");
        }
    }
    for u in c["upsells"].as_array().expect("upsells") {
        for key in ["kind", "priority", "message", "evidence"] {
            assert!(u.get(key).is_some(), "upsells[].{key}: {u}");
        }
        assert!(["high", "medium", "low"].contains(&u["priority"].as_str().unwrap_or("")));
    }
    assert!(c["insights"]
        .as_array()
        .expect("insights")
        .iter()
        .all(Value::is_string));
    assert!(c["enoughData"].is_boolean());
}

async fn culture_without_telemetry_is_not_enough_data(app: &TestApp) {
    let admin = app.admin().await;
    let id = app.create_license(&admin, "pro", json!({})).await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = admin
        .get(&format!("/api/enterprise/customer/{id}/culture"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["success"], true);
    let c = &r.body["culture"];
    assert_interface(c);
    assert_eq!(c["enoughData"], false);
    assert_eq!(c["health"]["score"], Value::Null);
    assert_eq!(c["health"]["label"], "not enough data");
    assert_eq!(c["teamSize"]["estimate"], Value::Null);
    assert_eq!(c["installId"], id.as_str());
    assert!(c["upsells"].as_array().unwrap().is_empty(), "{c}");
}

async fn culture_of_an_unknown_install_is_404(app: &TestApp) {
    let admin = app.admin().await;
    for id in ["nobody-install-000000000000", "not an id"] {
        let r = admin
            .get(&format!(
                "/api/enterprise/customer/{}/culture",
                id.replace(' ', "%20")
            ))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}: {}", r.body);
        assert_eq!(r.body["error"]["code"], "not_found", "{}", r.body);
    }
}

async fn culture_needs_an_admin(app: &TestApp) {
    let r = app
        .anon()
        .get("/api/enterprise/customer/demo-install-abc123456789abcdef/culture")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

async fn timezone_is_set_cleared_and_audited(app: &TestApp) {
    let admin = app.admin().await;
    let id = app.create_license(&admin, "pro", json!({})).await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/enterprise/customer/{id}/timezone");
    let r = admin
        .put(&path, &json!({ "timezoneOffsetMinutes": -300 }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["timezoneOffsetMinutes"], -300);
    let c = admin
        .get(&format!("/api/enterprise/customer/{id}/culture"))
        .await
        .body;
    assert_eq!(c["culture"]["behavior"]["timezone"], "UTC-05:00", "{c}");
    assert_eq!(c["culture"]["behavior"]["timezoneSource"], "customer");

    let r = admin
        .put(&path, &json!({ "timezoneOffsetMinutes": null }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let c = admin
        .get(&format!("/api/enterprise/customer/{id}/culture"))
        .await
        .body;
    assert_ne!(
        c["culture"]["behavior"]["timezoneSource"], "customer",
        "{c}"
    );

    let audit = admin
        .get(&format!(
            "/api/enterprise/audit?targetType=license&targetId={id}&limit=100"
        ))
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    let text = audit.body.to_string();
    assert_eq!(text.matches("customer.timezone").count(), 2, "{text}");
}

async fn timezone_path(app: &TestApp, admin: &crate::helpers::Api) -> String {
    let id = app.create_license(admin, "pro", json!({})).await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    format!("/api/enterprise/customer/{id}/timezone")
}

async fn timezone_out_of_range_is_422(app: &TestApp) {
    let admin = app.admin().await;
    let path = timezone_path(app, &admin).await;
    for minutes in [900, -841, i64::MAX] {
        let r = admin
            .put(&path, &json!({ "timezoneOffsetMinutes": minutes }))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{minutes}: {}",
            r.body
        );
        assert_eq!(r.body["error"]["code"], "invalid_field");
    }
}

async fn timezone_malformed_body_is_refused(app: &TestApp) {
    let admin = app.admin().await;
    let path = timezone_path(app, &admin).await;
    for body in [
        json!({ "timezoneOffsetMinutes": "UTC+1" }),
        json!({ "timezoneOffsetMinutes": 60, "zone": "WAT" }),
        json!({ "timezoneOffsetMinutes": 1.5 }),
    ] {
        let r = admin.put(&path, &body).await;
        // The app's JSON extractor: a body that does not fit the shape.
        assert!(r.status.is_client_error(), "{body}: {}", r.body);
        assert_eq!(
            r.body["error"]["code"], "invalid_body",
            "{body}: {}",
            r.body
        );
    }
}

async fn timezone_of_an_unknown_install_is_404(app: &TestApp) {
    let admin = app.admin().await;
    let r = admin
        .put(
            "/api/enterprise/customer/nobody-install-000000000000/timezone",
            &json!({ "timezoneOffsetMinutes": 60 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}
