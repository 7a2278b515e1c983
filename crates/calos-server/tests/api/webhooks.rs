//! Webhook endpoints: management and its refusals (private addresses
//! without `allowPrivate`, bad URLs and events, roles), signed deliveries
//! verified by a real receiver, and a failing endpoint retried with growing
//! delays, then switched off with an alert.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{json, Value};

use calos_core::auth::Role;

use crate::helpers::{Api, TestApp};
use crate::notify_support::{delete, deliveries, eventually, fast, signature_ok, Receiver};

fn configure(config: &mut calos_server::config::Config) {
    fast(config);
    config.notify.webhook_disable_after = 3;
}

async fn add(admin: &Api, url: &str, extra: Value) -> (i64, String) {
    let mut body = json!({"url": url, "allowPrivate": true});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = admin.post("/api/enterprise/webhooks", &body).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    (
        r.body["webhook"]["id"].as_i64().unwrap(),
        r.body["secret"].as_str().unwrap().to_owned(),
    )
}

/// Private, loopback, link-local and unspecified destinations are refused
/// unless allowed; bad URLs, events and fields are refused; owners and
/// admins only; list, show, replace (with secret rotation) and delete.
async fn endpoints_are_managed_and_private_addresses_refused(app: &TestApp) {
    let admin = app.admin().await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/hook",
    ] {
        let r = admin
            .post("/api/enterprise/webhooks", &json!({"url": url}))
            .await;
        r.assert_error(422, "invalid_field");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("private"),
            "{url}: {}",
            r.body
        );
    }
    for (body, code) in [
        (json!({"url": "ftp://example.com/x"}), "invalid_field"),
        (json!({"url": "not a url"}), "invalid_field"),
        (json!({"url": "https://u:p@example.com/x"}), "invalid_field"),
        (
            json!({"url": "http://127.0.0.1/x", "allowPrivate": true, "events": ["nope"]}),
            "invalid_field",
        ),
        (
            json!({"url": "http://127.0.0.1/x", "allowPrivate": true, "events": ["webhook.disabled"]}),
            "invalid_field",
        ),
        (
            json!({"url": "http://127.0.0.1/x", "allowPrivate": true, "description": "a\u{7}b"}),
            "invalid_field",
        ),
        (
            json!({"url": "http://127.0.0.1/x", "allowPrivate": true, "rotateSecret": true}),
            "invalid_field",
        ),
        (
            json!({"url": "http://127.0.0.1/x", "surprise": 1}),
            "invalid_body",
        ),
        (json!({}), "invalid_body"),
    ] {
        admin
            .post("/api/enterprise/webhooks", &body)
            .await
            .assert_error(422, code);
    }
    assert!(admin.get("/api/enterprise/webhooks").await.body["webhooks"]
        .as_array()
        .unwrap()
        .is_empty());

    let (id, secret) = add(
        &admin,
        "http://127.0.0.1:9/hook",
        json!({"events": ["license.revoked"], "description": "ops"}),
    )
    .await;
    assert!(secret.starts_with("whsec_") && secret.len() > 40);
    let list = admin.get("/api/enterprise/webhooks").await;
    assert_eq!(
        list.body["webhooks"][0]["events"],
        json!(["license.revoked"])
    );
    assert!(
        !list.body.to_string().contains(&secret),
        "the secret is shown once"
    );
    let shown = admin.get(&format!("/api/enterprise/webhooks/{id}")).await;
    assert_eq!(shown.body["webhook"]["allowPrivate"], true);
    assert_eq!(shown.body["deliveries"]["total"], 0);

    let r = admin
        .put(
            &format!("/api/enterprise/webhooks/{id}"),
            &json!({"url": "http://127.0.0.1:9/other", "allowPrivate": true, "enabled": false}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.body["webhook"]["enabled"], false);
    assert!(r.body.get("secret").is_none());
    let rotated = admin
        .put(
            &format!("/api/enterprise/webhooks/{id}"),
            &json!({"url": "http://127.0.0.1:9/other", "allowPrivate": true, "rotateSecret": true}),
        )
        .await;
    let new_secret = rotated.body["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    admin
        .put(
            &format!("/api/enterprise/webhooks/{id}"),
            &json!({"url": "http://127.0.0.1:9/other"}),
        )
        .await
        .assert_error(422, "invalid_field");
    admin
        .put(
            "/api/enterprise/webhooks/999999",
            &json!({"url": "http://127.0.0.1:9/x", "allowPrivate": true}),
        )
        .await
        .assert_error(404, "not_found");
    admin
        .get("/api/enterprise/webhooks/999999")
        .await
        .assert_error(404, "not_found");
    admin
        .get("/api/enterprise/webhooks/zero")
        .await
        .assert_error(422, "invalid_field");

    let sales = crate::roles::client_with_role(app, Role::Sales).await;
    sales
        .get("/api/enterprise/webhooks")
        .await
        .assert_error(403, "forbidden");
    sales
        .post(
            "/api/enterprise/webhooks",
            &json!({"url": "https://example.com/x"}),
        )
        .await
        .assert_error(403, "forbidden");

    assert_eq!(
        delete(&admin, &format!("/api/enterprise/webhooks/{id}"))
            .await
            .0,
        200
    );
    assert_eq!(
        delete(&admin, &format!("/api/enterprise/webhooks/{id}"))
            .await
            .0,
        404
    );
    let audit = admin
        .get("/api/enterprise/audit?limit=20")
        .await
        .body
        .to_string();
    for action in ["webhook.create", "webhook.update", "webhook.delete"] {
        assert!(audit.contains(action), "{action}");
    }
    assert!(
        !audit.contains(&secret) && !audit.contains(new_secret),
        "no secret in the audit log"
    );
}

/// A license change reaches the receiver as signed JSON with its delivery
/// id and event headers; a filtered endpoint gets only its events.
async fn signed_events_reach_the_receiver(app: &TestApp) {
    let admin = app.admin().await;
    let all = Receiver::start().await;
    let revoked_only = Receiver::start().await;
    let (_, secret) = add(&admin, &all.url, json!({})).await;
    add(
        &admin,
        &revoked_only.url,
        json!({"events": ["license.revoked"]}),
    )
    .await;

    let created = app.create_license(&admin, "pro", json!({})).await;
    let id = created["installId"].as_str().unwrap();
    let got = eventually(
        "license.created at the receiver",
        Duration::from_secs(30),
        || async {
            all.received()
                .into_iter()
                .find(|r| r.header("x-calos-event") == "license.created")
        },
    )
    .await;
    let sig = got.header("x-calos-signature");
    assert!(
        signature_ok(&secret, &sig, &got.body),
        "signature {sig} verifies"
    );
    assert!(!signature_ok("whsec_wrong", &sig, &got.body));
    let body = got.json();
    assert_eq!(body["type"], "license.created");
    assert_eq!(body["data"]["installId"], id);
    assert_eq!(body["data"]["plan"], "pro");
    assert!(body["id"].as_str().unwrap().starts_with("ntf_"));
    assert!(got.header("x-calos-delivery").parse::<i64>().is_ok());
    assert_eq!(got.header("content-type"), "application/json");

    admin
        .post("/api/enterprise/revoke-license", &json!({"installId": id}))
        .await;
    let revoke = eventually(
        "license.revoked at the filtered receiver",
        Duration::from_secs(30),
        || async { revoked_only.received().into_iter().next() },
    )
    .await;
    assert_eq!(revoke.json()["type"], "license.revoked");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        revoked_only.received().len(),
        1,
        "the filtered endpoint got only its event"
    );
    let sent = eventually(
        "webhook deliveries sent",
        Duration::from_secs(30),
        || async {
            let list = deliveries(&admin, "channel=webhook").await;
            (list.len() == 3 && list.iter().all(|d| d["status"] == "sent")).then_some(list)
        },
    )
    .await;
    assert_eq!(sent[0]["attempts"], 1);
}

