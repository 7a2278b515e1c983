//! The domain router and customer domains (issue 8): the `Host` picks the
//! customer's portal at `/` (case, port and trailing dot do not matter),
//! unknown hosts get a neutral page, API routes on customer hosts never hang
//! or change, IDN domains are stored as punycode, one domain has one owner,
//! and ownership is checked by a DNS TXT record (a stub resolver here).

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::StatusCode;
use serde_json::json;

use calos_server::domains::resolver::{LookupError, TxtResolver};

use crate::client::Api;
use crate::helpers::TestApp;
use crate::verify_support::new_install;

crate::both_backends!(
    the_host_picks_the_portal_and_api_routes_fall_through,
    idn_domains_are_punycode_and_one_domain_has_one_owner,
    dns_txt_verification_uses_the_resolver,
);

pub async fn get_on_host(
    client: &reqwest::Client,
    base: &str,
    host: &str,
    path: &str,
) -> (StatusCode, String) {
    let resp = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        client
            .get(format!("{base}{path}"))
            .header("Host", host)
            .send(),
    )
    .await
    .expect("the server answered in time")
    .unwrap();
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

pub async fn add_domain(admin: &Api, install_id: &str, domain: &str) -> crate::client::Resp {
    admin
        .post(
            &format!("/api/enterprise/customers/{install_id}/domains"),
            &json!({ "domain": domain }),
        )
        .await
}

async fn the_host_picks_the_portal_and_api_routes_fall_through(app: &TestApp) {
    let admin = app.admin().await;
    let a = new_install(app, "enterprise", json!({ "trialDays": 0 })).await;
    let added = add_domain(&admin, &a.install_id, "portal.acme.example").await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    admin
        .put(
            &format!("/api/enterprise/customers/{}/branding", a.install_id),
            &crate::branding::brand("Acme Portal", "#112233"),
        )
        .await;

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for host in [
        "portal.acme.example",
        "PORTAL.Acme.Example",
        "portal.acme.example:8443",
        "portal.acme.example.",
        "Portal.ACME.example.:80",
    ] {
        let (status, page) = get_on_host(&http, &app.base, host, "/").await;
        assert_eq!(status, StatusCode::OK, "{host}");
        assert!(
            page.contains("Acme Portal") && page.contains("Sign in"),
            "{host}: {page}"
        );
    }
    // API routes, health and assets on a customer host are the normal routes.
    let (status, body) = get_on_host(&http, &app.base, "portal.acme.example", "/healthz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let verify = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        http.post(format!("{}/api/v1/license/verify", app.base))
            .header("Host", "portal.acme.example")
            .json(&crate::verify_support::request(
                &a,
                "i-1",
                Some("portal.acme.example"),
            ))
            .send(),
    )
    .await
    .expect("verify on a customer host answers")
    .unwrap();
    assert_eq!(verify.status(), StatusCode::OK);
    let v: serde_json::Value = verify.json().await.unwrap();
    assert_eq!(v["code"], "VALID", "{v}");
    let (status, _) = get_on_host(
        &http,
        &app.base,
        "portal.acme.example",
        "/assets/portal.css",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) =
        get_on_host(&http, &app.base, "portal.acme.example", "/no/such/route").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("not_found"), "{body}");

    // Unknown hosts: a neutral page with no brand and no data.
    let (status, page) = get_on_host(&http, &app.base, "stranger.example", "/").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        page.contains("not set up for any customer portal") && !page.contains("Acme"),
        "{page}"
    );
    // The admin host (localhost, an IP) keeps the dashboard at `/`.
    for host in ["localhost:5001", "127.0.0.1"] {
        let (status, _) = get_on_host(&http, &app.base, host, "/").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{host}");
    }
}

