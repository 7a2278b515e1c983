//! The built `calos` binary, for tests that need a real process (CLI output,
//! `kill -9`, what reaches its logs).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_calos");

/// `calos` with a clean environment on a SQLite file in `dir`, the first
/// admin's password set, and killed when dropped.
pub fn calos(dir: &Path, admin_password: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("calos.db").display()),
        )
        .env("CALOS_DATA_DIR", dir)
        .env("CALOS_ADMIN_PASSWORD", admin_password)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Starts `cmd serve` on a free loopback port and returns the process and
/// the base URL it printed. Its stdout keeps being read (a closed pipe would
/// fail the server's next line); its stderr goes to `stderr`.
pub async fn serve(mut cmd: Command, stderr: Stdio) -> (Child, String) {
    let mut server = cmd
        .args(["serve", "--port", "0", "--bind", "127.0.0.1"])
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("running at ").nth(1) {
                return rest.split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("serve ended without printing its address");
    })
    .await
    .expect("serve printed its address");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (server, base)
}

/// The first admin of a `calos` process at `base` (started with
/// `ADMIN_PASSWORD`), logged in with a session cookie.
pub async fn login(base: &str) -> crate::helpers::Api {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let resp = client
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": crate::helpers::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    crate::helpers::Api {
        client,
        base: base.to_owned(),
        csrf: Some(body["csrfToken"].as_str().unwrap().to_owned()),
    }
}
