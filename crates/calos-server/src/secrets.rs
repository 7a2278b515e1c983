//! The master key and what is derived from it. License keys are stored only as
//! an HMAC keyed by a subkey of the master key, so a stolen database alone
//! cannot be used to test guessed keys.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use calos_core::ids::LicenseKey;

use crate::config::Config;

const KEY_FILE: &str = "calos.key";

/// 32 secret bytes from which every server-side key is derived.
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

/// Where the master key came from, so `setup` can tell the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File(PathBuf),
    Created(PathBuf),
}

impl MasterKey {
    pub fn from_base64(raw: &str) -> anyhow::Result<Self> {
        let bytes = STANDARD
            .decode(raw.trim())
            .context("master key is not valid base64")?;
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            anyhow::anyhow!("master key must be 32 bytes, got {}", b.len())
        })?;
        Ok(Self(key))
    }

    /// `CALOS_MASTER_KEY` when set, else `<data_dir>/calos.key`, created
    /// (mode 0600) on first run.
    pub fn load(config: &Config) -> anyhow::Result<(Self, KeySource)> {
        if let Some(raw) = &config.master_key {
            let key = Self::from_base64(raw.expose()).context("CALOS_MASTER_KEY")?;
            return Ok((key, KeySource::Env));
        }
        let path = config.data_dir.join(KEY_FILE);
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read master key file {}", path.display()))?;
            let key = Self::from_base64(&text)
                .with_context(|| format!("master key file {}", path.display()))?;
            return Ok((key, KeySource::File(path)));
        }
        let key = create_key_file(&path)?;
        Ok((key, KeySource::Created(path)))
    }
}

impl MasterKey {
    /// A 32-byte subkey for one purpose, named by `info` (HKDF-SHA256), so no
    /// two uses ever share key material.
    pub fn derive(&self, info: &[u8]) -> anyhow::Result<[u8; 32]> {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, &self.0)
            .expand(info, &mut key)
            .map_err(|_| anyhow::anyhow!("cannot derive a subkey of the master key"))?;
        Ok(key)
    }
}

fn create_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    // create_new: never overwrite a key another process just wrote.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create master key file {}", path.display()))?;
    file.write_all(STANDARD.encode(bytes).as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write master key file {}", path.display()))?;
    Ok(MasterKey(bytes))
}

/// Keyed hashing of license keys: HMAC-SHA256 under a key derived from the
/// master key for this one purpose. The keyed HMAC state is prepared once and
/// cloned per key checked (every verify request checks one), rather than
/// re-keyed each time.
#[derive(Clone)]
pub struct LicenseKeyHasher {
    keyed: Hmac<Sha256>,
}

impl fmt::Debug for LicenseKeyHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LicenseKeyHasher(***)")
    }
}

impl LicenseKeyHasher {
    const INFO: &'static [u8] = b"calos license-key v1";

    pub fn new(master: &MasterKey) -> anyhow::Result<Self> {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, &master.0)
            .expand(Self::INFO, &mut key)
            .map_err(|_| anyhow::anyhow!("cannot derive the license-key subkey"))?;
        let keyed = Hmac::<Sha256>::new_from_slice(&key)
            .map_err(|_| anyhow::anyhow!("cannot key HMAC with the license-key subkey"))?;
        Ok(Self { keyed })
    }

    fn mac(&self) -> Hmac<Sha256> {
        self.keyed.clone()
    }

    pub fn hash(&self, key: &LicenseKey) -> Vec<u8> {
        let mut mac = self.mac();
        mac.update(key.expose().as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Constant-time check of a presented key against a stored hash.
    pub fn verify(&self, key: &LicenseKey, stored: &[u8]) -> bool {
        let mut mac = self.mac();
        mac.update(key.expose().as_bytes());
        mac.verify_slice(stored).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn config_in(dir: &Path) -> Config {
        Config {
            data_dir: dir.to_path_buf(),
            ..Config::default()
        }
    }

    #[test]
    fn key_file_is_created_once_with_mode_0600_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_in(dir.path());
        let (first, source) = MasterKey::load(&config).unwrap();
        assert!(matches!(source, KeySource::Created(_)));
        let (second, source) = MasterKey::load(&config).unwrap();
        assert!(matches!(source, KeySource::File(_)));
        assert_eq!(first.0, second.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn env_key_must_be_32_bytes_of_base64() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config_in(dir.path());
        config.master_key = Some(Secret::new(STANDARD.encode([1u8; 16])));
        assert!(MasterKey::load(&config).is_err());
        config.master_key = Some(Secret::new(STANDARD.encode([1u8; 32])));
        assert_eq!(MasterKey::load(&config).unwrap().1, KeySource::Env);
        assert!(MasterKey::from_base64("not base64!").is_err());
    }

    #[test]
    fn hashes_depend_on_the_master_key_and_verify() {
        let key = LicenseKey::from_random_bytes([9; 32]);
        let a = LicenseKeyHasher::new(&MasterKey([1; 32])).unwrap();
        let b = LicenseKeyHasher::new(&MasterKey([2; 32])).unwrap();
        let stored = a.hash(&key);
        assert_eq!(stored.len(), 32);
        assert_ne!(stored, b.hash(&key));
        assert!(a.verify(&key, &stored));
        assert!(!b.verify(&key, &stored));
        assert!(!a.verify(&LicenseKey::from_random_bytes([8; 32]), &stored));
    }

    #[test]
    fn debug_hides_keys() {
        assert_eq!(format!("{:?}", MasterKey([1; 32])), "MasterKey(***)");
    }
}