async fn idn_domains_are_punycode_and_one_domain_has_one_owner(app: &TestApp) {
    let admin = app.admin().await;
    let a = new_install(app, "enterprise", json!({ "trialDays": 0 })).await;
    let b = new_install(app, "enterprise", json!({ "trialDays": 0 })).await;
    let added = add_domain(&admin, &a.install_id, "Bücher.Example.").await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(added.body["domain"]["domain"], "xn--bcher-kva.example");
    assert_eq!(
        added.body["domain"]["txtName"],
        "_calos.xn--bcher-kva.example"
    );
    assert!(added.body["domain"]["txtValue"]
        .as_str()
        .unwrap()
        .starts_with("calos-verify="));
    let license = admin
        .get(&format!(
            "/api/enterprise/customer/{}/profile",
            a.install_id
        ))
        .await;
    assert!(
        license.body.to_string().contains("xn--bcher-kva.example"),
        "{}",
        license.body
    );

    // The same domain for a second customer, in any spelling: 409.
    for spelling in ["bücher.example", "XN--BCHER-KVA.example:443"] {
        let taken = add_domain(&admin, &b.install_id, spelling).await;
        taken.assert_error(409, "conflict");
        assert!(
            taken.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("another customer"),
            "{}",
            taken.body
        );
    }
    // Adding it again to its owner is fine (idempotent).
    assert_eq!(
        add_domain(&admin, &a.install_id, "xn--bcher-kva.example")
            .await
            .status,
        StatusCode::CREATED
    );
    add_domain(&admin, &a.install_id, "not a domain")
        .await
        .assert_error(422, "invalid_field");
    add_domain(&admin, &a.install_id, "127.0.0.1")
        .await
        .assert_error(422, "invalid_field");

    // Host in unicode or punycode reaches the same portal.
    let http = reqwest::Client::new();
    let (status, _) = get_on_host(&http, &app.base, "xn--bcher-kva.example", "/").await;
    assert_eq!(status, StatusCode::OK);

    let list = admin
        .get(&format!(
            "/api/enterprise/customers/{}/domains",
            a.install_id
        ))
        .await;
    assert_eq!(list.body["domains"][0]["domain"], "xn--bcher-kva.example");
    assert_eq!(list.body["domains"][0]["verified"], false);
    let removed = admin
        .client
        .delete(format!(
            "{}/api/enterprise/customers/{}/domains/xn--bcher-kva.example",
            app.base, a.install_id
        ))
        .header("X-CSRF-Token", admin.csrf.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    // Now B may have it.
    assert_eq!(
        add_domain(&admin, &b.install_id, "bücher.example")
            .await
            .status,
        StatusCode::CREATED
    );
}

/// Answers TXT lookups from a fixed table.
struct StubResolver(Vec<(String, String)>);

#[async_trait]
impl TxtResolver for StubResolver {
    async fn txt(&self, name: &str) -> Result<Vec<String>, LookupError> {
        let found: Vec<String> = self
            .0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect();
        if found.is_empty() {
            Err(LookupError::NotFound(name.to_owned()))
        } else {
            Ok(found)
        }
    }
}

/// The app's router with a stub resolver, served on a port of its own.
async fn serve_with_resolver(app: &TestApp, resolver: Arc<dyn TxtResolver>) -> String {
    let router = calos_server::app::router(app.state.clone()).layer(axum::Extension(resolver));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    format!("http://{addr}")
}

async fn dns_txt_verification_uses_the_resolver(app: &TestApp) {
    let admin = app.admin().await;
    let a = new_install(app, "enterprise", json!({ "trialDays": 0 })).await;
    let added = add_domain(&admin, &a.install_id, "shop.acme.example").await;
    let txt = added.body["domain"]["txtValue"]
        .as_str()
        .unwrap()
        .to_owned();
    let verify_path = format!(
        "/api/enterprise/customers/{}/domains/shop.acme.example/verify",
        a.install_id
    );

    let wrong = serve_with_resolver(
        app,
        Arc::new(StubResolver(vec![(
            "_calos.shop.acme.example".into(),
            "calos-verify=wrong".into(),
        )])),
    )
    .await;
    let stub_admin = Api {
        client: admin.client.clone(),
        base: wrong,
        csrf: admin.csrf.clone(),
    };
    let r = stub_admin.post_empty(&verify_path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["verifiedNow"], false);
    assert!(r.body["domain"]["reason"]
        .as_str()
        .unwrap()
        .contains("_calos.shop.acme.example"));

    let right = serve_with_resolver(
        app,
        Arc::new(StubResolver(vec![(
            "_calos.shop.acme.example".into(),
            txt.clone(),
        )])),
    )
    .await;
    let stub_admin = Api {
        client: admin.client.clone(),
        base: right,
        csrf: admin.csrf.clone(),
    };
    let r = stub_admin.post_empty(&verify_path).await;
    assert_eq!(r.body["verifiedNow"], true, "{}", r.body);
    assert_eq!(r.body["domain"]["verified"], true);
    let list = admin
        .get(&format!(
            "/api/enterprise/customers/{}/domains",
            a.install_id
        ))
        .await;
    assert_eq!(list.body["domains"][0]["verified"], true);

    // A domain the license does not have: 404.
    stub_admin
        .post_empty(&format!(
            "/api/enterprise/customers/{}/domains/other.example/verify",
            a.install_id
        ))
        .await
        .assert_error(404, "not_found");
}
