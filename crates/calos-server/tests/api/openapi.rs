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
use serde_json::{json, Value};

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

crate::both_backends!(
    every_documented_operation_is_served,
    document_and_docs_page,
    real_answers_match_their_schemas
);

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

/// The schema a `$ref` names, or the schema itself.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected $ref {r}"));
            let target = &doc["components"]["schemas"][name];
            assert!(target.is_object(), "$ref to a missing component {name}");
            resolve(doc, target)
        }
        None => schema,
    }
}

/// The JSON Schema (2020-12) keywords the document uses, checked strictly
/// enough for a contract test: `$ref`, `type` (one or a list), `properties`,
/// `required`, `additionalProperties`, `items`, `allOf`/`oneOf`/`anyOf`,
/// `enum`, `const` and `minimum`. Every mismatch is pushed to `errors` with
/// its JSON path.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if schema.as_bool() == Some(true) || schema.as_object().is_some_and(|o| o.is_empty()) {
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() {
        let ok = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            "number" => value.is_number(),
            "integer" => {
                value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            other => panic!("{at}: unknown type {other}"),
        });
        if !ok {
            errors.push(format!("{at}: {value} is not of type {types:?}"));
            return;
        }
    }
    if let Some(options) = schema["enum"].as_array() {
        if !options.contains(value) {
            errors.push(format!("{at}: {value} is not one of {options:?}"));
        }
    }
    if let Some(c) = schema.get("const") {
        if c != value {
            errors.push(format!("{at}: {value} is not {c}"));
        }
    }
    if let (Some(min), Some(n)) = (schema["minimum"].as_f64(), value.as_f64()) {
        if n < min {
            errors.push(format!("{at}: {n} is below {min}"));
        }
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        check(doc, part, value, at, errors);
    }
    for (key, exactly_one) in [("oneOf", true), ("anyOf", false)] {
        if let Some(options) = schema[key].as_array() {
            let matching = options
                .iter()
                .filter(|o| {
                    let mut e = Vec::new();
                    check(doc, o, value, at, &mut e);
                    e.is_empty()
                })
                .count();
            if matching == 0 || (exactly_one && matching > 1) {
                errors.push(format!(
                    "{at}: {value} matches {matching} of the {key} options"
                ));
            }
        }
    }
    if let Some(obj) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().expect("required names are strings");
            if !obj.contains_key(name) {
                errors.push(format!("{at}: required {name} is missing"));
            }
        }
        let props = schema["properties"].as_object();
        for (k, v) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => check(doc, s, v, &format!("{at}.{k}"), errors),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => errors.push(format!("{at}: {k} is not allowed")),
                    Some(s) if s.is_object() => check(doc, s, v, &format!("{at}.{k}"), errors),
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            check(doc, items, v, &format!("{at}[{i}]"), errors);
        }
    }
}

/// The JSON schema the document gives for `method path` answering `status`.
fn response_schema<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    let schema = &op["responses"][status.to_string()]["content"]["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path}: no JSON schema for status {status}"
    );
    schema
}

/// Whether a 2xx JSON schema names a real shape: a `$ref` to a component
/// with properties, or an array of such.
fn names_a_typed_component(doc: &Value, schema: &Value) -> Result<(), String> {
    let schema = if schema["type"] == "array" {
        &schema["items"]
    } else {
        schema
    };
    let Some(r) = schema["$ref"].as_str() else {
        return Err(format!("not a $ref to a component: {schema}"));
    };
    let name = r.trim_start_matches("#/components/schemas/");
    if name == "Success" || name == "Object" {
        return Err(format!("the generic {name}"));
    }
    let target = resolve(doc, schema);
    let has_fields = target["properties"]
        .as_object()
        .is_some_and(|p| !p.is_empty())
        || target["allOf"].is_array();
    if has_fields {
        Ok(())
    } else {
        Err(format!("{name} has no fields: {target}"))
    }
}

