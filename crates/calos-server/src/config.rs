//! Layered configuration: defaults → optional TOML file → environment → CLI
//! flags. Each layer only overrides what it sets; unknown file keys are an
//! error so a typo never silently falls back to a default.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;

/// A value that must not appear in logs: `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    fn parse(raw: &str) -> anyhow::Result<Self> {
        match raw {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => bail!("log format must be \"text\" or \"json\", not {other:?}"),
        }
    }
}

/// Everything the server and CLI need to know about their surroundings.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub bind: IpAddr,
    pub database_url: String,
    /// Where the master key file lives.
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    /// Base64 of 32 bytes; when absent the key file in `data_dir` is used.
    pub master_key: Option<Secret<String>>,
    /// Password for the first admin, and for `calos admin create|reset-password`.
    pub admin_password: Option<Secret<String>>,
    /// Mark session cookies `Secure` (set when served over TLS).
    pub secure_cookies: bool,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    /// How often the expiry worker looks for licenses that time changed.
    pub expiry_interval: Duration,
    /// Longest a cached license is trusted without a change notification.
    pub license_cache_ttl: Duration,
    /// Verify requests per minute per install (0: no limit).
    pub verify_per_install_per_minute: u32,
    /// Verify requests per minute per client IP (0: no limit).
    pub verify_per_ip_per_minute: u32,
    /// An instance not seen for this long stops counting toward the plan's limit.
    pub instance_active_window: Duration,
    /// How often batched verify writes (last seen, instances) are flushed.
    pub verify_flush_interval: Duration,
    /// Raw telemetry events are kept this many days (rollups forever); older
    /// events are refused at ingest.
    pub telemetry_retention_days: u32,
    /// How often the retention worker prunes raw events.
    pub retention_interval: Duration,
    /// Telemetry events per minute per install for every plan (0: no limit);
    /// unset, each plan has its own rate.
    pub telemetry_events_per_minute: Option<u32>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 5001,
            bind: IpAddr::from([0, 0, 0, 0]),
            database_url: "sqlite://calos.db".to_owned(),
            data_dir: PathBuf::from("."),
            log_format: LogFormat::Text,
            master_key: None,
            admin_password: None,
            secure_cookies: false,
            body_limit_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            expiry_interval: Duration::from_secs(60),
            license_cache_ttl: Duration::from_secs(300),
            verify_per_install_per_minute: 120,
            verify_per_ip_per_minute: 1200,
            instance_active_window: Duration::from_secs(24 * 3600),
            verify_flush_interval: Duration::from_secs(5),
            telemetry_retention_days: 90,
            retention_interval: Duration::from_secs(3600),
            telemetry_events_per_minute: None,
        }
    }
}

/// The TOML file layer. Field names match the config keys documented in the README.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLayer {
    port: Option<u16>,
    bind: Option<IpAddr>,
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    log_format: Option<LogFormat>,
    master_key: Option<String>,
    admin_password: Option<String>,
    secure_cookies: Option<bool>,
    body_limit_bytes: Option<usize>,
    request_timeout_secs: Option<u64>,
    expiry_interval_secs: Option<u64>,
    license_cache_ttl_secs: Option<u64>,
    verify_per_install_per_minute: Option<u32>,
    verify_per_ip_per_minute: Option<u32>,
    instance_active_secs: Option<u64>,
    verify_flush_interval_secs: Option<u64>,
    telemetry_retention_days: Option<u32>,
    retention_interval_secs: Option<u64>,
    telemetry_events_per_minute: Option<u32>,
}

/// What CLI flags can override; `None` leaves the lower layers' value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub port: Option<u16>,
    pub bind: Option<IpAddr>,
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
}

