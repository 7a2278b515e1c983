//! The settings that decide how the server behaves when things go wrong:
//! how quickly a request gives up on an unreachable PostgreSQL
//! (`db_acquire_timeout_ms`, `CALOS_DB_ACQUIRE_TIMEOUT_MS`) and how long a
//! SIGTERM waits for in-flight requests (`shutdown_grace_secs`,
//! `CALOS_SHUTDOWN_GRACE_SECS`). README "Failure behaviour" describes both.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;

use super::{Config, FileLayer};

/// Below this a busy pool would refuse requests a healthy database could serve.
const MIN_ACQUIRE_MS: u64 = 50;

impl Config {
    pub(super) fn apply_faults_file(&mut self, f: &FileLayer) {
        if let Some(ms) = f.db_acquire_timeout_ms {
            self.db_acquire_timeout = Duration::from_millis(ms.max(MIN_ACQUIRE_MS));
        }
        if let Some(secs) = f.shutdown_grace_secs {
            self.shutdown_grace = Duration::from_secs(secs);
        }
    }

    pub(super) fn apply_faults_env(&mut self, env: &HashMap<String, String>) -> anyhow::Result<()> {
        let num = |name: &str| -> anyhow::Result<Option<u64>> {
            env.get(name)
                .filter(|v| !v.is_empty())
                .map(|v| {
                    v.parse::<u64>()
                        .with_context(|| format!("{name} must be a number"))
                })
                .transpose()
        };
        if let Some(ms) = num("CALOS_DB_ACQUIRE_TIMEOUT_MS")? {
            self.db_acquire_timeout = Duration::from_millis(ms.max(MIN_ACQUIRE_MS));
        }
        if let Some(secs) = num("CALOS_SHUTDOWN_GRACE_SECS")? {
            self.shutdown_grace = Duration::from_secs(secs);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::env;
    use super::super::Overrides;
    use super::*;

    #[test]
    fn fault_settings_default_layer_and_are_checked() {
        let c = Config::load(None, &env(&[]), &Overrides::default()).unwrap();
        assert_eq!(c.db_acquire_timeout, Duration::from_secs(1));
        assert_eq!(c.shutdown_grace, Duration::from_secs(30));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calos.toml");
        std::fs::write(
            &path,
            "db_acquire_timeout_ms = 400\nshutdown_grace_secs = 5\n",
        )
        .unwrap();
        let c = Config::load(Some(&path), &env(&[]), &Overrides::default()).unwrap();
        assert_eq!(c.db_acquire_timeout, Duration::from_millis(400));
        assert_eq!(c.shutdown_grace, Duration::from_secs(5));

        let e = env(&[
            ("CALOS_DB_ACQUIRE_TIMEOUT_MS", "1"),
            ("CALOS_SHUTDOWN_GRACE_SECS", "0"),
        ]);
        let c = Config::load(Some(&path), &e, &Overrides::default()).unwrap();
        assert_eq!(c.db_acquire_timeout, Duration::from_millis(MIN_ACQUIRE_MS));
        assert_eq!(c.shutdown_grace, Duration::ZERO);

        let bad = env(&[("CALOS_SHUTDOWN_GRACE_SECS", "soon")]);
        let err = Config::load(None, &bad, &Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("CALOS_SHUTDOWN_GRACE_SECS"));
    }
}
