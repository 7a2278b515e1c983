//! Admin and API-token management over the API: passwords and token secrets
//! shown once, disabling takes effect at once, the last owner stays, owners
//! are managed only by owners, role-scoped tokens, refusals for bad input.

use reqwest::StatusCode;
use serde_json::{json, Value};

use calos_core::auth::Role;

use crate::helpers::{bearer_client, Api, TestApp};
use crate::roles::client_with_role;

crate::both_backends!(
    created_admin_gets_a_generated_password_once,
    disabled_admin_session_and_token_stop_at_once,
    last_owner_cannot_be_disabled_or_demoted,
    admins_cannot_create_or_change_owners,
    tokens_are_shown_once_prefixed_scoped_and_revocable,
    token_role_wider_than_the_creator_is_422,
    reset_password_replaces_the_old_one,
    bad_admin_input_is_refused,
    admin_changes_are_audited,
);

async fn login(app: &TestApp, username: &str, password: &str) -> Option<Api> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let resp = client
        .post(format!("{}/api/auth/login", app.base))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    if resp.status() != StatusCode::OK {
        return None;
    }
    let body: Value = resp.json().await.unwrap();
    Some(Api {
        client,
        base: app.base.clone(),
        csrf: body["csrfToken"].as_str().map(str::to_owned),
    })
}

async fn create(owner: &Api, username: &str, role: &str, password: Option<&str>) -> Value {
    let mut body = json!({ "username": username, "role": role });
    if let Some(p) = password {
        body["password"] = json!(p);
    }
    let r = owner.post("/api/enterprise/admins", &body).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    r.body
}

async fn owner_id(app: &TestApp) -> i64 {
    app.store()
        .get_admin_login("admin")
        .await
        .unwrap()
        .unwrap()
        .0
        .id
}

async fn created_admin_gets_a_generated_password_once(app: &TestApp) {
    let owner = app.admin().await;
    let made = create(&owner, "carol", "sales", None).await;
    assert_eq!(made["admin"]["role"], "sales");
    let password = made["password"].as_str().unwrap().to_owned();
    assert!(password.len() >= 20, "{made}");
    let carol = login(app, "carol", &password).await.expect("carol logs in");
    assert_eq!(
        carol.get("/api/auth/me").await.body["admin"]["role"],
        "sales"
    );
    let list = owner.get("/api/enterprise/admins").await;
    assert_eq!(list.status.as_u16(), 200);
    assert!(list.body["admins"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["username"] == "carol"));
    let (_, audit) = app.snapshot(&owner).await;
    for shown_once in [list.body.to_string(), audit.to_string()] {
        assert!(!shown_once.contains(&password));
    }
    // With a password given, none is echoed back.
    let chosen = create(&owner, "dora", "viewer", Some("dora's long password")).await;
    assert!(chosen.get("password").is_none(), "{chosen}");
}

async fn disabled_admin_session_and_token_stop_at_once(app: &TestApp) {
    let owner = app.admin().await;
    let made = create(&owner, "dave", "admin", Some("dave's long password")).await;
    let id = made["admin"]["id"].as_i64().unwrap();
    let dave = login(app, "dave", "dave's long password").await.unwrap();
    let t = dave
        .post("/api/enterprise/tokens", &json!({ "name": "dave-ci" }))
        .await;
    assert_eq!(t.status.as_u16(), 201, "{}", t.body);
    let dave_token = bearer_client(&app.base, t.body["secret"].as_str().unwrap());
    assert_eq!(dave.get("/api/enterprise/stats").await.status.as_u16(), 200);
    assert_eq!(
        dave_token
            .get("/api/enterprise/stats")
            .await
            .status
            .as_u16(),
        200
    );

    let off = owner
        .post_empty(&format!("/api/enterprise/admins/{id}/disable"))
        .await;
    assert_eq!(off.status.as_u16(), 200, "{}", off.body);
    assert_eq!(off.body["admin"]["disabled"], true);
    dave.get("/api/enterprise/stats")
        .await
        .assert_error(401, "unauthenticated");
    dave_token
        .get("/api/enterprise/stats")
        .await
        .assert_error(401, "unauthenticated");
    assert!(login(app, "dave", "dave's long password").await.is_none());
}

async fn last_owner_cannot_be_disabled_or_demoted(app: &TestApp) {
    let owner = app.admin().await;
    let id = owner_id(app).await;
    owner
        .post_empty(&format!("/api/enterprise/admins/{id}/disable"))
        .await
        .assert_error(409, "conflict");
    owner
        .post(
            &format!("/api/enterprise/admins/{id}/role"),
            &json!({ "role": "admin" }),
        )
        .await
        .assert_error(409, "conflict");
    assert_eq!(
        owner.get("/api/auth/me").await.body["admin"]["role"],
        "owner"
    );
    // With a second owner the first may step down.
    create(&owner, "erin", "owner", Some("erin's long password")).await;
    let down = owner
        .post(
            &format!("/api/enterprise/admins/{id}/role"),
            &json!({ "role": "admin" }),
        )
        .await;
    assert_eq!(down.status.as_u16(), 200, "{}", down.body);
}

async fn admins_cannot_create_or_change_owners(app: &TestApp) {
    let admin = client_with_role(app, Role::Admin).await;
    let id = owner_id(app).await;
    admin
        .post(
            "/api/enterprise/admins",
            &json!({ "username": "sneaky", "role": "owner" }),
        )
        .await
        .assert_error(403, "forbidden");
    admin
        .post_empty(&format!("/api/enterprise/admins/{id}/disable"))
        .await
        .assert_error(403, "forbidden");
    admin
        .post_empty(&format!("/api/enterprise/admins/{id}/reset-password"))
        .await
        .assert_error(403, "forbidden");
    let me = admin.get("/api/auth/me").await.body["admin"]["id"]
        .as_i64()
        .unwrap();
    admin
        .post(
            &format!("/api/enterprise/admins/{me}/role"),
            &json!({ "role": "owner" }),
        )
        .await
        .assert_error(403, "forbidden");
}

