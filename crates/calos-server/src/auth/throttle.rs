//! Failed-login throttling with exponential back-off, per account and per
//! client IP, in memory on each server node.
//!
//! Policy (also in the README):
//! * Every failed login (wrong password, unknown user, disabled account,
//!   wrong TOTP code) counts against the account name tried and the IP it
//!   came from. A key forgets its failures once `failure_window` has passed
//!   since its last failure.
//! * Up to `max_failures` failures cost nothing. After the n-th failure
//!   beyond that, the key is blocked for `backoff_base × 2^(n - 1)`, at most
//!   `backoff_max`. An attempt on a blocked key is answered 429 with
//!   `Retry-After` before any password is checked, and does not count as a
//!   failure: hammering cannot push the block past `backoff_max` after the
//!   last checked failure.
//! * The account's block applies only to IPs that are failing themselves
//!   (a failure within the window). The real owner, logging in from an IP
//!   with no recent failures, is never held up by an attacker hammering the
//!   account from elsewhere; an attacker spreading over many IPs gets one
//!   checked guess per fresh IP before the account's block applies to it.
//! * An attempt let through while a key is over the limit reserves the next
//!   back-off up front, so a burst of parallel requests gets one guess, not
//!   one each. A successful login clears the account's failures and gives
//!   the IP back its reservation (its own failures stay until they expire).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::settings::LoginSettings;
use crate::ratelimit::RetryAfter;

/// At most this many keys are remembered; beyond it the stalest is dropped.
const MAX_KEYS: usize = 100_000;
/// How often keys whose failures expired are swept out.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

#[derive(Debug)]
struct Keys {
    map: HashMap<String, Failures>,
    last_sweep: Instant,
}

/// The throttle of one server node.
#[derive(Debug)]
pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    base: Duration,
    cap: Duration,
    keys: Mutex<Keys>,
}

/// A login attempt let through: what it reserved, to give back on success.
#[derive(Debug)]
pub struct Attempt {
    account: String,
    ip: String,
    /// `(key, blocked_until before this attempt reserved it)`.
    reserved: Vec<(String, Option<Instant>)>,
}

fn account_key(username: &str) -> String {
    format!("account:{}", username.trim().to_lowercase())
}

fn ip_key(ip: Option<&str>) -> String {
    format!("ip:{}", ip.unwrap_or("unknown"))
}

impl LoginThrottle {
    pub fn new(settings: &LoginSettings) -> Self {
        Self {
            max_failures: settings.max_failures.max(1),
            window: settings.failure_window,
            base: settings.backoff_base,
            cap: settings.backoff_max,
            keys: Mutex::new(Keys {
                map: HashMap::new(),
                last_sweep: Instant::now(),
            }),
        }
    }

