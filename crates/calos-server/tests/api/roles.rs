//! The role table: every admin route, called by an admin of every role,
//! answers 2xx or 403 exactly as README's "Roles" table says.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use calos_core::audit::{Actor, AuditEntry};
use calos_core::auth::Role;
use calos_store::NewAdmin;

use crate::helpers::{bearer_client, Api, TestApp};

crate::both_backends!(every_admin_route_answers_each_role_as_documented);

/// The state a route's license must be in for an allowed call to succeed.
#[derive(Clone, Copy)]
enum Setup {
    /// No license needed.
    Nothing,
    Active,
    Trial,
    Suspended,
    /// `{id}` is a new viewer admin.
    Admin,
    /// `{id}` is a new API token.
    Token,
}

struct Case {
    method: &'static str,
    /// `{id}` is replaced by the install id of the license set up for the call.
    path: &'static str,
    setup: Setup,
    /// Allowed for owner, admin, sales, support, viewer (`Y`) or 403 (`-`):
    /// the same rows as README's table.
    allowed: &'static str,
}

const fn case(
    method: &'static str,
    path: &'static str,
    setup: Setup,
    allowed: &'static str,
) -> Case {
    Case {
        method,
        path,
        setup,
        allowed,
    }
}

/// Roles in the column order of `Case::allowed`.
const ROLES: [Role; 5] = [
    Role::Owner,
    Role::Admin,
    Role::Sales,
    Role::Support,
    Role::Viewer,
];

const CASES: &[Case] = &[
    case("GET", "/api/enterprise/stats", Setup::Nothing, "YYYYY"),
    case("GET", "/api/enterprise/customers", Setup::Nothing, "YYYYY"),
    case(
        "GET",
        "/api/enterprise/customer/{id}/profile",
        Setup::Active,
        "YYYYY",
    ),
    case(
        "GET",
        "/api/enterprise/customer/{id}/usage",
        Setup::Active,
        "YYYYY",
    ),
    case(
        "GET",
        "/api/enterprise/customer/{id}/culture",
        Setup::Active,
        "YYYYY",
    ),
    case("GET", "/api/enterprise/plans", Setup::Nothing, "YYYYY"),
    case("GET", "/api/enterprise/audit", Setup::Nothing, "YYYYY"),
    case("GET", "/api/enterprise/invoices", Setup::Nothing, "YYYYY"),
    case(
        "GET",
        "/api/enterprise/invoices.csv",
        Setup::Nothing,
        "YYYYY",
    ),
    case(
        "GET",
        "/api/enterprise/billing-profile",
        Setup::Nothing,
        "YYYYY",
    ),
    case("GET", "/api/auth/me", Setup::Nothing, "YYYYY"),
    case("POST", "/api/auth/logout", Setup::Nothing, "YYYYY"),
    case(
        "POST",
        "/api/enterprise/create-license",
        Setup::Nothing,
        "YYY--",
    ),
    case(
        "POST",
        "/api/enterprise/customer/{id}/update-tier",
        Setup::Active,
        "YYY--",
    ),
    case(
        "PATCH",
        "/api/enterprise/customer/{id}#notes",
        Setup::Active,
        "YYYY-",
    ),
    case(
        "PUT",
        "/api/enterprise/customer/{id}/timezone",
        Setup::Active,
        "YYYY-",
    ),
    case(
        "PATCH",
        "/api/enterprise/customer/{id}#domains",
        Setup::Active,
        "YY---",
    ),
    case(
        "POST",
        "/api/enterprise/customer/{id}/suspend",
        Setup::Active,
        "YY---",
    ),
    case(
        "POST",
        "/api/enterprise/customer/{id}/reactivate",
        Setup::Suspended,
        "YY---",
    ),
    case(
        "POST",
        "/api/enterprise/customer/{id}/activate",
        Setup::Trial,
        "YY---",
    ),
    case(
        "POST",
        "/api/enterprise/customer/{id}/renew",
        Setup::Active,
        "YY---",
    ),
    case(
        "POST",
        "/api/enterprise/customer/{id}/extend-trial",
        Setup::Trial,
        "YY---",
    ),
    case(
        "POST",
        "/api/enterprise/revoke-license",
        Setup::Active,
        "YY---",
    ),
    case("PUT", "/api/enterprise/plans/pro", Setup::Nothing, "YY---"),
    case("GET", "/api/enterprise/admins", Setup::Nothing, "YY---"),
    case("POST", "/api/enterprise/admins", Setup::Nothing, "YY---"),
    case(
        "POST",
        "/api/enterprise/admins/{id}/role",
        Setup::Admin,
        "YY---",
    ),
    case(
        "POST",
        "/api/enterprise/admins/{id}/disable",
        Setup::Admin,
        "YY---",
    ),
    case(
        "POST",
        "/api/enterprise/admins/{id}/reset-password",
        Setup::Admin,
        "YY---",
    ),
    case("GET", "/api/enterprise/tokens", Setup::Nothing, "YY---"),
    case("POST", "/api/enterprise/tokens", Setup::Nothing, "YY---"),
    case(
        "POST",
        "/api/enterprise/tokens/{id}/revoke",
        Setup::Token,
        "YY---",
    ),
];

