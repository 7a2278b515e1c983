//! The license lifecycle over HTTP, with the audit trail it leaves.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use calos_core::ids::InstallId;
use calos_core::license::LicenseStatus;
use calos_server::workers::expiry;

use crate::helpers::TestApp;

crate::both_backends!(
    create_profile_update_suspend_reactivate_revoke_flow,
    update_tier_on_a_revoked_license_is_409_and_it_stays_revoked,
    trials_extend_and_activate,
    renew_sets_a_contract_end,
    patch_edits_notes_and_domains,
    create_for_an_existing_customer,
    license_key_is_returned_once_and_stored_hashed,
    expiry_worker_expires_trials_as_system,
);

async fn create_profile_update_suspend_reactivate_revoke_flow(app: &TestApp) {
    let admin = app.admin().await;
    let created = app
        .create_license(
            &admin,
            "community",
            json!({ "billingPeriod": "monthly", "notes": "first contact", "domains": ["Shop.Example.com"] }),
        )
        .await;
    assert_eq!(created["success"], true);
    assert_eq!(created["status"], "active");
    assert!(created["trialEndsAt"].is_null());
    let id = created["installId"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert!(created["config"]
        .as_str()
        .unwrap()
        .contains(&format!("CALOS_INSTALL_ID={id}\n")));
    let base = format!("/api/enterprise/customer/{id}");

    let profile = admin.get(&format!("{base}/profile")).await;
    assert_eq!(profile.status.as_u16(), 200, "{}", profile.body);
    let p = &profile.body["profile"];
    assert_eq!(p["license"]["tier"], "community");
    assert_eq!(p["domains"], json!(["shop.example.com"]));
    assert_eq!(p["plan"]["slug"], "community");
    assert!(p["entitledFeatures"]
        .as_array()
        .unwrap()
        .contains(&json!("pos")));
    assert!(!p["entitledFeatures"]
        .as_array()
        .unwrap()
        .contains(&json!("crypto")));
    let api_meter = p["usage"]["meters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["meter"] == "api_requests")
        .unwrap();
    assert_eq!(
        (api_meter["used"].as_i64(), api_meter["limit"].as_u64()),
        (Some(0), Some(100))
    );
    assert_eq!(p["history"].as_array().unwrap().len(), 1);
    assert_eq!(p["history"][0]["action"], "license.create");

    let up = admin
        .post(
            &format!("{base}/update-tier"),
            &json!({ "newTier": "pro", "billingPeriod": "annual" }),
        )
        .await;
    assert_eq!(up.status.as_u16(), 200, "{}", up.body);
    assert_eq!(
        (up.body["tier"].as_str(), up.body["billingPeriod"].as_str()),
        (Some("pro"), Some("annual"))
    );
    assert_eq!(up.body["changed"], true);
    let same = admin
        .post(&format!("{base}/update-tier"), &json!({ "newTier": "pro" }))
        .await;
    assert_eq!(
        (
            same.body["changed"].as_bool(),
            same.body["billingPeriod"].as_str()
        ),
        (Some(false), Some("annual"))
    );

    let sus = admin
        .post(
            &format!("{base}/suspend"),
            &json!({ "reason": "invoice overdue" }),
        )
        .await;
    assert_eq!(sus.body["status"], "suspended", "{}", sus.body);
    assert_eq!(sus.body["license"]["statusReason"], "invoice overdue");
    let re = admin.post_empty(&format!("{base}/reactivate")).await;
    assert_eq!(re.body["status"], "active", "{}", re.body);
    let rev = admin
        .post(
            "/api/enterprise/revoke-license",
            &json!({ "installId": id, "reason": "contract ended" }),
        )
        .await;
    assert_eq!(
        (rev.body["status"].as_str(), rev.body["changed"].as_bool()),
        (Some("revoked"), Some(true))
    );

    let history = admin
        .get(&format!(
            "/api/enterprise/audit?targetType=license&targetId={id}"
        ))
        .await;
    let records = history.body["audit"].as_array().unwrap();
    let actions: Vec<&str> = records
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "license.revoke",
            "license.reactivate",
            "license.suspend",
            "license.change_tier",
            "license.create"
        ],
        "newest first, and the unchanged tier request wrote nothing"
    );
    for r in records {
        assert_eq!(r["actorLabel"], "admin:admin");
        assert_eq!(r["actor"]["kind"], "admin");
        assert_eq!(r["ip"], "127.0.0.1");
        assert!(r["at"].as_str().is_some());
    }
    let tier = &records[3];
    assert_eq!(
        (
            tier["before"]["plan"].as_str(),
            tier["after"]["plan"].as_str()
        ),
        (Some("community"), Some("pro"))
    );
    assert_eq!(tier["after"]["billingPeriod"], "annual");
    let suspend = &records[2];
    assert_eq!(
        (
            suspend["before"]["status"].as_str(),
            suspend["after"]["status"].as_str()
        ),
        (Some("active"), Some("suspended"))
    );
    assert!(records[4]["before"].is_null());
    assert_eq!(records[0]["after"]["statusReason"], "contract ended");
}

