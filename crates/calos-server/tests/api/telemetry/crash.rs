//! The real `calos` binary on SQLite, killed with SIGKILL right after it
//! answered 200: every acknowledged event is there after a restart.

use std::path::Path;
use std::process::Stdio;

use serde_json::json;
use tokio::process::{Child, Command};

use crate::helpers::bearer_client;

use crate::binary;

fn calos(dir: &Path) -> Command {
    binary::calos(dir, "crash test password")
}

async fn serve(dir: &Path) -> (Child, String) {
    binary::serve(calos(dir), Stdio::null()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_acknowledged_before_kill_9_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    assert!(calos(dir.path())
        .arg("setup")
        .output()
        .await
        .unwrap()
        .status
        .success());
    let created = calos(dir.path())
        .args(["admin", "token", "create", "--name", "crash"])
        .output()
        .await
        .unwrap();
    let token = String::from_utf8_lossy(&created.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();

    let (mut server, base) = serve(dir.path()).await;
    let admin = bearer_client(&base, &token);
    let license = admin
        .post(
            "/api/enterprise/create-license",
            &json!({"customer": {"name": "Crash", "email": "crash@example.com"}, "tier": "enterprise"}),
        )
        .await;
    assert_eq!(license.status.as_u16(), 201, "{}", license.body);
    let (id, key) = (
        license.body["installId"].as_str().unwrap(),
        license.body["licenseKey"].as_str().unwrap(),
    );
    let events: Vec<_> = (0..500)
        .map(|n| json!({"eventId": format!("k{n}"), "type": "api_call", "ts": super::ts_ago(1), "user": format!("u{}", n % 7)}))
        .collect();
    let ack = reqwest::Client::new()
        .post(format!("{base}{}", super::PATH))
        .json(&json!({"installId": id, "licenseKey": key, "events": events}))
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status().as_u16(), 200);
    let body: serde_json::Value = ack.json().await.unwrap();
    assert_eq!(body["accepted"], 500);

    // No graceful shutdown: SIGKILL right after the answer.
    let pid = server.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-9", &pid])
        .status()
        .unwrap()
        .success());
    let _ = server.wait().await;

    let (mut again, base) = serve(dir.path()).await;
    let usage = bearer_client(&base, &token)
        .get(&format!("/api/enterprise/customer/{id}/usage"))
        .await;
    assert_eq!(usage.status.as_u16(), 200, "{}", usage.body);
    let api = usage.body["currentPeriod"]["meters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["meter"] == "api_requests")
        .unwrap()
        .clone();
    assert_eq!(
        api["used"], 500,
        "every acknowledged event was metered: {api}"
    );
    assert_eq!(
        usage.body["currentPeriod"]["meters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["meter"] == "seats")
            .unwrap()["used"],
        7
    );
    // The same batch again is all duplicates: the events themselves are stored.
    let retry = reqwest::Client::new()
        .post(format!("{base}{}", super::PATH))
        .json(&json!({"installId": id, "licenseKey": key, "events": (0..500).map(|n| json!({"eventId": format!("k{n}"), "type": "api_call", "ts": super::ts_ago(1)})).collect::<Vec<_>>()}))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = retry.json().await.unwrap();
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(0), Some(500))
    );
    let _ = again.kill().await;
}
