//! A private PostgreSQL cluster for the outage test: Debian's server
//! binaries (`/usr/lib/postgresql/<version>/bin`), a data directory in a temp
//! dir, a free loopback port. The test stops and starts it for real without
//! touching the machine's shared PostgreSQL. As root (CI) the cluster runs as
//! the `postgres` user through `runuser`; otherwise as the current user.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PrivatePg {
    bin: PathBuf,
    data: PathBuf,
    pub port: u16,
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

/// The newest installed server's `bin` directory.
fn server_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl PrivatePg {
    /// Creates and starts the cluster; `None` (outside CI) when the server
    /// binaries are not installed. Under `CI=true` that is a failure.
    pub fn start() -> Option<PrivatePg> {
        let Some(bin) = server_bin() else {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true"),
                "CI=true but no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
            );
            eprintln!("skipped: no PostgreSQL server binaries for a private cluster");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = is_root();
        if as_postgres {
            // initdb refuses to run as root; the data directory must be the server's.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown the private cluster's directory");
        }
        let pg = PrivatePg {
            data: dir.path().join("data"),
            bin,
            port: free_port(),
            as_postgres,
            _dir: dir,
        };
        let data = pg.data.display().to_string();
        pg.run(
            "initdb",
            &["-D", &data, "-U", "postgres", "-A", "trust", "--no-sync"],
        );
        pg.start_again();
        Some(pg)
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast: open sessions are ended) and waits for it.
    pub fn stop(&self) {
        let data = self.data.display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
    }

    /// Starts the (stopped) server on the same port and waits until it accepts.
    pub fn start_again(&self) {
        let data = self.data.display().to_string();
        let log = self.socket_dir().join("server.log").display().to_string();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={}",
            self.port,
            self.socket_dir().display()
        );
        self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-o", &options, "-w", "start"],
        );
    }

    fn socket_dir(&self) -> &Path {
        self.data.parent().unwrap()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let output = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&exe)
                .args(args)
                .current_dir(self.socket_dir())
                .output()
        } else {
            Command::new(&exe).args(args).output()
        }
        .unwrap();
        assert!(
            output.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        // Best effort, immediate: the temp dir goes with it.
        let data = self.data.display().to_string();
        let exe = self.bin.join("pg_ctl");
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&exe)
                .args(args)
                .current_dir(self.socket_dir())
                .output()
        } else {
            Command::new(&exe).args(args).output()
        };
    }
}
