//! Verification against the server: one exchange (`verify_once`) and the
//! background loop that repeats it when the server asks (`refreshAfter`) or,
//! after a failure, with backoff that never speeds up and honours `Retry-After`.

use std::sync::Arc;
use std::time::Duration;

use calos_core::protocol::{LicenseClaims, VerifyRequest, VerifyResponse};
use calos_core::verdict::VerdictCode;
use rand::{Rng, RngCore};
use tokio::sync::watch;

use crate::backoff::Backoff;
use crate::client::{lock, Inner};
use crate::datadir;
use crate::error::{CallError, TokenError};
use crate::http::{JWKS_LIMIT, VERIFY_LIMIT};
use crate::keys::KeyRing;
use crate::state::to_time;
use crate::timebase::SKEW_TOLERANCE_SECS;
use crate::token::{self, Expect};

pub const VERIFY_PATH: &str = "/api/v1/license/verify";
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// Longest wait between two successful refreshes, whatever the server says.
const MAX_REFRESH: Duration = Duration::from_secs(24 * 3600);

impl Inner {
    /// One verify exchange; on success the answer becomes the held license.
    pub(crate) async fn verify_once(&self) -> Result<LicenseClaims, CallError> {
        let _one_at_a_time = self.verify_lock.lock().await;
        let result = self.exchange().await.and_then(|(claims, jws)| {
            self.accept(&claims)?;
            Ok((claims, jws))
        });
        let outcome = match result {
            Ok((claims, jws)) => {
                self.persist(Some(jws)).await;
                Ok(claims)
            }
            Err(e) => {
                let mut mem = lock(&self.license);
                mem.diag.last_error = Some(e.to_string());
                mem.diag.consecutive_failures = mem.diag.consecutive_failures.saturating_add(1);
                drop(mem);
                tracing::warn!(error = %e, "calos: license verification failed");
                Err(e)
            }
        };
        // Counted once the answer is in memory and on disk, so `start`
        // returns with both done.
        self.attempts.send_modify(|n| *n += 1);
        outcome
    }

    async fn exchange(&self) -> Result<(LicenseClaims, String), CallError> {
        let nonce = new_nonce();
        let req = VerifyRequest {
            install_id: self.cfg.install_id.clone(),
            license_key: self.cfg.license_key.clone(),
            domain: self.cfg.domain.clone(),
            instance_id: self.instance_id.clone(),
            version: self.cfg.product_version.clone(),
            nonce: nonce.clone(),
        };
        let body = self.http.post_json(VERIFY_PATH, &req, VERIFY_LIMIT).await?;
        let resp: VerifyResponse =
            serde_json::from_slice(&body).map_err(|e| CallError::BadBody(e.to_string()))?;
        let expect = Expect {
            install_id: &self.cfg.install_id,
            instance_id: &self.instance_id,
            nonce: Some(&nonce),
        };
        let first = self.check_token(&resp.token, &expect);
        let claims = match first {
            // A key the server rotated in since we last fetched: refetch once.
            Err(TokenError::UnknownKey(_)) if self.cfg.pinned.is_none() => {
                self.fetch_jwks().await?;
                self.check_token(&resp.token, &expect)?
            }
            other => other?,
        };
        Ok((claims, resp.token))
    }

    fn check_token(&self, jws: &str, expect: &Expect<'_>) -> Result<LicenseClaims, TokenError> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        token::verify(jws, &keys, expect)
    }

    async fn fetch_jwks(&self) -> Result<(), CallError> {
        let body = self.http.get(JWKS_PATH, JWKS_LIMIT).await?;
        let ring = KeyRing::from_json(&body).map_err(CallError::BadBody)?;
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = ring;
        if let Some(dir) = &self.data {
            let dir = dir.clone();
            let _ =
                tokio::task::spawn_blocking(move || dir.write_atomic(datadir::JWKS, &body)).await;
        }
        Ok(())
    }

    /// Takes a verified answer as the held license, or refuses it.
    fn accept(&self, claims: &LicenseClaims) -> Result<(), CallError> {
        // A signed "slow down" is not a verdict on the license.
        if !claims.valid && claims.code == VerdictCode::RateLimited {
            return Err(CallError::RateLimited { retry_after: None });
        }
        let now = self.cfg.clock.now();
        let mut mem = lock(&self.license);
        let eff = mem.time.observe(now);
        if claims.valid && claims.exp <= eff - SKEW_TOLERANCE_SECS {
            return Err(TokenError::Expired.into());
        }
        let skew = now - claims.iat;
        mem.diag.clock_skew_secs = (skew.abs() > SKEW_TOLERANCE_SECS).then_some(skew);
        if skew.abs() > SKEW_TOLERANCE_SECS {
            tracing::warn!(
                skew_secs = skew,
                "calos: local clock differs from the server's"
            );
        }
        mem.time.sync_to_server(now, claims.iat);
        mem.held = Some(claims.clone());
        mem.diag.code = Some(claims.code);
        mem.diag.message = Some(claims.message.clone());
        mem.diag.warning = claims.warning.clone();
        mem.diag.last_success = Some(to_time(now));
        mem.diag.last_error = None;
        mem.diag.consecutive_failures = 0;
        Ok(())
    }

    /// Writes the accepted token (if any) and the clock watermark.
    async fn persist(&self, jws: Option<String>) {
        let Some(dir) = self.data.clone() else {
            return;
        };
        let watermark = lock(&self.license).time.watermark();
        let result = tokio::task::spawn_blocking(move || {
            if let Some(jws) = jws {
                dir.write_atomic(datadir::LICENSE, jws.as_bytes())?;
            }
            dir.write_atomic(datadir::WATERMARK, watermark.to_string().as_bytes())
        })
        .await;
        if !matches!(result, Ok(Ok(()))) {
            tracing::warn!("calos: could not write the license cache");
        }
    }

    pub(crate) async fn persist_watermark(&self) {
        self.persist(None).await;
    }

    /// Delay until the next refresh after an accepted answer: the server's
    /// `refreshAfter` (never earlier), plus a little jitter so a fleet does
    /// not phone home in lockstep.
    fn refresh_delay(&self, claims: &LicenseClaims) -> Duration {
        let eff = {
            let mut mem = lock(&self.license);
            let now = self.cfg.clock.now();
            mem.time.observe(now)
        };
        let secs = u64::try_from(claims.refresh_after.saturating_sub(eff)).unwrap_or(0);
        let base = Duration::from_secs(secs).clamp(self.cfg.min_refresh, MAX_REFRESH);
        let spread = (base / 20).min(Duration::from_secs(30));
        base + spread.mul_f64(rand::thread_rng().gen_range(0.0..=1.0))
    }
}

/// The background refresh task.
pub(crate) async fn run(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    let mut backoff = Backoff::new(inner.cfg.backoff_base, inner.cfg.backoff_max);
    loop {
        let attempt = tokio::select! {
            r = inner.verify_once() => r,
            _ = stop.changed() => return,
        };
        let delay = match attempt {
            Ok(claims) => {
                backoff.reset();
                inner.refresh_delay(&claims)
            }
            Err(e) => {
                inner.persist_watermark().await;
                backoff.next_delay(e.retry_after())
            }
        };
        lock(&inner.license).diag.next_refresh_in = Some(delay);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
