//! The server under soak: the release `calos` binary as its own process
//! (so its RSS is its own), started on a free loopback port with the rate
//! limits off, an admin session, and licenses created through the API.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use base64::Engine;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const ADMIN_PASSWORD: &str = "soak test password";

/// `target/release/calos` of this workspace (or `$CARGO_TARGET_DIR`).
pub fn default_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")),
        PathBuf::from,
    );
    target.join("release").join("calos")
}

/// A running `calos serve` and an admin session on it.
pub struct Server {
    child: Child,
    pub pid: u32,
    pub base: String,
    /// Cookie session of the first admin (reads need no CSRF token).
    pub admin: reqwest::Client,
    csrf: String,
}

/// A license the workload verifies and sends telemetry for.
#[derive(Debug, Clone)]
pub struct Install {
    pub id: String,
    pub key: String,
}

impl Server {
    /// Starts `binary serve` on `database_url`, its data and log in `dir`.
    pub async fn start(binary: &Path, database_url: &str, dir: &Path) -> anyhow::Result<Self> {
        if !binary.exists() {
            bail!(
                "{} not found: build it first with `cargo build --release -p calos-server --bin calos` (or pass --bin PATH)",
                binary.display()
            );
        }
        let log = std::fs::File::create(dir.join("server.log")).context("server log file")?;
        let mut child = Command::new(binary)
            .args(["serve", "--port", "0", "--bind", "127.0.0.1"])
            .env_clear()
            .env("DATABASE_URL", database_url)
            .env("CALOS_DATA_DIR", dir)
            .env("CALOS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env(
                "CALOS_MASTER_KEY",
                base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
            )
            // The soak measures the server, not its rate limiters.
            .env("CALOS_VERIFY_PER_INSTALL_PER_MINUTE", "0")
            .env("CALOS_VERIFY_PER_IP_PER_MINUTE", "0")
            .env("CALOS_TELEMETRY_EVENTS_PER_MINUTE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let base = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.split("running at ").nth(1) {
                    if let Some(url) = rest.split_whitespace().next() {
                        return Ok(url.to_owned());
                    }
                }
            }
            bail!("the server stopped before printing its address (see server.log)")
        })
        .await
        .context("the server did not start within 60 s")??;
        // Keep reading, so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let admin = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .context("admin client")?;
        let login: Value = admin
            .post(format!("{base}/api/auth/login"))
            .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
            .send()
            .await?
            .error_for_status()
            .context("admin login")?
            .json()
            .await?;
        let csrf = login["csrfToken"]
            .as_str()
            .context("login answer has no csrfToken")?
            .to_owned();
        Ok(Self {
            child,
            pid,
            base,
            admin,
            csrf,
        })
    }

    /// Creates `count` licenses (alternating pro and enterprise) through the API.
    pub async fn licenses(&self, count: usize) -> anyhow::Result<Vec<Install>> {
        let mut installs = Vec::with_capacity(count);
        for n in 0..count {
            let tier = if n % 2 == 0 { "pro" } else { "enterprise" };
            let created: Value = self
                .admin
                .post(format!("{}/api/enterprise/create-license", self.base))
                .header("x-csrf-token", &self.csrf)
                .json(&json!({
                    "customer": {
                        "name": format!("Soak Customer {n}"),
                        "email": format!("soak-{n}@example.com"),
                        "company": "Soak Ltd",
                    },
                    "tier": tier,
                }))
                .send()
                .await?
                .error_for_status()
                .context("create-license")?
                .json()
                .await?;
            installs.push(Install {
                id: created["installId"]
                    .as_str()
                    .context("no installId")?
                    .to_owned(),
                key: created["licenseKey"]
                    .as_str()
                    .context("no licenseKey")?
                    .to_owned(),
            });
        }
        Ok(installs)
    }

    /// The server's resident memory now, from `/proc/<pid>/status`.
    pub fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        calos_server::metrics::vm_rss_bytes(&status)
    }

    /// The server's own `/metrics` text (admin session).
    pub async fn metrics(&self) -> anyhow::Result<String> {
        Ok(self
            .admin
            .get(format!("{}/metrics", self.base))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?)
    }

    /// SIGTERM, then waits for a clean exit (killed after 30 s).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        if !sent.is_ok_and(|s| s.success()) {
            self.child.start_kill()?;
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                let status = status?;
                if !status.success() {
                    bail!("the server exited with {status}");
                }
            }
            Err(_) => {
                self.child.start_kill()?;
                bail!("the server did not stop within 30 s of SIGTERM");
            }
        }
        Ok(())
    }
}
