//! `GET /metrics`: valid Prometheus text after real traffic, counters that
//! match what was sent, access control on the main port, the separate port
//! (and then none on the main port), and a Grafana dashboard that only
//! queries metrics the server exports.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use calos_core::auth::Role;

use crate::helpers::TestApp;
use crate::roles::client_with_role;
use crate::telemetry::{event, install, post as post_batch};
use crate::verify_support::{new_install, post_verify, request};

crate::both_backends!(
    counters_follow_traffic_and_the_text_is_valid,
    main_port_needs_an_admin_with_read_access,
    dashboard_queries_only_exported_metrics,
);

crate::both_backends_configured!(
    on_a_separate_port;
    the_separate_port_serves_metrics_and_the_main_port_does_not,
);

/// One sample line: name, labels, value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses Prometheus text format 0.0.4 strictly enough to catch a broken
/// exposition: every line is a `# HELP`/`# TYPE` comment or a sample
/// `name{label="value",…} number`; names and label names are valid; every
/// sample belongs to a family declared by `# TYPE` before it.
fn parse(text: &str) -> Vec<Sample> {
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
            })
    };
    let mut typed: HashMap<String, String> = HashMap::new();
    let mut samples = Vec::new();
    assert!(text.ends_with('\n'), "the exposition ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name) = (parts.next().unwrap(), parts.next().unwrap_or(""));
            assert!(valid_name(name), "bad metric name in {line:?}");
            match kind {
                "TYPE" => {
                    let t = parts.next().unwrap_or("");
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&t),
                        "bad type in {line:?}"
                    );
                    assert!(
                        typed.insert(name.to_owned(), t.to_owned()).is_none(),
                        "{name} typed twice"
                    );
                }
                "HELP" => assert!(
                    parts.next().is_some_and(|h| !h.is_empty()),
                    "empty help: {line:?}"
                ),
                _ => panic!("unknown comment {line:?}"),
            }
            continue;
        }
        assert!(!line.is_empty(), "blank line in the exposition");
        let (head, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line:?}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let (name, labels) = match head.split_once('{') {
            None => (head, BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line:?}"));
                let mut labels = BTreeMap::new();
                // Our label values never contain `",` or escapes; a value that
                // did would fail the checks below.
                for pair in body.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair
                        .split_once("=\"")
                        .unwrap_or_else(|| panic!("bad label in {line:?}"));
                    assert!(valid_name(k), "bad label name in {line:?}");
                    labels.insert(k.to_owned(), v.trim_end_matches('"').to_owned());
                }
                (name, labels)
            }
        };
        assert!(valid_name(name), "bad sample name in {line:?}");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| typed.get(*f).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(typed.contains_key(family), "{name} has no # TYPE before it");
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    samples
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

