//! Malformed, mistyped, oversized or incomplete request bodies.

use serde_json::json;

use super::{rejected, seeded, valid_body, CREATE};
use crate::client::raw_request;
use crate::helpers::TestApp;

crate::both_backends!(
    malformed_json_is_400,
    wrong_types_are_422,
    missing_fields_are_422,
    missing_content_type_is_415,
    oversized_body_is_413,
    oversized_streamed_body_is_413,
    both_or_neither_customer_forms_are_422,
    invalid_email_and_domain_are_422,
    unknown_fields_are_422,
);

async fn malformed_json_is_400(app: &TestApp) {
    let admin = seeded(app).await;
    let body = r#"{"customer": {"name": "x", "email": "#;
    rejected(
        app,
        &admin,
        400,
        "malformed_json",
        admin.post_raw(CREATE, body, Some("application/json")),
    )
    .await;
    rejected(
        app,
        &admin,
        400,
        "malformed_json",
        admin.post_raw(CREATE, "not json at all", Some("application/json")),
    )
    .await;
}

async fn wrong_types_are_422(app: &TestApp) {
    let admin = seeded(app).await;
    let mut body = valid_body();
    body["trialDays"] = json!("fourteen");
    let r = rejected(app, &admin, 422, "invalid_body", admin.post(CREATE, &body)).await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("trialDays"),
        "{}",
        r.body
    );
    let mut body = valid_body();
    body["domains"] = json!("a.example.com");
    rejected(app, &admin, 422, "invalid_body", admin.post(CREATE, &body)).await;
    let mut body = valid_body();
    body["trialDays"] = json!(1.5);
    rejected(app, &admin, 422, "invalid_body", admin.post(CREATE, &body)).await;
}

async fn missing_fields_are_422(app: &TestApp) {
    let admin = seeded(app).await;
    let r = rejected(
        app,
        &admin,
        422,
        "invalid_body",
        admin.post(CREATE, &json!({ "customer": valid_body()["customer"] })),
    )
    .await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tier"),
        "{}",
        r.body
    );
    rejected(
        app,
        &admin,
        422,
        "invalid_body",
        admin.post("/api/enterprise/revoke-license", &json!({})),
    )
    .await;
}

async fn missing_content_type_is_415(app: &TestApp) {
    let admin = seeded(app).await;
    let body = valid_body().to_string();
    rejected(
        app,
        &admin,
        415,
        "unsupported_media_type",
        admin.post_raw(CREATE, body.clone(), None),
    )
    .await;
    rejected(
        app,
        &admin,
        415,
        "unsupported_media_type",
        admin.post_raw(CREATE, body, Some("text/plain")),
    )
    .await;
}

async fn oversized_body_is_413(app: &TestApp) {
    let admin = seeded(app).await;
    // A declared length over the limit (64 KiB in tests) is refused before any
    // of the body is read, and before authentication.
    for path in [
        CREATE.to_owned(),
        "/api/enterprise/customer/x/suspend".to_owned(),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            10 * 1024 * 1024
        );
        rejected(
            app,
            &admin,
            413,
            "body_too_large",
            raw_request(&app.base, head.as_bytes()),
        )
        .await;
    }
}

/// A body sent without a declared length is bounded while it is read: one
/// chunk just over the limit (64 KiB in tests), and the request never finishes.
async fn oversized_streamed_body_is_413(app: &TestApp) {
    let admin = seeded(app).await;
    let token = app.token_secret().await;
    let over = 64 * 1024 + 1;
    let mut raw = format!(
        "POST {CREATE} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n{over:x}\r\n"
    )
    .into_bytes();
    raw.extend(std::iter::repeat_n(b' ', over));
    rejected(
        app,
        &admin,
        413,
        "body_too_large",
        raw_request(&app.base, &raw),
    )
    .await;
}

async fn both_or_neither_customer_forms_are_422(app: &TestApp) {
    let admin = seeded(app).await;
    let mut both = valid_body();
    both["userId"] = json!(1);
    rejected(app, &admin, 422, "invalid_field", admin.post(CREATE, &both)).await;
    rejected(
        app,
        &admin,
        422,
        "invalid_field",
        admin.post(CREATE, &json!({ "tier": "pro" })),
    )
    .await;
}

async fn invalid_email_and_domain_are_422(app: &TestApp) {
    let admin = seeded(app).await;
    let mut body = valid_body();
    body["customer"]["email"] = json!("not an email");
    let r = rejected(app, &admin, 422, "invalid_field", admin.post(CREATE, &body)).await;
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("email"));
    let mut body = valid_body();
    body["domains"] = json!(["<script>alert(1)</script>"]);
    rejected(app, &admin, 422, "invalid_field", admin.post(CREATE, &body)).await;
    let mut body = valid_body();
    body["tier"] = json!("community");
    body["domains"] = json!(["a.example.com", "b.example.com"]);
    rejected(app, &admin, 422, "invalid_field", admin.post(CREATE, &body)).await;
}

async fn unknown_fields_are_422(app: &TestApp) {
    let admin = seeded(app).await;
    let mut body = valid_body();
    body["trialDayz"] = json!(3);
    let r = rejected(app, &admin, 422, "invalid_body", admin.post(CREATE, &body)).await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("trialDayz"),
        "{}",
        r.body
    );
}
