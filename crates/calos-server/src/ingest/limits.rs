//! Telemetry rate limits: events per minute per install, by plan. Each
//! plan's rate gets its own keyed limiter (governor, via
//! [`KeyedLimiter`]), created the first time an install on it posts.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use calos_core::plan::Plan;

use crate::ratelimit::{KeyedLimiter, RetryAfter};

/// Events per minute per install for a plan when no override is set: the
/// free tier gets a modest allowance, paid and unlimited tiers more.
pub fn default_per_minute(plan: &Plan) -> u32 {
    match plan.slug.as_str() {
        "community" => 1_200,
        "enterprise" | "self_hosted" | "development" => 60_000,
        _ if plan.is_paid() => 12_000,
        _ => 1_200,
    }
}

#[derive(Debug)]
pub struct TelemetryLimits {
    /// `Some(n)` sets every plan to `n` per minute (0: no limit).
    override_per_minute: Option<u32>,
    by_rate: RwLock<HashMap<u32, Arc<KeyedLimiter>>>,
}

impl TelemetryLimits {
    pub fn new(override_per_minute: Option<u32>) -> Self {
        Self {
            override_per_minute,
            by_rate: RwLock::new(HashMap::new()),
        }
    }

    /// Takes `events` from the install's bucket, or says how long to wait.
    pub fn check(&self, plan: &Plan, install_id: &str, events: usize) -> Result<(), RetryAfter> {
        let rate = self
            .override_per_minute
            .unwrap_or_else(|| default_per_minute(plan));
        let n = u32::try_from(events).unwrap_or(u32::MAX);
        self.limiter(rate).check_n(install_id, n)
    }

    fn limiter(&self, rate: u32) -> Arc<KeyedLimiter> {
        if let Some(l) = self.by_rate.read().ok().and_then(|m| m.get(&rate).cloned()) {
            return l;
        }
        let fresh = Arc::new(KeyedLimiter::per_minute(rate));
        match self.by_rate.write() {
            Ok(mut map) => map.entry(rate).or_insert(fresh).clone(),
            // A poisoned lock only means another thread panicked mid-insert;
            // a limiter of our own still enforces the rate for this check.
            Err(_) => fresh,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calos_core::plan::default_plans;

    fn plan(slug: &str) -> Plan {
        default_plans()
            .into_iter()
            .find(|p| p.slug.as_str() == slug)
            .unwrap()
    }

    #[test]
    fn plans_get_their_own_rates_and_installs_their_own_buckets() {
        let limits = TelemetryLimits::new(None);
        let community = plan("community");
        assert!(limits.check(&community, "a", 1_000).is_ok());
        assert!(limits.check(&community, "a", 1_000).is_err());
        assert!(limits.check(&community, "b", 1_000).is_ok());
        assert!(limits.check(&plan("enterprise"), "a", 1_000).is_ok());
    }

    #[test]
    fn an_override_of_zero_switches_limits_off() {
        let limits = TelemetryLimits::new(Some(0));
        for _ in 0..10 {
            assert!(limits.check(&plan("community"), "a", 1_000).is_ok());
        }
    }
}
