//! The admin pages over real HTTP: login redirects, security headers,
//! escaping of customer-supplied text, the CSV export and embedded assets.
//! (The browser tests in `e2e/` drive the same pages through Chromium.)

use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::TestApp;

const XSS: &str = "<img src=x onerror=alert(1)>";

both_backends!(
    pages_require_login,
    fragment_without_session_is_401,
    pages_carry_a_strict_csp,
    hostile_names_are_escaped,
    csv_export_escapes_and_neutralises_formulas,
    csv_export_follows_the_filter,
    assets_have_types_and_cache_headers,
    login_refuses_foreign_next_targets,
    customer_table_shows_health,
    health_filter_keeps_only_that_label,
);

/// The health filter on the table and on the CSV export: customers without
/// telemetry are "not enough data", none of them "excellent".
async fn health_filter_keeps_only_that_label(app: &TestApp) {
    let api = app.admin().await;
    let made = app.create_license(&api, "pro", json!({})).await;
    let id = made["installId"].as_str().unwrap();
    let (status, _, body) = get_page(app, "/admin?health=not%20enough%20data").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(&format!("data-install-id=\"{id}\"")),
        "{body}"
    );
    assert!(
        body.contains("<option value=\"not enough data\" selected>"),
        "the filter is kept"
    );
    let (_, _, body) = get_page(app, "/admin?health=excellent").await;
    assert!(
        !body.contains(&format!("data-install-id=\"{id}\"")),
        "{body}"
    );
    assert!(body.contains("No customers match this filter"), "{body}");
    let (_, _, csv) = get_page(app, "/admin/customers.csv?health=not%20enough%20data").await;
    assert!(csv.contains(id), "{csv}");
    let (_, _, csv) = get_page(app, "/admin/customers.csv?health=excellent").await;
    assert!(!csv.contains(id), "{csv}");
    let (_, _, body) = get_page(app, "/admin?health=bogus").await;
    assert!(
        body.contains("Ignored unknown filter values: health"),
        "{body}"
    );
}

/// Each row carries the analyzer's health: a customer with no telemetry says
/// so rather than showing a made-up score.
async fn customer_table_shows_health(app: &TestApp) {
    let api = app.admin().await;
    let made = app.create_license(&api, "pro", json!({})).await;
    let id = made["installId"].as_str().unwrap();
    let (status, _, body) = get_page(app, "/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<th scope=\"col\">Health</th>"), "{body}");
    let row_start = body
        .find(&format!("data-install-id=\"{id}\""))
        .expect("the row");
    let row = &body[row_start..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("data-health=\"not enough data\""), "{row}");
    assert!(row.contains("<strong>—</strong>"), "{row}");
}

