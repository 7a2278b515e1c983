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

mod faults;
mod metrics_addr;
mod read_replica;

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
    /// PEM certificate chain to serve HTTPS with (together with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Largest request head (request line and headers) in bytes; over it
    /// the connection gets 431 and is closed. At least 8192.
    pub max_header_bytes: usize,
    /// Most header fields in one request; over it 431.
    pub max_headers: usize,
    /// A client must finish its TLS handshake and send a whole request head
    /// within this, or its connection is closed (slowloris).
    pub header_read_timeout: Duration,
    /// Most connections served at once; further ones wait in the accept queue.
    pub max_connections: usize,
    /// Session timeouts and the failed-login back-off (`[login]` in the file).
    pub login: crate::auth::settings::LoginSettings,
    /// The vendor's own host name (`admin_host`, `CALOS_ADMIN_HOST`): `/`
    /// there is the admin dashboard, never a customer's portal or the
    /// neutral page (localhost and IP addresses always are admin hosts).
    pub admin_host: Option<String>,
    /// Notifications: SMTP, webhooks, scan and delivery intervals (`[notify]`).
    pub notify: crate::notify::NotifyConfig,
    /// How long a request waits for a pooled PostgreSQL connection before it
    /// is answered 503 `database_unavailable` (`db_acquire_timeout_ms`): a
    /// stopped database fails requests in about this long (see `config/faults.rs`).
    pub db_acquire_timeout: Duration,
    /// On SIGTERM, how long in-flight requests may take to finish before the
    /// server stops anyway (`shutdown_grace_secs`).
    pub shutdown_grace: Duration,
    /// A PostgreSQL read replica for analytics reads (`database_read_url`,
    /// `DATABASE_READ_URL`; see `config/read_replica.rs`). A secret: it may
    /// carry a password.
    pub database_read_url: Option<Secret<String>>,
    /// Serve `/metrics` on this address (unauthenticated) instead of the
    /// main port (`metrics_addr`, `CALOS_METRICS_ADDR`, `--metrics-addr`;
    /// see `config/metrics_addr.rs`).
    pub metrics_addr: Option<std::net::SocketAddr>,
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
            tls_cert: None,
            tls_key: None,
            max_header_bytes: 32 * 1024,
            max_headers: 100,
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4096,
            login: crate::auth::settings::LoginSettings::default(),
            admin_host: None,
            notify: crate::notify::NotifyConfig::default(),
            db_acquire_timeout: Duration::from_millis(1000),
            shutdown_grace: Duration::from_secs(30),
            database_read_url: None,
            metrics_addr: None,
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
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    max_header_bytes: Option<usize>,
    max_headers: Option<usize>,
    header_read_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
    login: Option<crate::auth::settings::LoginFile>,
    admin_host: Option<String>,
    notify: Option<crate::notify::NotifyFile>,
    db_acquire_timeout_ms: Option<u64>,
    shutdown_grace_secs: Option<u64>,
    database_read_url: Option<String>,
    metrics_addr: Option<std::net::SocketAddr>,
}

