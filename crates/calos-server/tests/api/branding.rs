//! Branding (issue 8): levels by plan in `GET /api/v1/branding`, per-customer
//! brands over a vendor default, versions, logos, and every bad input the
//! issue names (20 MB logo, SVG with script, colour injection), on both backends.

use reqwest::StatusCode;
use serde_json::{json, Value};

use calos_core::branding::BrandingLevel;

use crate::client::raw_request;
use crate::helpers::TestApp;
use crate::verify_support::{new_install, Install};

crate::both_backends!(
    levels_follow_the_plan_and_the_customer_brand_shows,
    the_vendor_default_and_versions,
    logos_are_stored_served_and_checked,
    bad_brand_values_are_refused,
    the_sdk_fetches_the_branding,
);

pub async fn branding_of(app: &TestApp, i: &Install) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/branding", app.base))
        .header("X-Calos-Install-Id", &i.install_id)
        .header("X-Calos-License-Key", &i.license_key)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub fn brand(name: &str, color: &str) -> Value {
    json!({
        "productName": name,
        "primaryColor": color,
        "secondaryColor": "#223344",
        "supportEmail": "help@acme.example",
        "supportUrl": "https://help.acme.example/",
        "footerText": "© Acme <b>Corp</b>",
        "cssVariables": { "--brand-radius": "6px", "--brand-font": "Inter, sans-serif" }
    })
}

