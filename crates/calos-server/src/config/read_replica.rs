//! `database_read_url` (`DATABASE_READ_URL`, `CALOS_DATABASE_READ_URL`): an
//! optional PostgreSQL read replica that analytics reads go to (culture
//! profiles, stats, the dashboard's customer list); every write and every
//! other read stays on `database_url`. docs/deploy.md describes the topology.

use std::collections::HashMap;

use anyhow::bail;

use super::{Config, FileLayer, Secret};

impl Config {
    pub(super) fn apply_read_replica_file(&mut self, f: &FileLayer) {
        if let Some(url) = f.database_read_url.as_ref().filter(|u| !u.is_empty()) {
            self.database_read_url = Some(Secret::new(url.clone()));
        }
    }

    pub(super) fn apply_read_replica_env(&mut self, env: &HashMap<String, String>) {
        for name in ["DATABASE_READ_URL", "CALOS_DATABASE_READ_URL"] {
            if let Some(url) = env.get(name).filter(|v| !v.is_empty()) {
                self.database_read_url = Some(Secret::new(url.clone()));
            }
        }
    }

    /// A replica only makes sense next to a PostgreSQL primary.
    pub(super) fn check_read_replica(&self) -> anyhow::Result<()> {
        let Some(read) = &self.database_read_url else {
            return Ok(());
        };
        let postgres =
            |url: &str| url.starts_with("postgres://") || url.starts_with("postgresql://");
        if !postgres(&self.database_url) {
            bail!("DATABASE_READ_URL needs a PostgreSQL DATABASE_URL (a read replica of it)");
        }
        if !postgres(read.expose()) {
            bail!("DATABASE_READ_URL must be a postgres:// URL");
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
    fn read_url_layers_hides_and_needs_postgres() {
        let c = Config::load(None, &env(&[]), &Overrides::default()).unwrap();
        assert!(c.database_read_url.is_none(), "no replica by default");

        let pg = ("DATABASE_URL", "postgres://calos@primary/calos");
        let c = Config::load(
            None,
            &env(&[
                pg,
                ("DATABASE_READ_URL", "postgres://calos:pw@replica/calos"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        let read = c.database_read_url.as_ref().unwrap();
        assert_eq!(read.expose(), "postgres://calos:pw@replica/calos");
        assert!(
            !format!("{c:?}").contains("pw@replica"),
            "the URL is a secret"
        );

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calos.toml");
        std::fs::write(&path, "database_read_url = \"postgres://r/file\"\n").unwrap();
        let c = Config::load(Some(&path), &env(&[pg]), &Overrides::default()).unwrap();
        assert_eq!(c.database_read_url.unwrap().expose(), "postgres://r/file");

        let err = Config::load(
            None,
            &env(&[("DATABASE_READ_URL", "postgres://r/x")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("PostgreSQL DATABASE_URL"),
            "{err:#}"
        );
        let err = Config::load(
            None,
            &env(&[pg, ("DATABASE_READ_URL", "sqlite://x.db")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("postgres://"), "{err:#}");
    }
}
