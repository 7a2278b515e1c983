//! Retry delays after a failed exchange: exponential, jittered so a fleet of
//! deployments does not retry in lockstep, and monotonic — a failure never
//! shortens the wait (plain "full jitter" can draw a shorter delay after a
//! longer one, which would speed up against a struggling server).

use std::time::Duration;

use rand::Rng;

/// The longest `Retry-After` honoured; a larger value is clamped so a broken
/// header cannot silence a deployment for weeks.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Backoff state for one kind of exchange (verify or telemetry).
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
    last: Duration,
}

impl Backoff {
    /// `base`: the first delay's upper bound; `max`: the cap of the exponential part.
    pub fn new(base: Duration, max: Duration) -> Self {
        let base = base.max(Duration::from_millis(1));
        Self {
            base,
            max: max.max(base),
            failures: 0,
            last: Duration::ZERO,
        }
    }

    /// The delay before the next attempt after one more failure. Never less
    /// than the previous delay, never less than `retry_after`.
    pub fn next_delay(&mut self, retry_after: Option<Duration>) -> Duration {
        let exp = self.failures.min(32);
        self.failures = self.failures.saturating_add(1);
        let ceiling = self
            .base
            .checked_mul(1u32 << exp.min(31))
            .unwrap_or(self.max)
            .min(self.max);
        // "Equal jitter": somewhere in the upper half of the ceiling.
        let jittered = ceiling.mul_f64(rand::thread_rng().gen_range(0.5..=1.0));
        let mut delay = jittered.max(self.last);
        if let Some(asked) = retry_after {
            delay = delay.max(asked.min(MAX_RETRY_AFTER));
        }
        self.last = delay;
        delay
    }

    /// Forget past failures after a success.
    pub fn reset(&mut self) {
        self.failures = 0;
        self.last = Duration::ZERO;
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}
