//! When a failed delivery is tried again: exponential backoff from a base
//! delay, doubling per attempt, capped, and a limit on attempts after which
//! the delivery is marked failed (an admin can still resend it).

use std::time::Duration;

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: u32 = 8;

/// The delay after the `attempts`-th failed attempt (1-based):
/// `base × 2^(attempts-1)`, at most `cap`.
pub fn retry_delay(attempts: u32, base: Duration, cap: Duration) -> Duration {
    let exponent = attempts.saturating_sub(1).min(30);
    base.checked_mul(1u32 << exponent).unwrap_or(cap).min(cap)
}

/// Whether another attempt follows the `attempts`-th failure.
pub fn retries_left(attempts: u32, max_attempts: u32) -> bool {
    attempts < max_attempts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps() {
        let base = Duration::from_secs(30);
        let cap = Duration::from_secs(3600);
        assert_eq!(retry_delay(1, base, cap), Duration::from_secs(30));
        assert_eq!(retry_delay(2, base, cap), Duration::from_secs(60));
        assert_eq!(retry_delay(4, base, cap), Duration::from_secs(240));
        assert_eq!(retry_delay(8, base, cap), cap);
        assert_eq!(retry_delay(200, base, cap), cap);
        assert_eq!(retry_delay(0, base, cap), base);
    }

    #[test]
    fn gives_up_after_the_last_attempt() {
        assert!(retries_left(1, MAX_ATTEMPTS));
        assert!(retries_left(MAX_ATTEMPTS - 1, MAX_ATTEMPTS));
        assert!(!retries_left(MAX_ATTEMPTS, MAX_ATTEMPTS));
    }
}
