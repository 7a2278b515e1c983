//! The admin-management pages (`/admin/admins`, `/admin/tokens`,
//! `/admin/audit`, `/admin/audit.csv`) and the audit filters of
//! `GET /api/enterprise/audit`: who may open them, CSRF on the changes
//! they make, escaping, the CSV export and hostile filter values.

use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{Api, TestApp};

both_backends!(
    pages_render_for_the_owner,
    signed_out_pages_redirect_to_login,
    roles_without_admin_management_get_403,
    changes_without_csrf_are_refused,
    admins_page_follows_changes_and_enable_restores_login,
    enable_is_for_admin_managers_and_owners_of_owners,
    tokens_page_shows_prefix_never_secret,
    audit_page_and_csv_apply_filters,
    audit_api_filters_and_pages,
    injection_strings_in_filters_are_harmless,
);

const PASSWORD: &str = "page-test-password-1";
const INJECTIONS: [&str; 3] = [
    "' OR '1'='1",
    "x'); DROP TABLE audit_log; --",
    "%' OR 1=1 --",
];
const CSV_HEADER: &str = "id,at,actor,action,targetType,targetId,ip,before,after";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// GET `path` with `api`'s session; status, headers and the body as text.
async fn page(api: &Api, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let resp = api
        .client
        .get(format!("{}{path}", api.base))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// A new admin with `role` made by `owner`; its numeric id.
async fn add_admin(owner: &Api, username: &str, role: &str) -> i64 {
    let made = owner
        .post(
            "/api/enterprise/admins",
            &json!({ "username": username, "role": role, "password": PASSWORD }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.body["admin"]["id"].as_i64().unwrap()
}

/// A cookie session of `username`, with its CSRF token for changes.
async fn login(app: &TestApp, username: &str) -> Result<Api, StatusCode> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let resp = client
        .post(format!("{}/api/auth/login", app.base))
        .json(&json!({ "username": username, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    if resp.status() != StatusCode::OK {
        return Err(resp.status());
    }
    let body: Value = resp.json().await.unwrap();
    Ok(Api {
        client,
        base: app.base.clone(),
        csrf: Some(body["csrfToken"].as_str().unwrap().to_owned()),
    })
}

async fn session_with_role(app: &TestApp, owner: &Api, role: &str) -> Api {
    let username = unique(role);
    add_admin(owner, &username, role).await;
    login(app, &username).await.expect("login")
}

/// `raw` appears in `body` with `<`, `>` and `"` as character references.
fn shown_escaped(body: &str, raw: &str) -> bool {
    let numeric = raw
        .replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;");
    body.contains(&numeric) && !body.contains(raw)
}

async fn pages_render_for_the_owner(app: &TestApp) {
    let owner = app.admin().await;
    for (path, marker) in [
        ("/admin/admins", "id=\"admins-table\""),
        ("/admin/tokens", "id=\"open-create-token\""),
        ("/admin/audit", "id=\"audit-filters\""),
    ] {
        let (status, headers, body) = page(&owner, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert!(body.contains(marker), "{path}: {body}");
        let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!body.contains("<script>"), "{path}: no inline script");
        assert!(!body.contains("style=\""), "{path}: no inline style");
        for link in [
            "href=\"/admin/audit\"",
            "href=\"/admin/admins\"",
            "href=\"/admin/tokens\"",
        ] {
            assert!(body.contains(link), "{path}: nav link {link}");
        }
        assert!(body.contains("aria-current=\"page\""), "{path}");
    }
    let (_, _, admins) = page(&owner, "/admin/admins").await;
    assert!(admins.contains("data-username=\"admin\""), "{admins}");
    assert!(
        admins.contains("<option value=\"owner\""),
        "an owner may grant owner"
    );
    let (_, _, audit) = page(&owner, "/admin/audit").await;
    assert!(
        audit.contains("admin.create"),
        "the first admin's record: {audit}"
    );
    for asset in ["admins.js", "tokens.js", "nav.js"] {
        let (status, headers, _) = page(&owner, &format!("/assets/{asset}")).await;
        assert_eq!(status, StatusCode::OK, "{asset}");
        assert!(headers[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"));
    }
}

async fn signed_out_pages_redirect_to_login(app: &TestApp) {
    for (path, next) in [
        ("/admin/admins", "%2Fadmin%2Fadmins"),
        ("/admin/tokens", "%2Fadmin%2Ftokens"),
        (
            "/admin/audit?action=license",
            "%2Fadmin%2Faudit%3Faction%3Dlicense",
        ),
        ("/admin/audit.csv", "%2Fadmin%2Faudit%2Ecsv"),
    ] {
        let resp = no_redirects()
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            resp.headers()[LOCATION].to_str().unwrap(),
            format!("/login?next={next}"),
            "{path}"
        );
    }
}

async fn roles_without_admin_management_get_403(app: &TestApp) {
    let owner = app.admin().await;
    for role in ["sales", "support", "viewer"] {
        let api = session_with_role(app, &owner, role).await;
        for path in ["/admin/admins", "/admin/tokens"] {
            let (status, _, body) = page(&api, path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} {path}");
            assert!(body.contains("Not allowed"), "{body}");
            assert!(body.contains(&format!("({role})")), "{body}");
            assert!(!body.contains("data-admin-id"), "no admin data leaks");
        }
        // Every role reads the audit log (as the API allows).
        let (status, _, body) = page(&api, "/admin/audit").await;
        assert_eq!(status, StatusCode::OK, "{role}: {body}");
        let (status, _, csv) = page(&api, "/admin/audit.csv").await;
        assert_eq!(status, StatusCode::OK, "{role}");
        assert!(csv.starts_with(CSV_HEADER));
        // And the API behind the hidden controls refuses them too.
        api.post("/api/enterprise/tokens", &json!({ "name": "not allowed" }))
            .await
            .assert_error(403, "forbidden");
        api.post_empty("/api/enterprise/admins/1/enable")
            .await
            .assert_error(403, "forbidden");
    }
}

async fn changes_without_csrf_are_refused(app: &TestApp) {
    let owner = app.admin().await;
    let id = add_admin(&owner, &unique("target"), "viewer").await;
    let token = owner
        .post("/api/enterprise/tokens", &json!({ "name": "kept" }))
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "{}", token.body);
    let token_id = token.body["token"]["id"].as_i64().unwrap();
    let before = (
        owner.get("/api/enterprise/admins").await.body,
        owner.get("/api/enterprise/tokens").await.body,
        owner.get("/api/enterprise/audit?limit=1000").await.body,
    );
    for (path, body) in [
        (
            "/api/enterprise/admins".to_owned(),
            json!({ "username": "nocsrf", "role": "viewer" }),
        ),
        (
            format!("/api/enterprise/admins/{id}/role"),
            json!({ "role": "admin" }),
        ),
        (format!("/api/enterprise/admins/{id}/disable"), json!({})),
        (format!("/api/enterprise/admins/{id}/enable"), json!({})),
        (
            format!("/api/enterprise/admins/{id}/reset-password"),
            json!({}),
        ),
        (
            "/api/enterprise/tokens".to_owned(),
            json!({ "name": "nocsrf" }),
        ),
        (
            format!("/api/enterprise/tokens/{token_id}/revoke"),
            json!({}),
        ),
    ] {
        owner
            .post_without_csrf(&path, &body)
            .await
            .assert_error(403, "csrf");
        // A wrong token is as bad as none.
        let wrong = owner
            .client
            .post(format!("{}{path}", owner.base))
            .header("X-CSRF-Token", "not-the-token")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let after = (
        owner.get("/api/enterprise/admins").await.body,
        owner.get("/api/enterprise/tokens").await.body,
        owner.get("/api/enterprise/audit?limit=1000").await.body,
    );
    assert_eq!(before, after, "nothing changed");
}

async fn admins_page_follows_changes_and_enable_restores_login(app: &TestApp) {
    let owner = app.admin().await;
    let name = unique("dana");
    let id = add_admin(&owner, &name, "viewer").await;
    let row_of = |body: &str| -> String {
        let start = body
            .find(&format!("data-admin-id=\"{id}\" data-username"))
            .expect("the row");
        let row = &body[start..];
        row[..row.find("</tr>").unwrap()].to_owned()
    };
    let (_, _, body) = page(&owner, "/admin/admins").await;
    let row = row_of(&body);
    assert!(row.contains("data-role=\"viewer\""), "{row}");
    assert!(row.contains("data-admin-action=\"disable\""), "{row}");

    let changed = owner
        .post(
            &format!("/api/enterprise/admins/{id}/role"),
            &json!({ "role": "support" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let disabled = owner
        .post_empty(&format!("/api/enterprise/admins/{id}/disable"))
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    let (_, _, body) = page(&owner, "/admin/admins").await;
    let row = row_of(&body);
    assert!(row.contains("data-role=\"support\""), "{row}");
    assert!(row.contains("data-disabled=\"true\""), "{row}");
    assert!(row.contains("data-admin-action=\"enable\""), "{row}");
    assert_eq!(
        login(app, &name).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );

    let enabled = owner
        .post_empty(&format!("/api/enterprise/admins/{id}/enable"))
        .await;
    assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.body);
    assert_eq!(enabled.body["admin"]["disabled"], false);
    assert!(login(app, &name).await.is_ok(), "enabled again");
    let audit = owner
        .get(&format!(
            "/api/enterprise/audit?action=admin.enable&targetId={id}"
        ))
        .await;
    assert_eq!(audit.body["total"], 1, "{}", audit.body);
    assert_eq!(audit.body["audit"][0]["before"]["disabled"], true);
    assert_eq!(audit.body["audit"][0]["after"]["disabled"], false);

    // A reset password is shown once and works; the page never shows it.
    let reset = owner
        .post_empty(&format!("/api/enterprise/admins/{id}/reset-password"))
        .await;
    let new_password = reset.body["password"].as_str().unwrap().to_owned();
    let (_, _, body) = page(&owner, "/admin/admins").await;
    assert!(!body.contains(&new_password));
}

async fn enable_is_for_admin_managers_and_owners_of_owners(app: &TestApp) {
    let owner = app.admin().await;
    let other_owner = add_admin(&owner, &unique("owner"), "owner").await;
    owner
        .post_empty(&format!("/api/enterprise/admins/{other_owner}/disable"))
        .await;
    let manager = session_with_role(app, &owner, "admin").await;
    // An admin may not enable (or otherwise change) an owner.
    manager
        .post_empty(&format!("/api/enterprise/admins/{other_owner}/enable"))
        .await
        .assert_error(403, "forbidden");
    let (_, _, body) = page(&manager, "/admin/admins").await;
    assert!(body.contains("only an owner may change an owner"), "{body}");
    assert!(
        !body.contains("<option value=\"owner\""),
        "an admin cannot grant owner"
    );
    manager
        .post_empty("/api/enterprise/admins/999999/enable")
        .await
        .assert_error(404, "not_found");
    manager
        .post_empty("/api/enterprise/admins/abc/enable")
        .await
        .assert_error(422, "invalid_field");
    let viewer = add_admin(&owner, &unique("viewer"), "viewer").await;
    owner
        .post_empty(&format!("/api/enterprise/admins/{viewer}/disable"))
        .await;
    let ok = manager
        .post_empty(&format!("/api/enterprise/admins/{viewer}/enable"))
        .await;
    assert_eq!(
        ok.status,
        StatusCode::OK,
        "an admin enables a viewer: {}",
        ok.body
    );
    let ok = owner
        .post_empty(&format!("/api/enterprise/admins/{other_owner}/enable"))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

async fn tokens_page_shows_prefix_never_secret(app: &TestApp) {
    let owner = app.admin().await;
    let hostile = "<img src=x onerror=alert(1)> \"ci\"";
    let made = owner
        .post(
            "/api/enterprise/tokens",
            &json!({ "name": hostile, "role": "viewer", "expiresDays": 30 }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let secret = made.body["secret"].as_str().unwrap().to_owned();
    let prefix = made.body["token"]["prefix"].as_str().unwrap().to_owned();
    let id = made.body["token"]["id"].as_i64().unwrap();
    let (status, _, body) = page(&owner, "/admin/tokens").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&prefix), "{body}");
    assert!(!body.contains(&secret), "the secret is never on the page");
    assert!(shown_escaped(&body, hostile), "{body}");
    let start = body.find(&format!("data-token-id=\"{id}\"")).unwrap();
    let row = &body[start..start + body[start..].find("</tr>").unwrap()];
    assert!(row.contains("data-status=\"active\""), "{row}");
    assert!(row.contains(">viewer<"), "role scope shown: {row}");
    assert!(row.contains(">admin<"), "owner shown: {row}");
    assert!(row.contains("data-token-action=\"revoke\""), "{row}");

    let revoked = owner
        .post_empty(&format!("/api/enterprise/tokens/{id}/revoke"))
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    let (_, _, body) = page(&owner, "/admin/tokens").await;
    let start = body.find(&format!("data-token-id=\"{id}\"")).unwrap();
    let row = &body[start..start + body[start..].find("</tr>").unwrap()];
    assert!(row.contains("data-status=\"revoked\""), "{row}");
    assert!(
        !row.contains("data-token-action"),
        "no revoke button: {row}"
    );
}

fn csv_lines(csv: &str) -> Vec<&str> {
    csv.trim_end().lines().collect()
}

async fn audit_page_and_csv_apply_filters(app: &TestApp) {
    let owner = app.admin().await;
    let a = app.create_license(&owner, "pro", json!({})).await;
    let a = a["installId"].as_str().unwrap().to_owned();
    let b = app.create_license(&owner, "pro", json!({})).await;
    let b = b["installId"].as_str().unwrap().to_owned();
    // A username a spreadsheet would read as a formula.
    add_admin(&owner, "@cmd", "viewer").await;

    let (status, headers, csv) = page(&owner, "/admin/audit.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let all = csv_lines(&csv);
    assert_eq!(all[0], CSV_HEADER);
    assert!(all.len() >= 5, "{csv}");
    assert!(csv.contains(",'@cmd,"), "formula neutralised: {csv}");
    assert!(!csv.contains(",@cmd,"), "{csv}");

    let (_, _, csv) = page(&owner, &format!("/admin/audit.csv?targetId={a}")).await;
    let lines = csv_lines(&csv);
    assert_eq!(lines[0], CSV_HEADER);
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].contains(&a) && lines[1].contains("license.create"),
        "{csv}"
    );
    assert!(!csv.contains(&b));

    let (_, _, csv) = page(&owner, "/admin/audit.csv?action=admin").await;
    let lines = csv_lines(&csv);
    assert!(lines.len() >= 2, "{csv}");
    assert!(lines[1..].iter().all(|l| l.contains(",admin.")), "{csv}");

    let (_, _, csv) = page(
        &owner,
        "/admin/audit.csv?actor=admin%3Aadmin&action=license",
    )
    .await;
    assert_eq!(csv_lines(&csv).len(), 3, "the two creations: {csv}");

    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let (_, _, csv) = page(&owner, &format!("/admin/audit.csv?from={tomorrow}")).await;
    assert_eq!(
        csv_lines(&csv),
        vec![CSV_HEADER],
        "nothing from tomorrow on"
    );
    let (_, _, csv) = page(&owner, &format!("/admin/audit.csv?from={today}&to={today}")).await;
    assert_eq!(csv_lines(&csv).len(), all.len(), "today covers everything");

    // The page: the same filters, kept in the form and the CSV link.
    let (status, _, body) = page(&owner, &format!("/admin/audit?targetId={a}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&format!("value=\"{a}\"")), "filter kept");
    assert!(
        body.contains(&format!(
            "href=\"/admin/audit.csv?targetId={}\"",
            a.replace('-', "%2D")
        )),
        "{body}"
    );
    assert!(body.contains(&format!(
        "href=\"/admin/customers/{}\"",
        a.replace('-', "%2D")
    )));
    assert_eq!(body.matches("data-audit-id=").count(), 1, "{body}");
    assert!(!body.contains(&b));
    let (status, _, body) = page(&owner, "/admin/audit?from=soon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("Invalid filter: from must be a date"),
        "{body}"
    );
    let (status, _, body) = page(&owner, "/admin/audit.csv?to=later").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

async fn audit_api_filters_and_pages(app: &TestApp) {
    let owner = app.admin().await;
    for _ in 0..3 {
        app.create_license(&owner, "pro", json!({})).await;
    }
    let all = owner.get("/api/enterprise/audit?action=license").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(all.body["total"], 3);
    let p1 = owner
        .get("/api/enterprise/audit?action=license&limit=2&page=1")
        .await;
    let p2 = owner
        .get("/api/enterprise/audit?action=license&limit=2&page=2")
        .await;
    assert_eq!(
        (p1.body["page"].as_u64(), p1.body["perPage"].as_u64()),
        (Some(1), Some(2))
    );
    let ids = |v: &Value| -> Vec<i64> {
        v["audit"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    let mut paged = ids(&p1.body);
    paged.extend(ids(&p2.body));
    assert_eq!(paged, ids(&all.body), "pages in order, no overlap");
    let by_actor = owner
        .get("/api/enterprise/audit?actor=ADMIN:admin&action=license.create")
        .await;
    assert_eq!(by_actor.body["total"], 3, "{}", by_actor.body);
    let none = owner.get("/api/enterprise/audit?actor=token:").await;
    assert_eq!(none.body["total"], 0);
    // The old parameters still work.
    let old = owner
        .get("/api/enterprise/audit?targetType=license&limit=1")
        .await;
    assert_eq!(old.body["audit"].as_array().unwrap().len(), 1);
    for bad in [
        "from=yesterday",
        "to=2025-13-01",
        "from=2025-03-02&to=2025-03-01",
        "page=0",
        "limit=5000",
        "nope=1",
    ] {
        owner
            .get(&format!("/api/enterprise/audit?{bad}"))
            .await
            .assert_error(400, "invalid_query");
    }
    let long = "a".repeat(201);
    owner
        .get(&format!("/api/enterprise/audit?actor={long}"))
        .await
        .assert_error(400, "invalid_query");
}

async fn injection_strings_in_filters_are_harmless(app: &TestApp) {
    let owner = app.admin().await;
    app.create_license(&owner, "pro", json!({})).await;
    let before = owner.get("/api/enterprise/audit?limit=1000").await.body;
    let total = before["total"].as_u64().unwrap();
    assert!(total >= 2);
    for hostile in INJECTIONS {
        let q = utf8(hostile);
        for key in ["actor", "action", "targetType", "targetId"] {
            let api = owner.get(&format!("/api/enterprise/audit?{key}={q}")).await;
            assert_eq!(api.status, StatusCode::OK, "{key}={hostile}: {}", api.body);
            assert_eq!(api.body["total"], 0, "{key}={hostile}: {}", api.body);
            let (status, _, body) = page(&owner, &format!("/admin/audit?{key}={q}")).await;
            assert_eq!(status, StatusCode::OK, "{key}={hostile}");
            assert!(
                body.contains("No audit record matches this filter"),
                "{body}"
            );
            let (status, _, csv) = page(&owner, &format!("/admin/audit.csv?{key}={q}")).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(csv_lines(&csv), vec![CSV_HEADER], "{key}={hostile}");
        }
        for key in ["from", "to", "page"] {
            owner
                .get(&format!("/api/enterprise/audit?{key}={q}"))
                .await
                .assert_error(400, "invalid_query");
        }
    }
    let after = owner.get("/api/enterprise/audit?limit=1000").await.body;
    assert_eq!(before, after, "the log is unchanged");
}

fn utf8(raw: &str) -> String {
    percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string()
}