#[test]
fn every_admin_success_answer_has_a_typed_schema() {
    let doc = serde_json::to_value(calos_server::api::openapi::openapi()).expect("document");
    let mut problems = Vec::new();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !calos_server::api::openapi::needs_admin(path) {
            continue;
        }
        for (method, op) in item.as_object().expect("path item") {
            for (status, resp) in op["responses"].as_object().expect("responses") {
                if !status.starts_with('2') {
                    continue;
                }
                let content = resp["content"].as_object();
                assert!(
                    content.is_some_and(|c| !c.is_empty()),
                    "{method} {path} {status}: no content described"
                );
                for (media, body) in content.into_iter().flatten() {
                    if media != "application/json" {
                        continue;
                    }
                    checked += 1;
                    if let Err(why) = names_a_typed_component(&doc, &body["schema"]) {
                        problems.push(format!("{method} {path} {status}: {why}"));
                    }
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} admin JSON answers found");
    assert!(
        problems.is_empty(),
        "admin answers without a typed schema:\n  {}",
        problems.join("\n  ")
    );
    for gone in ["Success", "Object"] {
        assert!(
            doc["components"]["schemas"][gone].is_null(),
            "the generic {gone} schema is still a component"
        );
    }
    // The public typed answers and the verify token's claims.
    for name in [
        "BrandView",
        "LicenseClaims",
        "VerifyResponse",
        "TelemetryAck",
    ] {
        assert!(
            doc["components"]["schemas"][name]["properties"].is_object(),
            "{name} is not a component with properties"
        );
    }
    let metrics = &doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"];
    assert!(
        metrics["text/plain; version=0.0.4"].is_object(),
        "/metrics: {metrics}"
    );
    // Request bodies of the PUTs that took any object before.
    for path in [
        "/api/enterprise/plans/{slug}",
        "/api/enterprise/billing-profile",
        "/api/enterprise/branding/default",
        "/api/enterprise/customers/{install_id}/branding",
    ] {
        let schema =
            &doc["paths"][path]["put"]["requestBody"]["content"]["application/json"]["schema"];
        assert!(
            names_a_typed_component(&doc, schema).is_ok(),
            "PUT {path}: request body {schema}"
        );
    }
}

#[test]
fn the_schema_check_catches_mismatches() {
    let doc = json!({ "components": { "schemas": {
        "Thing": { "type": "object", "required": ["id", "name"], "properties": {
            "id": { "type": "integer", "minimum": 0 },
            "name": { "type": "string" },
            "note": { "type": ["string", "null"] },
            "tags": { "type": "array", "items": { "type": "string", "enum": ["a", "b"] } },
            "owner": { "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Owner" }] }
        } },
        "Owner": { "type": "object", "required": ["email"], "properties": { "email": { "type": "string" } } }
    } } });
    let thing = json!({ "$ref": "#/components/schemas/Thing" });
    let errors = |value: Value| {
        let mut e = Vec::new();
        check(&doc, &thing, &value, "$", &mut e);
        e
    };
    assert!(
        errors(json!({ "id": 1, "name": "x", "note": null, "tags": ["a"], "owner": null }))
            .is_empty()
    );
    assert!(errors(json!({ "id": 1, "name": "x", "owner": { "email": "e" } })).is_empty());
    assert_eq!(errors(json!({ "id": 1 })).len(), 1);
    assert_eq!(errors(json!({ "id": -1, "name": "x" })).len(), 1);
    assert_eq!(errors(json!({ "id": 1, "name": 2 })).len(), 1);
    assert_eq!(
        errors(json!({ "id": 1, "name": "x", "tags": ["c"] })).len(),
        1
    );
    assert_eq!(
        errors(json!({ "id": 1, "name": "x", "owner": {} })).len(),
        1
    );
    assert_eq!(errors(json!({ "id": 1.5, "name": "x" })).len(), 1);
}

