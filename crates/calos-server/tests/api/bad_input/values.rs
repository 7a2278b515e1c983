//! Well-formed requests with values the rules refuse: unknown tiers and ids,
//! out-of-range trial days, duplicates; and hostile text stored intact.

use serde_json::json;

use super::{rejected, seeded, valid_body, CREATE};
use crate::helpers::TestApp;

crate::both_backends!(
    unknown_tier_is_422,
    negative_trial_days_is_422,
    absurd_trial_days_is_422,
    unknown_install_id_is_404_everywhere,
    malformed_install_id_is_404,
    revoking_twice_is_idempotent,
    duplicate_customer_email_is_409,
    sql_metacharacters_and_unicode_are_stored_intact,
    unknown_user_id_is_404,
);

async fn unknown_tier_is_422(app: &TestApp) {
    let admin = seeded(app).await;
    for tier in ["platinum", "PRO", "'; DROP TABLE plans;--", ""] {
        let mut body = valid_body();
        body["tier"] = json!(tier);
        rejected(app, &admin, 422, "unknown_tier", admin.post(CREATE, &body)).await;
    }
    let id = app.create_license(&admin, "community", json!({})).await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/enterprise/customer/{id}/update-tier");
    rejected(
        app,
        &admin,
        422,
        "unknown_tier",
        admin.post(&path, &json!({ "newTier": "gold" })),
    )
    .await;
}

async fn negative_trial_days_is_422(app: &TestApp) {
    let admin = seeded(app).await;
    let mut body = valid_body();
    body["trialDays"] = json!(-1);
    let r = rejected(app, &admin, 422, "invalid_field", admin.post(CREATE, &body)).await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("trialDays"),
        "{}",
        r.body
    );
}

async fn absurd_trial_days_is_422(app: &TestApp) {
    let admin = seeded(app).await;
    for days in [json!(366), json!(100_000_000), json!(i64::MAX)] {
        let mut body = valid_body();
        body["trialDays"] = days;
        rejected(app, &admin, 422, "invalid_field", admin.post(CREATE, &body)).await;
    }
    let mut body = valid_body();
    body["trialDays"] = json!(1e40);
    rejected(app, &admin, 422, "invalid_body", admin.post(CREATE, &body)).await;
    let id = app
        .create_license(&admin, "pro", json!({ "trialDays": 14 }))
        .await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/enterprise/customer/{id}/extend-trial");
    for days in [0, -3, 10_000] {
        rejected(
            app,
            &admin,
            422,
            "invalid_field",
            admin.post(&path, &json!({ "days": days })),
        )
        .await;
    }
}

async fn unknown_install_id_is_404_everywhere(app: &TestApp) {
    let admin = seeded(app).await;
    let id = "0123456789abcdef0123456789abcdef";
    let base = format!("/api/enterprise/customer/{id}");
    rejected(
        app,
        &admin,
        404,
        "not_found",
        admin.get(&format!("{base}/profile")),
    )
    .await;
    rejected(
        app,
        &admin,
        404,
        "not_found",
        admin.post(&format!("{base}/update-tier"), &json!({ "newTier": "pro" })),
    )
    .await;
    rejected(
        app,
        &admin,
        404,
        "not_found",
        admin.post_empty(&format!("{base}/suspend")),
    )
    .await;
    rejected(
        app,
        &admin,
        404,
        "not_found",
        admin.post_empty(&format!("{base}/reactivate")),
    )
    .await;
    rejected(
        app,
        &admin,
        404,
        "not_found",
        admin.post(&format!("{base}/extend-trial"), &json!({ "days": 7 })),
    )
    .await;
    rejected(
        app,
        &admin,
        404,
        "not_found",
        admin.patch(&base, &json!({ "notes": "x" })),
    )
    .await;
    rejected(
        app,
        &admin,
        404,
        "not_found",
        admin.post(
            "/api/enterprise/revoke-license",
            &json!({ "installId": id, "reason": "test" }),
        ),
    )
    .await;
}

async fn malformed_install_id_is_404(app: &TestApp) {
    let admin = seeded(app).await;
    rejected(
        app,
        &admin,
        404,
        "not_found",
        admin.get("/api/enterprise/customer/x'%20OR%201=1--/profile"),
    )
    .await;
    rejected(
        app,
        &admin,
        404,
        "not_found",
        admin.post(
            "/api/enterprise/revoke-license",
            &json!({ "installId": "nope" }),
        ),
    )
    .await;
}

