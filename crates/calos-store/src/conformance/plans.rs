//! Health and plans.

use std::collections::BTreeMap;
use std::sync::Arc;

use calos_core::plan::{default_plans, Limit, Meter, Plan, PricingModel, UsageType};

use super::support::{all_audit, audit, audit_of, slug};
use crate::Store;

fn by_slug(mut plans: Vec<Plan>) -> Vec<Plan> {
    plans.sort_by(|a, b| a.slug.cmp(&b.slug));
    plans
}

/// `backend()` names the backend and `ping()` reaches the database.
pub async fn ping_and_backend(store: Arc<dyn Store>) {
    assert!(
        matches!(store.backend(), "sqlite" | "postgres"),
        "unexpected backend name {:?}",
        store.backend()
    );
    store.ping().await.expect("ping");
}

/// `ensure_plans` inserts only missing plans and never overwrites an edited one.
pub async fn plans_ensure_is_idempotent(store: Arc<dyn Store>) {
    assert!(store.list_plans().await.expect("list").is_empty());
    let defaults = default_plans();
    assert_eq!(store.ensure_plans(&defaults).await.expect("ensure"), 5);
    assert_eq!(
        by_slug(store.list_plans().await.expect("list")),
        by_slug(defaults.clone())
    );
    assert_eq!(
        store.ensure_plans(&defaults).await.expect("ensure again"),
        0
    );
    assert_eq!(store.list_plans().await.expect("list").len(), 5);

    let mut pro = store
        .get_plan(&slug("pro"))
        .await
        .expect("get")
        .expect("pro exists");
    assert_eq!(
        Some(&pro),
        defaults.iter().find(|p| p.slug.as_str() == "pro")
    );
    pro.price_monthly_minor = 3_900;
    pro.limits.insert(Meter::ApiRequests, Limit::Max(20_000));
    store
        .put_plan(&pro, &audit("plan.update", "plan", "pro"))
        .await
        .expect("put_plan");

    // Re-seeding (as every start does) must keep the admin's edit.
    assert_eq!(
        store
            .ensure_plans(&defaults)
            .await
            .expect("ensure after edit"),
        0
    );
    assert_eq!(
        store.get_plan(&slug("pro")).await.expect("get"),
        Some(pro.clone())
    );

    let mut extra = pro.clone();
    extra.slug = slug("pro-plus");
    extra.name = "Pro Plus".to_owned();
    let mut with_new = defaults.clone();
    with_new.push(extra.clone());
    assert_eq!(store.ensure_plans(&with_new).await.expect("ensure new"), 1);
    assert_eq!(
        store.get_plan(&slug("pro-plus")).await.expect("get"),
        Some(extra)
    );
    assert_eq!(
        store
            .get_plan(&slug("no-such-plan"))
            .await
            .expect("get unknown"),
        None
    );
    assert_eq!(store.ensure_plans(&[]).await.expect("ensure nothing"), 0);

    // ensure_plans takes no audit entry: only put_plan wrote one.
    assert_eq!(all_audit(&store).await.len(), 1);
}

/// `put_plan` creates a plan, then replaces every field of it, each with an audit record.
pub async fn plans_put_creates_and_replaces(store: Arc<dyn Store>) {
    let mut plan = default_plans().remove(2);
    plan.slug = slug("custom_2025");
    plan.name = "Custom — Zoë's \"tier\"".to_owned();
    let created = audit("plan.create", "plan", "custom_2025");
    store.put_plan(&plan, &created).await.expect("put new");
    assert_eq!(
        store.get_plan(&plan.slug).await.expect("get"),
        Some(plan.clone())
    );

    plan.price_monthly_minor = 12_345;
    plan.price_annual_minor = 123_450;
    plan.trial_days = 7;
    plan.verification_interval_hours = 0;
    plan.limits = BTreeMap::from([
        (Meter::Seats, Limit::Max(8)),
        (Meter::CryptoCharges, Limit::Max(0)),
    ]);
    plan.features = BTreeMap::from([("sla".to_owned(), true), ("airGapped".to_owned(), false)]);
    plan.usage_prices = BTreeMap::from([(
        UsageType::PosOnline,
        PricingModel::PercentagePlusFixed {
            basis_points: 310,
            fixed_micros: 250_000,
        },
    )]);
    let replaced = audit("plan.update", "plan", "custom_2025");
    store.put_plan(&plan, &replaced).await.expect("put replace");
    assert_eq!(
        store.get_plan(&plan.slug).await.expect("get"),
        Some(plan.clone())
    );
    let listed = store.list_plans().await.expect("list");
    assert_eq!(listed, vec![plan]);

    let records = audit_of(&store, "plan", "custom_2025").await;
    let entries: Vec<_> = records.into_iter().map(|r| r.entry).collect();
    assert_eq!(entries.len(), 2);
    assert!(entries.contains(&created) && entries.contains(&replaced));
}