/// A failing endpoint is retried after growing delays (1 s, 2 s …), each
/// failure logged; after 3 failures in a row it is switched off, the vendor
/// gets an alert, and what it still had pending is skipped.
async fn failing_endpoint_backs_off_then_is_switched_off(app: &TestApp) {
    let admin = app.admin().await;
    let rx = Receiver::start().await;
    rx.status.store(500, Ordering::SeqCst);
    let (hook_id, _) = add(&admin, &rx.url, json!({})).await;
    app.create_license(&admin, "pro", json!({})).await;

    let first = eventually(
        "a failed attempt logged",
        Duration::from_secs(30),
        || async {
            deliveries(&admin, "channel=webhook")
                .await
                .into_iter()
                .find(|d| d["attempts"] == 1 && d["status"] == "pending")
        },
    )
    .await;
    assert!(
        first["lastError"].as_str().unwrap().starts_with("HTTP 500"),
        "{first}"
    );
    assert!(first["nextAttemptAt"].as_str().is_some());

    eventually("three attempts", Duration::from_secs(30), || async {
        (rx.received().len() >= 3).then_some(())
    })
    .await;
    let times: Vec<_> = rx.received().iter().map(|r| r.at).collect();
    let gap1 = times[1] - times[0];
    let gap2 = times[2] - times[1];
    assert!(
        gap1 >= Duration::from_millis(900),
        "first retry after ≥ 1 s: {gap1:?}"
    );
    assert!(
        gap2 >= Duration::from_millis(1900),
        "second retry after ≥ 2 s: {gap2:?}"
    );

    let hook = eventually(
        "the endpoint switched off",
        Duration::from_secs(30),
        || async {
            let h = admin
                .get(&format!("/api/enterprise/webhooks/{hook_id}"))
                .await
                .body;
            (h["webhook"]["enabled"] == false).then_some(h)
        },
    )
    .await;
    assert_eq!(hook["webhook"]["consecutiveFailures"], 3);
    assert!(hook["webhook"]["disabledReason"]
        .as_str()
        .unwrap()
        .contains("3 failed attempts"));
    assert!(
        hook["deliveries"]["total"].as_u64().unwrap() >= 1,
        "the endpoint's delivery log"
    );
    let alert = eventually("the alert", Duration::from_secs(30), || async {
        deliveries(&admin, "channel=email")
            .await
            .into_iter()
            .find(|d| d["notification"]["event"] == "webhook.disabled")
    })
    .await;
    assert_eq!(alert["notification"]["data"]["url"], rx.url.as_str());

    eventually(
        "what was pending skipped",
        Duration::from_secs(30),
        || async {
            deliveries(&admin, "channel=webhook")
                .await
                .into_iter()
                .find(|d| d["status"] == "skipped")
        },
    )
    .await;

    // Redirects are not followed: a 3xx is a failure.
    rx.status.store(302, Ordering::SeqCst);
    let r = admin
        .put(
            &format!("/api/enterprise/webhooks/{hook_id}"),
            &json!({"url": rx.url, "allowPrivate": true}),
        )
        .await;
    assert_eq!(r.body["webhook"]["enabled"], true);
    let d = deliveries(&admin, "channel=webhook").await[0]["id"]
        .as_i64()
        .unwrap();
    admin
        .post_empty(&format!("/api/enterprise/notifications/{d}/resend"))
        .await;
    let redirected = eventually("the redirect logged", Duration::from_secs(30), || async {
        deliveries(&admin, "channel=webhook")
            .await
            .into_iter()
            .find(|x| {
                x["id"] == d
                    && x["lastError"]
                        .as_str()
                        .is_some_and(|e| e.starts_with("HTTP 302"))
            })
    })
    .await;
    assert_eq!(redirected["attempts"], 1);
}

crate::both_backends_configured!(configure;
    endpoints_are_managed_and_private_addresses_refused,
    signed_events_reach_the_receiver,
    failing_endpoint_backs_off_then_is_switched_off,
);
