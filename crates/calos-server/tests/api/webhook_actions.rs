//! Webhook actions an admin takes by hand: "send test event" (a signed
//! `webhook.test` sent at once to a real receiver that checks the
//! signature, with the outcome in the answer and nothing written to the
//! outbox or the endpoint's failure count), and manual redelivery of a
//! delivery that was already sent (it arrives again, signed, under the same
//! `X-Calos-Delivery` idempotency key).

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;

use calos_core::auth::Role;

use crate::helpers::{Api, TestApp};
use crate::notify_support::{deliveries, eventually, fast, signature_ok, Receiver};

fn configure(config: &mut calos_server::config::Config) {
    fast(config);
}

async fn add(admin: &Api, url: &str) -> (i64, String) {
    let r = admin
        .post(
            "/api/enterprise/webhooks",
            &json!({"url": url, "allowPrivate": true}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    (
        r.body["webhook"]["id"].as_i64().unwrap(),
        r.body["secret"].as_str().unwrap().to_owned(),
    )
}

async fn test_event_is_signed_and_reported(app: &TestApp) {
    let admin = app.admin().await;
    let rx = Receiver::start().await;
    let (id, secret) = add(&admin, &rx.url).await;

    let r = admin
        .post_empty(&format!("/api/enterprise/webhooks/{id}/test"))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.body["test"]["delivered"], true, "{}", r.body);
    assert_eq!(r.body["test"]["status"], 200);
    let got = rx.received();
    assert_eq!(got.len(), 1, "sent once, before the answer");
    let hit = &got[0];
    let sig = hit.header("x-calos-signature");
    assert!(
        signature_ok(&secret, &sig, &hit.body),
        "signature {sig} verifies"
    );
    assert!(!signature_ok("whsec_other", &sig, &hit.body));
    assert_eq!(hit.header("x-calos-event"), "webhook.test");
    let key = hit.header("x-calos-delivery");
    assert!(key.starts_with("test_"), "{key}");
    assert_eq!(r.body["test"]["id"], key.as_str());
    let body = hit.json();
    assert_eq!(body["type"], "webhook.test");
    assert_eq!(body["id"], key.as_str());
    assert_eq!(body["data"]["endpointId"], id);
    assert_eq!(body["data"]["requestedBy"], "admin");

    // A failing receiver: reported, not retried, not counted, not logged.
    rx.status.store(500, Ordering::SeqCst);
    let r = admin
        .post_empty(&format!("/api/enterprise/webhooks/{id}/test"))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.body["test"]["delivered"], false);
    assert!(
        r.body["test"]["error"]
            .as_str()
            .unwrap()
            .starts_with("HTTP 500"),
        "{}",
        r.body
    );
    let hook = admin.get(&format!("/api/enterprise/webhooks/{id}")).await;
    assert_eq!(hook.body["webhook"]["consecutiveFailures"], 0);
    assert_eq!(hook.body["webhook"]["enabled"], true);
    assert!(deliveries(&admin, "channel=webhook").await.is_empty());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rx.received().len(), 2, "a failed test is not retried");

    // Bad ids, unknown endpoints and roles.
    admin
        .post_empty("/api/enterprise/webhooks/987654/test")
        .await
        .assert_error(404, "not_found");
    admin
        .post_empty("/api/enterprise/webhooks/abc/test")
        .await
        .assert_error(422, "invalid_field");
    let sales = crate::roles::client_with_role(app, Role::Sales).await;
    sales
        .post_empty(&format!("/api/enterprise/webhooks/{id}/test"))
        .await
        .assert_error(403, "forbidden");
    app.anon()
        .post_empty(&format!("/api/enterprise/webhooks/{id}/test"))
        .await
        .assert_error(401, "unauthenticated");

    // The dashboard has the button.
    let page = admin
        .client
        .get(format!("{}/admin/notifications", admin.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("data-hook-test=\"{id}\"")) && html.contains("Send test event"),
        "{html}"
    );
}

async fn sent_delivery_is_redelivered_by_hand(app: &TestApp) {
    let admin = app.admin().await;
    let rx = Receiver::start().await;
    let (_, secret) = add(&admin, &rx.url).await;
    app.create_license(&admin, "pro", json!({})).await;
    let sent = eventually(
        "the webhook delivery sent",
        Duration::from_secs(30),
        || async {
            deliveries(&admin, "channel=webhook")
                .await
                .into_iter()
                .find(|d| d["status"] == "sent")
        },
    )
    .await;
    assert_eq!(rx.received().len(), 1);
    let did = sent["id"].as_i64().unwrap();

    let r = admin
        .post_empty(&format!("/api/enterprise/notifications/{did}/resend"))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let again = eventually("the redelivery", Duration::from_secs(30), || async {
        let got = rx.received();
        (got.len() == 2).then(|| got[1].clone())
    })
    .await;
    let first = &rx.received()[0];
    assert_eq!(again.header("x-calos-delivery"), did.to_string());
    assert_eq!(
        again.header("x-calos-delivery"),
        first.header("x-calos-delivery"),
        "the same idempotency key"
    );
    assert_eq!(again.json()["id"], first.json()["id"], "the same event");
    assert!(signature_ok(
        &secret,
        &again.header("x-calos-signature"),
        &again.body
    ));
    let after = eventually("sent again", Duration::from_secs(30), || async {
        deliveries(&admin, "channel=webhook")
            .await
            .into_iter()
            .find(|d| d["id"] == did && d["status"] == "sent")
    })
    .await;
    assert_eq!(after["attempts"], 1, "attempts start over on a resend");
}

crate::both_backends_configured!(configure;
    test_event_is_signed_and_reported,
    sent_delivery_is_redelivered_by_hand,
);
