//! Load from another process: `wrk` (Debian's `wrk` package) posting verify
//! bodies in turn, through a generated Lua script, and reading back wrk's own
//! latency histogram (`latency:percentile`, recorded per request in µs).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::load::Figures;

/// The line the script's `done` prints; everything after it is `key=value`.
const RESULT_TAG: &str = "CALOS_WRK";

/// How wrk runs: threads, connections and the CPUs it is pinned to.
#[derive(Debug, Clone)]
pub struct Wrk {
    pub script: PathBuf,
    pub threads: usize,
    pub connections: usize,
    /// `taskset -c` list for wrk, `None` to leave it unpinned.
    pub cpus: Option<String>,
}

/// Fails with the install command when `wrk` is not on the PATH.
pub fn ensure_installed() -> anyhow::Result<()> {
    match Command::new("wrk").arg("--version").output() {
        Ok(_) => Ok(()),
        Err(e) => Err(anyhow::anyhow!(
            "wrk is not installed ({e}); install it with `apt-get install -y wrk` \
             (scripts/bench-verify.sh does)"
        )),
    }
}

/// Writes a Lua script to `dir` that posts `bodies` (JSON) to the URL's path
/// in turn. Each wrk thread starts at its own offset in the list, so the two
/// threads do not ask about the same license at the same moment.
pub fn write_script(dir: &Path, bodies: &[Vec<u8>]) -> anyhow::Result<PathBuf> {
    let mut lua = String::with_capacity(bodies.len() * 320 + 2048);
    lua.push_str("local bodies = {\n");
    for body in bodies {
        let body = std::str::from_utf8(body).context("verify bodies are JSON text")?;
        anyhow::ensure!(
            !body.contains("]==]"),
            "a body cannot be quoted as a Lua long string"
        );
        let _ = writeln!(lua, "[==[{body}]==],");
    }
    lua.push_str(
        r#"}
local started = 0
function setup(thread)
  thread:set("first", started * math.floor(#bodies / 2))
  started = started + 1
end
function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  requests = {}
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format("POST", nil, headers, body)
  end
  at = first or 0
end
function request()
  at = at % #requests + 1
  return requests[at]
end
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    "CALOS_WRK requests=%d duration_us=%d p50_us=%d p99_us=%d status=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(99)),
    e.status, e.connect, e.read, e.write, e.timeout))
end
"#,
    );
    let path = dir.join("verify.lua");
    std::fs::write(&path, lua).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

impl Wrk {
    /// One closed-loop run of `length` against `url`.
    pub fn run(&self, url: &str, length: Duration) -> anyhow::Result<Figures> {
        self.start(url, length)?.finish()
    }

    /// Starts a run of `length` against `url` without waiting for it, so
    /// two servers can be loaded at the same time.
    pub fn start(&self, url: &str, length: Duration) -> anyhow::Result<Running> {
        let mut command = match &self.cpus {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpus, "wrk"]);
                c
            }
            None => Command::new("wrk"),
        };
        let child = command
            .arg(format!("-t{}", self.threads))
            .arg(format!("-c{}", self.connections))
            .arg(format!("-d{}s", length.as_secs().max(1)))
            .arg("--latency")
            .arg("-s")
            .arg(&self.script)
            .arg(url)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot run wrk")?;
        Ok(Running { child })
    }
}

/// A wrk run under way.
pub struct Running {
    child: Child,
}

impl Running {
    /// Waits for the run to end and reads its figures.
    pub fn finish(self) -> anyhow::Result<Figures> {
        let output = self.child.wait_with_output().context("cannot run wrk")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        anyhow::ensure!(
            output.status.success(),
            "wrk failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
        parse(&stdout).with_context(|| format!("unexpected wrk output:\n{stdout}"))
    }
}

/// The figures from the script's `CALOS_WRK …` line.
fn parse(stdout: &str) -> anyhow::Result<Figures> {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT_TAG))
        .context("no result line")?;
    let field = |name: &str| -> anyhow::Result<u64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .with_context(|| format!("no {name}"))?
            .parse()
            .with_context(|| format!("{name} is not a number"))
    };
    let requests = field("requests")?;
    let duration = Duration::from_micros(field("duration_us")?.max(1));
    let errors = ["status", "connect", "read", "write", "timeout"]
        .iter()
        .map(|name| field(name))
        .sum::<anyhow::Result<u64>>()?;
    Ok(Figures {
        requests,
        per_second: requests as f64 / duration.as_secs_f64(),
        p50: Duration::from_micros(field("p50_us")?),
        p99: Duration::from_micros(field("p99_us")?),
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_result_line() {
        let out = "Running 10s test\nCALOS_WRK requests=1000 duration_us=2000000 p50_us=1500 \
                   p99_us=4200 status=2 connect=0 read=1 write=0 timeout=0\nRequests/sec: 500\n";
        let f = parse(out).unwrap();
        assert_eq!(f.requests, 1000);
        assert!((f.per_second - 500.0).abs() < 1e-9);
        assert_eq!(f.p50, Duration::from_micros(1500));
        assert_eq!(f.p99, Duration::from_micros(4200));
        assert_eq!(f.errors, 3);
        assert!(parse("Requests/sec: 500").is_err());
    }
}