async fn revoking_twice_is_idempotent(app: &TestApp) {
    let admin = app.admin().await;
    let id = app.create_license(&admin, "pro", json!({})).await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = admin
        .post(
            "/api/enterprise/revoke-license",
            &json!({ "installId": id, "reason": "unpaid" }),
        )
        .await;
    assert_eq!(first.status.as_u16(), 200, "{}", first.body);
    assert_eq!(
        (
            first.body["status"].as_str(),
            first.body["changed"].as_bool()
        ),
        (Some("revoked"), Some(true))
    );
    let before = app.snapshot(&admin).await;
    let second = admin
        .post(
            "/api/enterprise/revoke-license",
            &json!({ "installId": id, "reason": "again" }),
        )
        .await;
    assert_eq!(second.status.as_u16(), 200, "{}", second.body);
    assert_eq!(
        (
            second.body["status"].as_str(),
            second.body["changed"].as_bool()
        ),
        (Some("revoked"), Some(false))
    );
    assert_eq!(
        app.snapshot(&admin).await,
        before,
        "a repeated revoke must not write (no audit spam)"
    );
}

async fn duplicate_customer_email_is_409(app: &TestApp) {
    let admin = app.admin().await;
    let first = admin.post(CREATE, &valid_body()).await;
    assert_eq!(first.status.as_u16(), 201, "{}", first.body);
    let mut again = valid_body();
    again["customer"]["email"] = json!("OPS@Acme.Example");
    again["customer"]["name"] = json!("Someone Else");
    let r = rejected(app, &admin, 409, "conflict", admin.post(CREATE, &again)).await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("email"),
        "{}",
        r.body
    );
}

async fn sql_metacharacters_and_unicode_are_stored_intact(app: &TestApp) {
    let admin = app.admin().await;
    let name = "Zoë O'Brien\"; DROP TABLE customers;-- 株式会社 🚀 <b>";
    let company = "Robert'); DELETE FROM licenses WHERE ('1'='1 — Ünïcødé";
    let notes = "line 1: 100% \\ _wild_ %\nline 2: ' OR 1=1 -- 日本語\ttab";
    let body = json!({
        "customer": { "name": name, "email": "o'brien+tag@example.com", "company": company },
        "tier": "enterprise",
        "notes": notes,
        "domains": ["app.example.com"],
    });
    let created = admin.post(CREATE, &body).await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    let id = created.body["installId"].as_str().unwrap();
    let profile = admin
        .get(&format!("/api/enterprise/customer/{id}/profile"))
        .await;
    let p = &profile.body["profile"];
    assert_eq!(p["customer"]["name"], name);
    assert_eq!(p["customer"]["company"], company);
    assert_eq!(p["customer"]["email"], "o'brien+tag@example.com");
    assert_eq!(p["license"]["notes"], notes);
    // Search with metacharacters finds it and nothing else.
    let list = admin
        .get("/api/enterprise/customers?q=O%27Brien%22%3B%20DROP")
        .await;
    assert_eq!(list.body["total"], 1, "{}", list.body);
    assert_eq!(list.body["customers"][0]["customer"]["name"], name);
    let none = admin.get("/api/enterprise/customers?q=%25").await;
    assert_eq!(
        none.body["total"], 0,
        "'%' is a literal, not a wildcard: {}",
        none.body
    );
    // Notes edited to more metacharacters round-trip too.
    let edited = "'; UPDATE licenses SET status='active';-- ✓";
    let patched = admin
        .patch(
            &format!("/api/enterprise/customer/{id}"),
            &json!({ "notes": edited }),
        )
        .await;
    assert_eq!(patched.status.as_u16(), 200, "{}", patched.body);
    assert_eq!(patched.body["license"]["notes"], edited);
}

async fn unknown_user_id_is_404(app: &TestApp) {
    let admin = seeded(app).await;
    rejected(
        app,
        &admin,
        404,
        "not_found",
        admin.post(CREATE, &json!({ "userId": 999_999, "tier": "pro" })),
    )
    .await;
}
