//! What the login routes share on one node: the failed-login throttle and
//! the TOTP sealer. Added to the router as an extension.

use std::sync::{Arc, OnceLock};

use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::secrets::MasterKey;

use super::throttle::LoginThrottle;
use super::totp::TotpSealer;

pub struct LoginGuard {
    pub throttle: LoginThrottle,
    config: Arc<Config>,
    sealer: OnceLock<TotpSealer>,
}

impl std::fmt::Debug for LoginGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginGuard").finish_non_exhaustive()
    }
}

impl LoginGuard {
    pub fn new(config: Arc<Config>) -> Arc<Self> {
        Arc::new(Self {
            throttle: LoginThrottle::new(&config.login),
            config,
            sealer: OnceLock::new(),
        })
    }

    /// The sealer, derived from the master key the first time it is needed
    /// (the key the server loaded at start: from the environment or the
    /// key file it created then).
    pub fn sealer(&self) -> ApiResult<&TotpSealer> {
        if let Some(sealer) = self.sealer.get() {
            return Ok(sealer);
        }
        let (master, _) = MasterKey::load(&self.config).map_err(ApiError::internal)?;
        let sealer = TotpSealer::new(&master).map_err(ApiError::internal)?;
        Ok(self.sealer.get_or_init(|| sealer))
    }
}
