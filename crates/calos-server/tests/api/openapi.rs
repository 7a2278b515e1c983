//! The OpenAPI contract: every route the router registers is in
//! `/api/openapi.json` with its method, and every documented operation is a
//! route (HTML pages aside). axum cannot list its routes, so the route table
//! is read from the router sources: every `.route(…)` call in `src/`, each
//! file with the prefix it is mounted under. A new file that registers
//! routes must be added to [`MOUNTS`], so no registration goes unseen.
//! A second test asks the running server for every documented operation and
//! checks none falls through to the "no such route" fallback.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;

/// Files that register routes, with the prefix their router is mounted
/// under and whether their routes are JSON API (documented) or HTML pages.
const MOUNTS: [(&str, &str, Kind); 8] = [
    ("app/router.rs", "", Kind::Api),
    ("metrics/route.rs", "", Kind::Api),
    ("metrics/port.rs", "", Kind::Api),
    ("api/mod.rs", "/api/enterprise", Kind::Api),
    ("api/branding.rs", "", Kind::Api),
    ("auth/mod.rs", "", Kind::Api),
    ("pages/mod.rs", "", Kind::Html),
    ("portal/mod.rs", "", Kind::Html),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Api,
    Html,
}

/// Route paths given by a constant rather than a literal.
fn constant(name: &str) -> Option<&'static str> {
    match name {
        "api::branding::LOGO_ROUTE" => Some(calos_server::api::branding::LOGO_ROUTE),
        _ => None,
    }
}

/// Routes whose handler is a `MethodRouter` passed in as a variable, with
/// the methods the server passes: `router()` gives `router_with_verify` the
/// real `post(verify)` (the benchmark floor gives its own).
fn method_variable(file: &str, name: &str) -> Option<&'static [&'static str]> {
    match (file, name) {
        ("app/router.rs", "verify") => Some(&["post"]),
        _ => None,
    }
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its unit tests (routers built in tests are not
/// the server's).
fn non_test_code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read source");
    match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// The text between the `(` at `open` and its matching `)`.
fn call_args(text: &str, open: usize) -> &str {
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses in a .route( call");
}

/// Every `(METHOD, path)` a file's `.route(…)` calls register.
fn registrations(code: &str, prefix: &str, file: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices(".route(") {
        let args = call_args(code, at + ".route".len());
        let (first, handlers) = args.split_once(',').unwrap_or_else(|| {
            panic!("{file}: cannot read the route registration `.route({args})`")
        });
        let first = first.trim();
        let path = if let Some(lit) = first.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            lit.to_owned()
        } else {
            constant(first)
                .unwrap_or_else(|| {
                    panic!("{file}: route path `{first}` is a constant the contract test does not know; add it to `constant()` in tests/api/openapi.rs")
                })
                .to_owned()
        };
        let full = format!("{prefix}{path}");
        let handlers = handlers.trim();
        let is_variable = handlers.chars().all(|c| c.is_alphanumeric() || c == '_');
        if is_variable {
            let methods = method_variable(file, handlers).unwrap_or_else(|| {
                panic!("{file}: the route {full} takes its methods from the variable `{handlers}`; add it to `method_variable()` in tests/api/openapi.rs")
            });
            for m in methods {
                found.push((m.to_uppercase(), full.clone()));
            }
            continue;
        }
        let methods: Vec<&str> = ["get", "post", "put", "patch", "delete"]
            .into_iter()
            .filter(|m| {
                handlers.match_indices(&format!("{m}(")).any(|(i, _)| {
                    i == 0 || !handlers[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                })
            })
            .collect();
        assert!(
            !methods.is_empty(),
            "{file}: no HTTP method found in the registration of {full}"
        );
        for m in methods {
            found.push((m.to_uppercase(), full.clone()));
        }
    }
    found
}

/// A set of `(METHOD, path)` registrations.
type RouteSet = BTreeSet<(String, String)>;

/// `(API routes, HTML routes)` the router sources register.
fn router_routes() -> (RouteSet, RouteSet) {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut api = BTreeSet::new();
    let mut html = BTreeSet::new();
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        let code = non_test_code(&path);
        if !code.contains(".route(") {
            continue;
        }
        let Some((_, prefix, kind)) = MOUNTS.iter().find(|(f, _, _)| *f == rel) else {
            panic!(
                "src/{rel} registers routes but the OpenAPI contract test does not know where it is mounted: add it to MOUNTS in tests/api/openapi.rs (and document its JSON routes with #[utoipa::path])"
            );
        };
        let into = if *kind == Kind::Api {
            &mut api
        } else {
            &mut html
        };
        into.extend(registrations(&code, prefix, &rel));
    }
    (api, html)
}

fn documented() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(calos_server::api::openapi::openapi()).expect("document");
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            ops.insert((method.to_uppercase(), path.clone()));
        }
    }
    ops
}

