//! `POST /api/v1/license/verify`: one test per verdict code, each answer
//! checked against the served JWKS with `jsonwebtoken`.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::json;

use calos_core::license::LicenseStatus;
use calos_core::verdict::VerdictCode;

use crate::helpers::TestApp;
use crate::verify_support::{new_install, request, set_license, verify_ok};

crate::both_backends!(
    active_license_is_valid_and_signed,
    trial_license_is_trial,
    ended_trial_is_trial_expired,
    ended_contract_is_valid_in_grace_then_expired,
    suspended_license_is_suspended,
    revoked_license_is_revoked_on_the_next_verify,
    wrong_key_and_unknown_install_look_the_same,
    other_domain_is_not_allowed,
    too_many_instances_blocks_free_plans,
    too_many_instances_only_warns_paid_plans,
    verify_writes_instances_and_domains_in_batches,
);

async fn active_license_is_valid_and_signed(app: &TestApp) {
    let i = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    let body = request(&i, "node-1", Some("shop.acme.com"));
    let c = verify_ok(&app.base, &body).await;
    assert_eq!(c.code, VerdictCode::Valid);
    assert!(c.valid);
    assert_eq!((c.tier.as_str(), c.tier_name.as_str()), ("pro", "Pro"));
    assert_eq!(c.install_id, i.install_id);
    assert_eq!(c.instance_id, "node-1");
    assert_eq!(c.iss, "calos");
    assert!(c.features.contains(&"whiteLabel".to_owned()));
    assert_eq!(c.verification_interval, 168);
    let now = Utc::now().timestamp();
    assert!((c.iat - now).abs() < 60);
    assert!(c.exp >= now + 167 * 3600, "a week's offline lease");
    assert!(
        c.grace_until > c.exp,
        "grace runs after the lease, on its own clock"
    );
    assert!(c.refresh_after < c.exp && c.refresh_after > now);
    assert!(c.period_end.is_some());
}

async fn trial_license_is_trial(app: &TestApp) {
    let i = new_install(app, "pro", json!({ "trialDays": 14 })).await;
    let c = verify_ok(&app.base, &request(&i, "n", None)).await;
    assert_eq!(c.code, VerdictCode::Trial);
    assert!(c.valid);
    assert!(c.exp <= (Utc::now() + Duration::days(14)).timestamp() + 5);
}

async fn ended_trial_is_trial_expired(app: &TestApp) {
    let i = new_install(app, "pro", json!({ "trialDays": 14 })).await;
    // The stored license still says "trial": verify advances it in time itself.
    set_license(app, &i.install_id, |l| {
        l.trial_ends_at = Some(Utc::now() - Duration::hours(1));
    })
    .await;
    let c = verify_ok(&app.base, &request(&i, "n", None)).await;
    assert_eq!(c.code, VerdictCode::TrialExpired);
    assert!(!c.valid);
    assert!(c.features.is_empty());
    assert!(c.exp <= Utc::now().timestamp() + 1, "nothing leased");
}

async fn ended_contract_is_valid_in_grace_then_expired(app: &TestApp) {
    let i = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    set_license(app, &i.install_id, |l| {
        l.ends_at = Some(Utc::now() - Duration::days(1));
    })
    .await;
    let c = verify_ok(&app.base, &request(&i, "n", None)).await;
    assert_eq!(c.code, VerdictCode::ValidInGrace);
    assert!(c.valid);
    assert!(c.warning.is_some());
    assert!(c.exp <= (Utc::now() + Duration::days(6)).timestamp() + 5);

    set_license(app, &i.install_id, |l| {
        l.ends_at = Some(Utc::now() - Duration::days(30));
    })
    .await;
    let c = verify_ok(&app.base, &request(&i, "n", None)).await;
    assert_eq!(c.code, VerdictCode::Expired);
    assert!(!c.valid);
}

