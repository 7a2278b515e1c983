//! A private PostgreSQL cluster for the fault and replica tests: Debian's
//! server binaries (`/usr/lib/postgresql/<version>/bin`), a data directory in
//! a temp dir, a free loopback port. The tests stop and start it for real
//! (outage), put a tablespace on a small volume (disk full) or make a
//! streaming standby of it (read replica) without touching the machine's
//! shared PostgreSQL. As root (CI) the cluster runs as the `postgres` user
//! through `runuser`; otherwise as the current user.

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

/// The server binaries, or `None` (outside CI) when they are not installed.
/// Under `CI=true` that is a failure.
fn server_bin_or_skip() -> Option<PathBuf> {
    let bin = server_bin();
    if bin.is_none() {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "CI=true but no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
        );
        eprintln!("skipped: no PostgreSQL server binaries for a private cluster");
    }
    bin
}

impl PrivatePg {
    /// Creates and starts the cluster; `None` (outside CI) when the server
    /// binaries are not installed. Under `CI=true` that is a failure.
    pub fn start() -> Option<PrivatePg> {
        PrivatePg::start_with(&[], &[])
    }

    /// [`start`](Self::start) with extra `postgresql.conf` lines
    /// (`"name = value"`) and extra `pg_hba.conf` lines.
    pub fn start_with(settings: &[&str], hba: &[&str]) -> Option<PrivatePg> {
        let pg = PrivatePg::empty(server_bin_or_skip()?);
        let data = pg.data.display().to_string();
        pg.run(
            "initdb",
            &["-D", &data, "-U", "postgres", "-A", "trust", "--no-sync"],
        );
        pg.append("postgresql.conf", settings);
        pg.append("pg_hba.conf", hba);
        pg.start_again();
        Some(pg)
    }

    /// A primary a streaming standby can be made from ([`standby_of`]):
    /// `wal_level = replica`, WAL senders, a replication line for loopback
    /// in `pg_hba.conf`, and some WAL kept so a standby stopped for a while
    /// catches up by streaming.
    ///
    /// [`standby_of`]: Self::standby_of
    pub fn start_primary() -> Option<PrivatePg> {
        PrivatePg::start_with(
            &[
                "wal_level = replica",
                "max_wal_senders = 4",
                "wal_keep_size = '64MB'",
            ],
            &["host replication postgres 127.0.0.1/32 trust"],
        )
    }

    /// A hot standby of `primary` on its own port: `pg_basebackup -R`
    /// (which writes `standby.signal` and `primary_conninfo`), started with
    /// `hot_standby = on`, streaming from the primary.
    pub fn standby_of(primary: &PrivatePg) -> PrivatePg {
        let pg = PrivatePg::empty(primary.bin.clone());
        let data = pg.data.display().to_string();
        let port = primary.port.to_string();
        pg.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                &data,
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ],
        );
        pg.append("postgresql.conf", &["hot_standby = on"]);
        pg.start_again();
        pg
    }

    /// A cluster not made yet: its (empty) temp dir, owned by the server's
    /// user, and a free port.
    fn empty(bin: PathBuf) -> PrivatePg {
        let dir = tempfile::tempdir().unwrap();
        let pg = PrivatePg {
            data: dir.path().join("data"),
            bin,
            port: free_port(),
            as_postgres: is_root(),
            _dir: dir,
        };
        // initdb refuses to run as root; the data directory must be the server's.
        pg.hand_over(pg.socket_dir());
        pg
    }

    /// Gives `path` (recursively) to the user the server runs as, e.g. a
    /// tablespace's directory.
    pub fn hand_over(&self, path: &Path) {
        if self.as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(path)
                .status()
                .unwrap();
            assert!(status.success(), "chown {} to postgres", path.display());
        }
    }

    fn append(&self, file: &str, lines: &[&str]) {
        if lines.is_empty() {
            return;
        }
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.data.join(file))
            .unwrap();
        for line in lines {
            writeln!(f, "{line}").unwrap();
        }
    }

    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    pub fn url_for(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// The end of the cluster's own log, for assertion messages.
    pub fn log_tail(&self) -> String {
        let path = self.socket_dir().join("server.log");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
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
