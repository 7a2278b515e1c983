//! The customer table's filter as the pages take it from the query string.
//! Pages are forgiving where the API is strict: an unknown value is dropped
//! (and named in a notice) instead of failing the whole page.

use chrono::{DateTime, Utc};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Deserialize;

use calos_core::license::LicenseStatus;
use calos_core::plan::{Plan, PlanSlug};
use calos_store::{LicenseQuery, LicenseSort};

pub const PER_PAGE: u32 = 25;

/// The sort keys the table offers, with their labels.
pub const SORTS: [(&str, &str); 9] = [
    ("-created", "Newest first"),
    ("created", "Oldest first"),
    ("name", "Name A–Z"),
    ("-name", "Name Z–A"),
    ("-lastSeen", "Recently seen"),
    ("lastSeen", "Least recently seen"),
    ("tier", "Tier"),
    ("status", "Status"),
    ("-events", "Most events (30 days)"),
];

pub const STATUSES: [&str; 5] = ["trial", "active", "suspended", "expired", "revoked"];

/// The culture analyzer's health labels, best first.
pub const HEALTH_LABELS: [&str; 5] = [
    "excellent",
    "good",
    "at risk",
    "critical",
    "not enough data",
];

#[derive(Debug, Default, Deserialize)]
pub struct FilterParams {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub tier: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub health: String,
    #[serde(default)]
    pub page: String,
}

/// A filter with only known values, ready for the store and for links.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub q: String,
    pub status: String,
    pub tier: String,
    pub sort: String,
    /// A health label, or empty for any.
    pub health: String,
    pub page: u32,
    /// Values that were ignored, to tell the admin.
    pub ignored: Vec<String>,
}

impl Filter {
    pub fn parse(p: &FilterParams, plans: &[Plan]) -> Filter {
        let mut ignored = Vec::new();
        let q: String = p.q.trim().chars().take(200).collect();
        let status = p.status.trim();
        let status = if status.is_empty() || LicenseStatus::parse(status).is_ok() {
            status.to_owned()
        } else {
            ignored.push(format!("status {status:?}"));
            String::new()
        };
        let tier = p.tier.trim();
        let tier = if tier.is_empty() || plans.iter().any(|pl| pl.slug.as_str() == tier) {
            tier.to_owned()
        } else {
            ignored.push(format!("tier {tier:?}"));
            String::new()
        };
        let sort = p.sort.trim();
        let sort = if sort.is_empty() || SORTS.iter().any(|(k, _)| *k == sort) {
            sort.to_owned()
        } else {
            ignored.push(format!("sort {sort:?}"));
            String::new()
        };
        let health = p.health.trim();
        let health = if health.is_empty() || HEALTH_LABELS.contains(&health) {
            health.to_owned()
        } else {
            ignored.push(format!("health {health:?}"));
            String::new()
        };
        let page = p
            .page
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .unwrap_or(1);
        Filter {
            q,
            status,
            tier,
            sort,
            health,
            page,
            ignored,
        }
    }

    pub fn query(&self, page: u32, per_page: u32, now: DateTime<Utc>) -> LicenseQuery {
        LicenseQuery {
            status: LicenseStatus::parse(&self.status).ok(),
            plan: PlanSlug::parse(&self.tier)
                .ok()
                .filter(|_| !self.tier.is_empty()),
            search: Some(self.q.clone()).filter(|q| !q.is_empty()),
            page,
            per_page,
            sort: sort_of(&self.sort),
            now,
        }
    }

    /// The query string of this filter (without the page), for links such as
    /// the CSV export and the pager.
    pub fn query_string(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("q", &self.q),
            ("status", &self.status),
            ("tier", &self.tier),
            ("sort", &self.sort),
            ("health", &self.health),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)));
            }
        }
        parts.join("&")
    }

    /// The query string for page `n` of this filter.
    pub fn page_link(&self, n: u32) -> String {
        let base = self.query_string();
        if base.is_empty() {
            format!("?page={n}")
        } else {
            format!("?{base}&page={n}")
        }
    }
}

fn sort_of(raw: &str) -> LicenseSort {
    match raw {
        "created" => LicenseSort::CreatedAsc,
        "name" => LicenseSort::NameAsc,
        "-name" => LicenseSort::NameDesc,
        "-lastSeen" => LicenseSort::LastSeenDesc,
        "lastSeen" => LicenseSort::LastSeenAsc,
        "tier" => LicenseSort::TierAsc,
        "status" => LicenseSort::StatusAsc,
        "-events" => LicenseSort::EventsDesc,
        _ => LicenseSort::CreatedDesc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calos_core::plan::default_plans;

    fn parse(f: impl FnOnce(&mut FilterParams)) -> Filter {
        let mut p = FilterParams::default();
        f(&mut p);
        Filter::parse(&p, &default_plans())
    }

    #[test]
    fn unknown_values_are_dropped_and_named() {
        let f = parse(|p| {
            p.status = "paused".into();
            p.tier = "gold".into();
            p.sort = "price".into();
            p.page = "-3".into();
        });
        assert_eq!((f.status.as_str(), f.tier.as_str(), f.page), ("", "", 1));
        assert_eq!(f.ignored.len(), 3);
    }

    #[test]
    fn links_keep_the_filter_encoded() {
        let f = parse(|p| {
            p.q = "a&b".into();
            p.tier = "pro".into();
        });
        assert_eq!(f.query_string(), "q=a%26b&tier=pro");
        assert_eq!(f.page_link(2), "?q=a%26b&tier=pro&page=2");
        let q = f.query(1, 10, Utc::now());
        assert_eq!(q.plan.map(|p| p.to_string()), Some("pro".into()));
    }
}
