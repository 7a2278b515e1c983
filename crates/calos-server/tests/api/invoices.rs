//! Invoices over HTTP on both backends: the billing profile, generating a
//! month (idempotently), editing drafts, issuing, paying, voiding with a
//! credit note, the PDF and CSV, and every bad input the issue names.

use chrono::{Datelike, NaiveDate, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{Api, TestApp};

crate::both_backends!(
    invoice_lifecycle_pdf_and_csv,
    bad_invoice_input_is_refused,
    concurrent_issues_number_without_gaps
);

/// A valid billing profile (USD, 10% tax).
pub fn profile_body() -> Value {
    json!({
        "legalName": "Calos Vendor Inc.",
        "address": "1 Market Street\nSan Francisco, CA 94105",
        "taxId": "US-99-1234567",
        "email": "billing@vendor.example",
        "bank": { "accountHolder": "Calos Vendor Inc.", "bankName": "First Bank", "accountNumber": "000123456789", "routingNumber": "026009593" },
        "currency": "USD",
        "taxRates": [{ "name": "Sales tax", "basisPoints": 1000 }],
        "logoPngBase64": null,
        "footer": "Thank you for your business."
    })
}

pub async fn set_profile(api: &Api) {
    let r = api
        .put("/api/enterprise/billing-profile", &profile_body())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

pub fn this_month() -> String {
    Utc::now().format("%Y-%m").to_string()
}

/// 2900 × (days from today to the month's end) ÷ days in the month, rounded half up.
fn prorated_pro_from_today() -> i64 {
    let today = Utc::now().date_naive();
    let first_next = if today.month() == 12 {
        NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(today.year(), today.month() + 1, 1)
    }
    .unwrap();
    let first = today.with_day(1).unwrap();
    let days = (first_next - today).num_days();
    let month_days = (first_next - first).num_days();
    (2_900 * days * 2 + month_days) / (2 * month_days)
}

pub async fn generate(api: &Api, body: Value) -> Value {
    let r = api.post("/api/enterprise/invoices/generate", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// The PDF download: status, content type and the bytes.
pub async fn pdf(api: &Api, id: i64) -> (StatusCode, String, Vec<u8>) {
    let resp = api
        .client
        .get(format!("{}/api/enterprise/invoices/{id}/pdf", api.base))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, resp.bytes().await.unwrap().to_vec())
}

async fn invoice_lifecycle_pdf_and_csv(app: &TestApp) {
    let admin = app.admin().await;
    let month = this_month();

    // Without a billing profile nothing can be generated.
    let r = admin.get("/api/enterprise/billing-profile").await;
    assert_eq!(r.body["billingProfile"], Value::Null);
    admin
        .post(
            "/api/enterprise/invoices/generate",
            &json!({ "month": month }),
        )
        .await
        .assert_error(409, "conflict");
    set_profile(&admin).await;
    let r = admin.get("/api/enterprise/billing-profile").await;
    assert_eq!(
        r.body["billingProfile"]["paymentTermsDays"], 30,
        "net-30 by default"
    );
    assert_eq!(
        r.body["billingProfile"]["invoiceNumberFormat"],
        "INV-{YYYY}-{SEQ:05}"
    );

    let pro = app.create_license(&admin, "pro", json!({})).await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let trial = app
        .create_license(&admin, "enterprise", json!({ "trialDays": 14 }))
        .await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let free = app.create_license(&admin, "community", json!({})).await["installId"]
        .as_str()
        .unwrap()
        .to_owned();

    // Trials and free tiers produce no invoice; generating again duplicates nothing.
    let first = generate(&admin, json!({ "month": month })).await;
    assert_eq!(first["created"].as_array().unwrap().len(), 1, "{first}");
    let skipped: Vec<&str> = first["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["installId"].as_str().unwrap())
        .collect();
    assert!(
        skipped.contains(&trial.as_str()) && skipped.contains(&free.as_str()),
        "{first}"
    );
    let again = generate(&admin, json!({ "month": month })).await;
    assert_eq!(again["created"].as_array().unwrap().len(), 0, "{again}");
    assert_eq!(again["kept"][0]["installId"], pro.as_str());

    // The list has the documented fields.
    let list = admin
        .get(&format!("/api/enterprise/invoices?month={month}"))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let items = list.body["invoices"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let inv = &items[0];
    for key in [
        "id",
        "number",
        "installId",
        "status",
        "totalMinor",
        "currency",
    ] {
        assert!(inv.get(key).is_some(), "{key} missing: {inv}");
    }
    assert_eq!(
        (
            inv["installId"].as_str(),
            inv["status"].as_str(),
            inv["currency"].as_str()
        ),
        (Some(pro.as_str()), Some("draft"), Some("USD"))
    );
    assert!(inv["number"].is_null());
    let base = prorated_pro_from_today();
    let tax = (base * 1_000 * 2 + 10_000) / 20_000;
    assert_eq!(inv["totalMinor"], base + tax, "{inv}");
    let id = inv["id"].as_i64().unwrap();

    // A draft takes a discount (never negative).
    admin
        .patch(
            &format!("/api/enterprise/invoices/{id}"),
            &json!({ "discountMinor": -1 }),
        )
        .await
        .assert_error(422, "invalid_field");
    let edited = admin
        .patch(
            &format!("/api/enterprise/invoices/{id}"),
            &json!({ "discountMinor": 100, "discountReason": "launch", "notes": "PO 4711" }),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    let taxable = base - 100;
    let total = taxable + (taxable * 1_000 * 2 + 10_000) / 20_000;
    assert_eq!(edited.body["invoice"]["totalMinor"], total);

    // Issued: numbered, immutable.
    let issued = admin
        .post_empty(&format!("/api/enterprise/invoices/{id}/issue"))
        .await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    let number = format!("INV-{}-00001", Utc::now().format("%Y"));
    assert_eq!(issued.body["invoice"]["number"], number.as_str());
    assert_eq!(issued.body["invoice"]["status"], "issued");
    let due = (Utc::now() + chrono::Duration::days(30))
        .date_naive()
        .to_string();
    assert_eq!(issued.body["invoice"]["dueDate"], due.as_str());
    admin
        .patch(
            &format!("/api/enterprise/invoices/{id}"),
            &json!({ "discountMinor": 0 }),
        )
        .await
        .assert_error(409, "conflict");
    admin
        .post_empty(&format!("/api/enterprise/invoices/{id}/issue"))
        .await
        .assert_error(409, "conflict");
    let detail = admin.get(&format!("/api/enterprise/invoices/{id}")).await;
    assert_eq!(
        detail.body["invoice"]["totalMinor"], total,
        "unchanged after the refusals"
    );
    assert_eq!(
        detail.body["invoice"]["document"]["vendor"]["legalName"],
        "Calos Vendor Inc."
    );

    // The PDF: one page with the number and the total.
    let (status, ct, bytes) = pdf(&admin, id).await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/pdf"));
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    assert_eq!(pages.len(), 1);
    let text = doc.extract_text(&pages).unwrap();
    assert!(text.contains(&number), "{text}");
    let total_text = format!("{}.{:02} USD", total / 100, total % 100);
    assert!(text.contains(&total_text), "{total_text} not in {text}");

    // CSV for the accountant.
    let csv = admin
        .get(&format!("/api/enterprise/invoices.csv?month={month}"))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv_text = csv.body.as_str().unwrap();
    assert!(csv_text.starts_with("id,number,kind,status"), "{csv_text}");
    assert!(
        csv_text.contains(&number) && csv_text.contains(&total.to_string()),
        "{csv_text}"
    );

    // Paid; a paid invoice cannot be voided.
    let paid = admin
        .post(
            &format!("/api/enterprise/invoices/{id}/pay"),
            &json!({ "reference": "WIRE 2026-11-03" }),
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    assert_eq!(paid.body["invoice"]["status"], "paid");
    admin
        .post(
            &format!("/api/enterprise/invoices/{id}/void"),
            &json!({ "reason": "x" }),
        )
        .await
        .assert_error(409, "conflict");
    let filtered = admin
        .get(&format!(
            "/api/enterprise/invoices?month={month}&status=paid"
        ))
        .await;
    assert_eq!(filtered.body["invoices"].as_array().unwrap().len(), 1);
    let none = admin
        .get(&format!(
            "/api/enterprise/invoices?month={month}&status=overdue"
        ))
        .await;
    assert!(none.body["invoices"].as_array().unwrap().is_empty());

    // A second customer's issued invoice voids with a credit note.
    let other = app.create_license(&admin, "enterprise", json!({})).await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let made = generate(&admin, json!({ "month": month, "installId": other })).await;
    let other_id = made["created"][0]["id"].as_i64().unwrap();
    let other_total = made["created"][0]["document"]["totals"]["totalMinor"]
        .as_i64()
        .unwrap();
    admin
        .post_empty(&format!("/api/enterprise/invoices/{other_id}/issue"))
        .await;
    let voided = admin
        .post(
            &format!("/api/enterprise/invoices/{other_id}/void"),
            &json!({ "reason": "wrong customer" }),
        )
        .await;
    assert_eq!(voided.status, StatusCode::OK, "{}", voided.body);
    assert_eq!(voided.body["invoice"]["status"], "void");
    assert_eq!(
        voided.body["invoice"]["number"],
        format!("INV-{}-00002", Utc::now().format("%Y")).as_str()
    );
    let credit = &voided.body["creditNote"];
    assert_eq!(credit["kind"], "credit_note");
    assert_eq!(
        credit["number"],
        format!("CN-{}-00001", Utc::now().format("%Y")).as_str()
    );
    assert_eq!(credit["totalMinor"], -other_total);
    let (status, _, credit_pdf) = pdf(&admin, credit["id"].as_i64().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let cdoc = lopdf::Document::load_mem(&credit_pdf).unwrap();
    assert!(cdoc.extract_text(&[1]).unwrap().contains("CREDIT NOTE"));

    // The dashboard pages show the month and the billing profile.
    let page = admin.get(&format!("/admin/invoices?month={month}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.body.as_str().unwrap();
    assert!(
        html.contains(&number)
            && html.contains("credit note")
            && html.contains("/assets/invoices.js"),
        "{html}"
    );
    assert!(html.contains(&format!("/api/enterprise/invoices/{id}/pdf")));
    let page = admin.get("/admin/billing-profile").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.as_str().unwrap().contains("Calos Vendor Inc."));

    // Every change is in the audit log.
    let audit = admin
        .get("/api/enterprise/audit?targetType=invoice&limit=100")
        .await;
    let actions: Vec<&str> = audit.body["records"]
        .as_array()
        .or(audit.body["audit"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|r| r["action"].as_str())
        .collect();
    for action in [
        "invoice.generate",
        "invoice.update",
        "invoice.issue",
        "invoice.pay",
        "invoice.void",
        "invoice.credit_note",
    ] {
        assert!(
            actions.contains(&action),
            "{action} not audited: {}",
            audit.body
        );
    }
}

async fn bad_invoice_input_is_refused(app: &TestApp) {
    let admin = app.admin().await;
    set_profile(&admin).await;
    let trial = app
        .create_license(&admin, "pro", json!({ "trialDays": 14 }))
        .await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let pro = app.create_license(&admin, "pro", json!({})).await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = app.snapshot(&admin).await;

    // A month in the future.
    let future = (Utc::now() + chrono::Duration::days(40))
        .format("%Y-%m")
        .to_string();
    let r = admin
        .post(
            "/api/enterprise/invoices/generate",
            &json!({ "month": future }),
        )
        .await;
    r.assert_error(422, "invalid_field");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("future"),
        "{}",
        r.body
    );
    admin
        .post(
            "/api/enterprise/invoices/generate",
            &json!({ "month": "2026-13" }),
        )
        .await
        .assert_error(422, "invalid_field");
    // A customer with no billing data (a trial), and one that does not exist.
    let r = admin
        .post(
            "/api/enterprise/invoices/generate",
            &json!({ "month": this_month(), "installId": trial }),
        )
        .await;
    r.assert_error(422, "invalid_body");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no billing data"),
        "{}",
        r.body
    );
    admin
        .post(
            "/api/enterprise/invoices/generate",
            &json!({ "month": this_month(), "installId": "no-such-install-0001" }),
        )
        .await
        .assert_error(404, "not_found");
    // Refusals changed nothing.
    assert_eq!(app.snapshot(&admin).await, before);
    assert!(admin.get("/api/enterprise/invoices").await.body["invoices"]
        .as_array()
        .unwrap()
        .is_empty());

    // Bad list filters and ids.
    admin
        .get("/api/enterprise/invoices?month=2026-1")
        .await
        .assert_error(400, "invalid_query");
    admin
        .get("/api/enterprise/invoices?status=late")
        .await
        .assert_error(400, "invalid_query");
    admin
        .get("/api/enterprise/invoices/999999")
        .await
        .assert_error(404, "not_found");
    admin
        .get("/api/enterprise/invoices/abc/pdf")
        .await
        .assert_error(404, "not_found");

    // A negative discount, a discount above the subtotal, an issued invoice edited.
    let made = generate(&admin, json!({ "month": this_month(), "installId": pro })).await;
    let id = made["created"][0]["id"].as_i64().unwrap();
    admin
        .patch(
            &format!("/api/enterprise/invoices/{id}"),
            &json!({ "discountMinor": -500 }),
        )
        .await
        .assert_error(422, "invalid_field");
    admin
        .patch(
            &format!("/api/enterprise/invoices/{id}"),
            &json!({ "discountMinor": 99_999_999 }),
        )
        .await
        .assert_error(422, "invalid_field");
    admin
        .post_empty(&format!("/api/enterprise/invoices/{id}/issue"))
        .await;
    let r = admin
        .patch(
            &format!("/api/enterprise/invoices/{id}"),
            &json!({ "notes": "changed" }),
        )
        .await;
    r.assert_error(409, "conflict");
    // Paying needs a reference and a date that is not in the future.
    admin
        .post(
            &format!("/api/enterprise/invoices/{id}/pay"),
            &json!({ "reference": " " }),
        )
        .await
        .assert_error(422, "invalid_field");
    admin
        .post(
            &format!("/api/enterprise/invoices/{id}/pay"),
            &json!({ "reference": "x", "paidOn": "2999-01-01" }),
        )
        .await
        .assert_error(422, "invalid_field");
    admin
        .post(
            &format!("/api/enterprise/invoices/{id}/void"),
            &json!({ "reason": "" }),
        )
        .await
        .assert_error(422, "invalid_field");

    // A billing profile that cannot carry an invoice.
    let mut bad = profile_body();
    bad["bank"] = json!({ "accountHolder": "X" });
    admin
        .put("/api/enterprise/billing-profile", &bad)
        .await
        .assert_error(422, "invalid_field");
    let mut bad = profile_body();
    bad["invoiceNumberFormat"] = json!("INV-{YYYY}");
    let r = admin.put("/api/enterprise/billing-profile", &bad).await;
    r.assert_error(422, "invalid_body");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("{SEQ}"),
        "{}",
        r.body
    );
    let mut bad = profile_body();
    bad["taxRates"] = json!([{ "name": "VAT", "basisPoints": -5 }]);
    admin
        .put("/api/enterprise/billing-profile", &bad)
        .await
        .assert_error(422, "invalid_field");
}

async fn concurrent_issues_number_without_gaps(app: &TestApp) {
    let admin = app.admin().await;
    set_profile(&admin).await;
    for _ in 0..6 {
        app.create_license(&admin, "pro", json!({})).await;
    }
    let made = generate(&admin, json!({ "month": this_month() })).await;
    let ids: Vec<i64> = made["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 6);
    let issues = ids.iter().map(|id| {
        let admin = &admin;
        async move {
            admin
                .post_empty(&format!("/api/enterprise/invoices/{id}/issue"))
                .await
        }
    });
    let results = futures::future::join_all(issues).await;
    let mut numbers: Vec<String> = results
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.body["invoice"]["number"].as_str().unwrap().to_owned()
        })
        .collect();
    numbers.sort();
    let year = Utc::now().format("%Y").to_string();
    let expected: Vec<String> = (1..=6).map(|n| format!("INV-{year}-{n:05}")).collect();
    assert_eq!(numbers, expected);
}
