//! The real server driven by our own SDK, as a vendor's product would: the
//! SDK's token checks, state and telemetry queue are tested end to end.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use calos_client::{Client, Event, LicenseState, UnlicensedCode};
use calos_core::ids::InstallId;
use calos_core::verdict::VerdictCode;

use crate::helpers::TestApp;
use crate::verify_support::{new_install, Install};

crate::both_backends!(
    sdk_gets_a_licensed_state_and_its_events_are_stored,
    sdk_sees_a_revoke_on_its_next_refresh
);

fn client_for(app: &TestApp, install: &Install, dir: &std::path::Path) -> Client {
    Client::builder()
        .server(&app.base)
        .install_id(&install.install_id)
        .license_key(&install.license_key)
        .domain("app.example.com")
        .product_version("1.2.3")
        .data_dir(dir)
        .startup_timeout(Duration::from_secs(10))
        .build()
        .expect("client builds")
}

async fn sdk_gets_a_licensed_state_and_its_events_are_stored(app: &TestApp) {
    let install = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    let dir = tempfile::tempdir().unwrap();
    let client = client_for(app, &install, dir.path());
    client.start().await;

    match client.state() {
        LicenseState::Licensed { tier, .. } => assert_eq!(tier, "pro"),
        other => panic!("expected Licensed, got {other:?}"),
    }
    assert!(client.allows("whiteLabel"), "pro has the whiteLabel flag");
    assert!(!client.allows("sla"), "pro has no SLA");

    for _ in 0..3 {
        client.track(Event::feature_used("pos"));
    }
    client.shutdown().await;

    let id = InstallId::parse(&install.install_id).unwrap();
    let counts = app
        .store()
        .event_counts(&id, Utc::now() - chrono::Duration::hours(1), 10)
        .await
        .unwrap();
    let pos: i64 = counts
        .iter()
        .filter(|c| c.feature.as_deref() == Some("pos"))
        .map(|c| c.count)
        .sum();
    assert_eq!(pos, 3, "every tracked event arrives once: {counts:?}");
}

async fn sdk_sees_a_revoke_on_its_next_refresh(app: &TestApp) {
    let install = new_install(app, "enterprise", json!({ "trialDays": 0 })).await;
    let dir = tempfile::tempdir().unwrap();
    let client = client_for(app, &install, dir.path());
    client.start().await;
    assert!(client.state().is_licensed());

    let admin = app.admin().await;
    let r = admin
        .post(
            "/api/enterprise/revoke-license",
            &json!({ "installId": install.install_id, "reason": "contract ended" }),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.body);

    let state = client.refresh_now().await.expect("the server answers");
    assert_eq!(
        state,
        LicenseState::Unlicensed {
            code: UnlicensedCode::Verdict(VerdictCode::Revoked)
        }
    );
    assert!(!client.allows("whiteLabel"));
    client.shutdown().await;
}