async fn levels_follow_the_plan_and_the_customer_brand_shows(app: &TestApp) {
    let admin = app.admin().await;
    let pro = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    let community = new_install(app, "community", json!({})).await;
    for i in [&pro, &community] {
        let put = admin
            .put(
                &format!("/api/enterprise/customers/{}/branding", i.install_id),
                &brand("Acme ERP", "#112233"),
            )
            .await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    }

    let (status, b) = branding_of(app, &pro).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(b["level"], "none");
    assert_eq!(b["productName"], "Acme ERP");
    assert_eq!(b["primaryColor"], "#112233");
    assert_eq!(b["poweredBy"], Value::Null);
    assert_eq!(b["supportEmail"], "help@acme.example");
    assert_eq!(b["footerText"], "© Acme <b>Corp</b>");
    assert_eq!(b["cssVariables"]["--brand-primary"], "#112233");
    assert_eq!(b["cssVariables"]["--brand-radius"], "6px");
    assert!(b["cssText"].as_str().unwrap().starts_with(":root{"), "{b}");
    assert_eq!(b["version"], 1);

    // The signed verdict carries the level and the version.
    let claims = crate::verify_support::verify_ok(
        &app.base,
        &crate::verify_support::request(&pro, "n-1", None),
    )
    .await;
    assert_eq!(claims.branding_level, Some(BrandingLevel::None));
    assert_eq!(claims.branding_version, Some(1));
    admin
        .put(
            &format!("/api/enterprise/customers/{}/branding", pro.install_id),
            &brand("Acme ERP 2", "#112233"),
        )
        .await;
    let claims = crate::verify_support::verify_ok(
        &app.base,
        &crate::verify_support::request(&pro, "n-1", None),
    )
    .await;
    assert_eq!(
        claims.branding_version,
        Some(2),
        "a brand change reaches the next verdict"
    );
    let claims = crate::verify_support::verify_ok(
        &app.base,
        &crate::verify_support::request(&community, "n-1", None),
    )
    .await;
    assert_eq!(claims.branding_level, Some(BrandingLevel::Minimal));

    let (_, c) = branding_of(app, &community).await;
    assert_eq!(c["level"], "minimal");
    assert_eq!(c["productName"], "Acme ERP");
    assert_eq!(c["poweredBy"], "Powered by CALOS");

    // Credentials in the query work too; wrong ones are 401 either way.
    let q = app
        .anon()
        .get(&format!(
            "/api/v1/branding?installId={}&licenseKey={}",
            pro.install_id, pro.license_key
        ))
        .await;
    assert_eq!(
        (q.status, q.body["level"].clone()),
        (StatusCode::OK, json!("none"))
    );
    let wrong = Install {
        install_id: pro.install_id.clone(),
        license_key: community.license_key.clone(),
    };
    let (status, body) = branding_of(app, &wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        app.anon().get("/api/v1/branding").await.status,
        StatusCode::UNAUTHORIZED
    );

    // A revoked license loses white-label: the vendor's full brand.
    let r = admin
        .post(
            "/api/enterprise/revoke-license",
            &json!({ "installId": pro.install_id }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (_, b) = branding_of(app, &pro).await;
    assert_eq!(
        (b["level"].clone(), b["productName"].clone()),
        (json!("full"), json!("CALOS"))
    );
}

async fn the_vendor_default_and_versions(app: &TestApp) {
    let admin = app.admin().await;
    let pro = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    let (_, b) = branding_of(app, &pro).await;
    assert_eq!(
        (b["productName"].clone(), b["version"].clone()),
        (json!("CALOS"), json!(0))
    );

    let d = admin
        .put(
            "/api/enterprise/branding/default",
            &brand("Vendor Suite", "#000000"),
        )
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    let (_, b) = branding_of(app, &pro).await;
    assert_eq!(
        (b["productName"].clone(), b["version"].clone()),
        (json!("Vendor Suite"), json!(1))
    );

    let path = format!("/api/enterprise/customers/{}/branding", pro.install_id);
    admin.put(&path, &brand("Own", "#abcdef")).await;
    admin.put(&path, &brand("Own 2", "#abcdef")).await;
    let (_, b) = branding_of(app, &pro).await;
    assert_eq!(
        (b["productName"].clone(), b["version"].clone()),
        (json!("Own 2"), json!(3))
    );

    let shown = admin.get(&path).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.body["level"], "none");
    assert_eq!(shown.body["branding"]["version"], 2);
    assert_eq!(shown.body["effective"]["productName"], "Own 2");
    let got = admin.get("/api/enterprise/branding/default").await;
    assert_eq!(
        got.body["branding"]["settings"]["productName"],
        "Vendor Suite"
    );

    // The editor page with its live preview: our own script, no inline code.
    let page = admin
        .client
        .get(format!(
            "{}/admin/customers/{}/branding",
            app.base, pro.install_id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("/assets/branding.js") && html.contains(&path) && !html.contains("<script>"),
        "{html}"
    );
    assert_eq!(
        reqwest::get(format!("{}/assets/branding.js", app.base))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let default_page = admin
        .client
        .get(format!("{}/admin/branding", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(default_page.status(), StatusCode::OK);

    // Unknown customer: 404; audit records the change.
    admin
        .put(
            "/api/enterprise/customers/nobody-install-1/branding",
            &brand("X", "#000000"),
        )
        .await
        .assert_error(404, "not_found");
    let audit = admin.get("/api/enterprise/audit?limit=50").await;
    assert!(
        audit.body.to_string().contains("branding.update"),
        "{}",
        audit.body
    );
}

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00";

async fn upload(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let admin = app.admin().await;
    let resp = admin
        .client
        .put(format!("{}{path}", app.base))
        .header("Content-Type", content_type)
        .header("X-CSRF-Token", admin.csrf.clone().unwrap())
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn logos_are_stored_served_and_checked(app: &TestApp) {
    let pro = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    let path = format!("/api/enterprise/customers/{}/branding/logo", pro.install_id);
    let (status, body) = upload(app, &path, "image/png", PNG.to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["branding"]["logo"]["contentType"], "image/png");

    let (_, b) = branding_of(app, &pro).await;
    let logo = b["logoUrl"].as_str().unwrap().to_owned();
    assert!(
        logo.starts_with(&format!("/branding/logo/{}/", pro.install_id)),
        "{logo}"
    );
    let served = reqwest::get(format!("{}{logo}", app.base)).await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert!(served.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);
    assert_eq!(b["version"], 1);

    // An SVG with a script, a PNG declared as SVG, a GIF: refused, nothing changes.
    let script_svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    let (status, body) = upload(app, &path, "image/svg+xml", script_svg).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_field");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("script"),
        "{body}"
    );
    let onload = br#"<svg onload="alert(1)"/>"#.to_vec();
    assert_eq!(
        upload(app, &path, "image/svg+xml", onload).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        upload(app, &path, "image/svg+xml", PNG.to_vec()).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        upload(app, &path, "image/gif", b"GIF89a....".to_vec())
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (_, after) = branding_of(app, &pro).await;
    assert_eq!(after["version"], 1);

    // A 20 MB logo is refused before it is read.
    let secret = app.token_secret().await;
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {secret}\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n\x7fPNG",
        20 * 1024 * 1024
    );
    raw_request(&app.base, head.as_bytes())
        .await
        .assert_error(413, "body_too_large");

    // A safe SVG passes and is served with a CSP that runs nothing.
    let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="4" height="4" fill="#123456"/></svg>"##.to_vec();
    let (status, body) = upload(app, &path, "image/svg+xml", svg).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = body["branding"]["logoUrl"].as_str().unwrap().to_owned();
    let served = reqwest::get(format!("{}{url}", app.base)).await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/svg+xml");
    assert!(served.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    // The old logo's URL is gone.
    assert_eq!(
        reqwest::get(format!("{}{logo}", app.base))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

async fn bad_brand_values_are_refused(app: &TestApp) {
    let admin = app.admin().await;
    let pro = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    let path = format!("/api/enterprise/customers/{}/branding", pro.install_id);
    let cases = [
        ("primaryColor", json!("red;}</style><script>")),
        ("secondaryColor", json!("#12345")),
        ("logoUrl", json!("javascript:alert(1)")),
        ("supportUrl", json!("ftp://files.acme.example")),
        ("supportEmail", json!("not-an-address")),
        ("cssVariables", json!({ "--x": "red;}</style><script>" })),
        (
            "cssVariables",
            json!({ "--x": "url(https://evil.example/x)" }),
        ),
        ("cssVariables", json!({ "color": "red" })),
        ("productName", json!("")),
    ];
    for (field, value) in cases {
        let mut body = brand("Acme", "#112233");
        body[field] = value.clone();
        let resp = admin.put(&path, &body).await;
        resp.assert_error(422, "invalid_field");
        assert!(
            resp.body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{field}: {}",
            resp.body
        );
    }
    let mut unknown = brand("Acme", "#112233");
    unknown["script"] = json!("<script>");
    admin
        .put(&path, &unknown)
        .await
        .assert_error(422, "invalid_body");
    let (_, b) = branding_of(app, &pro).await;
    assert_eq!(
        (b["version"].clone(), b["productName"].clone()),
        (json!(0), json!("CALOS")),
        "nothing was stored"
    );
}

async fn the_sdk_fetches_the_branding(app: &TestApp) {
    let admin = app.admin().await;
    let pro = new_install(app, "pro", json!({ "trialDays": 0 })).await;
    admin
        .put(
            &format!("/api/enterprise/customers/{}/branding", pro.install_id),
            &brand("Acme ERP", "#112233"),
        )
        .await;
    let path = format!("/api/enterprise/customers/{}/branding/logo", pro.install_id);
    assert_eq!(
        upload(app, &path, "image/png", PNG.to_vec()).await.0,
        StatusCode::OK
    );
    let dir = tempfile::tempdir().unwrap();
    let client = calos_client::Client::builder()
        .server(&app.base)
        .install_id(&pro.install_id)
        .license_key(&pro.license_key)
        .data_dir(dir.path())
        .build()
        .unwrap();
    let b = client.branding().await.expect("branding");
    assert_eq!(b.level, calos_core::branding::BrandingLevel::None);
    assert!(!b.shows_powered_by());
    assert_eq!((b.product_name.as_str(), b.version), ("Acme ERP", 2));
    assert_eq!(b.css_variables["--brand-primary"], "#112233");
    let logo = b.logo_url.clone().unwrap();
    assert!(logo.starts_with(&app.base), "{logo}");
    assert_eq!(
        reqwest::get(&logo)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        PNG
    );

    let wrong = calos_client::Client::builder()
        .server(&app.base)
        .install_id(&pro.install_id)
        .license_key("calos_lk_wrong-key-0000000000000000000000000000")
        .data_dir(tempfile::tempdir().unwrap().path())
        .build()
        .unwrap();
    match wrong.branding().await {
        Err(calos_client::CallError::Status { status, .. }) => assert_eq!(status, 401),
        other => panic!("expected 401, got {other:?}"),
    }
}