/// `raw` appears in `body` with its `<` and `>` as character references
/// (askama writes `&#60;`; `&lt;` would do as well).
fn shown_escaped(body: &str, raw: &str) -> bool {
    let numeric = raw.replace('<', "&#60;").replace('>', "&#62;");
    let named = raw.replace('<', "&lt;").replace('>', "&gt;");
    body.contains(&numeric) || body.contains(&named)
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn get_page(app: &TestApp, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let api = app.admin().await;
    let resp = api
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

async fn pages_require_login(app: &TestApp) {
    for (path, next) in [
        ("/admin", "%2Fadmin"),
        (
            "/enterprise-dashboard.html",
            "%2Fenterprise%2Ddashboard%2Ehtml",
        ),
        (
            "/culture-profile.html?install_id=demo-install-abc123456789abcdef",
            "%2Fculture%2Dprofile%2Ehtml%3Finstall%5Fid%3Ddemo%2Dinstall%2Dabc123456789abcdef",
        ),
        ("/admin/customers.csv", "%2Fadmin%2Fcustomers%2Ecsv"),
    ] {
        let resp = no_redirects()
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{path}");
        let location = resp.headers()[LOCATION].to_str().unwrap();
        assert_eq!(location, format!("/login?next={next}"), "{path}");
    }
}

async fn fragment_without_session_is_401(app: &TestApp) {
    let resp = no_redirects()
        .get(format!("{}/admin/fragments/customers", app.base))
        .header("x-calos-fragment", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

async fn pages_carry_a_strict_csp(app: &TestApp) {
    for path in ["/admin", "/culture-profile.html", "/login"] {
        let (status, headers, body) = get_page(app, path).await;
        // A logged-in /login redirects on to /admin, which is followed.
        assert_eq!(status, StatusCode::OK, "{path}");
        let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("style-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(
            !body.contains("<script>") && !body.contains(" style=\""),
            "{path}: inline script or style in the page"
        );
    }
}

async fn hostile_names_are_escaped(app: &TestApp) {
    let api = app.admin().await;
    let made = api
        .post(
            "/api/enterprise/create-license",
            &json!({
                "customer": { "name": XSS, "email": "xss@evil.example", "company": "\"><script>alert(2)</script>" },
                "tier": "pro",
                "notes": "<b>bold</b>",
            }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = made.body["installId"].as_str().unwrap();
    for path in [
        "/admin?q=evil.example".to_owned(),
        format!("/admin/customers/{id}"),
        format!("/culture-profile.html?install_id={id}"),
        "/culture-profile.html?q=evil".to_owned(),
    ] {
        let (status, _, body) = get_page(app, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(shown_escaped(&body, XSS), "{path}: name not shown escaped");
        assert!(
            !body.contains("<img src=x"),
            "{path}: raw markup in the page"
        );
        assert!(
            !body.contains("<script>alert(2)"),
            "{path}: raw script in the page"
        );
    }
    let (_, _, profile) = get_page(app, &format!("/admin/customers/{id}")).await;
    assert!(shown_escaped(&profile, "<b>bold</b>"), "notes escaped");
}

async fn csv_export_escapes_and_neutralises_formulas(app: &TestApp) {
    let api = app.admin().await;
    let made = api
        .post(
            "/api/enterprise/create-license",
            &json!({
                "customer": { "name": "=HYPERLINK(\"http://evil.example\",\"x\")", "email": "csv@formula.example", "company": "Acme, \"Inc\"" },
                "tier": "pro",
            }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let (status, headers, body) = get_page(app, "/admin/customers.csv?q=formula.example").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert!(lines[0].starts_with("installId,name,email,company,tier,status"));
    assert!(
        lines[1].contains(r#""'=HYPERLINK(""http://evil.example"",""x"")""#),
        "formula not neutralised or not quoted: {}",
        lines[1]
    );
    assert!(
        lines[1].contains(r#""Acme, ""Inc""""#),
        "comma/quote not escaped: {}",
        lines[1]
    );
}

async fn csv_export_follows_the_filter(app: &TestApp) {
    let api = app.admin().await;
    app.create_license(&api, "pro", json!({})).await;
    app.create_license(&api, "enterprise", json!({})).await;
    let (status, _, body) = get_page(app, "/admin/customers.csv?tier=enterprise").await;
    assert_eq!(status, StatusCode::OK);
    let rows: Vec<&str> = body.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{body}");
    assert!(rows[0].contains(",enterprise,"), "{body}");
}

async fn assets_have_types_and_cache_headers(app: &TestApp) {
    let client = no_redirects();
    for (path, ty) in [
        ("/assets/app.css", "text/css; charset=utf-8"),
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/assets/dashboard.js", "text/javascript; charset=utf-8"),
        ("/assets/favicon.svg", "image/svg+xml"),
    ] {
        let resp = client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()[CONTENT_TYPE], ty, "{path}");
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        assert!(resp.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age"));
        let etag = resp.headers()["etag"].clone();
        let again = client
            .get(format!("{}{path}", app.base))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }
    let missing = client
        .get(format!("{}/assets/nope.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

async fn login_refuses_foreign_next_targets(app: &TestApp) {
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let resp = no_redirects()
            .get(format!("{}/login", app.base))
            .query(&[("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let body = resp.text().await.unwrap();
        assert!(body.contains("data-next=\"/admin\""), "{next}: {body}");
    }
}