async fn tokens_are_shown_once_prefixed_scoped_and_revocable(app: &TestApp) {
    let owner = app.admin().await;
    let r = owner
        .post(
            "/api/enterprise/tokens",
            &json!({ "name": "reporting", "expiresDays": 30, "role": "viewer" }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("calos_at_"), "{secret}");
    assert_eq!(r.body["token"]["role"], "viewer");
    assert!(r.body["token"]["expiresAt"].is_string());
    let id = r.body["token"]["id"].as_i64().unwrap();
    let list = owner.get("/api/enterprise/tokens").await;
    assert_eq!(list.status.as_u16(), 200);
    assert!(
        !list.body.to_string().contains(&secret),
        "listed without secret"
    );

    let viewer = bearer_client(&app.base, &secret);
    assert_eq!(
        viewer.get("/api/enterprise/stats").await.status.as_u16(),
        200
    );
    // The owner's token capped to viewer cannot write.
    viewer
        .post(
            "/api/enterprise/create-license",
            &json!({ "customer": { "name": "X", "email": "x@example.com" }, "tier": "pro" }),
        )
        .await
        .assert_error(403, "forbidden");

    let rv = owner
        .post_empty(&format!("/api/enterprise/tokens/{id}/revoke"))
        .await;
    assert_eq!(rv.status.as_u16(), 200, "{}", rv.body);
    viewer
        .get("/api/enterprise/stats")
        .await
        .assert_error(401, "unauthenticated");
    owner
        .post_empty("/api/enterprise/tokens/999999/revoke")
        .await
        .assert_error(404, "not_found");
}

async fn token_role_wider_than_the_creator_is_422(app: &TestApp) {
    let admin = client_with_role(app, Role::Admin).await;
    admin
        .post(
            "/api/enterprise/tokens",
            &json!({ "name": "too-wide", "role": "owner" }),
        )
        .await
        .assert_error(422, "invalid_field");
    admin
        .post(
            "/api/enterprise/tokens",
            &json!({ "name": "forever", "expiresDays": 0 }),
        )
        .await
        .assert_error(422, "invalid_field");
}

async fn reset_password_replaces_the_old_one(app: &TestApp) {
    let owner = app.admin().await;
    let made = create(&owner, "fred", "support", Some("fred's old password")).await;
    let id = made["admin"]["id"].as_i64().unwrap();
    let r = owner
        .post_empty(&format!("/api/enterprise/admins/{id}/reset-password"))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let new_password = r.body["password"].as_str().unwrap();
    assert!(login(app, "fred", "fred's old password").await.is_none());
    assert!(login(app, "fred", new_password).await.is_some());
}

async fn bad_admin_input_is_refused(app: &TestApp) {
    let owner = app.admin().await;
    let before = app.snapshot(&owner).await;
    for (body, code) in [
        (json!({ "username": "x", "role": "root" }), "invalid_field"),
        (
            json!({ "username": "bad name!", "role": "viewer" }),
            "invalid_field",
        ),
        (
            json!({ "username": "' OR 1=1 --", "role": "viewer" }),
            "invalid_field",
        ),
        (
            json!({ "username": "shorty", "role": "viewer", "password": "short" }),
            "invalid_field",
        ),
        (
            json!({ "username": "x", "role": "viewer", "email": "not-an-email" }),
            "invalid_field",
        ),
        (
            json!({ "username": "x", "role": "viewer", "extra": 1 }),
            "invalid_body",
        ),
    ] {
        owner
            .post("/api/enterprise/admins", &body)
            .await
            .assert_error(422, code);
    }
    owner
        .post(
            "/api/enterprise/admins",
            &json!({ "username": "admin", "role": "viewer" }),
        )
        .await
        .assert_error(409, "conflict");
    owner
        .post_empty("/api/enterprise/admins/999999/disable")
        .await
        .assert_error(404, "not_found");
    owner
        .post_empty("/api/enterprise/admins/1%20OR%201=1/disable")
        .await
        .assert_error(422, "invalid_field");
    assert_eq!(
        app.snapshot(&owner).await,
        before,
        "refusals change nothing"
    );
}

async fn admin_changes_are_audited(app: &TestApp) {
    let owner = app.admin().await;
    let made = create(&owner, "gina", "viewer", Some("gina's long password")).await;
    let id = made["admin"]["id"].as_i64().unwrap();
    owner
        .post(
            &format!("/api/enterprise/admins/{id}/role"),
            &json!({ "role": "support" }),
        )
        .await;
    owner
        .post_empty(&format!("/api/enterprise/admins/{id}/disable"))
        .await;
    let audit = owner
        .get(&format!(
            "/api/enterprise/audit?targetType=admin&targetId={id}"
        ))
        .await;
    let records = audit.body["audit"].as_array().unwrap();
    let actions: Vec<_> = records.iter().map(|r| r["action"].as_str()).collect();
    assert_eq!(
        actions,
        [Some("admin.disable"), Some("admin.role")],
        "{}",
        audit.body
    );
    assert_eq!(records[1]["before"]["role"], "viewer");
    assert_eq!(records[1]["after"]["role"], "support");
    assert_eq!(records[0]["actor"]["username"], "admin");
    assert!(records[0]["ip"].is_string());
}