impl Config {
    /// Builds the configuration. `env` is passed in (rather than read here) so
    /// tests can give each case its own environment.
    pub fn load(
        file: Option<&Path>,
        env: &HashMap<String, String>,
        flags: &Overrides,
    ) -> anyhow::Result<Config> {
        let mut config = Config::default();
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| env.get("CALOS_CONFIG").map(PathBuf::from));
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read config file {}", path.display()))?;
            let layer: FileLayer = toml::from_str(&text)
                .with_context(|| format!("invalid config file {}", path.display()))?;
            config.apply_file(layer);
        }
        config.apply_env(env)?;
        config.apply_flags(flags);
        Ok(config)
    }

    fn apply_file(&mut self, f: FileLayer) {
        self.apply_verify_file(&f);
        self.apply_ingest_file(&f);
        set(&mut self.port, f.port);
        set(&mut self.bind, f.bind);
        set(&mut self.database_url, f.database_url);
        set(&mut self.data_dir, f.data_dir);
        set(&mut self.log_format, f.log_format);
        if let Some(key) = f.master_key {
            self.master_key = Some(Secret::new(key));
        }
        if let Some(pw) = f.admin_password {
            self.admin_password = Some(Secret::new(pw));
        }
        set(&mut self.secure_cookies, f.secure_cookies);
        set(&mut self.body_limit_bytes, f.body_limit_bytes);
        set(
            &mut self.request_timeout,
            f.request_timeout_secs.map(Duration::from_secs),
        );
        set(
            &mut self.expiry_interval,
            f.expiry_interval_secs.map(Duration::from_secs),
        );
    }

    fn apply_ingest_file(&mut self, f: &FileLayer) {
        set(
            &mut self.telemetry_retention_days,
            f.telemetry_retention_days.map(|d| d.max(1)),
        );
        set(
            &mut self.retention_interval,
            f.retention_interval_secs
                .map(|s| Duration::from_secs(s.max(1))),
        );
        if let Some(n) = f.telemetry_events_per_minute {
            self.telemetry_events_per_minute = Some(n);
        }
    }

    fn apply_ingest_env(&mut self, env: &HashMap<String, String>) -> anyhow::Result<()> {
        let num = |name: &str| -> anyhow::Result<Option<u64>> {
            env.get(name)
                .filter(|v| !v.is_empty())
                .map(|v| {
                    v.parse::<u64>()
                        .with_context(|| format!("{name} must be a number"))
                })
                .transpose()
        };
        if let Some(days) = num("CALOS_TELEMETRY_RETENTION_DAYS")? {
            self.telemetry_retention_days = u32::try_from(days.max(1)).unwrap_or(u32::MAX);
        }
        if let Some(secs) = num("CALOS_RETENTION_INTERVAL_SECS")? {
            self.retention_interval = Duration::from_secs(secs.max(1));
        }
        if let Some(n) = num("CALOS_TELEMETRY_EVENTS_PER_MINUTE")? {
            self.telemetry_events_per_minute = Some(u32::try_from(n).unwrap_or(u32::MAX));
        }
        Ok(())
    }

    fn apply_verify_file(&mut self, f: &FileLayer) {
        let secs = |v: Option<u64>| v.map(|s| Duration::from_secs(s.max(1)));
        set(&mut self.license_cache_ttl, secs(f.license_cache_ttl_secs));
        set(
            &mut self.verify_per_install_per_minute,
            f.verify_per_install_per_minute,
        );
        set(
            &mut self.verify_per_ip_per_minute,
            f.verify_per_ip_per_minute,
        );
        set(
            &mut self.instance_active_window,
            secs(f.instance_active_secs),
        );
        set(
            &mut self.verify_flush_interval,
            secs(f.verify_flush_interval_secs),
        );
    }

    fn apply_verify_env(&mut self, env: &HashMap<String, String>) -> anyhow::Result<()> {
        let num = |name: &str| -> anyhow::Result<Option<u64>> {
            env.get(name)
                .filter(|v| !v.is_empty())
                .map(|v| {
                    v.parse::<u64>()
                        .with_context(|| format!("{name} must be a number"))
                })
                .transpose()
        };
        let secs = |v: Option<u64>| v.map(|s| Duration::from_secs(s.max(1)));
        let per_minute = |v: Option<u64>| v.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        set(
            &mut self.license_cache_ttl,
            secs(num("CALOS_LICENSE_CACHE_TTL_SECS")?),
        );
        set(
            &mut self.verify_per_install_per_minute,
            per_minute(num("CALOS_VERIFY_PER_INSTALL_PER_MINUTE")?),
        );
        set(
            &mut self.verify_per_ip_per_minute,
            per_minute(num("CALOS_VERIFY_PER_IP_PER_MINUTE")?),
        );
        set(
            &mut self.instance_active_window,
            secs(num("CALOS_INSTANCE_ACTIVE_SECS")?),
        );
        set(
            &mut self.verify_flush_interval,
            secs(num("CALOS_VERIFY_FLUSH_INTERVAL_SECS")?),
        );
        Ok(())
    }

    fn apply_env(&mut self, env: &HashMap<String, String>) -> anyhow::Result<()> {
        let get = |name: &str| env.get(name).filter(|v| !v.is_empty());
        // `PORT` is what hosting platforms set; `CALOS_PORT` wins when both are.
        for name in ["PORT", "CALOS_PORT"] {
            if let Some(v) = get(name) {
                self.port = v
                    .parse()
                    .with_context(|| format!("{name} must be a port number"))?;
            }
        }
        if let Some(v) = get("CALOS_BIND") {
            self.bind = v.parse().context("CALOS_BIND must be an IP address")?;
        }
        for name in ["DATABASE_URL", "CALOS_DATABASE_URL"] {
            if let Some(v) = get(name) {
                self.database_url = v.clone();
            }
        }
        if let Some(v) = get("CALOS_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("CALOS_LOG_FORMAT") {
            self.log_format = LogFormat::parse(v)?;
        }
        if let Some(v) = get("CALOS_MASTER_KEY") {
            self.master_key = Some(Secret::new(v.clone()));
        }
        if let Some(v) = get("CALOS_ADMIN_PASSWORD") {
            self.admin_password = Some(Secret::new(v.clone()));
        }
        if let Some(v) = get("CALOS_SECURE_COOKIES") {
            self.secure_cookies = parse_bool("CALOS_SECURE_COOKIES", v)?;
        }
        if let Some(v) = get("CALOS_EXPIRY_INTERVAL_SECS") {
            let secs: u64 = v
                .parse()
                .context("CALOS_EXPIRY_INTERVAL_SECS must be a number")?;
            self.expiry_interval = Duration::from_secs(secs.max(1));
        }
        self.apply_verify_env(env)?;
        self.apply_ingest_env(env)?;
        Ok(())
    }

    fn apply_flags(&mut self, o: &Overrides) {
        set(&mut self.port, o.port);
        set(&mut self.bind, o.bind);
        set(&mut self.database_url, o.database_url.clone());
        set(&mut self.data_dir, o.data_dir.clone());
        set(&mut self.log_format, o.log_format);
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn parse_bool(name: &str, raw: &str) -> anyhow::Result<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => bail!("{name} must be true or false"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_match_the_readme() {
        let c = Config::load(None, &env(&[]), &Overrides::default()).unwrap();
        assert_eq!(c.port, 5001);
        assert_eq!(c.database_url, "sqlite://calos.db");
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(!c.secure_cookies);
    }

    #[test]
    fn layers_override_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calos.toml");
        std::fs::write(&path, "port = 6000\ndatabase_url = \"sqlite://file.db\"\n").unwrap();
        let e = env(&[("PORT", "7000")]);
        let c = Config::load(Some(&path), &e, &Overrides::default()).unwrap();
        assert_eq!(
            (c.port, c.database_url.as_str()),
            (7000, "sqlite://file.db")
        );
        let flags = Overrides {
            port: Some(8000),
            ..Overrides::default()
        };
        assert_eq!(Config::load(Some(&path), &e, &flags).unwrap().port, 8000);
    }

    #[test]
    fn unknown_file_keys_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calos.toml");
        std::fs::write(&path, "prot = 6000\n").unwrap();
        let err = Config::load(Some(&path), &env(&[]), &Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("prot"), "{err:#}");
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let e = env(&[
            ("CALOS_ADMIN_PASSWORD", "hunter2"),
            ("CALOS_MASTER_KEY", "c2VjcmV0"),
        ]);
        let c = Config::load(None, &e, &Overrides::default()).unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("c2VjcmV0"),
            "{shown}"
        );
        assert_eq!(c.admin_password.unwrap().expose(), "hunter2");
    }

    #[test]
    fn bad_env_values_are_reported() {
        assert!(Config::load(None, &env(&[("PORT", "abc")]), &Overrides::default()).is_err());
        assert!(Config::load(
            None,
            &env(&[("CALOS_LOG_FORMAT", "xml")]),
            &Overrides::default()
        )
        .is_err());
    }
}
