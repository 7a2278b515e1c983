//! On PostgreSQL, every node listens for license changes (announced by a
//! trigger on commit, see the `20250102000000_verify` migration) and drops
//! the changed entry from its cache at once. A lost connection may have lost
//! notifications too, so after reconnecting the whole cache is dropped —
//! after, not when the connection drops: while PostgreSQL is down nothing
//! can change a license, and the cached entries keep answering verify (up
//! to their TTL) instead of every deployment getting 503s.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;

use super::cache::LicenseCache;

/// The channel the migration's trigger notifies; `*` as payload means "all".
pub const CHANNEL: &str = "calos_license_changed";

/// Listens until stopped. `listening` is true while a LISTEN is in place
/// (tests wait for it before changing licenses).
pub async fn run(
    database_url: String,
    cache: Arc<LicenseCache>,
    mut stop: watch::Receiver<bool>,
    listening: Arc<AtomicBool>,
) {
    loop {
        // sqlx retries a refused connection for a while: stop must not wait for that.
        let connected = tokio::select! {
            c = connect(&database_url) => c,
            _ = stop.changed() => return,
        };
        let mut listener = match connected {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN for license changes; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(2)) => continue,
                    _ = stop.changed() => return,
                }
            }
        };
        // Whatever changed while we were not listening is unknown.
        cache.invalidate_all();
        listening.store(true, Ordering::Release);
        loop {
            tokio::select! {
                received = listener.try_recv() => match received {
                    Ok(Some(n)) => apply(&cache, n.payload()),
                    // The connection dropped: reconnect in the outer loop,
                    // which drops the cache once listening again.
                    Ok(None) => {
                        tracing::warn!("license change listener reconnecting");
                        listening.store(false, Ordering::Release);
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "license change listener failed");
                        listening.store(false, Ordering::Release);
                        break;
                    }
                },
                _ = stop.changed() => return,
            }
        }
    }
}

async fn connect(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

fn apply(cache: &LicenseCache, payload: &str) {
    if payload == "*" {
        tracing::debug!("plan changed: license cache cleared");
        cache.invalidate_all();
    } else {
        tracing::debug!(install_id = %payload, "license changed: cache entry dropped");
        cache.invalidate(payload);
    }
}
