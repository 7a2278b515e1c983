//! Finding periodic conditions and writing them to the outbox. Every
//! notification carries its deduplication key and the outbox ignores a key
//! it holds, so scans may repeat, overlap and run on several nodes at once:
//! each condition is still notified once per period and level.
//!
//! * [`Scanner::usage`] (every `scan_interval`, default 15 s): metered use
//!   of every trial or active license's current period against its plan's
//!   limits, from one query — so 80% is noticed within seconds.
//! * [`Scanner::insights`] (every `insight_interval`, default 15 min):
//!   trial and contract countdowns, silent deployments, health below the
//!   threshold, high-priority upsells, and seat and domain limits, page by
//!   page with one culture analysis per page.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use calos_core::license::{License, LicenseStatus};
use calos_core::notify::trigger::{self, UsageLevel};
use calos_core::notify::{NewNotification, Subject};
use calos_core::plan::{Limit, Meter, Plan};
use calos_store::{LicenseListItem, LicenseQuery, Store, StoreResult};

use super::NotifyConfig;

/// Licenses per page of the insight scan (one culture analysis each).
const PAGE: u32 = 200;
/// Keys remembered as already in the outbox before the memory starts over.
const MAX_REMEMBERED: usize = 100_000;

/// Runs the scans; remembers which keys it already wrote so a condition
/// that persists costs no write on later scans.
pub struct Scanner {
    store: Arc<dyn Store>,
    config: NotifyConfig,
    written: Mutex<HashSet<String>>,
}

impl Scanner {
    pub fn new(store: Arc<dyn Store>, config: NotifyConfig) -> Self {
        Self {
            store,
            config,
            written: Mutex::new(HashSet::new()),
        }
    }

    /// Enqueues `n` unless its key is known to be in the outbox; returns
    /// whether a notification was created now.
    async fn offer(&self, n: NewNotification) -> StoreResult<bool> {
        let key = n.dedupe_key.clone();
        if let Some(k) = &key {
            if self.written.lock().is_ok_and(|w| w.contains(k)) {
                return Ok(false);
            }
        }
        let created = self.store.enqueue_notification(&n).await?.is_some();
        if let (Some(k), Ok(mut w)) = (key, self.written.lock()) {
            if w.len() >= MAX_REMEMBERED {
                w.clear();
            }
            w.insert(k);
        }
        Ok(created)
    }

    /// Usage thresholds of metered meters; returns notifications created.
    pub async fn usage(&self, now: DateTime<Utc>) -> StoreResult<u32> {
        let plans = self.store.list_plans().await?;
        let totals = self.store.current_meter_totals().await?;
        let mut created = 0;
        for t in totals {
            let Some(plan) = plans.iter().find(|p| p.slug.as_str() == t.subject.plan) else {
                continue;
            };
            let Limit::Max(limit) = plan.limit(t.meter) else {
                continue;
            };
            let Some(level) = UsageLevel::reached(t.quantity, limit) else {
                continue;
            };
            let n = trigger::usage_notification(
                &t.subject,
                t.meter,
                t.quantity,
                limit,
                t.period_start,
                level,
                now,
            );
            created += u32::from(self.offer(n).await?);
        }
        Ok(created)
    }

    /// Countdowns, silence, health, upsells, seats and domains.
    pub async fn insights(&self, now: DateTime<Utc>) -> StoreResult<u32> {
        let plans = self.store.list_plans().await?;
        let mut created = 0;
        let mut page = 1;
        loop {
            let items = self
                .store
                .list_licenses(&LicenseQuery {
                    page,
                    per_page: PAGE,
                    now,
                    ..LicenseQuery::default()
                })
                .await?;
            let usable: Vec<&LicenseListItem> = items
                .items
                .iter()
                .filter(|i| i.license.status.is_usable())
                .collect();
            created += self.page(&usable, &plans, now).await?;
            if u64::from(page) * u64::from(PAGE) >= items.total || items.items.is_empty() {
                break;
            }
            page += 1;
        }
        Ok(created)
    }

    async fn page(
        &self,
        items: &[&LicenseListItem],
        plans: &[Plan],
        now: DateTime<Utc>,
    ) -> StoreResult<u32> {
        let mut out: Vec<NewNotification> = Vec::new();
        for item in items {
            out.extend(self.time_conditions(&item.license, &subject(item), now));
        }
        let licenses: Vec<&License> = items.iter().map(|i| &i.license).collect();
        let profiles =
            crate::culture::analyze_licenses(self.store.as_ref(), &licenses, plans, now).await?;
        for item in items {
            let Some(p) = profiles.get(&item.license.install_id) else {
                continue;
            };
            let s = subject(item);
            if let (Some(score), threshold @ 1..) = (p.health.score, self.config.health_threshold) {
                out.extend(trigger::health_notification(
                    &s,
                    score,
                    &p.health.label,
                    threshold,
                    now,
                ));
            }
            out.extend(
                p.upsells
                    .iter()
                    .filter_map(|u| trigger::upsell_notification(&s, u, now)),
            );
            // Seats and domains are not metered at ingest: the analysis counts them.
            for l in &p.limits {
                let Ok(meter @ (Meter::Seats | Meter::Domains)) = Meter::parse(&l.name) else {
                    continue;
                };
                if let Some(level) = UsageLevel::reached(l.used, l.limit) {
                    out.push(trigger::usage_notification(
                        &s,
                        meter,
                        l.used,
                        l.limit,
                        item.license.current_period_start,
                        level,
                        now,
                    ));
                }
            }
        }
        let mut created = 0;
        for n in out {
            created += u32::from(self.offer(n).await?);
        }
        Ok(created)
    }

    fn time_conditions(
        &self,
        license: &License,
        s: &Subject,
        now: DateTime<Utc>,
    ) -> Vec<NewNotification> {
        let mut out = Vec::new();
        if license.status == LicenseStatus::Trial {
            if let Some(end) = license.trial_ends_at {
                if let Some(step) = trigger::countdown_step(now, end, &trigger::TRIAL_STEPS) {
                    out.push(trigger::trial_notification(s, end, step, now));
                }
            }
        }
        if license.status == LicenseStatus::Active {
            if let Some(end) = license.ends_at {
                if let Some(step) = trigger::countdown_step(now, end, &trigger::EXPIRY_STEPS) {
                    out.push(trigger::expiry_notification(s, end, step, now));
                }
            }
        }
        if let Some(seen) = license.last_seen_at {
            out.extend(trigger::silence_notification(
                s,
                seen,
                i64::from(self.config.silent_days),
                now,
            ));
        }
        out
    }
}

fn subject(item: &LicenseListItem) -> Subject {
    Subject {
        install_id: item.license.install_id.as_str().to_owned(),
        customer_name: item.customer.name.as_str().to_owned(),
        customer_email: item.customer.email.as_str().to_owned(),
        company: item
            .customer
            .company
            .as_ref()
            .map(|c| c.as_str().to_owned()),
        plan: item.license.plan.as_str().to_owned(),
    }
}
