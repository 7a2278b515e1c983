//! Files the SDK keeps in its data directory. Every write is atomic (a temp
//! file renamed over the old one, so a crash never leaves half a file) and
//! readable by the owner only (0600).
//!
//! * `instance-id`: this deployment's stable random id;
//! * `license.jws`: the last signed answer, exactly as the server signed it —
//!   editing it breaks the signature, so it is re-verified on every load;
//! * `clock-watermark`: the latest time seen, so a clock set back across a
//!   restart is noticed (best effort: the signed `iat` is the hard floor);
//! * `jwks.json`: the fetched JWKS, when keys are not pinned;
//! * `telemetry-queue.json`: events not yet sent at shutdown.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rand::RngCore;

pub const INSTANCE_ID: &str = "instance-id";
pub const LICENSE: &str = "license.jws";
pub const WATERMARK: &str = "clock-watermark";
pub const JWKS: &str = "jwks.json";
pub const TELEMETRY: &str = "telemetry-queue.json";

/// Files larger than this are not read back (a cache never grows that big).
const MAX_FILE: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Creates the directory (0700 on Unix) when it does not exist.
    pub fn open(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = fs::set_permissions(root, fs::Permissions::from_mode(0o700));
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The file's bytes, `None` when it does not exist or is unreasonably big.
    pub fn read(&self, name: &str) -> io::Result<Option<Vec<u8>>> {
        let path = self.path(name);
        match fs::metadata(&path) {
            Ok(meta) if meta.len() > MAX_FILE => return Ok(None),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        }
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes `bytes` to a 0600 temp file in the same directory, syncs it and
    /// renames it over `name`.
    pub fn write_atomic(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let tmp = self.path(&format!(
            ".{name}.tmp-{:016x}",
            rand::thread_rng().next_u64()
        ));
        let result = (|| {
            let mut opts = fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut file = opts.open(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&tmp, self.path(name))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    pub fn remove(&self, name: &str) -> io::Result<()> {
        match fs::remove_file(self.path(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// This deployment's instance id, made (random) and kept on first use.
    pub fn instance_id(&self) -> io::Result<String> {
        if let Some(bytes) = self.read(INSTANCE_ID)? {
            let id = String::from_utf8_lossy(&bytes).trim().to_owned();
            if is_plausible_id(&id) {
                return Ok(id);
            }
        }
        let id = new_instance_id();
        self.write_atomic(INSTANCE_ID, id.as_bytes())?;
        Ok(id)
    }

    pub fn read_watermark(&self) -> Option<i64> {
        let bytes = self.read(WATERMARK).ok()??;
        String::from_utf8_lossy(&bytes).trim().parse().ok()
    }
}

/// A fresh random instance id.
pub fn new_instance_id() -> String {
    format!("inst-{}", uuid::Uuid::new_v4().simple())
}

fn is_plausible_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
