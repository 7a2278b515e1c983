//! Servers under test as processes of their own: started (optionally pinned
//! with `taskset`), their address read from the line they print once they
//! accept connections, paused and resumed with SIGSTOP/SIGCONT so an idle one
//! does no background work while the other is measured, and stopped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// How to start one server process.
pub struct Spec<'a> {
    pub name: &'static str,
    pub program: &'a Path,
    pub args: &'a [&'a str],
    /// `CALOS_*` settings on top of the inherited environment.
    pub env: &'a [(String, String)],
    /// `taskset -c` list, `None` to leave it unpinned.
    pub cpus: Option<&'a str>,
    /// Where its log (stderr) goes; `None`: nowhere.
    pub log: Option<&'a Path>,
    /// Text on the stdout line that is followed by its `http://` address.
    pub ready: &'a str,
}

/// A running server; stopped when dropped.
pub struct Server {
    pub name: &'static str,
    /// `http://host:port`
    pub base: String,
    child: Child,
    /// Held open: the floor stops when its standard input closes.
    stdin: Option<ChildStdin>,
}

/// How long a server may take to print its address (migrations, first admin).
const START_TIMEOUT: Duration = Duration::from_secs(120);

impl Server {
    pub fn start(spec: &Spec<'_>) -> anyhow::Result<Server> {
        let mut command = match spec.cpus {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpus]).arg(spec.program);
                c
            }
            None => Command::new(spec.program),
        };
        command
            .args(spec.args)
            // A config file or URL of the caller's must not replace the bench's settings.
            .env_remove("CALOS_CONFIG")
            .env_remove("DATABASE_URL")
            .env_remove("PORT")
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(match spec.log {
                Some(path) => Stdio::from(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?,
                ),
                None => Stdio::null(),
            });
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", spec.program.display()))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let ready = spec.ready.to_owned();
        // Reads the address, then keeps draining stdout so the child never blocks on it.
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent && line.contains(&ready) {
                    sent = tx.send(line).is_ok();
                }
            }
        });
        let mut server = Server {
            name: spec.name,
            base: String::new(),
            child,
            stdin,
        };
        let started = Instant::now();
        let line = loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => break line,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(status) = server.child.try_wait()? {
                        anyhow::bail!("{} exited before serving ({status})", spec.name);
                    }
                    anyhow::ensure!(
                        started.elapsed() < START_TIMEOUT,
                        "{} did not start within {START_TIMEOUT:?}",
                        spec.name
                    );
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    anyhow::bail!("{} closed its output before serving", spec.name)
                }
            }
        };
        server.base = address(&line).with_context(|| format!("no address in {line:?}"))?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's user + system CPU time so far.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        cpu_time_of(self.pid())
    }

    /// SIGSTOP: no CPU at all, background workers included, until resumed.
    pub fn pause(&self) -> anyhow::Result<()> {
        signal("-STOP", self.pid())
    }

    /// SIGCONT.
    pub fn resume(&self) -> anyhow::Result<()> {
        signal("-CONT", self.pid())
    }

    /// SIGTERM (a graceful shutdown for `calos serve`), then SIGKILL if it
    /// has not exited within a few seconds.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.resume();
        self.stdin.take();
        let _ = signal("-TERM", self.pid());
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_)) | Err(_)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.shutdown();
        }
    }
}

fn signal(which: &str, pid: u32) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .args([which, &pid.to_string()])
        .status()
        .context("cannot run kill")?;
    anyhow::ensure!(status.success(), "kill {which} {pid} failed");
    Ok(())
}

/// User + system CPU time of a process so far (`/proc/PID/stat`).
fn cpu_time_of(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start at the
    // state: utime and stime are the 12th and 13th from there.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).context("bad stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        fields
            .get(i)
            .context("short stat")?
            .parse::<u64>()
            .context("bad stat field")
    };
    let total = ticks(11)? + ticks(12)?;
    // USER_HZ is 100 on every Linux platform we run on.
    Ok(Duration::from_millis(total * 10))
}

/// `http://host:port` from a line like `… running at http://127.0.0.1:5001 (store: …)`.
fn address(line: &str) -> Option<String> {
    let from = line.find("http://")?;
    let rest = &line[from..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    Some(rest[..end].trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_address_from_the_banner() {
        assert_eq!(
            address("CALOS Enterprise is running at http://127.0.0.1:40123 (store: sqlite)")
                .as_deref(),
            Some("http://127.0.0.1:40123")
        );
        assert_eq!(
            address("floor listening at http://127.0.0.1:9").as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(address("no address"), None);
    }

    #[test]
    fn reads_its_own_cpu_time() {
        let spent = cpu_time_of(std::process::id()).unwrap();
        let busy_until = std::time::Instant::now() + Duration::from_millis(300);
        while std::time::Instant::now() < busy_until {
            std::hint::black_box(0u64);
        }
        assert!(cpu_time_of(std::process::id()).unwrap() > spent);
        assert!(cpu_time_of(u32::MAX).is_err(), "no such process");
    }
}
