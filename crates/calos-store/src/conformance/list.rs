//! The customer list: filters, search and paging.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use calos_core::license::{License, LicenseStatus};

use super::support::{
    audit, days, domain, hours, install, license, new_customer, new_license, now, seed_plans, slug,
};
use crate::{CustomerRef, LicenseQuery, Store};

pub(super) struct Spec<'a> {
    pub(super) install: &'a str,
    pub(super) name: &'a str,
    pub(super) email: &'a str,
    pub(super) company: Option<&'a str>,
    pub(super) plan: &'a str,
    pub(super) status: LicenseStatus,
    pub(super) created: DateTime<Utc>,
    pub(super) domains: &'a [&'a str],
}

pub(super) async fn add(store: &Arc<dyn Store>, s: Spec<'_>) -> License {
    let mut l = license(s.install, s.plan, s.created);
    l.status = s.status;
    l.domains = s.domains.iter().map(|d| domain(d)).collect();
    let new = new_license(
        CustomerRef::New(new_customer(s.name, s.email, s.company)),
        l,
    );
    store
        .create_license(&new, &audit("license.create", "license", s.install))
        .await
        .expect("create_license")
        .1
}

pub(super) fn query(now: DateTime<Utc>) -> LicenseQuery {
    LicenseQuery {
        page: 1,
        per_page: 50,
        now,
        ..LicenseQuery::default()
    }
}

pub(super) async fn ids(store: &Arc<dyn Store>, q: &LicenseQuery) -> Vec<String> {
    let page = store.list_licenses(q).await.expect("list_licenses");
    assert_eq!(
        page.total,
        page.items.len() as u64,
        "one page holds everything here"
    );
    page.items
        .into_iter()
        .map(|i| i.license.install_id.as_str().to_owned())
        .collect()
}

async fn five(store: &Arc<dyn Store>, t: DateTime<Utc>) {
    seed_plans(store).await;
    let specs = [
        Spec {
            install: "alpha-install-0001",
            name: "Alpha Robotics",
            email: "ops@alpha.example",
            company: Some("Alpha GmbH"),
            plan: "pro",
            status: LicenseStatus::Active,
            created: t - days(5),
            domains: &["alpha.example.com"],
        },
        Spec {
            install: "bravo-install-0002",
            name: "bravo bakery",
            email: "hi@bravo.example",
            company: None,
            plan: "community",
            status: LicenseStatus::Trial,
            created: t - days(4),
            domains: &[],
        },
        Spec {
            install: "charlie-install-0003",
            name: "Charlie Cafe",
            email: "c@charlie.example",
            company: Some("Charlie Holdings"),
            plan: "pro",
            status: LicenseStatus::Suspended,
            created: t - days(3),
            domains: &["shop.charlie.example", "www.charlie.example"],
        },
        Spec {
            install: "delta-install-0004",
            name: "Delta Dental",
            email: "d@delta.example",
            company: None,
            plan: "enterprise",
            status: LicenseStatus::Revoked,
            created: t - days(2),
            domains: &[],
        },
        Spec {
            install: "echo-install-0005",
            name: "Echo Events",
            email: "e@echo.example",
            company: Some("Echo Group"),
            plan: "development",
            status: LicenseStatus::Expired,
            created: t - days(1),
            domains: &[],
        },
    ];
    for s in specs {
        add(store, s).await;
    }
}

