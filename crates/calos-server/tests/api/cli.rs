//! The built `calos` binary: setup, token creation, serving, SIGTERM.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::helpers::bearer_client;

use crate::binary;
const PASSWORD: &str = "cli test password";

fn calos(dir: &Path) -> Command {
    binary::calos(dir, PASSWORD)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_token_serve_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();

    let setup = calos(dir.path()).arg("setup").output().await.unwrap();
    let stdout = String::from_utf8_lossy(&setup.stdout);
    assert!(
        setup.status.success(),
        "setup failed: {stdout}\n{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    assert!(stdout.contains("setup complete"), "{stdout}");
    assert!(
        dir.path().join("calos.key").exists(),
        "master key file created"
    );

    let again = calos(dir.path()).arg("setup").output().await.unwrap();
    assert!(again.status.success(), "a second setup is harmless");
    assert!(String::from_utf8_lossy(&again.stdout).contains("an admin already exists"));

    let created = calos(dir.path())
        .args(["admin", "token", "create", "--name", "ci"])
        .output()
        .await
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let stdout = String::from_utf8_lossy(&created.stdout).into_owned();
    let token = stdout.lines().last().unwrap().trim().to_owned();
    assert!(
        token.starts_with("calos_at_") && !token.contains(' '),
        "{stdout}"
    );

    let listed = calos(dir.path())
        .args(["admin", "token", "list", "--output", "json"])
        .output()
        .await
        .unwrap();
    let tokens: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(tokens[0]["name"], "ci");
    assert!(
        !String::from_utf8_lossy(&listed.stdout).contains(&token),
        "lists never show the secret"
    );

    let (mut server, base) = binary::serve(calos(dir.path()), Stdio::null()).await;

    let api = bearer_client(&base, &token);
    let stats = api.get("/api/enterprise/stats").await;
    assert_eq!(stats.status.as_u16(), 200, "{}", stats.body);
    let login = reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({ "username": "admin", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);

    let pid = server.id().unwrap().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(20), server.wait())
        .await
        .expect("serve exits after SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(0), "graceful shutdown exits 0");
}

#[tokio::test]
async fn failing_setup_says_so_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = calos(dir.path())
        .env("DATABASE_URL", "mysql://root@localhost/calos")
        .arg("setup")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error:") && stderr.contains("step 1"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("setup complete"));

    let out = calos(dir.path())
        .env("DATABASE_URL", "sqlite:///proc/no/such/dir/calos.db")
        .arg("migrate")
        .output()
        .await
        .unwrap();
    assert!(
        !out.status.success(),
        "an unopenable database fails migrate"
    );
}

#[tokio::test]
async fn list_commands_offer_json() {
    let dir = tempfile::tempdir().unwrap();
    assert!(calos(dir.path())
        .arg("setup")
        .output()
        .await
        .unwrap()
        .status
        .success());
    let plans = calos(dir.path())
        .args(["plans", "list", "--output", "json"])
        .output()
        .await
        .unwrap();
    assert!(plans.status.success());
    let plans: serde_json::Value = serde_json::from_slice(&plans.stdout).unwrap();
    assert_eq!(plans.as_array().unwrap().len(), 5);
    let licenses = calos(dir.path())
        .args(["license", "list", "--output", "json"])
        .output()
        .await
        .unwrap();
    assert!(licenses.status.success());
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&licenses.stdout).unwrap(),
        serde_json::json!([])
    );
    let bad = calos(dir.path())
        .args(["license", "list", "--tier", "gold"])
        .output()
        .await
        .unwrap();
    assert!(!bad.status.success());
}