    /// The block after `count` failures: none up to `max_failures`, then
    /// `base` after the first failure over, doubling with each further one.
    fn backoff(&self, count: u32) -> Option<Duration> {
        let over = count.checked_sub(self.max_failures)?.checked_sub(1)?;
        let factor = 2u32.checked_pow(over.min(31)).unwrap_or(u32::MAX);
        Some(self.base.saturating_mul(factor).min(self.cap))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Keys> {
        // A panic while holding the lock cannot leave the map inconsistent
        // (every update is a single insert or remove), so keep using it.
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets an attempt through or says how long to wait.
    pub fn check(&self, username: &str, ip: Option<&str>) -> Result<Attempt, RetryAfter> {
        let now = Instant::now();
        let mut keys = self.lock();
        self.sweep(&mut keys, now);
        let account = account_key(username);
        let ip = ip_key(ip);
        let ip_failing = self.live(&keys, &ip, now).is_some();
        let applicable: Vec<&String> = if ip_failing {
            vec![&ip, &account]
        } else {
            vec![&ip]
        };
        let mut wait = Duration::ZERO;
        for key in &applicable {
            if let Some(until) = self.live(&keys, key, now).and_then(|f| f.blocked_until) {
                wait = wait.max(until.saturating_duration_since(now));
            }
        }
        if !wait.is_zero() {
            return Err(RetryAfter(wait));
        }
        let mut reserved = Vec::new();
        for key in applicable {
            let Some(mut f) = self.live(&keys, key, now) else {
                continue;
            };
            if let Some(next) = self.backoff(f.count.saturating_add(1)) {
                reserved.push((key.clone(), f.blocked_until));
                f.blocked_until = Some(now + next);
                keys.map.insert(key.clone(), f);
            }
        }
        Ok(Attempt {
            account,
            ip,
            reserved,
        })
    }

    /// The attempt failed: one more failure for its account and its IP.
    pub fn failed(&self, attempt: Attempt) {
        let now = Instant::now();
        let mut keys = self.lock();
        for key in [attempt.account, attempt.ip] {
            let count = self.live(&keys, &key, now).map_or(0, |f| f.count) + 1;
            let failures = Failures {
                count,
                last: now,
                blocked_until: self.backoff(count).map(|d| now + d),
            };
            if !keys.map.contains_key(&key) && keys.map.len() >= MAX_KEYS {
                evict_stalest(&mut keys.map);
            }
            keys.map.insert(key, failures);
        }
    }

    /// The password was right but the login goes on (a TOTP code is due):
    /// gives back the reservations without clearing any failures.
    pub fn release(&self, attempt: Attempt) {
        let mut keys = self.lock();
        for (key, previous) in attempt.reserved {
            if let Some(f) = keys.map.get_mut(&key) {
                f.blocked_until = previous;
            }
        }
    }

    /// The login succeeded: the account's failures are cleared.
    pub fn succeeded(&self, attempt: Attempt) {
        let account = attempt.account.clone();
        self.release(attempt);
        self.lock().map.remove(&account);
    }

    /// A key's failures if they have not expired.
    fn live(&self, keys: &Keys, key: &str, now: Instant) -> Option<Failures> {
        keys.map
            .get(key)
            .copied()
            .filter(|f| now.saturating_duration_since(f.last) < self.window)
    }

    fn sweep(&self, keys: &mut Keys, now: Instant) {
        if now.saturating_duration_since(keys.last_sweep) < SWEEP_EVERY {
            return;
        }
        keys.last_sweep = now;
        let window = self.window;
        keys.map.retain(|_, f| {
            now.saturating_duration_since(f.last) < window
                || f.blocked_until.is_some_and(|u| u > now)
        });
    }
}

fn evict_stalest(map: &mut HashMap<String, Failures>) {
    let stalest = map
        .iter()
        .min_by_key(|(_, f)| f.last)
        .map(|(k, _)| k.clone());
    if let Some(key) = stalest {
        map.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(max: u32, base_ms: u64, cap_ms: u64) -> LoginThrottle {
        LoginThrottle::new(&LoginSettings {
            max_failures: max,
            failure_window: Duration::from_secs(60),
            backoff_base: Duration::from_millis(base_ms),
            backoff_max: Duration::from_millis(cap_ms),
            ..LoginSettings::default()
        })
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let t = throttle(5, 1000, 5000);
        let secs = |n| t.backoff(n).map(|d| d.as_millis());
        assert_eq!(
            (secs(5), secs(6), secs(7), secs(8), secs(9), secs(40)),
            (
                None,
                Some(1000),
                Some(2000),
                Some(4000),
                Some(5000),
                Some(5000)
            )
        );
    }

    #[test]
    fn failures_over_the_limit_block_the_ip_and_account() {
        let t = throttle(2, 60_000, 60_000);
        for _ in 0..3 {
            let a = t.check("alice", Some("10.0.0.1")).unwrap();
            t.failed(a);
        }
        let wait = t.check("alice", Some("10.0.0.1")).unwrap_err();
        assert!(wait.0 > Duration::from_secs(50));
        // Another account from the same IP: the IP is blocked.
        assert!(t.check("bob", Some("10.0.0.1")).is_err());
        // The owner from a clean IP is let through and clears the account.
        let owner = t.check("Alice", Some("10.0.0.2")).unwrap();
        t.succeeded(owner);
        assert!(
            t.check("alice", Some("10.0.0.1")).is_err(),
            "the IP stays blocked"
        );
    }

    #[test]
    fn a_failing_ip_is_held_by_the_account_block_too() {
        let t = throttle(2, 60_000, 60_000);
        for i in 0..3 {
            let a = t.check("alice", Some(&format!("10.0.1.{i}"))).unwrap();
            t.failed(a);
        }
        // 10.0.1.0 has one failure of its own: the account's block applies.
        assert!(t.check("alice", Some("10.0.1.0")).is_err());
        assert!(t.check("alice", Some("10.0.9.9")).is_ok());
    }

    #[test]
    fn a_burst_over_the_limit_gets_one_attempt() {
        let t = throttle(1, 60_000, 60_000);
        let a = t.check("alice", Some("10.0.0.1")).unwrap();
        t.failed(a);
        // At the limit: the next attempt reserves the back-off it would earn.
        let first = t.check("alice", Some("10.0.0.1")).unwrap();
        assert!(t.check("alice", Some("10.0.0.1")).is_err(), "reserved");
        // The password was right (a code step follows): the reservation is
        // given back, the failures stay.
        t.release(first);
        let again = t.check("alice", Some("10.0.0.1")).unwrap();
        t.failed(again);
        let wait = t.check("alice", Some("10.0.0.1")).unwrap_err();
        assert!(wait.0 > Duration::from_secs(50));
    }

    #[test]
    fn blocked_attempts_do_not_extend_the_block() {
        let t = throttle(1, 50, 50);
        for _ in 0..2 {
            let a = t.check("alice", Some("10.0.0.1")).unwrap();
            t.failed(a);
        }
        for _ in 0..20 {
            assert!(t.check("alice", Some("10.0.0.1")).is_err());
        }
        std::thread::sleep(Duration::from_millis(60));
        assert!(t.check("alice", Some("10.0.0.1")).is_ok());
    }
}