/// Real answers of the running server, checked against the document the
/// server serves: licenses, culture, profile, usage, invoices, branding and
/// the admin's own views.
async fn real_answers_match_their_schemas(app: &TestApp) {
    let doc: Value = reqwest::get(format!("{}/api/openapi.json", app.base))
        .await
        .expect("get document")
        .json()
        .await
        .expect("document is JSON");
    let admin = app.admin().await;
    crate::invoices::set_profile(&admin).await;
    let pro = app.create_license(&admin, "pro", json!({})).await;
    let pro = pro["installId"].as_str().expect("installId").to_owned();
    let trial = app
        .create_license(&admin, "pro", json!({ "trialDays": 14 }))
        .await;
    let trial = trial["installId"].as_str().expect("installId").to_owned();

    let mut errors = Vec::new();
    let mut expect = |method: &str, path: &str, status: u16, body: &Value| {
        check(
            &doc,
            response_schema(&doc, method, path, status),
            body,
            &format!("{method} {path}"),
            &mut errors,
        );
    };

    // Mutations whose answers the reads below then show.
    let generated = admin
        .post(
            "/api/enterprise/invoices/generate",
            &json!({ "month": crate::invoices::this_month() }),
        )
        .await;
    assert_eq!(generated.status, StatusCode::OK, "{}", generated.body);
    expect(
        "post",
        "/api/enterprise/invoices/generate",
        200,
        &generated.body,
    );
    let invoice_id = generated.body["created"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no invoice drafted: {}", generated.body));
    let put = admin
        .put(
            &format!("/api/enterprise/customers/{pro}/branding"),
            &json!({ "productName": "Acme ERP", "primaryColor": "#123456", "footerText": "Hi" }),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    expect(
        "put",
        "/api/enterprise/customers/{install_id}/branding",
        200,
        &put.body,
    );
    let suspended = admin
        .post(
            &format!("/api/enterprise/customer/{trial}/suspend"),
            &json!({ "reason": "unpaid" }),
        )
        .await;
    assert_eq!(suspended.status, StatusCode::OK, "{}", suspended.body);
    expect(
        "post",
        "/api/enterprise/customer/{install_id}/suspend",
        200,
        &suspended.body,
    );

    let reads = [
        (
            "/api/enterprise/customers",
            "/api/enterprise/customers".to_owned(),
        ),
        ("/api/enterprise/stats", "/api/enterprise/stats".to_owned()),
        ("/api/enterprise/plans", "/api/enterprise/plans".to_owned()),
        ("/api/enterprise/audit", "/api/enterprise/audit".to_owned()),
        (
            "/api/enterprise/customer/{install_id}/culture",
            format!("/api/enterprise/customer/{pro}/culture"),
        ),
        (
            "/api/enterprise/customer/{install_id}/culture",
            format!("/api/enterprise/customer/{trial}/culture"),
        ),
        (
            "/api/enterprise/customer/{install_id}/profile",
            format!("/api/enterprise/customer/{pro}/profile"),
        ),
        (
            "/api/enterprise/customer/{install_id}/profile",
            format!("/api/enterprise/customer/{trial}/profile"),
        ),
        (
            "/api/enterprise/customer/{install_id}/usage",
            format!("/api/enterprise/customer/{pro}/usage"),
        ),
        (
            "/api/enterprise/invoices",
            "/api/enterprise/invoices".to_owned(),
        ),
        (
            "/api/enterprise/invoices/{id}",
            format!("/api/enterprise/invoices/{invoice_id}"),
        ),
        (
            "/api/enterprise/billing-profile",
            "/api/enterprise/billing-profile".to_owned(),
        ),
        (
            "/api/enterprise/branding/default",
            "/api/enterprise/branding/default".to_owned(),
        ),
        (
            "/api/enterprise/customers/{install_id}/branding",
            format!("/api/enterprise/customers/{pro}/branding"),
        ),
        (
            "/api/enterprise/customers/{install_id}/branding",
            format!("/api/enterprise/customers/{trial}/branding"),
        ),
        (
            "/api/enterprise/customers/{install_id}/owner",
            format!("/api/enterprise/customers/{pro}/owner"),
        ),
        (
            "/api/enterprise/customers/{install_id}/domains",
            format!("/api/enterprise/customers/{pro}/domains"),
        ),
        (
            "/api/enterprise/admins",
            "/api/enterprise/admins".to_owned(),
        ),
        (
            "/api/enterprise/tokens",
            "/api/enterprise/tokens".to_owned(),
        ),
        (
            "/api/enterprise/webhooks",
            "/api/enterprise/webhooks".to_owned(),
        ),
        (
            "/api/enterprise/notifications",
            "/api/enterprise/notifications".to_owned(),
        ),
        (
            "/api/enterprise/notifications/subscriptions",
            "/api/enterprise/notifications/subscriptions".to_owned(),
        ),
        ("/api/auth/me", "/api/auth/me".to_owned()),
    ];
    for (documented, concrete) in reads {
        let r = admin.get(&concrete).await;
        assert_eq!(r.status, StatusCode::OK, "GET {concrete}: {}", r.body);
        expect("get", documented, 200, &r.body);
    }
    assert!(
        errors.is_empty(),
        "answers that do not match the document:\n  {}",
        errors.join("\n  ")
    );
}
