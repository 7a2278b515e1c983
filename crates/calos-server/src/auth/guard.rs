//! What the login routes share on one node: the failed-login throttle and
//! the TOTP sealer. Added to the router as an extension.

use std::sync::Arc;

use crate::config::Config;

use super::throttle::LoginThrottle;
use super::totp::TotpSealer;

pub struct LoginGuard {
    pub throttle: LoginThrottle,
    sealer: Arc<TotpSealer>,
}

impl std::fmt::Debug for LoginGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginGuard").finish_non_exhaustive()
    }
}

impl LoginGuard {
    /// `sealer` is derived from the master key the server loaded at start.
    pub fn new(config: &Config, sealer: Arc<TotpSealer>) -> Arc<Self> {
        Arc::new(Self {
            throttle: LoginThrottle::new(&config.login),
            sealer,
        })
    }

    pub fn sealer(&self) -> &TotpSealer {
        &self.sealer
    }
}
