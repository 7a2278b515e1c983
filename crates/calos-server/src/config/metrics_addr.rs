//! `metrics_addr` (`CALOS_METRICS_ADDR`, `calos serve --metrics-addr`): when
//! set, `/metrics` is served on this address, unauthenticated, and no
//! longer on the main port (see `metrics/port.rs`).

use std::collections::HashMap;

use anyhow::Context;

use super::{Config, FileLayer, Overrides};

impl Config {
    pub(super) fn apply_metrics_file(&mut self, f: &FileLayer) {
        if f.metrics_addr.is_some() {
            self.metrics_addr = f.metrics_addr;
        }
    }

    pub(super) fn apply_metrics_env(
        &mut self,
        env: &HashMap<String, String>,
    ) -> anyhow::Result<()> {
        if let Some(v) = env.get("CALOS_METRICS_ADDR").filter(|v| !v.is_empty()) {
            self.metrics_addr = Some(v.parse().with_context(|| {
                format!("CALOS_METRICS_ADDR must be an address with a port, like 127.0.0.1:9464, not {v:?}")
            })?);
        }
        Ok(())
    }

    pub(super) fn apply_metrics_flag(&mut self, o: &Overrides) {
        if o.metrics_addr.is_some() {
            self.metrics_addr = o.metrics_addr;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::env;
    use std::net::SocketAddr;

    use super::super::{Config, Overrides};

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn metrics_addr_layers_file_env_flag() {
        let none = Config::load(None, &env(&[]), &Overrides::default()).expect("defaults");
        assert_eq!(
            none.metrics_addr, None,
            "default: /metrics on the main port"
        );

        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("calos.toml");
        std::fs::write(&path, "metrics_addr = \"127.0.0.1:9464\"\n").expect("write");
        let file = Config::load(Some(&path), &env(&[]), &Overrides::default()).expect("file");
        assert_eq!(file.metrics_addr, Some(addr("127.0.0.1:9464")));

        let e = env(&[("CALOS_METRICS_ADDR", "0.0.0.0:9100")]);
        let from_env = Config::load(Some(&path), &e, &Overrides::default()).expect("env");
        assert_eq!(from_env.metrics_addr, Some(addr("0.0.0.0:9100")));

        let flags = Overrides {
            metrics_addr: Some(addr("[::1]:9200")),
            ..Overrides::default()
        };
        let flagged = Config::load(Some(&path), &e, &flags).expect("flag");
        assert_eq!(flagged.metrics_addr, Some(addr("[::1]:9200")));
    }

    #[test]
    fn a_bad_metrics_addr_is_an_error_naming_it() {
        let err = Config::load(
            None,
            &env(&[("CALOS_METRICS_ADDR", "9464")]),
            &Overrides::default(),
        )
        .expect_err("a port alone is not an address");
        assert!(format!("{err:#}").contains("CALOS_METRICS_ADDR"), "{err:#}");
    }
}
