//! Login protection settings: session timeouts and the failed-login
//! back-off. Part of [`Config`](crate::config::Config) as `login`; set in the
//! config file's `[login]` table or through `CALOS_*` environment variables.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSettings {
    /// A session unused for this long ends (idle timeout).
    pub session_idle: Duration,
    /// A session ends this long after login however active it is.
    pub session_absolute: Duration,
    /// Failed logins (per account, per IP) allowed before back-off starts.
    pub max_failures: u32,
    /// Failures older than this (since the last one) are forgotten.
    pub failure_window: Duration,
    /// Wait after the first failure over the limit; doubles with each further one.
    pub backoff_base: Duration,
    /// The longest wait the back-off ever asks for.
    pub backoff_max: Duration,
}

impl Default for LoginSettings {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 3600),
            max_failures: 5,
            failure_window: Duration::from_secs(15 * 60),
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(15 * 60),
        }
    }
}

/// The config file's `[login]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginFile {
    session_idle_timeout_secs: Option<u64>,
    session_absolute_timeout_secs: Option<u64>,
    max_failures: Option<u32>,
    failure_window_secs: Option<u64>,
    backoff_base_secs: Option<u64>,
    backoff_max_secs: Option<u64>,
}

fn secs(v: u64) -> Duration {
    Duration::from_secs(v.max(1))
}

impl LoginSettings {
    pub fn apply_file(&mut self, f: &LoginFile) {
        let fields = [
            (&mut self.session_idle, f.session_idle_timeout_secs),
            (&mut self.session_absolute, f.session_absolute_timeout_secs),
            (&mut self.failure_window, f.failure_window_secs),
            (&mut self.backoff_base, f.backoff_base_secs),
            (&mut self.backoff_max, f.backoff_max_secs),
        ];
        for (slot, value) in fields {
            if let Some(v) = value {
                *slot = secs(v);
            }
        }
        if let Some(n) = f.max_failures {
            self.max_failures = n.max(1);
        }
    }

    pub fn apply_env(&mut self, env: &HashMap<String, String>) -> anyhow::Result<()> {
        let num = |name: &str| -> anyhow::Result<Option<u64>> {
            env.get(name)
                .filter(|v| !v.is_empty())
                .map(|v| {
                    v.parse::<u64>()
                        .with_context(|| format!("{name} must be a number"))
                })
                .transpose()
        };
        let fields = [
            (&mut self.session_idle, "CALOS_SESSION_IDLE_TIMEOUT_SECS"),
            (
                &mut self.session_absolute,
                "CALOS_SESSION_ABSOLUTE_TIMEOUT_SECS",
            ),
            (&mut self.failure_window, "CALOS_LOGIN_FAILURE_WINDOW_SECS"),
            (&mut self.backoff_base, "CALOS_LOGIN_BACKOFF_BASE_SECS"),
            (&mut self.backoff_max, "CALOS_LOGIN_BACKOFF_MAX_SECS"),
        ];
        for (slot, name) in fields {
            if let Some(v) = num(name)? {
                *slot = secs(v);
            }
        }
        if let Some(n) = num("CALOS_LOGIN_MAX_FAILURES")? {
            self.max_failures = u32::try_from(n.max(1)).unwrap_or(u32::MAX);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_env_override_the_defaults() {
        let mut s = LoginSettings::default();
        assert_eq!(s.session_idle, Duration::from_secs(1800));
        assert_eq!(s.session_absolute, Duration::from_secs(43200));
        let file: LoginFile =
            toml::from_str("session_idle_timeout_secs = 60\nmax_failures = 3").unwrap();
        s.apply_file(&file);
        assert_eq!(
            (s.session_idle, s.max_failures),
            (Duration::from_secs(60), 3)
        );
        let env = HashMap::from([("CALOS_LOGIN_BACKOFF_MAX_SECS".to_owned(), "30".to_owned())]);
        s.apply_env(&env).unwrap();
        assert_eq!(s.backoff_max, Duration::from_secs(30));
        let bad = HashMap::from([("CALOS_LOGIN_MAX_FAILURES".to_owned(), "x".to_owned())]);
        assert!(s.apply_env(&bad).is_err());
        assert!(toml::from_str::<LoginFile>("idle = 1").is_err());
    }
}
