//! Notifications through the API: usage thresholds noticed by the scan
//! (80% once, 95% again), license changes enqueued with the change, e-mail
//! recorded as skipped without an SMTP server, resend, subscriptions, and
//! each bad input.

use std::time::{Duration, Instant};

use serde_json::json;

use calos_core::auth::Role;

use crate::helpers::{Api, TestApp};
use crate::notify_support::{deliveries, eventually, fast};
use crate::telemetry::{install, post};

fn configure(config: &mut calos_server::config::Config) {
    fast(config);
}

fn pos(id: &str, quantity: i64) -> serde_json::Value {
    json!({"eventId": id, "type": "usage", "ts": crate::telemetry::ts_ago(1),
           "meter": "pos_transactions", "quantity": quantity,
           "amountMinor": 100, "currency": "USD"})
}

async fn usage_levels(admin: &Api, install_id: &str) -> Vec<u64> {
    let mut levels: Vec<u64> = deliveries(admin, &format!("channel=email&installId={install_id}"))
        .await
        .iter()
        .filter(|d| d["notification"]["event"] == "usage.limit_reached")
        .map(|d| d["notification"]["data"]["level"].as_u64().unwrap())
        .collect();
    levels.sort_unstable();
    levels
}

/// Community allows 100 POS transactions: 80 of them notify once (seen
/// within seconds), 81 adds nothing, 95 notifies again.
async fn usage_thresholds_notify_once_per_level(app: &TestApp) {
    let admin = app.admin().await;
    let i = install(app, &admin, "community").await;
    let sent = Instant::now();
    let r = post(app, &i, vec![pos("p-1", 80)]).await;
    assert_eq!(r.body["accepted"], 1, "{}", r.body);
    eventually("the 80% notification", Duration::from_secs(60), || async {
        (usage_levels(&admin, &i.id).await == vec![80]).then_some(())
    })
    .await;
    assert!(sent.elapsed() < Duration::from_secs(60));
    let note = &deliveries(&admin, &format!("installId={}", i.id)).await[0]["notification"];
    assert_eq!(note["data"]["meter"], "pos_transactions");
    assert_eq!(
        (
            note["data"]["used"].as_i64(),
            note["data"]["limit"].as_i64()
        ),
        (Some(80), Some(100))
    );

    post(app, &i, vec![pos("p-2", 1)]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        usage_levels(&admin, &i.id).await,
        vec![80],
        "still 80%: no new notification"
    );

    post(app, &i, vec![pos("p-3", 14)]).await;
    eventually("the 95% notification", Duration::from_secs(60), || async {
        (usage_levels(&admin, &i.id).await == vec![80, 95]).then_some(())
    })
    .await;
}