/// Status, plan and search filters, alone and combined; items carry their customer.
pub async fn list_licenses_filters(store: Arc<dyn Store>) {
    let t = now();
    five(&store, t).await;
    let all = ids(&store, &query(t)).await;
    assert_eq!(
        all,
        [
            "echo-install-0005",
            "delta-install-0004",
            "charlie-install-0003",
            "bravo-install-0002",
            "alpha-install-0001"
        ],
        "newest first by default"
    );

    let page = store.list_licenses(&query(t)).await.expect("list");
    for item in &page.items {
        let stored = store
            .get_license(&item.license.install_id)
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(item.license, stored);
        let customer = store
            .get_customer(stored.customer_id)
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(item.customer, customer);
    }

    let with = |f: &dyn Fn(&mut LicenseQuery)| {
        let mut q = query(t);
        f(&mut q);
        q
    };
    assert_eq!(
        ids(&store, &with(&|q| q.status = Some(LicenseStatus::Active))).await,
        ["alpha-install-0001"]
    );
    assert_eq!(
        ids(&store, &with(&|q| q.status = Some(LicenseStatus::Trial))).await,
        ["bravo-install-0002"]
    );
    assert_eq!(
        ids(&store, &with(&|q| q.status = Some(LicenseStatus::Expired))).await,
        ["echo-install-0005"]
    );
    assert_eq!(
        ids(&store, &with(&|q| q.plan = Some(slug("pro")))).await,
        ["charlie-install-0003", "alpha-install-0001"]
    );
    assert!(ids(&store, &with(&|q| q.plan = Some(slug("self_hosted"))))
        .await
        .is_empty());
    assert!(ids(&store, &with(&|q| q.plan = Some(slug("no-such-plan"))))
        .await
        .is_empty());
    assert_eq!(
        ids(
            &store,
            &with(&|q| {
                q.plan = Some(slug("pro"));
                q.status = Some(LicenseStatus::Suspended);
            })
        )
        .await,
        ["charlie-install-0003"]
    );
    assert!(ids(
        &store,
        &with(&|q| {
            q.plan = Some(slug("community"));
            q.status = Some(LicenseStatus::Active);
        })
    )
    .await
    .is_empty());

    // Search: case-insensitive substring of name, e-mail, company, install id or domain.
    let search = |s: &'static str| with(&move |q| q.search = Some(s.to_owned()));
    assert_eq!(
        ids(&store, &search("ROBOTICS")).await,
        ["alpha-install-0001"],
        "name"
    );
    assert_eq!(
        ids(&store, &search("hi@Bravo")).await,
        ["bravo-install-0002"],
        "email"
    );
    assert_eq!(
        ids(&store, &search("holdings")).await,
        ["charlie-install-0003"],
        "company"
    );
    assert_eq!(
        ids(&store, &search("delta-INSTALL")).await,
        ["delta-install-0004"],
        "install id"
    );
    assert_eq!(
        ids(&store, &search("shop.charlie")).await,
        ["charlie-install-0003"],
        "domain"
    );
    assert_eq!(
        ids(&store, &search("charlie")).await,
        ["charlie-install-0003"],
        "a license matching on several fields and domains is listed once"
    );
    assert_eq!(ids(&store, &search("example")).await.len(), 5);
    assert!(ids(&store, &search("zebra")).await.is_empty());
    assert_eq!(
        ids(
            &store,
            &with(&|q| {
                q.search = Some("example".to_owned());
                q.plan = Some(slug("pro"));
                q.status = Some(LicenseStatus::Active);
            })
        )
        .await,
        ["alpha-install-0001"]
    );
}

/// `%`, `_` and `\` in a search are literal characters, not LIKE wildcards.
pub async fn list_licenses_search_escapes_like_wildcards(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    for (i, name) in [
        "100% Natural",
        "1000 Naturals",
        "under_score",
        "underXscore",
        "back\\slash",
        "backslash",
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("like-install-000{i}");
        let mail = format!("like{i}@example.com");
        add(
            &store,
            Spec {
                install: &id,
                name,
                email: &mail,
                company: None,
                plan: "pro",
                status: LicenseStatus::Active,
                created: t - hours(i as i64),
                domains: &[],
            },
        )
        .await;
    }
    let search = |s: &str| LicenseQuery {
        search: Some(s.to_owned()),
        ..query(t)
    };
    assert_eq!(ids(&store, &search("100%")).await, ["like-install-0000"]);
    assert_eq!(ids(&store, &search("under_")).await, ["like-install-0002"]);
    assert_eq!(ids(&store, &search("k\\s")).await, ["like-install-0004"]);
    assert!(ids(&store, &search("%%")).await.is_empty());
    assert_eq!(
        ids(&store, &search("")).await.len(),
        6,
        "an empty search filters nothing"
    );
}

/// `total` counts every match, `page`/`perPage` pick a slice, past the end is empty.
pub async fn list_licenses_paging(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    for i in 0..7 {
        let id = format!("page-install-000{i}");
        let mail = format!("page{i}@example.com");
        add(
            &store,
            Spec {
                install: &id,
                name: "Pager",
                email: &mail,
                company: None,
                plan: if i % 2 == 0 { "pro" } else { "community" },
                status: LicenseStatus::Active,
                created: t - hours(i),
                domains: &[],
            },
        )
        .await;
    }
    let mut seen = Vec::new();
    for (page_no, expected_len) in [(1, 3), (2, 3), (3, 1), (4, 0)] {
        let page = store
            .list_licenses(&LicenseQuery {
                page: page_no,
                per_page: 3,
                ..query(t)
            })
            .await
            .expect("list");
        assert_eq!(page.total, 7);
        assert_eq!((page.page, page.per_page), (page_no, 3));
        assert_eq!(page.items.len(), expected_len, "page {page_no}");
        seen.extend(page.items.into_iter().map(|i| i.license.install_id));
    }
    let expected: Vec<_> = (0..7)
        .map(|i| install(&format!("page-install-000{i}")))
        .collect();
    assert_eq!(
        seen, expected,
        "pages follow the sort order without gaps or repeats"
    );

    let filtered = store
        .list_licenses(&LicenseQuery {
            plan: Some(slug("pro")),
            page: 2,
            per_page: 3,
            ..query(t)
        })
        .await
        .expect("list");
    assert_eq!(
        filtered.total, 4,
        "total counts the filtered matches, not the page"
    );
    assert_eq!(filtered.items.len(), 1);
    assert_eq!(
        filtered.items[0].license.install_id,
        install("page-install-0006")
    );
}
