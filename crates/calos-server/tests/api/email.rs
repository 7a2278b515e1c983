//! Notification e-mails through a real SMTP server (aiosmtpd): the message
//! arrives with the right subject and body, to the vendor address and — for
//! the events chosen for customers — the customer's contact.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use calos_core::notify::EventKind;

use crate::helpers::{run_on_with, Backend, TestApp};
use crate::notify_support::{deliveries, eventually, fast, SmtpSink};

async fn revoke_mail_arrives(backend: Backend) {
    let sink = Arc::new(SmtpSink::start().await);
    let url = sink.url();
    run_on_with(
        backend,
        move |c| {
            fast(c);
            c.notify.smtp_url = Some(calos_server::config::Secret::new(url));
            c.notify.notify_email = Some("vendor@example.com".to_owned());
            c.notify.mail_from = "Licensing <licensing@vendor.example.com>".to_owned();
            c.notify.customer_events = vec![EventKind::LicenseRevoked];
        },
        move |app| Box::pin(check(app, sink)),
    )
    .await;
}

async fn check(app: &TestApp, sink: Arc<SmtpSink>) {
    let admin = app.admin().await;
    let created = app.create_license(&admin, "pro", json!({})).await;
    let id = created["installId"].as_str().unwrap().to_owned();
    let customer = app
        .store()
        .get_license(&calos_core::ids::InstallId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap()
        .customer_id;
    let contact = app.store().get_customer(customer).await.unwrap().unwrap();
    let r = admin
        .post(
            "/api/enterprise/revoke-license",
            &json!({"installId": id, "reason": "invoice <42> unpaid"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);

    let mail = sink
        .wait_for("the revoke e-mail", |m| {
            m["subject"].as_str().unwrap_or("").contains("revoked")
        })
        .await;
    let name = contact.name.as_str();
    assert_eq!(
        mail["subject"],
        format!("[CALOS Enterprise] License of {name} (Acme) revoked")
    );
    let to: Vec<&str> = mail["to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(to, vec!["vendor@example.com", contact.email.as_str()]);
    assert_eq!(mail["from"], "licensing@vendor.example.com");
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains(&format!("Install id: {id}")), "{text}");
    assert!(text.contains("Reason: invoice <42> unpaid"), "{text}");
    let html = mail["html"].as_str().unwrap();
    assert!(
        html.contains("invoice &lt;42&gt; unpaid") || html.contains("invoice &#60;42&#62; unpaid"),
        "{html}"
    );
    assert!(mail["messageId"]
        .as_str()
        .unwrap()
        .starts_with("<calos-delivery-"));

    // The created mail went to the vendor only (not chosen for customers).
    let created_mail = sink
        .wait_for("the created e-mail", |m| {
            m["subject"].as_str().unwrap_or("").contains("New license")
        })
        .await;
    assert_eq!(created_mail["to"], json!(["vendor@example.com"]));

    let sent = eventually(
        "deliveries marked sent",
        Duration::from_secs(30),
        || async {
            let list = deliveries(&admin, &format!("installId={id}")).await;
            (list.len() == 2 && list.iter().all(|d| d["status"] == "sent")).then_some(list)
        },
    )
    .await;
    assert!(sent[0]["target"]
        .as_str()
        .unwrap()
        .contains("vendor@example.com"));
    assert_eq!(sent[0]["attempts"], 1);
    assert_eq!(sink.messages().len(), 2, "one message per notification");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_mail_arrives_sqlite() {
    revoke_mail_arrives(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_mail_arrives_postgres() {
    revoke_mail_arrives(Backend::Postgres).await;
}
