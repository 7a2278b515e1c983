//! The vendor's account owner of a customer (issue 10): set when the
//! license is created or later, shown on the customer's page, audited, and
//! the one who receives that customer's notification e-mails (through a
//! real SMTP server) instead of the vendor address — which takes over for
//! customers without an owner and for an owner who was disabled. Bad owners
//! are clear 4xx JSON errors that change nothing.

use std::sync::Arc;

use serde_json::{json, Value};

use calos_core::auth::Role;

use crate::helpers::{run_on_with, Api, Backend, TestApp};
use crate::notify_support::{fast, SmtpSink};

const VENDOR: &str = "vendor@example.com";

async fn new_admin(admin: &Api, email: &str) -> i64 {
    let n = uuid::Uuid::new_v4().simple().to_string();
    let r = admin
        .post(
            "/api/enterprise/admins",
            &json!({"username": format!("owner-{}", &n[..8]), "email": email, "role": "sales"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    r.body["admin"]["id"].as_i64().unwrap()
}

/// Waits for the e-mail about `event` ("revoked", "suspended") of license
/// `install_id` and returns its recipients.
async fn recipients_of(sink: &SmtpSink, event: &str, install_id: &str) -> Vec<String> {
    let needle = format!("Install id: {install_id}");
    let mail = sink
        .wait_for(&format!("the {event} e-mail of {install_id}"), |m| {
            m["subject"].as_str().unwrap_or("").contains(event)
                && m["text"].as_str().unwrap_or("").contains(&needle)
        })
        .await;
    mail["to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

async fn owner_receives_the_mail(backend: Backend) {
    let sink = Arc::new(SmtpSink::start().await);
    let url = sink.url();
    run_on_with(
        backend,
        move |c| {
            fast(c);
            c.notify.smtp_url = Some(calos_server::config::Secret::new(url));
            c.notify.notify_email = Some(VENDOR.to_owned());
        },
        move |app| Box::pin(check_owner_mail(app, sink)),
    )
    .await;
}

async fn check_owner_mail(app: &TestApp, sink: Arc<SmtpSink>) {
    let admin = app.admin().await;
    let carol = new_admin(&admin, "Carol@Vendor.example.com").await;

    // Owned by an admin from the start.
    let a = app
        .create_license(&admin, "pro", json!({"accountOwner": {"adminId": carol}}))
        .await;
    let a = a["installId"].as_str().unwrap().to_owned();
    let shown = admin
        .get(&format!("/api/enterprise/customers/{a}/owner"))
        .await;
    assert_eq!(shown.status.as_u16(), 200, "{}", shown.body);
    assert_eq!(shown.body["owner"]["adminId"], carol);
    assert_eq!(shown.body["owner"]["email"], "carol@vendor.example.com");
    // The owner is stored in the license's own transaction, so even the new
    // customer's `license.created` e-mail goes to the owner.
    assert_eq!(
        recipients_of(&sink, "New license", &a).await,
        vec!["carol@vendor.example.com"]
    );

    // Owned by a plain address, set afterwards.
    let b = app.create_license(&admin, "pro", json!({})).await;
    let b = b["installId"].as_str().unwrap().to_owned();
    let r = admin
        .put(
            &format!("/api/enterprise/customers/{b}/owner"),
            &json!({"email": "Dave@Vendor.example.com"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(
        r.body["owner"],
        json!({"customerId": r.body["customerId"], "adminId": null, "adminUsername": null,
               "adminDisabled": false, "email": "dave@vendor.example.com"})
    );

    // No owner: the vendor address.
    let c = app.create_license(&admin, "pro", json!({})).await;
    let c = c["installId"].as_str().unwrap().to_owned();

    for id in [&a, &b, &c] {
        let r = admin
            .post(
                "/api/enterprise/revoke-license",
                &json!({"installId": id, "reason": "owner test"}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    }
    assert_eq!(
        recipients_of(&sink, "revoked", &a).await,
        vec!["carol@vendor.example.com"]
    );
    assert_eq!(
        recipients_of(&sink, "revoked", &b).await,
        vec!["dave@vendor.example.com"]
    );
    assert_eq!(recipients_of(&sink, "revoked", &c).await, vec![VENDOR]);

    // A disabled owner receives nothing: the vendor address takes over.
    let d = app
        .create_license(&admin, "pro", json!({"accountOwner": {"adminId": carol}}))
        .await;
    let d = d["installId"].as_str().unwrap().to_owned();
    let r = admin
        .post_empty(&format!("/api/enterprise/admins/{carol}/disable"))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let r = admin
        .post(
            &format!("/api/enterprise/customer/{d}/suspend"),
            &json!({"reason": "owner away"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(recipients_of(&sink, "suspended", &d).await, vec![VENDOR]);

    // Audited, and shown on the customer's page with the form to change it.
    let audit = admin
        .get("/api/enterprise/audit?action=customer.owner&limit=50")
        .await;
    assert_eq!(audit.status.as_u16(), 200, "{}", audit.body);
    let text = audit.body.to_string();
    assert!(text.contains("dave@vendor.example.com"), "{text}");
    // An owner given at creation is in the license's own `license.create` record.
    let created = admin
        .get(&format!(
            "/api/enterprise/audit?action=license.create&targetId={a}"
        ))
        .await;
    assert_eq!(created.status.as_u16(), 200, "{}", created.body);
    assert_eq!(
        created.body["audit"][0]["after"]["accountOwner"],
        json!({ "adminId": carol }),
        "{}",
        created.body
    );
    let page = admin
        .client
        .get(format!("{}/admin/customers/{a}", admin.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Account owner"), "{html}");
    assert!(html.contains("carol@vendor.example.com"));
    assert!(html.contains("is disabled"), "the fallback is explained");
    assert!(html.contains("id=\"owner-form\"") && html.contains("/assets/account_owner.js"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_receives_the_mail_sqlite() {
    owner_receives_the_mail(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_receives_the_mail_postgres() {
    owner_receives_the_mail(Backend::Postgres).await;
}

/// Without `CALOS_NOTIFY_EMAIL` the vendor address is the first enabled
/// admin with an e-mail (the bootstrap admin has none here).
async fn vendor_address_defaults_to_first_admin(backend: Backend) {
    let sink = Arc::new(SmtpSink::start().await);
    let url = sink.url();
    run_on_with(
        backend,
        move |c| {
            fast(c);
            c.notify.smtp_url = Some(calos_server::config::Secret::new(url));
            c.notify.notify_email = None;
        },
        move |app| Box::pin(check_default_vendor(app, sink)),
    )
    .await;
}

async fn check_default_vendor(app: &TestApp, sink: Arc<SmtpSink>) {
    let admin = app.admin().await;
    new_admin(&admin, "first@vendor.example.com").await;
    new_admin(&admin, "second@vendor.example.com").await;
    let created = app.create_license(&admin, "pro", json!({})).await;
    let id = created["installId"].as_str().unwrap().to_owned();
    admin
        .post("/api/enterprise/revoke-license", &json!({"installId": id}))
        .await;
    assert_eq!(
        recipients_of(&sink, "revoked", &id).await,
        vec!["first@vendor.example.com"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_address_defaults_to_first_admin_sqlite() {
    vendor_address_defaults_to_first_admin(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_address_defaults_to_first_admin_postgres() {
    vendor_address_defaults_to_first_admin(Backend::Postgres).await;
}

fn message(r: &crate::client::Resp) -> String {
    r.body["error"]["message"].as_str().unwrap_or("").to_owned()
}

/// Unknown or disabled admins, invalid addresses, both at once and unknown
/// fields are 422 and create or change nothing; unknown licenses 404; a
/// viewer may look but not change; `{}` clears.
async fn bad_owners_are_refused(app: &TestApp) {
    let admin = app.admin().await;
    let before = app.snapshot(&admin).await;
    let body = |owner: Value| {
        json!({"customer": {"name": "Nobody", "email": "nobody@example.com"}, "tier": "pro",
               "accountOwner": owner})
    };
    for (owner, code, words) in [
        (
            json!({"adminId": 987_654}),
            "invalid_field",
            "no admin has id 987654",
        ),
        (
            json!({"email": "not an address"}),
            "invalid_field",
            "e-mail",
        ),
        (
            json!({"adminId": 1, "email": "x@example.com"}),
            "invalid_field",
            "not both",
        ),
        (json!({"admin": 1}), "invalid_body", ""),
        (json!("carol"), "invalid_body", ""),
    ] {
        let r = admin
            .post("/api/enterprise/create-license", &body(owner.clone()))
            .await;
        r.assert_error(422, code);
        assert!(message(&r).contains(words), "{owner}: {}", r.body);
    }
    assert_eq!(app.snapshot(&admin).await, before, "nothing was created");

    let created = app.create_license(&admin, "pro", json!({})).await;
    let id = created["installId"].as_str().unwrap().to_owned();
    let path = format!("/api/enterprise/customers/{id}/owner");
    let dave = new_admin(&admin, "dave@vendor.example.com").await;
    let r = admin.put(&path, &json!({"adminId": dave})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.body["owner"]["adminId"], dave);

    admin
        .put(&path, &json!({"adminId": 987_654}))
        .await
        .assert_error(422, "invalid_field");
    admin
        .put(&path, &json!({"email": "@nope"}))
        .await
        .assert_error(422, "invalid_field");
    admin
        .put(&path, &json!({"owner": "x"}))
        .await
        .assert_error(422, "invalid_body");
    let erin = new_admin(&admin, "erin@vendor.example.com").await;
    admin
        .post_empty(&format!("/api/enterprise/admins/{erin}/disable"))
        .await;
    let r = admin.put(&path, &json!({"adminId": erin})).await;
    r.assert_error(422, "invalid_field");
    assert!(message(&r).contains("disabled"), "{}", r.body);
    assert_eq!(
        admin.get(&path).await.body["owner"]["adminId"],
        dave,
        "refusals changed nothing"
    );

    admin
        .put(
            "/api/enterprise/customers/no-such-install-0000000000/owner",
            &json!({"email": "x@example.com"}),
        )
        .await
        .assert_error(404, "not_found");
    app.anon()
        .get(&path)
        .await
        .assert_error(401, "unauthenticated");
    let viewer = crate::roles::client_with_role(app, Role::Viewer).await;
    assert_eq!(viewer.get(&path).await.status.as_u16(), 200);
    viewer
        .put(&path, &json!({"email": "x@example.com"}))
        .await
        .assert_error(403, "forbidden");
    let sales = crate::roles::client_with_role(app, Role::Sales).await;
    let r = sales.put(&path, &json!({"email": "x@example.com"})).await;
    assert_eq!(r.status.as_u16(), 200, "sales assigns owners: {}", r.body);

    let r = admin.put(&path, &json!({})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.body["owner"], Value::Null, "cleared");
}

crate::both_backends!(bad_owners_are_refused);