/// What CLI flags can override; `None` leaves the lower layers' value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub port: Option<u16>,
    pub bind: Option<IpAddr>,
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub metrics_addr: Option<std::net::SocketAddr>,
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
            let mut layer: FileLayer = toml::from_str(&text)
                .with_context(|| format!("invalid config file {}", path.display()))?;
            if let Some(notify) = layer.notify.take() {
                config.notify.apply_file(notify)?;
            }
            config.apply_faults_file(&layer);
            config.apply_read_replica_file(&layer);
            config.apply_metrics_file(&layer);
            config.apply_file(layer);
        }
        config.apply_env(env)?;
        config.apply_faults_env(env)?;
        config.apply_read_replica_env(env);
        config.apply_metrics_env(env)?;
        config.apply_flags(flags);
        config.apply_metrics_flag(flags);
        config.check_transport()?;
        config.check_read_replica()?;
        Ok(config)
    }

    fn apply_file(&mut self, f: FileLayer) {
        self.apply_transport_file(&f);
        if let Some(login) = &f.login {
            self.login.apply_file(login);
        }
        self.apply_verify_file(&f);
        self.apply_ingest_file(&f);
        if f.admin_host.is_some() {
            self.admin_host.clone_from(&f.admin_host);
        }
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
        if let Some(v) = get("CALOS_ADMIN_HOST") {
            self.admin_host = Some(v.clone());
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
        self.apply_transport_env(env)?;
        self.login.apply_env(env)?;
        self.notify.apply_env(env)?;
        Ok(())
    }

    fn apply_flags(&mut self, o: &Overrides) {
        set(&mut self.port, o.port);
        set(&mut self.bind, o.bind);
        set(&mut self.database_url, o.database_url.clone());
        set(&mut self.data_dir, o.data_dir.clone());
        set(&mut self.log_format, o.log_format);
        if o.tls_cert.is_some() {
            self.tls_cert.clone_from(&o.tls_cert);
        }
        if o.tls_key.is_some() {
            self.tls_key.clone_from(&o.tls_key);
        }
    }

    fn apply_transport_file(&mut self, f: &FileLayer) {
        if f.tls_cert.is_some() {
            self.tls_cert.clone_from(&f.tls_cert);
        }
        if f.tls_key.is_some() {
            self.tls_key.clone_from(&f.tls_key);
        }
        set(&mut self.max_header_bytes, f.max_header_bytes);
        set(&mut self.max_headers, f.max_headers);
        set(
            &mut self.header_read_timeout,
            f.header_read_timeout_secs.map(Duration::from_secs),
        );
        set(&mut self.max_connections, f.max_connections);
    }

    fn apply_transport_env(&mut self, env: &HashMap<String, String>) -> anyhow::Result<()> {
        let get = |name: &str| env.get(name).filter(|v| !v.is_empty());
        let num = |name: &str| -> anyhow::Result<Option<usize>> {
            get(name)
                .map(|v| {
                    v.parse::<usize>()
                        .with_context(|| format!("{name} must be a number"))
                })
                .transpose()
        };
        if let Some(v) = get("CALOS_TLS_CERT") {
            self.tls_cert = Some(PathBuf::from(v));
        }
        if let Some(v) = get("CALOS_TLS_KEY") {
            self.tls_key = Some(PathBuf::from(v));
        }
        set(&mut self.max_header_bytes, num("CALOS_MAX_HEADER_BYTES")?);
        set(&mut self.max_headers, num("CALOS_MAX_HEADERS")?);
        set(
            &mut self.header_read_timeout,
            num("CALOS_HEADER_READ_TIMEOUT_SECS")?.map(|s| Duration::from_secs(s as u64)),
        );
        set(&mut self.max_connections, num("CALOS_MAX_CONNECTIONS")?);
        Ok(())
    }

    /// The TLS pair comes whole, TLS implies secure cookies (and so HSTS),
    /// and the connection limits are ones the HTTP server can work with.
    fn check_transport(&mut self) -> anyhow::Result<()> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => bail!("a TLS certificate needs its key too (tls_key / --tls-key)"),
            (None, Some(_)) => {
                bail!("a TLS key needs its certificate too (tls_cert / --tls-cert)")
            }
            (Some(_), Some(_)) => self.secure_cookies = true,
            (None, None) => {}
        }
        if self.max_header_bytes < MIN_HEADER_BYTES {
            bail!("max_header_bytes must be at least {MIN_HEADER_BYTES}");
        }
        if self.max_headers == 0 || self.max_connections == 0 {
            bail!("max_headers and max_connections must be at least 1");
        }
        if self.header_read_timeout.is_zero() {
            bail!("header_read_timeout_secs must be at least 1");
        }
        Ok(())
    }

    /// The certificate and key paths when HTTPS is configured.
    pub fn tls(&self) -> Option<(&Path, &Path)> {
        Some((self.tls_cert.as_deref()?, self.tls_key.as_deref()?))
    }
}

/// hyper's smallest read buffer: a request head must fit in it.
pub const MIN_HEADER_BYTES: usize = 8192;

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

    /// An environment of `pairs`, for the config tests here and in the
    /// submodules (`config/*.rs`).
    pub(super) fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
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
    fn tls_and_connection_limits_layer_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calos.toml");
        std::fs::write(
            &path,
            "tls_cert = \"/etc/calos/cert.pem\"\ntls_key = \"/etc/calos/key.pem\"\n\
             max_header_bytes = 16384\nheader_read_timeout_secs = 5\n",
        )
        .unwrap();
        let e = env(&[("CALOS_MAX_CONNECTIONS", "64"), ("CALOS_MAX_HEADERS", "50")]);
        let c = Config::load(Some(&path), &e, &Overrides::default()).unwrap();
        assert_eq!(
            c.tls(),
            Some((
                Path::new("/etc/calos/cert.pem"),
                Path::new("/etc/calos/key.pem")
            ))
        );
        assert!(c.secure_cookies, "TLS implies Secure cookies and HSTS");
        assert_eq!(
            (c.max_header_bytes, c.max_headers, c.max_connections),
            (16384, 50, 64)
        );
        assert_eq!(c.header_read_timeout, Duration::from_secs(5));
        let flags = Overrides {
            tls_cert: Some(PathBuf::from("/flag/cert.pem")),
            ..Overrides::default()
        };
        let c = Config::load(Some(&path), &e, &flags).unwrap();
        assert_eq!(c.tls_cert.as_deref(), Some(Path::new("/flag/cert.pem")));

        let plain = Config::load(None, &env(&[]), &Overrides::default()).unwrap();
        assert!(plain.tls().is_none() && !plain.secure_cookies);
        for bad in [
            [("CALOS_TLS_CERT", "/c.pem")].as_slice(),
            &[("CALOS_TLS_KEY", "/k.pem")],
            &[("CALOS_MAX_HEADER_BYTES", "100")],
            &[("CALOS_MAX_CONNECTIONS", "0")],
            &[("CALOS_HEADER_READ_TIMEOUT_SECS", "0")],
            &[("CALOS_MAX_HEADERS", "many")],
        ] {
            assert!(
                Config::load(None, &env(bad), &Overrides::default()).is_err(),
                "{bad:?}"
            );
        }
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