async fn suspended_license_is_suspended(app: &TestApp) {
    let i = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    assert!(verify_ok(&app.base, &request(&i, "n", None)).await.valid);
    let admin = app.admin().await;
    let r = admin
        .post(
            &format!("/api/enterprise/customer/{}/suspend", i.install_id),
            &json!({ "reason": "unpaid" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let c = verify_ok(&app.base, &request(&i, "n", None)).await;
    assert_eq!(c.code, VerdictCode::Suspended);
    assert!(!c.valid);
}

async fn revoked_license_is_revoked_on_the_next_verify(app: &TestApp) {
    let i = new_install(app, "enterprise", json!({ "trialDays": 0 })).await;
    // Warm the cache first: the seed took up to 30 days to notice a revoke.
    assert!(verify_ok(&app.base, &request(&i, "n", None)).await.valid);
    let admin = app.admin().await;
    let r = admin
        .post(
            "/api/enterprise/revoke-license",
            &json!({ "installId": i.install_id, "reason": "fraud" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let c = verify_ok(&app.base, &request(&i, "n", None)).await;
    assert_eq!(c.code, VerdictCode::Revoked);
    assert!(!c.valid);
    assert!(c.features.is_empty());
}

async fn wrong_key_and_unknown_install_look_the_same(app: &TestApp) {
    let i = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    let mut wrong_key = request(&i, "n", None);
    wrong_key["licenseKey"] = json!(format!("calos_lk_{}", "0".repeat(64)));
    let mut unknown = request(&i, "n", None);
    unknown["installId"] = json!("no-such-install-0000");
    let mut garbage_key = request(&i, "n", None);
    garbage_key["licenseKey"] = json!("hunter2");
    let mut answers = Vec::new();
    for body in [&wrong_key, &unknown, &garbage_key] {
        let c = verify_ok(&app.base, body).await;
        assert_eq!(c.code, VerdictCode::BadLicenseKey);
        assert!(!c.valid);
        assert_eq!(c.tier, "none");
        answers.push((
            c.code,
            c.message,
            c.tier,
            c.features,
            c.limits,
            c.allowed_domains,
        ));
    }
    assert_eq!(answers[0], answers[1], "same outward code and message");
    assert_eq!(answers[0], answers[2]);
}

async fn other_domain_is_not_allowed(app: &TestApp) {
    let i = new_install(
        app,
        "enterprise",
        json!({ "trialDays": 0, "domains": ["*.acme.com"] }),
    )
    .await;
    let ok = verify_ok(&app.base, &request(&i, "n", Some("shop.acme.com"))).await;
    assert_eq!(ok.code, VerdictCode::Valid);
    assert_eq!(ok.allowed_domains, vec!["*.acme.com".to_owned()]);
    for other in [Some("evil.com"), Some("localhost"), Some("127.0.0.1"), None] {
        let c = verify_ok(&app.base, &request(&i, "n", other)).await;
        assert_eq!(c.code, VerdictCode::DomainNotAllowed, "{other:?}");
        assert!(!c.valid);
    }
}

/// Gives `tier` a seats (instances) limit of 2 through the admin API.
async fn limit_instances(app: &TestApp, tier: &str) {
    let admin = app.admin().await;
    let plans = admin.get("/api/enterprise/plans").await;
    let mut plan = plans.body["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slug"] == tier)
        .unwrap()
        .clone();
    let obj = plan.as_object_mut().unwrap();
    obj.remove("entitledFeatures");
    plan["limits"]["seats"] = json!(2);
    let r = admin
        .put(&format!("/api/enterprise/plans/{tier}"), &plan)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn too_many_instances_blocks_free_plans(app: &TestApp) {
    limit_instances(app, "community").await;
    let i = new_install(app, "community", json!({ "trialDays": 0 })).await;
    for node in ["a", "b"] {
        assert_eq!(
            verify_ok(&app.base, &request(&i, node, None)).await.code,
            VerdictCode::Valid
        );
    }
    let c = verify_ok(&app.base, &request(&i, "c", None)).await;
    assert_eq!(c.code, VerdictCode::TooManyInstances);
    assert!(!c.valid);
    // The instances already running keep working.
    assert_eq!(
        verify_ok(&app.base, &request(&i, "a", None)).await.code,
        VerdictCode::TooManyInstances
    );
}

async fn too_many_instances_only_warns_paid_plans(app: &TestApp) {
    limit_instances(app, "pro").await;
    let i = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    for node in ["a", "b"] {
        assert!(verify_ok(&app.base, &request(&i, node, None))
            .await
            .warning
            .is_none());
    }
    let c = verify_ok(&app.base, &request(&i, "c", None)).await;
    assert_eq!(c.code, VerdictCode::Valid);
    assert!(c.valid);
    assert!(c.warning.unwrap().contains("3 instances"));
}

async fn verify_writes_instances_and_domains_in_batches(app: &TestApp) {
    let i = new_install(app, "enterprise", json!({ "trialDays": 0 })).await;
    for (node, domain) in [
        ("a", "one.example.com"),
        ("b", "two.example.com"),
        ("a", "one.example.com"),
        // Written in its normal form, though the license limits no domains.
        ("c", "Three.Example.COM."),
    ] {
        verify_ok(&app.base, &request(&i, node, Some(domain))).await;
    }
    let id = calos_core::ids::InstallId::parse(&i.install_id).unwrap();
    let store = app.store();
    // Nothing is written per request; the flush writes the batch.
    app.state
        .licensing
        .writes
        .flush(store.as_ref())
        .await
        .unwrap();
    let instances = store.list_instances(&id).await.unwrap();
    assert_eq!(instances.len(), 3);
    let third = instances.iter().find(|i| i.instance_id == "c");
    assert_eq!(
        third.and_then(|i| i.domain.as_deref()),
        Some("three.example.com")
    );
    assert_eq!(instances[0].version.as_deref(), Some("1.2.3"));
    assert_eq!(instances[0].ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        store
            .count_domains_seen(&id, Utc::now() - Duration::hours(1))
            .await
            .unwrap(),
        3
    );
    let license = store.get_license(&id).await.unwrap().unwrap();
    assert!(license.last_seen_at.is_some());
    assert_eq!(license.status, LicenseStatus::Active);
}