/// Scrapes `url` with `auth` (a bearer token) and parses the answer.
async fn scrape(url: &str, auth: Option<&str>) -> Vec<Sample> {
    let mut req = reqwest::Client::new().get(url);
    if let Some(token) = auth {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.expect("scrape");
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    parse(&resp.text().await.expect("body"))
}

async fn counters_follow_traffic_and_the_text_is_valid(app: &TestApp) {
    let admin = app.admin().await;
    let good = new_install(app, "pro", json!({})).await;
    for n in 0..3 {
        let resp = post_verify(&app.base, &request(&good, &format!("node-{n}"), None)).await;
        assert_eq!(resp.body["code"], "VALID", "{}", resp.body);
    }
    let mut wrong = request(&good, "node-x", None);
    wrong["licenseKey"] = json!(format!("calos_lk_{}", "0".repeat(64)));
    for _ in 0..2 {
        let resp = post_verify(&app.base, &wrong).await;
        assert_eq!(resp.body["code"], "BAD_LICENSE_KEY", "{}", resp.body);
    }
    // A malformed verify is a 4xx, not a verdict.
    let bad = app
        .anon()
        .post("/api/v1/license/verify", &json!({"installId": ""}))
        .await;
    assert!(bad.status.is_client_error());

    let sender = install(app, &admin, "pro").await;
    let ack = post_batch(
        app,
        &sender,
        vec![
            event("m-1", "page_view"),
            event("m-2", "page_view"),
            json!({"eventId": "m-3"}),
        ],
    )
    .await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.body);
    assert_eq!(
        (
            ack.body["accepted"].as_u64(),
            ack.body["rejected"].as_array().map(Vec::len)
        ),
        (Some(2), Some(1))
    );
    let again = post_batch(app, &sender, vec![event("m-1", "page_view")]).await;
    assert_eq!(again.body["duplicates"], 1, "{}", again.body);
    let stranger = crate::telemetry::Install {
        id: sender.id.clone(),
        key: format!("calos_lk_{}", "1".repeat(64)),
    };
    assert_eq!(
        post_batch(app, &stranger, vec![event("m-9", "page_view")])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    for _ in 0..2 {
        assert_eq!(
            admin.get("/api/enterprise/customers").await.status,
            StatusCode::OK
        );
    }
    assert_eq!(
        app.anon().get("/no/such/route/4711").await.status,
        StatusCode::NOT_FOUND
    );

    let token = app.token_secret().await;
    let samples = scrape(&format!("{}/metrics", app.base), Some(&token)).await;
    let v = |name: &str, labels: &[(&str, &str)]| value(&samples, name, labels);

    assert_eq!(v("calos_verify_verdicts_total", &[("code", "VALID")]), 3.0);
    assert_eq!(
        v(
            "calos_verify_verdicts_total",
            &[("code", "BAD_LICENSE_KEY")]
        ),
        2.0
    );
    assert_eq!(
        v("calos_verify_verdicts_total", &[]),
        5.0,
        "only signed verdicts count"
    );
    assert_eq!(
        v("calos_telemetry_events_total", &[("outcome", "accepted")]),
        2.0
    );
    assert_eq!(
        v("calos_telemetry_events_total", &[("outcome", "duplicate")]),
        1.0
    );
    assert_eq!(
        v("calos_telemetry_events_total", &[("outcome", "rejected")]),
        1.0
    );
    assert_eq!(
        v("calos_telemetry_batches_total", &[("outcome", "answered")]),
        2.0
    );
    assert_eq!(
        v("calos_telemetry_batches_total", &[("outcome", "refused")]),
        1.0
    );

    let verify_route = [("route", "/api/v1/license/verify"), ("method", "POST")];
    assert_eq!(
        v("calos_http_requests_total", &verify_route),
        6.0,
        "5 verdicts and one 4xx"
    );
    assert_eq!(
        v(
            "calos_http_requests_total",
            &[verify_route[0], verify_route[1], ("status", "4xx")]
        ),
        1.0
    );
    assert_eq!(
        v("calos_http_request_duration_seconds_count", &verify_route),
        6.0
    );
    let inf = v(
        "calos_http_request_duration_seconds_bucket",
        &[verify_route[0], verify_route[1], ("le", "+Inf")],
    );
    assert_eq!(inf, 6.0, "the +Inf bucket holds every observation");
    assert_eq!(
        v(
            "calos_http_requests_total",
            &[("route", "/api/enterprise/customers"), ("status", "2xx")]
        ),
        2.0,
        "nested routes are labelled with their full matched path"
    );
    assert_eq!(
        v(
            "calos_http_requests_total",
            &[("route", "unmatched"), ("status", "4xx")]
        ),
        1.0
    );
    assert!(
        !samples
            .iter()
            .any(|s| s.labels.get("route").is_some_and(|r| r.contains("4711"))),
        "raw paths never become labels"
    );

    // Every authentication of verify (5) and telemetry (3) is one cache
    // lookup; each install's first one misses. (On PostgreSQL a license
    // change notification may empty the cache, so more can miss.)
    let hits = v("calos_license_cache_lookups_total", &[("result", "hit")]);
    let misses = v("calos_license_cache_lookups_total", &[("result", "miss")]);
    assert_eq!(hits + misses, 8.0, "hits {hits}, misses {misses}");
    assert!(misses >= 2.0 && hits >= 1.0, "hits {hits}, misses {misses}");
    assert!(v("calos_license_cache_entries", &[]) >= 2.0);
    let max = v("calos_db_pool_max_connections", &[]);
    let open = v("calos_db_pool_connections", &[]);
    assert!(
        max >= 1.0 && open >= 1.0 && open <= max,
        "pool {open}/{max}"
    );
    assert!(v("process_resident_memory_bytes", &[]) > 1_000_000.0);
    assert_eq!(v("calos_outbox_deliveries", &[("state", "failed")]), 0.0);

    // The outbox gauge is the store's count at scrape time. A suspension
    // enqueues its e-mail; the delivery worker may move it meanwhile, so
    // scrape and count a few times until both saw the same outbox.
    let suspended = admin
        .post(
            &format!("/api/enterprise/customer/{}/suspend", good.install_id),
            &json!({"reason": "metrics"}),
        )
        .await;
    assert_eq!(suspended.status, StatusCode::OK, "{}", suspended.body);
    let mut agreed = false;
    for _ in 0..20 {
        let samples = scrape(&format!("{}/metrics", app.base), Some(&token)).await;
        let depth = app.store().outbox_depth().await.unwrap();
        let gauge = |state| value(&samples, "calos_outbox_deliveries", &[("state", state)]);
        if (gauge("pending"), gauge("sending"), gauge("failed"))
            == (
                depth.pending as f64,
                depth.sending as f64,
                depth.failed as f64,
            )
        {
            agreed = true;
            break;
        }
    }
    assert!(agreed, "the outbox gauges never matched the store's count");
}

async fn main_port_needs_an_admin_with_read_access(app: &TestApp) {
    let anon = app.anon().get("/metrics").await;
    anon.assert_error(401, "unauthenticated");
    let forged = crate::helpers::bearer_client(&app.base, "calos_at_not-a-real-token")
        .get("/metrics")
        .await;
    forged.assert_error(401, "unauthenticated");

    // A session works, and so does the least role: a viewer's token.
    let session = app.admin().await;
    assert_eq!(session.get("/metrics").await.status, StatusCode::OK);
    let viewer = client_with_role(app, Role::Viewer).await;
    let resp = viewer.get("/metrics").await;
    assert_eq!(resp.status, StatusCode::OK);
    let text = resp.body.as_str().expect("text body").to_owned();
    assert!(text.contains("calos_verify_verdicts_total"), "{text}");
    assert_eq!(
        app.state.metrics.port_addr(),
        None,
        "no separate port unless configured"
    );
}

fn on_a_separate_port(config: &mut calos_server::config::Config) {
    config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
}

async fn the_separate_port_serves_metrics_and_the_main_port_does_not(app: &TestApp) {
    // The workers bind the port as the server starts.
    let mut addr = None;
    for _ in 0..100 {
        addr = app.state.metrics.port_addr();
        if addr.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let addr = addr.expect("the metrics port is bound");
    assert_ne!(addr.port(), 0);
    assert_ne!(format!("http://{addr}"), app.base);

    let good = new_install(app, "pro", json!({})).await;
    assert_eq!(
        post_verify(&app.base, &request(&good, "node-1", None))
            .await
            .body["code"],
        "VALID"
    );

    // Open there (bind it where only Prometheus reaches), no credentials.
    let samples = scrape(&format!("http://{addr}/metrics"), None).await;
    assert_eq!(
        value(
            &samples,
            "calos_verify_verdicts_total",
            &[("code", "VALID")]
        ),
        1.0
    );
    let other = reqwest::get(format!("http://{addr}/api/enterprise/stats"))
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        StatusCode::NOT_FOUND,
        "the metrics port serves nothing else"
    );

    // The main port no longer has the route, even for an admin.
    let admin = app.token_client().await;
    admin.get("/metrics").await.assert_error(404, "not_found");
}

/// docs/grafana-dashboard.json parses, has a Prometheus datasource
/// variable, and every metric its queries name is one the server exports.
async fn dashboard_queries_only_exported_metrics(app: &TestApp) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/grafana-dashboard.json"
    );
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("dashboard file"))
            .expect("the dashboard is JSON");
    let vars = dashboard["templating"]["list"]
        .as_array()
        .expect("templating.list");
    assert!(
        vars.iter()
            .any(|v| v["type"] == "datasource" && v["query"] == "prometheus"),
        "a Prometheus datasource variable"
    );

    // Some traffic, so that label-created series exist too.
    let good = new_install(app, "pro", json!({})).await;
    post_verify(&app.base, &request(&good, "node-1", None)).await;
    let admin = app.admin().await;
    let sender = install(app, &admin, "pro").await;
    post_batch(app, &sender, vec![event("d-1", "page_view")]).await;
    let token = app.token_secret().await;
    let exported: BTreeSet<String> = scrape(&format!("{}/metrics", app.base), Some(&token))
        .await
        .into_iter()
        .map(|s| s.name)
        .collect();

    let mut exprs = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            exprs.push(target["expr"].as_str().expect("a PromQL expr").to_owned());
        }
        assert_eq!(
            panel["datasource"]["uid"], "${datasource}",
            "{}",
            panel["title"]
        );
    }
    assert!(
        exprs.len() >= 7,
        "request rate, latency, verdicts, ingest, outbox, cache, pool"
    );
    let mut used = BTreeSet::new();
    for expr in &exprs {
        for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')) {
            if word.starts_with("calos_") || word.starts_with("process_") {
                used.insert(word.to_owned());
            }
        }
    }
    assert!(used.len() >= 7, "{used:?}");
    let missing: Vec<_> = used.difference(&exported).collect();
    assert!(
        missing.is_empty(),
        "the dashboard queries metrics the server does not export: {missing:?}"
    );
}
