//! `calos invoice …` against the test server's own database: generate
//! prints what it made and exits 0, running it again duplicates nothing, a
//! future month is refused with a clear error; list, issue and pay work.

use serde_json::{json, Value};

use crate::binary;
use crate::helpers::TestApp;
use crate::invoices::{set_profile, this_month};

crate::both_backends!(cli_generates_idempotently_and_refuses_future_months);

async fn calos(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = binary::calos(dir.path(), "unused password")
        .env("DATABASE_URL", &app.state.config.database_url)
        .args(args)
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn cli_generates_idempotently_and_refuses_future_months(app: &TestApp) {
    let admin = app.admin().await;
    set_profile(&admin).await;
    let pro = app.create_license(&admin, "pro", json!({})).await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.create_license(&admin, "pro", json!({ "trialDays": 14 }))
        .await;
    let month = this_month();

    let (ok, out, err) = calos(app, &["invoice", "generate", "--month", &month]).await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("created") && out.contains(&pro), "{out}");
    assert!(
        out.contains(&format!(
            "{month}: 1 created, 0 already there, 1 not billable"
        )),
        "{out}"
    );

    let (ok, out, err) = calos(app, &["invoice", "generate", "--month", &month]).await;
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "{month}: 0 created, 1 already there, 1 not billable"
        )),
        "{out}"
    );
    let listed = admin
        .get(&format!("/api/enterprise/invoices?month={month}"))
        .await;
    let invoices = listed.body["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "no duplicate draft: {}", listed.body);
    let id = invoices[0]["id"].as_i64().unwrap().to_string();

    let (ok, _, err) = calos(app, &["invoice", "generate", "--month", "2999-01"]).await;
    assert!(!ok);
    assert!(err.contains("future"), "{err}");
    let (ok, _, err) = calos(
        app,
        &[
            "invoice",
            "generate",
            "--month",
            &month,
            "--customer",
            "no-such-install-0001",
        ],
    )
    .await;
    assert!(!ok && err.contains("not found"), "{err}");

    let (ok, out, err) = calos(app, &["invoice", "issue", &id]).await;
    assert!(ok, "{err}");
    assert!(out.contains("INV-"), "{out}");
    let (ok, _, err) = calos(app, &["invoice", "pay", &id, "--reference", "WIRE-1"]).await;
    assert!(ok, "{err}");
    let (ok, out, _) = calos(
        app,
        &["invoice", "list", "--month", &month, "--output", "json"],
    )
    .await;
    assert!(ok);
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed[0]["status"], "paid", "{listed}");
    let audit = admin
        .get("/api/enterprise/audit?targetType=invoice&limit=50")
        .await;
    assert!(
        audit.body.to_string().contains("\"cli\""),
        "CLI changes are audited as the CLI: {}",
        audit.body
    );
}
