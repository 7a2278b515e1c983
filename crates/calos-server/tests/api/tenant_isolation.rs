//! Tenant isolation on the public API. The public routes taking an
//! install's credentials (router.rs) are `POST /api/v1/license/verify`,
//! `POST /api/v1/telemetry` and `GET /api/v1/branding` (headers or query);
//! `GET /.well-known/jwks.json` and `GET /healthz` hold no install's data. Install A's credentials
//! must read and write only A: every mix of A's and B's id and key is
//! refused without revealing B's plan, and B's data stays as it was.

use calos_core::verdict::VerdictCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::verify_support::{check_token, new_install, post_verify, request, Install};

crate::both_backends!(an_install_reaches_only_its_own_data);

fn event(id: &str, extra: Value) -> Value {
    let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut e = json!({ "eventId": id, "type": "feature_used", "feature": "reports", "ts": ts });
    if let (Some(o), Some(x)) = (e.as_object_mut(), extra.as_object()) {
        o.extend(x.clone());
    }
    e
}

async fn telemetry(
    app: &TestApp,
    install_id: &str,
    key: &str,
    events: Value,
) -> crate::client::Resp {
    app.anon()
        .post(
            "/api/v1/telemetry",
            &json!({ "installId": install_id, "licenseKey": key, "events": events }),
        )
        .await
}

/// What the admin API shows of one install's public-API footprint.
async fn footprint(app: &TestApp, install_id: &str) -> Value {
    let api = app.token_client().await;
    let list = api.get("/api/enterprise/customers?perPage=200").await;
    let item = list.body["customers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["installId"] == install_id)
        .cloned()
        .unwrap();
    let usage = api
        .get(&format!("/api/enterprise/customer/{install_id}/usage"))
        .await;
    assert_eq!(usage.status.as_u16(), 200, "{}", usage.body);
    json!({ "lastSeenAt": item["lastSeenAt"], "usage": item["usage"], "status": item["status"],
            "tier": item["tier"], "meters": usage.body })
}

/// A verify with these credentials is refused: a 4xx for a malformed id, or
/// a signed refusal that tells nothing about the install named.
async fn verify_refused(app: &TestApp, install_id: &str, key: &str, victim_tier: &str) {
    let body = request(
        &Install {
            install_id: install_id.to_owned(),
            license_key: key.to_owned(),
        },
        "intruder-instance",
        None,
    );
    let r = post_verify(&app.base, &body).await;
    if r.status.is_client_error() {
        return;
    }
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let claims = check_token(&app.base, r.body["token"].as_str().unwrap())
        .await
        .unwrap();
    assert!(!claims.valid);
    assert_eq!(claims.code, VerdictCode::BadLicenseKey);
    assert!(claims.features.is_empty() && claims.limits.is_empty());
    assert!(claims.allowed_domains.is_empty());
    assert_ne!(claims.tier, victim_tier, "the refusal revealed the plan");
}

/// `GET /api/v1/branding` with these credentials, as headers and as query.
async fn branding_refused(app: &TestApp, id: &str, key: &str) {
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/branding", app.base);
    let by_headers = client
        .get(&url)
        .header("X-Calos-Install-Id", id)
        .header("X-Calos-License-Key", key)
        .send()
        .await
        .unwrap();
    let by_query = client
        .get(&url)
        .query(&[("installId", id), ("licenseKey", key)])
        .send()
        .await
        .unwrap();
    for r in [by_headers, by_query] {
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        assert!(
            matches!(status, 400 | 401 | 422),
            "branding as {id:?}: {status} {body}"
        );
    }
}

async fn an_install_reaches_only_its_own_data(app: &TestApp) {
    let a = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    let b = new_install(
        app,
        "enterprise",
        json!({ "trialDays": 0, "domains": ["b.example.com"] }),
    )
    .await;
    // B has data of its own: an event whose id A will reuse.
    let r = telemetry(
        app,
        &b.install_id,
        &b.license_key,
        json!([event("shared-1", json!({}))]),
    )
    .await;
    assert_eq!(r.body["accepted"], 1, "{}", r.body);
    // A's credentials are warm in the cache before the mixes.
    let r = telemetry(
        app,
        &a.install_id,
        &a.license_key,
        json!([event("a-0", json!({}))]),
    )
    .await;
    assert_eq!(r.body["accepted"], 1, "{}", r.body);
    let b_before = footprint(app, &b.install_id).await;

    // Every mix of ids and keys: refused, on both routes.
    let b_upper = b.install_id.to_uppercase();
    let b_padded = format!(" {} ", b.install_id);
    let mixes = [
        (b.install_id.as_str(), a.license_key.as_str()),
        (a.install_id.as_str(), b.license_key.as_str()),
        (b.install_id.as_str(), a.install_id.as_str()),
        (b_upper.as_str(), a.license_key.as_str()),
        (b_padded.as_str(), a.license_key.as_str()),
    ];
    for (id, key) in mixes {
        verify_refused(app, id, key, "enterprise").await;
        let r = telemetry(app, id, key, json!([event("x-1", json!({}))])).await;
        assert!(
            matches!(r.status.as_u16(), 401 | 422),
            "telemetry as {id:?}: {} {}",
            r.status,
            r.body
        );
        branding_refused(app, id, key).await;
    }

    // A's own credentials with B named inside the batch: stored as A's, if at all.
    let r = telemetry(
        app,
        &a.install_id,
        &a.license_key,
        json!([
            event("shared-1", json!({})),
            event("a-2", json!({ "installId": b.install_id })),
            event("a-3", json!({ "props": { "installId": b.install_id } })),
        ]),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    // B's event id is A's own new event, not a duplicate of B's.
    assert_eq!(r.body["duplicates"], 0, "{}", r.body);
    // And B's retry of its own event is still B's duplicate.
    let r = telemetry(
        app,
        &b.install_id,
        &b.license_key,
        json!([event("shared-1", json!({}))]),
    )
    .await;
    assert_eq!(
        (r.body["accepted"].clone(), r.body["duplicates"].clone()),
        (json!(0), json!(1)),
        "{}",
        r.body
    );

    // A verifies for real; once that write is flushed, B must still be untouched.
    let a_seen = footprint(app, &a.install_id).await["lastSeenAt"].clone();
    let ok = post_verify(&app.base, &request(&a, "a-instance", None)).await;
    let claims = check_token(&app.base, ok.body["token"].as_str().unwrap())
        .await
        .unwrap();
    assert!(claims.valid && claims.install_id == a.install_id && claims.tier == "pro");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while footprint(app, &a.install_id).await["lastSeenAt"] == a_seen {
        assert!(
            std::time::Instant::now() < deadline,
            "A's verify was never recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let b_after = footprint(app, &b.install_id).await;
    assert_eq!(b_before, b_after, "B's data changed");

    // B itself was not locked out by the attempts made in its name.
    let own = post_verify(&app.base, &request(&b, "b-instance", Some("b.example.com"))).await;
    let claims = check_token(&app.base, own.body["token"].as_str().unwrap())
        .await
        .unwrap();
    assert!(claims.valid, "{claims:?}");
    assert_eq!(claims.tier, "enterprise");
    let own = reqwest::Client::new()
        .get(format!("{}/api/v1/branding", app.base))
        .header("X-Calos-Install-Id", &b.install_id)
        .header("X-Calos-License-Key", &b.license_key)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status().as_u16(), 200, "B reads its own branding");
}
