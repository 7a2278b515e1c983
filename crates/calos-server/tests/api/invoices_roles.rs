//! Who may do what with invoices (README "Invoices" → roles): every role
//! reads; owner, admin and sales generate, edit drafts and issue; only owner
//! and admin record payments, void and edit the billing profile. Each call
//! is made by an API token of each role; a refusal is 403 `forbidden`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use calos_core::auth::Role;

use crate::helpers::{Api, TestApp};
use crate::invoices::{generate, profile_body, set_profile, this_month};
use crate::roles::client_with_role;

crate::both_backends!(invoice_routes_answer_each_role_as_documented);

/// (method, path with `{id}` for a fresh draft or `{issued}` for a fresh
/// issued invoice, body, allowed for owner/admin/sales/support/viewer).
const CASES: &[(&str, &str, &str)] = &[
    ("GET", "/api/enterprise/invoices", "YYYYY"),
    ("GET", "/api/enterprise/invoices.csv", "YYYYY"),
    ("GET", "/api/enterprise/invoices/{id}", "YYYYY"),
    ("GET", "/api/enterprise/invoices/{id}/pdf", "YYYYY"),
    ("GET", "/api/enterprise/billing-profile", "YYYYY"),
    ("POST", "/api/enterprise/invoices/generate", "YYY--"),
    ("PATCH", "/api/enterprise/invoices/{id}", "YYY--"),
    ("POST", "/api/enterprise/invoices/{id}/issue", "YYY--"),
    ("POST", "/api/enterprise/invoices/{issued}/pay", "YY---"),
    ("POST", "/api/enterprise/invoices/{issued}/void", "YY---"),
    ("PUT", "/api/enterprise/billing-profile", "YY---"),
];

const ROLES: [Role; 5] = [
    Role::Owner,
    Role::Admin,
    Role::Sales,
    Role::Support,
    Role::Viewer,
];

/// A fresh draft (issued when `issue`), of a new customer.
async fn fresh(app: &TestApp, owner: &Api, issue: bool) -> i64 {
    let id = app.create_license(owner, "pro", json!({})).await["installId"]
        .as_str()
        .unwrap()
        .to_owned();
    let made = generate(owner, json!({ "month": this_month(), "installId": id })).await;
    let invoice = made["created"][0]["id"].as_i64().unwrap();
    if issue {
        let r = owner
            .post_empty(&format!("/api/enterprise/invoices/{invoice}/issue"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    invoice
}

fn body_for(path: &str) -> Value {
    match path.rsplit('/').next().unwrap_or_default() {
        "generate" => json!({ "month": this_month() }),
        "pay" => json!({ "reference": "role table" }),
        "void" => json!({ "reason": "role table" }),
        "billing-profile" => profile_body(),
        "{id}" => json!({ "notes": "role table" }),
        _ => Value::Null,
    }
}

async fn invoice_routes_answer_each_role_as_documented(app: &TestApp) {
    let owner = app.token_client().await;
    set_profile(&owner).await;
    let mut mismatches = Vec::new();
    for (column, role) in ROLES.into_iter().enumerate() {
        let api = client_with_role(app, role).await;
        for (method, template, allowed) in CASES {
            let allowed = allowed.as_bytes()[column] == b'Y';
            let path = if template.contains("{issued}") {
                template.replace("{issued}", &fresh(app, &owner, true).await.to_string())
            } else if template.contains("{id}") {
                template.replace("{id}", &fresh(app, &owner, false).await.to_string())
            } else {
                (*template).to_owned()
            };
            let body = body_for(template);
            let resp = match *method {
                "GET" => api.get(&path).await,
                "POST" if body.is_null() => api.post_empty(&path).await,
                "POST" => api.post(&path, &body).await,
                "PUT" => api.put(&path, &body).await,
                "PATCH" => api.patch(&path, &body).await,
                other => panic!("no client method for {other}"),
            };
            let ok = if allowed {
                resp.status.is_success()
            } else {
                resp.status.as_u16() == 403 && resp.code() == "forbidden"
            };
            if !ok {
                mismatches.push(format!(
                    "{} {method} {template}: got {} {}",
                    role.as_str(),
                    resp.status,
                    resp.body
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
