//! Trends for the stat cards, computed from stored creation times (the seed
//! showed hard-coded "+12 this month" lines): licenses and customers created
//! in the last 30 days against the 30 days before.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use calos_store::{LicenseQuery, LicenseSort, Store, StoreResult};

/// Pages of 200 newest licenses read at most (10,000 licenses in 60 days).
const MAX_PAGES: u32 = 50;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Trend {
    pub licenses_last_30: u64,
    pub licenses_prev_30: u64,
    pub customers_last_30: u64,
    pub customers_prev_30: u64,
}

pub async fn compute(store: &dyn Store, now: DateTime<Utc>) -> StoreResult<Trend> {
    let mid = now - Duration::days(30);
    let start = now - Duration::days(60);
    let mut trend = Trend::default();
    let mut customers_recent = BTreeSet::new();
    let mut customers_prev = BTreeSet::new();
    for page in 1..=MAX_PAGES {
        let batch = store
            .list_licenses(&LicenseQuery {
                status: None,
                plan: None,
                search: None,
                page,
                per_page: 200,
                sort: LicenseSort::CreatedDesc,
                now,
            })
            .await?;
        let mut older_seen = false;
        for item in &batch.items {
            let created = item.license.created_at;
            if created >= mid {
                trend.licenses_last_30 += 1;
            } else if created >= start {
                trend.licenses_prev_30 += 1;
            } else {
                older_seen = true;
            }
            let c = &item.customer;
            if c.created_at >= mid {
                customers_recent.insert(c.id);
            } else if c.created_at >= start {
                customers_prev.insert(c.id);
            }
        }
        if older_seen || u64::from(page) * 200 >= batch.total {
            break;
        }
    }
    trend.customers_last_30 = customers_recent.len() as u64;
    trend.customers_prev_30 = customers_prev.len() as u64;
    Ok(trend)
}

/// "+3 in 30 days (1 in the 30 before)".
pub fn line(recent: u64, previous: u64) -> String {
    format!("+{recent} in 30 days ({previous} in the 30 before)")
}

/// Whether the last 30 days beat the 30 before: "up", "down" or "flat".
pub fn direction(recent: u64, previous: u64) -> &'static str {
    match recent.cmp(&previous) {
        std::cmp::Ordering::Greater => "up",
        std::cmp::Ordering::Less => "down",
        std::cmp::Ordering::Equal => "flat",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_directions() {
        assert_eq!(line(3, 1), "+3 in 30 days (1 in the 30 before)");
        assert_eq!(direction(3, 1), "up");
        assert_eq!(direction(0, 2), "down");
        assert_eq!(direction(2, 2), "flat");
    }
}