/// Creating and revoking a license each enqueue their event; with no
/// SMTP server the e-mails are recorded as skipped, saying why.
async fn license_changes_notify_and_skip_without_smtp(app: &TestApp) {
    let admin = app.admin().await;
    let created = app.create_license(&admin, "pro", json!({})).await;
    let id = created["installId"].as_str().unwrap();
    let r = admin
        .post(
            "/api/enterprise/revoke-license",
            &json!({"installId": id, "reason": "unpaid"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let list = eventually("both e-mails settled", Duration::from_secs(30), || async {
        let list = deliveries(&admin, &format!("installId={id}")).await;
        (list.len() == 2 && list.iter().all(|d| d["status"] == "skipped")).then_some(list)
    })
    .await;
    let events: Vec<&str> = list
        .iter()
        .map(|d| d["notification"]["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["license.revoked", "license.created"]);
    assert_eq!(list[0]["notification"]["data"]["reason"], "unpaid");
    assert!(
        list[0]["lastError"].as_str().unwrap().contains("SMTP_URL"),
        "{}",
        list[0]
    );
    assert_eq!(list[0]["channel"], "email");
}

/// Issuing an invoice enqueues `invoice.issued` for its customer in the
/// issuing transaction, carrying the number and total it was issued with.
async fn issuing_an_invoice_notifies(app: &TestApp) {
    let admin = app.admin().await;
    crate::invoices::set_profile(&admin).await;
    let created = app.create_license(&admin, "pro", json!({})).await;
    let id = created["installId"].as_str().unwrap();
    let made = crate::invoices::generate(
        &admin,
        json!({ "month": crate::invoices::this_month(), "installId": id }),
    )
    .await;
    let invoice_id = made["created"][0]["id"].as_i64().unwrap();
    let r = admin
        .post_empty(&format!("/api/enterprise/invoices/{invoice_id}/issue"))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let number = r.body["invoice"]["number"].clone();
    assert!(number.is_string(), "{}", r.body);
    let issued = eventually(
        "an invoice.issued notification",
        Duration::from_secs(30),
        || async {
            deliveries(&admin, &format!("installId={id}"))
                .await
                .into_iter()
                .find(|d| d["notification"]["event"] == "invoice.issued")
        },
    )
    .await;
    let data = &issued["notification"]["data"];
    assert_eq!(data["number"], number);
    assert_eq!(data["invoiceId"], invoice_id);
    assert!(data["totalMinor"].as_i64().unwrap() > 0, "{data}");
}

/// Resend makes a delivery due again (and is audited); bad ids, filters,
/// bodies and roles are refused with the right errors.
async fn resend_subscriptions_and_bad_input(app: &TestApp) {
    let admin = app.admin().await;
    let created = app.create_license(&admin, "pro", json!({})).await;
    let id = created["installId"].as_str().unwrap();
    let first = eventually("a skipped e-mail", Duration::from_secs(30), || async {
        deliveries(&admin, &format!("installId={id}"))
            .await
            .into_iter()
            .find(|d| d["status"] == "skipped")
    })
    .await;
    let did = first["id"].as_i64().unwrap();
    let r = admin
        .post_empty(&format!("/api/enterprise/notifications/{did}/resend"))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.body["notification"]["status"], "pending");
    assert_eq!(r.body["notification"]["attempts"], 0);
    let audit = admin.get("/api/enterprise/audit?limit=5").await;
    assert!(
        audit.body.to_string().contains("notification.resend"),
        "{}",
        audit.body
    );

    admin
        .post_empty("/api/enterprise/notifications/987654/resend")
        .await
        .assert_error(404, "not_found");
    admin
        .post_empty("/api/enterprise/notifications/abc/resend")
        .await
        .assert_error(422, "invalid_field");
    admin
        .get("/api/enterprise/notifications?status=bogus")
        .await
        .assert_error(400, "invalid_query");
    admin
        .get("/api/enterprise/notifications?channel=pigeon")
        .await
        .assert_error(400, "invalid_query");
    admin
        .get("/api/enterprise/notifications?nope=1")
        .await
        .assert_error(400, "invalid_query");
    app.anon()
        .get("/api/enterprise/notifications")
        .await
        .assert_error(401, "unauthenticated");
    let viewer = crate::roles::client_with_role(app, Role::Viewer).await;
    assert_eq!(
        viewer
            .get("/api/enterprise/notifications")
            .await
            .status
            .as_u16(),
        200
    );
    viewer
        .post_empty(&format!("/api/enterprise/notifications/{did}/resend"))
        .await
        .assert_error(403, "forbidden");

    // The dashboard page lists it, with resend and the webhook section.
    let page = admin
        .client
        .get(format!("{}/admin/notifications?channel=email", admin.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Outbox") && html.contains(id), "{html}");
    assert!(html.contains(&format!("data-resend=\"{did}\"")));
    assert!(html.contains("Webhook endpoints"));
    assert!(!html.contains("<script>"), "no inline script");

    let r = admin
        .put(
            "/api/enterprise/notifications/subscriptions",
            &json!({"events": ["upsell.found", "health.dropped"]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let got = admin
        .get("/api/enterprise/notifications/subscriptions")
        .await;
    assert_eq!(
        got.body["events"],
        json!(["health.dropped", "upsell.found"])
    );
    admin
        .put(
            "/api/enterprise/notifications/subscriptions",
            &json!({"events": ["nope"]}),
        )
        .await
        .assert_error(422, "invalid_field");
    admin
        .put(
            "/api/enterprise/notifications/subscriptions",
            &json!({"events": [], "x": 1}),
        )
        .await
        .assert_error(422, "invalid_body");
}

crate::both_backends_configured!(configure;
    usage_thresholds_notify_once_per_level,
    license_changes_notify_and_skip_without_smtp,
    resend_subscriptions_and_bad_input,
    issuing_an_invoice_notifies,
);
