//! The customer portal (issue 8): invited accounts set a password, sign in
//! and see their own license, usage, instances and offline token — and
//! never another customer's, whether through its domain, its
//! `/portal/<installId>` or with a session of another customer.

use reqwest::StatusCode;
use serde_json::json;

use crate::domains::{add_domain, get_on_host};
use crate::helpers::TestApp;
use crate::verify_support::{new_install, Install};

crate::both_backends!(
    portal_accounts_see_their_own_customer_only,
    portal_lists_issued_invoices_of_its_customer_only,
    portal_login_is_throttled,
);

struct Customer {
    install: Install,
    domain: &'static str,
    email: &'static str,
}

/// Invites `email` and sets its password through the link's form.
async fn onboard(app: &TestApp, c: &Customer) {
    let admin = app.admin().await;
    let invite = admin
        .post(
            &format!(
                "/api/enterprise/customers/{}/portal-users",
                c.install.install_id
            ),
            &json!({ "email": c.email }),
        )
        .await;
    assert_eq!(invite.status, StatusCode::CREATED, "{}", invite.body);
    assert_eq!(invite.body["user"]["active"], false);
    let link = invite.body["setPasswordPath"].as_str().unwrap();
    let token = invite.body["token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let form = http
        .get(format!("{}{link}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.text().await.unwrap().contains(token));
    let set = http
        .post(format!(
            "{}/portal/{}/set-password",
            app.base, c.install.install_id
        ))
        .form(&[("token", token), ("password", "portal pass 123")])
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);
    assert!(set.text().await.unwrap().contains("Password set"));
    // The link works once.
    let again = http
        .post(format!(
            "{}/portal/{}/set-password",
            app.base, c.install.install_id
        ))
        .form(&[("token", token), ("password", "another pass 123")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let users = admin
        .get(&format!(
            "/api/enterprise/customers/{}/portal-users",
            c.install.install_id
        ))
        .await;
    assert_eq!(users.body["users"][0]["active"], true, "{}", users.body);
}

/// A browser signed in to `c`'s portal.
async fn sign_in(app: &TestApp, c: &Customer) -> reqwest::Client {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bad = http
        .post(format!(
            "{}/portal/{}/login",
            app.base, c.install.install_id
        ))
        .form(&[("email", c.email), ("password", "wrong password")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let ok = http
        .post(format!(
            "{}/portal/{}/login",
            app.base, c.install.install_id
        ))
        .form(&[("email", c.email), ("password", "portal pass 123")])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        ok.headers()["location"],
        format!("/portal/{}", c.install.install_id)
    );
    http
}

async fn portal_accounts_see_their_own_customer_only(app: &TestApp) {
    let admin = app.admin().await;
    let a = Customer {
        install: new_install(app, "enterprise", json!({ "trialDays": 0 })).await,
        domain: "portal.alpha.example",
        email: "ops@alpha.example",
    };
    let b = Customer {
        install: new_install(app, "community", json!({})).await,
        domain: "portal.beta.example",
        email: "ops@beta.example",
    };
    for c in [&a, &b] {
        assert_eq!(
            add_domain(&admin, &c.install.install_id, c.domain)
                .await
                .status,
            StatusCode::CREATED
        );
        onboard(app, c).await;
    }
    admin
        .put(
            &format!(
                "/api/enterprise/customers/{}/branding",
                a.install.install_id
            ),
            &crate::branding::brand("Alpha Works", "#112233"),
        )
        .await;
    // A deployment of A verified once: an instance to show.
    let v = app
        .anon()
        .post(
            "/api/v1/license/verify",
            &crate::verify_support::request(&a.install, "alpha-node-1", Some(a.domain)),
        )
        .await;
    assert_eq!(v.status, StatusCode::OK);

    let alice = sign_in(app, &a).await;
    let (status, page) = get_on_host(
        &alice,
        &app.base,
        "127.0.0.1",
        &format!("/portal/{}", a.install.install_id),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for expected in [
        a.install.install_id.as_str(),
        "Alpha Works",
        "Enterprise",
        "api_requests",
        "Sign out",
    ] {
        assert!(page.contains(expected), "{expected} missing: {page}");
    }
    assert!(
        !page.contains("Powered by"),
        "white-label shows no vendor line"
    );
    // On A's own domain `/` is the same dashboard.
    let (status, page) = get_on_host(&alice, &app.base, a.domain, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&a.install.install_id) && page.contains("Sign out"),
        "{page}"
    );

    // The offline token: a signed verdict for A.
    let token = alice
        .get(format!(
            "{}/portal/{}/license-token",
            app.base, a.install.install_id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::OK);
    assert_eq!(token.headers()["content-type"], "application/jwt");
    let jws = token.text().await.unwrap();
    let payload = jws.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["installId"], a.install.install_id);
    assert_eq!(claims["valid"], true);

    // A's session at B: by path, by B's domain, and the token download.
    let (status, page) = get_on_host(
        &alice,
        &app.base,
        "127.0.0.1",
        &format!("/portal/{}", b.install.install_id),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Sign in") && !page.contains("Your license") && !page.contains("Sign out"),
        "{page}"
    );
    let (status, page) = get_on_host(&alice, &app.base, b.domain, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Sign in") && !page.contains("Sign out") && page.contains("Powered by"),
        "{page}"
    );
    let stolen = alice
        .get(format!(
            "{}/portal/{}/license-token",
            app.base, b.install.install_id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), StatusCode::UNAUTHORIZED);
    // B's portal path on A's domain, and A's on B's: no portal there.
    let (status, _) = get_on_host(
        &alice,
        &app.base,
        a.domain,
        &format!("/portal/{}", b.install.install_id),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get_on_host(
        &alice,
        &app.base,
        b.domain,
        &format!("/portal/{}", a.install.install_id),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A's credentials do not open B's portal.
    let cross = reqwest::Client::new()
        .post(format!(
            "{}/portal/{}/login",
            app.base, b.install.install_id
        ))
        .form(&[("email", a.email), ("password", "portal pass 123")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::UNAUTHORIZED);

    // B signs in: community shows the minimal line.
    let bob = sign_in(app, &b).await;
    let (_, page) = get_on_host(
        &bob,
        &app.base,
        "127.0.0.1",
        &format!("/portal/{}", b.install.install_id),
    )
    .await;
    assert!(
        page.contains(&b.install.install_id)
            && page.contains("Powered by CALOS")
            && !page.contains("Alpha Works"),
        "{page}"
    );

    // Signing out needs the CSRF token and ends the session.
    let no_csrf = alice
        .post(format!(
            "{}/portal/{}/logout",
            app.base, a.install.install_id
        ))
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    let (_, page) = get_on_host(
        &alice,
        &app.base,
        "127.0.0.1",
        &format!("/portal/{}", a.install.install_id),
    )
    .await;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let out = alice
        .post(format!(
            "{}/portal/{}/logout",
            app.base, a.install.install_id
        ))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let (_, page) = get_on_host(
        &alice,
        &app.base,
        "127.0.0.1",
        &format!("/portal/{}", a.install.install_id),
    )
    .await;
    assert!(page.contains("Sign in") && !page.contains("Sign out"));
}

async fn portal_lists_issued_invoices_of_its_customer_only(app: &TestApp) {
    let admin = app.admin().await;
    crate::invoices::set_profile(&admin).await;
    let a = Customer {
        install: new_install(app, "pro", json!({ "trialDays": 0 })).await,
        domain: "billing.alpha.example",
        email: "ap@alpha.example",
    };
    let b = Customer {
        install: new_install(app, "pro", json!({ "trialDays": 0 })).await,
        domain: "billing.beta.example",
        email: "ap@beta.example",
    };
    onboard(app, &a).await;
    onboard(app, &b).await;
    crate::invoices::generate(&admin, json!({ "month": crate::invoices::this_month() })).await;
    let list = admin.get("/api/enterprise/invoices").await;
    let id_of = |install: &str| {
        list.body["invoices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["installId"] == install)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (ia, ib) = (id_of(&a.install.install_id), id_of(&b.install.install_id));
    for id in [ia, ib] {
        let r = admin
            .post_empty(&format!("/api/enterprise/invoices/{id}/issue"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    let alice = sign_in(app, &a).await;
    let (_, page) = get_on_host(
        &alice,
        &app.base,
        "127.0.0.1",
        &format!("/portal/{}", a.install.install_id),
    )
    .await;
    assert!(
        page.contains(&format!(
            "/portal/{}/invoices/{ia}/pdf",
            a.install.install_id
        )),
        "{page}"
    );
    assert!(!page.contains(&format!("/invoices/{ib}/pdf")), "{page}");
    let pdf = alice
        .get(format!(
            "{}/portal/{}/invoices/{ia}/pdf",
            app.base, a.install.install_id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
    // B's invoice through A's portal, and A's PDF without a session: refused.
    let other = alice
        .get(format!(
            "{}/portal/{}/invoices/{ib}/pdf",
            app.base, a.install.install_id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let other = alice
        .get(format!(
            "{}/portal/{}/invoices/{ib}/pdf",
            app.base, b.install.install_id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    let anon = reqwest::get(format!(
        "{}/portal/{}/invoices/{ia}/pdf",
        app.base, a.install.install_id
    ))
    .await
    .unwrap();
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
}

/// Guessing a portal password meets the same back-off as the vendor's
/// login: after the free failures even the right password waits (429 with
/// `Retry-After`), and once the wait is over the customer signs in.
async fn portal_login_is_throttled(app: &TestApp) {
    let c = Customer {
        install: new_install(app, "pro", json!({})).await,
        domain: "guess.example",
        email: "it@guess.example",
    };
    onboard(app, &c).await;
    let url = format!("{}/portal/{}/login", app.base, c.install.install_id);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let attempt = |password: &'static str| {
        let http = http.clone();
        let url = url.clone();
        async move {
            http.post(url)
                .form(&[("email", c.email), ("password", password)])
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..6 {
        assert_eq!(attempt("guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    let blocked = attempt("portal pass 123").await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = blocked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "first back-off is 2 s, got {wait}");
    assert!(blocked
        .text()
        .await
        .unwrap()
        .contains("Too many failed sign-ins"));
    tokio::time::sleep(
        std::time::Duration::from_secs(wait) + std::time::Duration::from_millis(200),
    )
    .await;
    assert_eq!(
        attempt("portal pass 123").await.status(),
        StatusCode::SEE_OTHER
    );
}
