//! The load `bench scale` puts on the nodes through the balancer: admin GETs
//! with a bearer token (culture profiles, dashboard list pages) from a
//! closed loop of connections, and the telemetry batches ingest posts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use crate::load::Figures;

/// GETs `urls` (round robin, task `t` starting at `t`) with `token` from
/// `connections` tasks for `length`; each task opens its own connection, so
/// the balancer spreads them over the nodes.
pub async fn get(
    urls: Arc<Vec<String>>,
    token: &str,
    connections: usize,
    length: Duration,
) -> anyhow::Result<Figures> {
    let start = Instant::now();
    let deadline = start + length;
    let mut tasks = Vec::new();
    for t in 0..connections {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .context("http client")?;
        let (urls, bearer) = (urls.clone(), format!("Bearer {token}"));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut i = t;
            while Instant::now() < deadline {
                let url = &urls[i % urls.len()];
                i += connections;
                let sent = Instant::now();
                let ok = match client
                    .get(url)
                    .header("authorization", &bearer)
                    .send()
                    .await
                {
                    Ok(resp) => resp.status().is_success() && resp.bytes().await.is_ok(),
                    Err(_) => false,
                };
                latencies.push(sent.elapsed());
                errors += u64::from(!ok);
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.context("load task")?;
        all.extend(l);
        errors += e;
    }
    Ok(figures(all, errors, start.elapsed()))
}

fn figures(mut all: Vec<Duration>, errors: u64, elapsed: Duration) -> Figures {
    all.sort_unstable();
    let pick = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Figures {
        requests: all.len() as u64,
        per_second: all.len() as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
        p50: pick(0.50),
        p99: pick(0.99),
        errors,
    }
}

/// `batches` telemetry batches of `per_batch` new events each (ids tagged
/// with `tag`, so two runs never collide), spread over the licenses whose
/// `(install id, key)` are given, stamped `now`.
pub fn telemetry_bodies(
    keys: &[(String, String)],
    batches: usize,
    per_batch: usize,
    tag: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Vec<Vec<u8>>> {
    anyhow::ensure!(!keys.is_empty(), "no licenses to send telemetry for");
    let ts = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    (0..batches)
        .map(|b| {
            let (install, key) = &keys[b % keys.len()];
            let events: Vec<serde_json::Value> = (0..per_batch)
                .map(|i| {
                    json!({
                        "eventId": format!("load-{tag}-{b}-{i}"),
                        "type": if i % 4 == 0 { "api_call" } else { "feature_used" },
                        "feature": "pos",
                        "user": format!("user-{}", i % 25),
                        "session": format!("s-load-{tag}-{b}"),
                        "ts": ts,
                        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",
                        "durationMs": i % 900,
                        "status": 200
                    })
                })
                .collect();
            serde_json::to_vec(
                &json!({ "installId": install, "licenseKey": key, "events": events }),
            )
            .context("telemetry body")
        })
        .collect()
}

/// `(installId, licenseKey)` of each verify body `verify::fill` made.
pub fn keys_of(verify_bodies: &[Vec<u8>]) -> anyhow::Result<Vec<(String, String)>> {
    verify_bodies
        .iter()
        .map(|b| {
            let v: serde_json::Value = serde_json::from_slice(b).context("verify body")?;
            let field = |name: &str| {
                v[name]
                    .as_str()
                    .map(str::to_owned)
                    .with_context(|| format!("verify body without {name}"))
            };
            Ok((field("installId")?, field("licenseKey")?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_fresh_ids_for_each_license() {
        let keys = vec![
            ("a-install".to_owned(), "k1".to_owned()),
            ("b-install".to_owned(), "k2".to_owned()),
        ];
        let bodies = telemetry_bodies(&keys, 3, 2, "t1", chrono::Utc::now()).unwrap();
        let parsed: Vec<serde_json::Value> = bodies
            .iter()
            .map(|b| serde_json::from_slice(b).unwrap())
            .collect();
        assert_eq!(parsed[0]["installId"], "a-install");
        assert_eq!(parsed[1]["licenseKey"], "k2");
        assert_eq!(parsed[2]["installId"], "a-install");
        assert_eq!(parsed[2]["events"][1]["eventId"], "load-t1-2-1");
        assert_eq!(parsed[0]["events"].as_array().unwrap().len(), 2);
        let verify = serde_json::to_vec(&json!({"installId": "x", "licenseKey": "y"})).unwrap();
        assert_eq!(
            keys_of(&[verify]).unwrap(),
            vec![("x".to_owned(), "y".to_owned())]
        );
        assert!(keys_of(&[b"{}".to_vec()]).is_err());
    }
}
