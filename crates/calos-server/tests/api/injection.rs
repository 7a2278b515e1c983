//! SQL injection: classic strings (quotes, comments, stacked statements,
//! UNION, LIKE wildcards, Unicode look-alike quotes) in every filter, search,
//! sort, path parameter and id of the admin API, the pages and the public API.
//! Answers are 4xx or 200 with nothing matched — never a 5xx, never more rows
//! — and afterwards every license, plan, admin and token is as it was.

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use crate::client::{Api, Resp};
use crate::helpers::TestApp;

crate::both_backends!(injection_strings_change_nothing_and_match_nothing);

const PAYLOADS: &[&str] = &[
    "' OR 1=1--",
    "' OR '1'='1",
    "\"; DROP TABLE licenses;--",
    "1; DROP TABLE licenses",
    "'); DELETE FROM licenses; --",
    "' UNION SELECT username, password_hash FROM admins--",
    "1 OR 1=1",
    "%' OR '%'='",
    "%_%",
    "\\' OR 1=1 #",
    "’ OR ‘1’=‘1",
    "ʼ OR 1=1 --",
    "＇ OR 1=1 --",
    "demo-install-abc123456789abcdef' OR 'x'='x",
];

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// No 5xx, and a 200 list matched nothing.
#[track_caller]
fn harmless(what: &str, r: &Resp) {
    assert!(
        r.status.is_client_error() || r.status.is_success(),
        "{what}: {} {}",
        r.status,
        r.body
    );
    if r.status.is_success() {
        for list in ["customers", "audit", "items"] {
            if let Some(items) = r.body[list].as_array() {
                assert!(items.is_empty(), "{what} matched rows: {}", r.body);
            }
        }
        if let Some(total) = r.body["total"].as_u64() {
            assert_eq!(total, 0, "{what}: {}", r.body);
        }
    }
}

/// A mutation through a path or body id: refused.
#[track_caller]
fn refused(what: &str, r: &Resp) {
    assert!(
        r.status.is_client_error(),
        "{what}: {} {}",
        r.status,
        r.body
    );
}

/// Everything an injection could have touched: every license's own fields
/// (not usage or last-seen, which telemetry legitimately moves), the plans,
/// the admins and the API tokens.
async fn state_of(api: &Api) -> Vec<Value> {
    let mut all = Vec::new();
    for path in [
        "/api/enterprise/customers?perPage=200",
        "/api/enterprise/plans",
        "/api/enterprise/admins",
        "/api/enterprise/tokens",
    ] {
        let r = api.get(path).await;
        assert_eq!(r.status.as_u16(), 200, "{path}: {}", r.body);
        all.push(r.body);
    }
    let licenses: Vec<Value> = all[0]["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            json!([
                c["installId"],
                c["customer"],
                c["tier"],
                c["status"],
                c["billingPeriod"],
                c["domains"],
                c["createdAt"],
                c["trialEndsAt"],
                c["currentPeriodEnd"]
            ])
        })
        .collect();
    all[0] = json!({ "total": all[0]["total"], "licenses": licenses });
    all
}