async fn update_tier_on_a_revoked_license_is_409_and_it_stays_revoked(app: &TestApp) {
    let admin = app.admin().await;
    let id = app.create_license(&admin, "pro", json!({})).await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let rev = admin
        .post(
            "/api/enterprise/revoke-license",
            &json!({ "installId": id }),
        )
        .await;
    assert_eq!(rev.status.as_u16(), 200);
    let before = app.snapshot(&admin).await;
    let base = format!("/api/enterprise/customer/{id}");
    admin
        .post(
            &format!("{base}/update-tier"),
            &json!({ "newTier": "enterprise" }),
        )
        .await
        .assert_error(409, "license_state");
    admin
        .post_empty(&format!("{base}/reactivate"))
        .await
        .assert_error(409, "license_state");
    admin
        .post_empty(&format!("{base}/suspend"))
        .await
        .assert_error(409, "license_state");
    assert_eq!(app.snapshot(&admin).await, before);
    let profile = admin.get(&format!("{base}/profile")).await;
    assert_eq!(profile.body["profile"]["license"]["status"], "revoked");
    assert_eq!(profile.body["profile"]["license"]["tier"], "pro");
}

async fn trials_extend_and_activate(app: &TestApp) {
    let admin = app.admin().await;
    let created = app
        .create_license(&admin, "pro", json!({ "trialDays": 14 }))
        .await;
    assert_eq!(created["status"], "trial");
    let ends: DateTime<Utc> = created["trialEndsAt"].as_str().unwrap().parse().unwrap();
    assert!((ends - Utc::now() - Duration::days(14)).num_minutes().abs() < 5);
    let id = created["installId"].as_str().unwrap();
    let base = format!("/api/enterprise/customer/{id}");
    let ext = admin
        .post(&format!("{base}/extend-trial"), &json!({ "days": 7 }))
        .await;
    assert_eq!(ext.status.as_u16(), 200, "{}", ext.body);
    let new_end: DateTime<Utc> = ext.body["license"]["trialEndsAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Within a millisecond: backends may store timestamps at microsecond precision.
    assert!(
        (new_end - ends - Duration::days(7))
            .num_milliseconds()
            .abs()
            <= 1,
        "{new_end} vs {ends}"
    );
    let act = admin.post_empty(&format!("{base}/activate")).await;
    assert_eq!(act.body["status"], "active", "{}", act.body);
    assert!(act.body["license"]["convertedAt"].is_string());
    admin
        .post(&format!("{base}/extend-trial"), &json!({ "days": 7 }))
        .await
        .assert_error(409, "license_state");
}

async fn renew_sets_a_contract_end(app: &TestApp) {
    let admin = app.admin().await;
    let id = app
        .create_license(&admin, "enterprise", json!({ "billingPeriod": "annual" }))
        .await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let end = (Utc::now() + Duration::days(400)).to_rfc3339();
    let r = admin
        .post(
            &format!("/api/enterprise/customer/{id}/renew"),
            &json!({ "endsAt": end }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert!(r.body["license"]["endsAt"].is_string());
    let past = (Utc::now() - Duration::days(1)).to_rfc3339();
    admin
        .post(
            &format!("/api/enterprise/customer/{id}/renew"),
            &json!({ "endsAt": past }),
        )
        .await
        .assert_error(409, "license_state");
}

async fn patch_edits_notes_and_domains(app: &TestApp) {
    let admin = app.admin().await;
    let id = app.create_license(&admin, "enterprise", json!({})).await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/enterprise/customer/{id}");
    let r = admin
        .patch(&path, &json!({ "notes": "renewal call in May", "domains": ["a.example.com", "*.b.example.com"] }))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let mut domains: Vec<&str> = r.body["license"]["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    domains.sort_unstable();
    assert_eq!(domains, ["*.b.example.com", "a.example.com"]);
    assert_eq!(r.body["license"]["notes"], "renewal call in May");
    let again = admin
        .patch(&path, &json!({ "notes": "renewal call in May" }))
        .await;
    assert_eq!(again.body["changed"], false);
    admin
        .patch(&path, &json!({}))
        .await
        .assert_error(422, "invalid_field");
}

async fn create_for_an_existing_customer(app: &TestApp) {
    let admin = app.admin().await;
    let first = app.create_license(&admin, "pro", json!({})).await;
    let customer_id = first["customerId"].as_i64().unwrap();
    let second = admin
        .post(
            "/api/enterprise/create-license",
            &json!({ "userId": customer_id, "tier": "enterprise" }),
        )
        .await;
    assert_eq!(second.status.as_u16(), 201, "{}", second.body);
    assert_eq!(second.body["customerId"], customer_id);
    assert_ne!(second.body["installId"], first["installId"]);
}

async fn license_key_is_returned_once_and_stored_hashed(app: &TestApp) {
    let admin = app.admin().await;
    let created = app.create_license(&admin, "pro", json!({})).await;
    let key_text = created["licenseKey"].as_str().unwrap();
    let key = calos_core::ids::LicenseKey::parse(key_text).unwrap();
    let id = InstallId::parse(created["installId"].as_str().unwrap()).unwrap();
    let stored = app.store().license_key_hash(&id).await.unwrap().unwrap();
    assert!(app.state.hasher.verify(&key, &stored));
    assert!(!stored
        .windows(16)
        .any(|w| key_text.as_bytes().windows(16).any(|k| k == w)));
    let profile = admin
        .get(&format!("/api/enterprise/customer/{id}/profile"))
        .await;
    assert!(
        !profile.body.to_string().contains(key_text),
        "the key is shown only at creation"
    );
}

async fn expiry_worker_expires_trials_as_system(app: &TestApp) {
    let admin = app.admin().await;
    let id = app
        .create_license(&admin, "pro", json!({ "trialDays": 1 }))
        .await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = expiry::tick(app.store().as_ref(), Utc::now() + Duration::days(2))
        .await
        .unwrap();
    assert!(report.updated >= 1, "{report:?}");
    let stored = app
        .store()
        .get_license(&InstallId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, LicenseStatus::Expired);
    assert_eq!(stored.plan.as_str(), "pro", "the tier is kept");
    assert!(
        report.sessions_pruned >= 1,
        "two days on, the 12-hour session is pruned: {report:?}"
    );
    admin
        .get("/api/auth/me")
        .await
        .assert_error(401, "unauthenticated");
    let admin = app.admin().await;
    let history = admin
        .get(&format!(
            "/api/enterprise/audit?targetType=license&targetId={id}"
        ))
        .await;
    assert_eq!(
        history.body["audit"][0]["action"], "license.expire",
        "{}",
        history.body
    );
    assert_eq!(history.body["audit"][0]["actorLabel"], "system");
    let again = expiry::tick(app.store().as_ref(), Utc::now() + Duration::days(2))
        .await
        .unwrap();
    assert_eq!(again.updated, 0, "nothing is due twice");
}