#[test]
fn every_route_is_documented_and_every_documented_operation_is_a_route() {
    let (api, html) = router_routes();
    let doc = documented();
    assert!(
        api.len() > 60,
        "only {} API routes found: is the scan broken?",
        api.len()
    );
    let missing: Vec<String> = api
        .difference(&doc)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document (annotate their handlers with #[utoipa::path] and list them in api/openapi/mod.rs):\n  {}",
        missing.join("\n  ")
    );
    let stale: Vec<String> = doc
        .iter()
        .filter(|op| !api.contains(*op) && !html.contains(*op))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        stale.is_empty(),
        "documented operations the router does not have:\n  {}",
        stale.join("\n  ")
    );
    assert!(
        html.contains(&("GET".to_owned(), "/api/docs".to_owned())),
        "the docs page is not registered"
    );
}

#[test]
fn the_scan_reads_chained_methods_nesting_and_constants() {
    let code = r#"Router::new()
        .route("/a/{id}", get(x::show).put(x::put).delete(x::delete))
        .route(api::branding::LOGO_ROUTE, get(logo))
        .route("/b", axum::routing::patch(y::budget_get))"#;
    let found = registrations(code, "/p", "test.rs");
    let want: Vec<(String, String)> = [
        ("GET", "/p/a/{id}"),
        ("PUT", "/p/a/{id}"),
        ("DELETE", "/p/a/{id}"),
        ("GET", "/p/branding/logo/{scope}/{sha}"),
        ("PATCH", "/p/b"),
    ]
    .iter()
    .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
    .collect();
    assert_eq!(found, want);
}

crate::both_backends!(every_documented_operation_is_served, document_and_docs_page);

/// A path with sample values for its parameters.
fn concrete(path: &str) -> String {
    path.replace("{install_id}", "demo-install-abc123456789abcdef")
        .replace("{id}", "1")
        .replace("{slug}", "pro")
        .replace("{domain}", "example.com")
        .replace("{scope}", "default")
        .replace("{sha}", &"0".repeat(64))
}

async fn every_documented_operation_is_served(app: &TestApp) {
    let client = reqwest::Client::new();
    for (method, path) in documented() {
        let url = format!("{}{}", app.base, concrete(&path));
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let resp = client
            .request(method.clone(), &url)
            .send()
            .await
            .expect("request");
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let fell_through = status == StatusCode::METHOD_NOT_ALLOWED
            || (status == StatusCode::NOT_FOUND && body["error"]["message"] == "no such route");
        assert!(
            !fell_through,
            "{method} {path}: documented but not routed ({status} {body})"
        );
    }
}

async fn document_and_docs_page(app: &TestApp) {
    let resp = reqwest::get(format!("{}/api/openapi.json", app.base))
        .await
        .expect("get document");
    assert_eq!(resp.status(), StatusCode::OK);
    let doc: Value = resp.json().await.expect("document is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    for scheme in ["adminToken", "adminSession", "installId", "installKey"] {
        assert!(
            doc["components"]["securitySchemes"][scheme].is_object(),
            "security scheme {scheme} missing"
        );
    }
    let stats = &doc["paths"]["/api/enterprise/stats"]["get"];
    assert!(stats["security"].is_array(), "admin routes need an admin");
    assert_eq!(
        stats["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    assert!(doc["paths"]["/api/v1/license/verify"]["post"]["security"].is_null());

    // The docs page is an admin page: a login first, then every operation.
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = anon
        .get(format!("{}/api/docs", app.base))
        .send()
        .await
        .expect("docs");
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let admin = app.admin().await;
    let resp = admin
        .client
        .get(format!("{}/api/docs", app.base))
        .send()
        .await
        .expect("docs");
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = resp.text().await.expect("html");
    for (_, path) in documented() {
        assert!(
            html.contains(&format!("<code>{path}</code>")),
            "{path} is not on the docs page"
        );
    }
    assert!(html.contains("id=\"schema-ErrorBody\""));
}