/// An API-token client of a new admin with `role`, created through the store.
pub async fn client_with_role(app: &TestApp, role: Role) -> Api {
    let username = format!(
        "{}-{}",
        role.as_str(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let audit = AuditEntry {
        at: Utc::now(),
        actor: Actor::Cli,
        action: "admin.create".into(),
        target_type: "admin".into(),
        target_id: username.clone(),
        before: None,
        after: None,
        ip: None,
    };
    let admin = app
        .store()
        .create_admin(
            &NewAdmin {
                username,
                email: None,
                role,
                // Never used to log in: these admins authenticate by token.
                password_hash: "unusable".into(),
                created_at: Utc::now(),
            },
            &audit,
        )
        .await
        .unwrap();
    let issued = calos_server::auth::token::issue(admin.id, "roles".into(), Utc::now(), None);
    app.store()
        .create_api_token(&issued.record, &audit)
        .await
        .unwrap();
    bearer_client(&app.base, &issued.secret)
}

/// A license in the state `setup` names (or an admin, a token), made by the
/// owner; its install id (or numeric id).
async fn prepare(app: &TestApp, owner: &Api, setup: Setup) -> String {
    if let Setup::Admin | Setup::Token = setup {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let (path, body, key) = match setup {
            Setup::Admin => (
                "/api/enterprise/admins",
                json!({ "username": format!("t-{}", &unique[..10]), "role": "viewer", "password": "long enough pw" }),
                "admin",
            ),
            _ => (
                "/api/enterprise/tokens",
                json!({ "name": "target" }),
                "token",
            ),
        };
        let r = owner.post(path, &body).await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.body);
        return r.body[key]["id"].as_i64().unwrap().to_string();
    }
    let extra = match setup {
        Setup::Trial => json!({ "trialDays": 14 }),
        _ => json!({ "billingPeriod": "annual" }),
    };
    let created = app.create_license(owner, "pro", extra).await;
    let id = created["installId"].as_str().unwrap().to_owned();
    if let Setup::Suspended = setup {
        let r = owner
            .post(
                &format!("/api/enterprise/customer/{id}/suspend"),
                &json!({ "reason": "setup" }),
            )
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    }
    id
}

/// A body an allowed caller's request succeeds with.
async fn body_for(case: &Case, id: &str, owner: &Api) -> Value {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    match case.path.rsplit('/').next().unwrap_or_default() {
        "create-license" => json!({
            "customer": { "name": "Role Test", "email": format!("r-{unique}@example.com"), "company": "Acme" },
            "tier": "pro",
        }),
        "update-tier" => json!({ "newTier": "enterprise" }),
        "timezone" => json!({ "timezoneOffsetMinutes": 60 }),
        "suspend" => json!({ "reason": "role table" }),
        "renew" => json!({ "endsAt": (Utc::now() + Duration::days(400)).to_rfc3339() }),
        "extend-trial" => json!({ "days": 7 }),
        "revoke-license" => json!({ "installId": id, "reason": "role table" }),
        "role" => json!({ "role": "support" }),
        "admins" if case.method == "POST" => {
            json!({ "username": format!("n-{}", &unique[..10]), "role": "viewer" })
        }
        "tokens" if case.method == "POST" => json!({ "name": "role table", "expiresDays": 1 }),
        "pro" => {
            let plans = owner.get("/api/enterprise/plans").await;
            let mut pro = plans.body["plans"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["slug"] == "pro")
                .unwrap()
                .clone();
            pro.as_object_mut().unwrap().remove("entitledFeatures");
            pro
        }
        _ if case.path.ends_with("#notes") => json!({ "notes": "called by role table" }),
        _ if case.path.ends_with("#domains") => {
            json!({ "domains": [format!("{unique}.example.com")] })
        }
        _ => Value::Null,
    }
}

async fn every_admin_route_answers_each_role_as_documented(app: &TestApp) {
    let owner = app.token_client().await;
    let mut mismatches = Vec::new();
    for (column, role) in ROLES.into_iter().enumerate() {
        let api = client_with_role(app, role).await;
        for case in CASES {
            let allowed = case.allowed.as_bytes()[column] == b'Y';
            assert_eq!(case.allowed.len(), ROLES.len(), "{}", case.path);
            let id = match case.setup {
                Setup::Nothing => String::new(),
                setup => prepare(app, &owner, setup).await,
            };
            let path = case
                .path
                .split('#')
                .next()
                .unwrap_or_default()
                .replace("{id}", &id);
            let body = body_for(case, &id, &owner).await;
            let resp = match case.method {
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
                    "{} {} {}: expected {}, got {} {}",
                    role.as_str(),
                    case.method,
                    case.path,
                    if allowed { "2xx" } else { "403 forbidden" },
                    resp.status,
                    resp.body
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// The table agrees with the one authorisation rule the server applies, so
/// README, test and `Role::allows` cannot drift apart silently.
#[test]
fn table_matches_role_allows() {
    use calos_core::auth::Permission;
    let permission_of = |case: &Case| -> Option<Permission> {
        let p = case.path;
        Some(
            match (case.method, p.rsplit('/').next().unwrap_or_default()) {
                _ if p.contains("/admins") || p.contains("/tokens") => Permission::ManageAdmins,
                ("GET", _) | (_, "logout") => return None,
                (_, "create-license") => Permission::CreateLicense,
                (_, "update-tier") => Permission::ChangeTier,
                (_, "timezone") => Permission::EditNotes,
                (_, "revoke-license") => Permission::Revoke,
                (_, "pro") => Permission::ManagePlans,
                _ if p.ends_with("#notes") => Permission::EditNotes,
                _ => Permission::ManageLicense,
            },
        )
    };
    for case in CASES {
        for (column, role) in ROLES.into_iter().enumerate() {
            let documented = case.allowed.as_bytes()[column] == b'Y';
            let rule = permission_of(case).is_none_or(|p| role.allows(p));
            assert_eq!(
                documented,
                rule,
                "{} {} for {}",
                case.method,
                case.path,
                role.as_str()
            );
        }
    }
}