async fn injection_strings_change_nothing_and_match_nothing(app: &TestApp) {
    let admin = app.admin().await;
    let made = app.create_license(&admin, "pro", json!({})).await;
    let install = made["installId"].as_str().unwrap().to_owned();
    let key = made["licenseKey"].as_str().unwrap().to_owned();
    app.create_license(&admin, "community", json!({ "trialDays": 0 }))
        .await;
    let before = state_of(&admin).await;
    assert_eq!(before[0]["total"], 2);

    for p in PAYLOADS {
        let e = enc(p);
        // Filters, search, sort and paging of lists (API, pages, CSV export).
        for key_name in ["q", "status", "tier", "sort", "page", "perPage"] {
            let path = format!("/api/enterprise/customers?{key_name}={e}");
            let r = admin.get(&path).await;
            harmless(&path, &r);
        }
        for key_name in ["targetType", "targetId", "limit"] {
            let path = format!("/api/enterprise/audit?{key_name}={e}");
            let r = admin.get(&path).await;
            assert!(r.status.as_u16() < 500, "{path}: {}", r.body);
            if r.status.is_success() && key_name != "limit" {
                assert_eq!(r.body["audit"].as_array().map(Vec::len), Some(0), "{path}");
            }
        }
        for key_name in ["q", "status", "tier", "sort", "health", "page"] {
            for page in [
                "/admin",
                "/admin/fragments/customers",
                "/admin/customers.csv",
            ] {
                let path = format!("{page}?{key_name}={e}");
                let r = admin.get(&path).await;
                assert!(r.status.as_u16() < 500, "{path}: {}", r.status);
                if key_name == "q" && page.ends_with(".csv") && r.status.is_success() {
                    let text = r.body.as_str().unwrap_or_default();
                    assert!(!text.contains(&install), "{path} matched a customer");
                }
            }
        }
        for path in [
            format!("/culture-profile.html?install_id={e}"),
            format!("/culture-profile.html?q={e}"),
            format!("/api/enterprise/customer/{install}/usage?from={e}"),
            format!("/api/enterprise/customer/{install}/usage?to={e}"),
        ] {
            let r = admin.get(&path).await;
            assert!(r.status.as_u16() < 500, "{path}: {}", r.status);
        }

        // Path parameters: install ids, plan slugs, admin and token ids.
        for suffix in ["profile", "usage", "culture"] {
            let path = format!("/api/enterprise/customer/{e}/{suffix}");
            refused(&path, &admin.get(&path).await);
        }
        for page in [
            format!("/admin/customers/{e}"),
            format!("/admin/customers/{e}/charts/activity"),
            format!("/admin/customers/{install}/charts/{e}"),
        ] {
            refused(&page, &admin.get(&page).await);
        }
        let path = format!("/api/enterprise/customer/{e}/update-tier");
        refused(
            &path,
            &admin.post(&path, &json!({ "newTier": "enterprise" })).await,
        );
        let path = format!("/api/enterprise/customer/{install}/update-tier");
        refused(&path, &admin.post(&path, &json!({ "newTier": p })).await);
        for action in ["suspend", "reactivate", "activate", "renew", "extend-trial"] {
            let path = format!("/api/enterprise/customer/{e}/{action}");
            refused(&path, &admin.post(&path, &json!({})).await);
        }
        let path = format!("/api/enterprise/customer/{e}/timezone");
        refused(
            &path,
            &admin
                .put(&path, &json!({ "timezoneOffsetMinutes": 60 }))
                .await,
        );
        let path = format!("/api/enterprise/customer/{e}");
        refused(&path, &admin.patch(&path, &json!({ "notes": "x" })).await);
        refused(
            "revoke-license",
            &admin
                .post("/api/enterprise/revoke-license", &json!({ "installId": p }))
                .await,
        );
        let path = format!("/api/enterprise/plans/{e}");
        refused(&path, &admin.put(&path, &json!({ "name": "x" })).await);
        for action in ["role", "disable", "reset-password"] {
            let path = format!("/api/enterprise/admins/{e}/{action}");
            refused(
                &path,
                &admin.post(&path, &json!({ "role": "viewer" })).await,
            );
        }
        let path = format!("/api/enterprise/tokens/{e}/revoke");
        refused(&path, &admin.post(&path, &json!({})).await);

        // The public API: ids and keys, and strings inside telemetry events.
        let anon = app.anon();
        for (id, k) in [(*p, key.as_str()), (install.as_str(), *p)] {
            let r = anon
                .post(
                    "/api/v1/license/verify",
                    &json!({ "installId": id, "licenseKey": k, "instanceId": "i-1",
                             "version": "1.0.0", "nonce": uuid::Uuid::new_v4().simple().to_string() }),
                )
                .await;
            // A signed refusal (200, `valid: false`) or a 4xx for a malformed id.
            assert!(
                r.status.is_client_error()
                    || (r.status.as_u16() == 200
                        && r.body["valid"] == false
                        && r.body["code"] == "BAD_LICENSE_KEY"),
                "verify as {id:?}: {} {}",
                r.status,
                r.body
            );
            let r = anon
                .post(
                    "/api/v1/telemetry",
                    &json!({ "installId": id, "licenseKey": k, "events": [] }),
                )
                .await;
            refused("telemetry", &r);
        }
        let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let r = anon
            .post(
                "/api/v1/telemetry",
                &json!({ "installId": install, "licenseKey": key, "events": [
                    { "eventId": uuid::Uuid::new_v4().to_string(), "type": "feature_used",
                      "feature": p, "user": p, "session": p, "ts": ts, "userAgent": p } ] }),
            )
            .await;
        assert!(r.status.as_u16() < 500, "telemetry strings: {}", r.body);
    }

    // Nothing changed, nothing was dropped; the stored strings read back as data.
    let after = state_of(&admin).await;
    assert_eq!(before[0], after[0], "licenses changed");
    assert_eq!(before[1], after[1], "plans changed");
    assert_eq!(before[2], after[2], "admins changed");
    assert_eq!(before[3], after[3], "tokens changed");
    let profile = admin
        .get(&format!("/api/enterprise/customer/{install}/culture"))
        .await;
    assert_eq!(profile.status.as_u16(), 200, "{}", profile.body);
    let search = admin
        .get(&format!("/api/enterprise/customers?q={}", &install[..20]))
        .await;
    assert_eq!(search.body["total"], 1, "{}", search.body);
}
