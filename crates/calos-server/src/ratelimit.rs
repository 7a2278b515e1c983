//! Keyed rate limits (per install, per IP) on `governor`'s GCRA: no
//! hand-rolled token bucket. Memory stays bounded because keys whose bucket
//! has refilled are dropped every so often (`retain_recent`).
//!
//! The key type is the caller's: the verify path keys by IP address and by
//! the cached license's shared install id, so a check allocates nothing.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// How long the caller must wait before the next request may pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds for a `Retry-After` header, never 0 (0 would invite an
    /// immediate retry that fails again).
    pub fn secs(self) -> u64 {
        let secs = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        secs.max(1)
    }
}

impl From<RetryAfter> for crate::error::ApiError {
    fn from(wait: RetryAfter) -> Self {
        crate::error::ApiError::RateLimited {
            retry_after_secs: wait.secs(),
        }
    }
}

/// At most this often, forget keys whose bucket is full again. Time-based,
/// not count-based: a sweep walks every key, and at thousands of requests a
/// second a per-count sweep would run several times a second and keep
/// re-inserting the keys it just dropped.
const PRUNE_EVERY: Duration = Duration::from_secs(30);

/// A limiter with one bucket per key (install id, IP address).
pub struct KeyedLimiter<K: Hash + Eq + Clone = String> {
    /// `None` when the limit is 0: limiting is switched off.
    inner: Option<DefaultKeyedRateLimiter<K>>,
    clock: DefaultClock,
    /// When the last sweep ran, in milliseconds since `started`.
    last_prune_ms: AtomicU64,
    started: std::time::Instant,
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for KeyedLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedLimiter")
            .field("enabled", &self.inner.is_some())
            .finish()
    }
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// `n` requests per minute per key, with bursts of up to `n`; 0 disables the limit.
    pub fn per_minute(n: u32) -> Self {
        Self {
            inner: NonZeroU32::new(n).map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
            last_prune_ms: AtomicU64::new(0),
            started: std::time::Instant::now(),
        }
    }

    /// Takes one request from `key`'s bucket.
    pub fn check_key(&self, key: &K) -> Result<(), RetryAfter> {
        self.check_key_n(key, 1)
    }

    /// Takes `n` requests at once (a telemetry batch of `n` events). A batch
    /// larger than the whole burst can never pass; it is refused with a
    /// one-minute wait rather than looping forever.
    pub fn check_key_n(&self, key: &K, n: u32) -> Result<(), RetryAfter> {
        let Some(limiter) = &self.inner else {
            return Ok(());
        };
        let Some(n) = NonZeroU32::new(n) else {
            return Ok(());
        };
        self.maybe_prune();
        match limiter.check_key_n(key, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(RetryAfter(not_until.wait_time_from(self.clock.now()))),
            Err(_insufficient) => Err(RetryAfter(Duration::from_secs(60))),
        }
    }

    /// Keys currently held (for tests of the memory bound).
    pub fn tracked_keys(&self) -> usize {
        self.inner.as_ref().map_or(0, |l| l.len())
    }

    /// Drops keys whose bucket has refilled; cheap enough to run from the request path now and then.
    pub fn prune(&self) {
        if let Some(limiter) = &self.inner {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    fn maybe_prune(&self) {
        let now_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_prune_ms.load(Ordering::Relaxed);
        let due = now_ms.saturating_sub(last) >= PRUNE_EVERY.as_millis() as u64;
        // One caller wins the sweep; the others go on without waiting.
        if due
            && self
                .last_prune_ms
                .compare_exchange(last, now_ms, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.prune();
        }
    }
}

impl KeyedLimiter<String> {
    /// [`Self::check_key`] for a borrowed string key.
    pub fn check(&self, key: &str) -> Result<(), RetryAfter> {
        self.check_n(key, 1)
    }

    /// [`Self::check_key_n`] for a borrowed string key.
    pub fn check_n(&self, key: &str, n: u32) -> Result<(), RetryAfter> {
        if self.inner.is_none() {
            return Ok(());
        }
        self.check_key_n(&key.to_owned(), n)
    }
}

impl KeyedLimiter<Option<IpAddr>> {
    /// [`Self::check_key`] for a peer address given as text (`ClientIp`):
    /// the same bucket as the address itself; text that is no address
    /// ("unknown") shares the bucket of peers without one.
    pub fn check(&self, ip: &str) -> Result<(), RetryAfter> {
        self.check_key(&ip.parse().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_burst_then_a_retry_after() {
        let l = KeyedLimiter::<String>::per_minute(3);
        for _ in 0..3 {
            assert!(l.check("a").is_ok());
        }
        let wait = l.check("a").unwrap_err();
        assert!(wait.0 > Duration::ZERO && wait.0 <= Duration::from_secs(20));
        assert!(wait.secs() >= 1);
        // Another key has its own bucket.
        assert!(l.check("b").is_ok());
    }

    #[test]
    fn check_n_takes_several_and_refuses_more_than_the_burst() {
        let l = KeyedLimiter::<String>::per_minute(10);
        assert!(l.check_n("a", 8).is_ok());
        assert!(l.check_n("a", 3).is_err());
        assert_eq!(l.check_n("b", 11), Err(RetryAfter(Duration::from_secs(60))));
    }

    #[test]
    fn zero_disables_the_limit() {
        let l = KeyedLimiter::<String>::per_minute(0);
        for _ in 0..1000 {
            assert!(l.check("a").is_ok());
        }
        assert_eq!(l.tracked_keys(), 0);
    }

    #[test]
    fn prune_forgets_refilled_keys() {
        let l = KeyedLimiter::<String>::per_minute(1_000_000);
        for i in 0..100 {
            assert!(l.check(&format!("k{i}")).is_ok());
        }
        assert_eq!(l.tracked_keys(), 100);
        // At a million per minute one cell refills in 60 µs.
        std::thread::sleep(Duration::from_millis(5));
        l.prune();
        assert_eq!(l.tracked_keys(), 0);
    }

    #[test]
    fn keys_of_any_hashable_type_get_their_own_buckets() {
        let l = KeyedLimiter::<Option<std::net::IpAddr>>::per_minute(1);
        let a = Some(std::net::IpAddr::from([10, 0, 0, 1]));
        assert!(l.check_key(&a).is_ok());
        assert!(l.check_key(&a).is_err());
        assert!(l.check_key(&None).is_ok(), "no address is a key of its own");
        assert_eq!(l.tracked_keys(), 2);
        assert!(
            l.check("10.0.0.1").is_err(),
            "text finds the address's bucket"
        );
        assert!(
            l.check("unknown").is_err(),
            "and non-addresses the unknown one"
        );
    }
}
