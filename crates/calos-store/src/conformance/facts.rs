//! Dashboard facts and the licenses time is about to change.

use std::sync::Arc;

use calos_core::license::{BillingPeriod, LicenseStatus};
use calos_core::stats::LicenseFacts;

use super::support::{create, days, hours, license, now, seed_plans, with_status};
use crate::Store;

/// One fact per license, with trial and conversion derived from the dates.
pub async fn license_facts_reflect_every_license(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    assert!(store.license_facts().await.expect("facts").is_empty());
    let t = now();

    let mut trial = with_status(license("facts-install-01", "pro", t), LicenseStatus::Trial);
    trial.trial_ends_at = Some(t + days(14));
    let mut converted = license("facts-install-02", "enterprise", t);
    converted.billing_period = BillingPeriod::Annual;
    converted.trial_ends_at = Some(t - days(1));
    converted.converted_at = Some(t - days(2));
    let plain = license("facts-install-03", "community", t);
    let mut lost = with_status(
        license("facts-install-04", "pro", t),
        LicenseStatus::Expired,
    );
    lost.trial_ends_at = Some(t - days(3));
    let revoked = with_status(
        license("facts-install-05", "pro", t),
        LicenseStatus::Revoked,
    );

    let mut expected = Vec::new();
    for (i, l) in [trial, converted, plain, lost, revoked]
        .into_iter()
        .enumerate()
    {
        let (customer, l) = create(&store, "Facts", &format!("facts{i}@example.com"), l).await;
        expected.push(LicenseFacts {
            customer_id: customer.id,
            plan: l.plan.clone(),
            billing_period: l.billing_period,
            status: l.status,
            started_as_trial: l.trial_ends_at.is_some(),
            converted: l.converted_at.is_some(),
        });
    }
    let mut facts = store.license_facts().await.expect("facts");
    facts.sort_by_key(|f| f.customer_id);
    assert_eq!(facts, expected);
}

/// `licenses_due`: trials whose end has come, active licenses past their
/// contract end or period end — and nothing else; `limit` caps the answer.
pub async fn licenses_due_finds_what_time_changes(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let period = |mut l: calos_core::license::License, end| {
        l.current_period_start = t - days(30);
        l.current_period_end = end;
        l
    };
    let mut trial_over = with_status(
        license("due-trial-over-1", "pro", t - days(20)),
        LicenseStatus::Trial,
    );
    trial_over.trial_ends_at = Some(t - days(1));
    let mut trial_ends_now = with_status(
        license("due-trial-now-02", "pro", t - days(20)),
        LicenseStatus::Trial,
    );
    trial_ends_now.trial_ends_at = Some(t);
    let mut trial_running = with_status(
        license("not-trial-runs-1", "pro", t - days(2)),
        LicenseStatus::Trial,
    );
    trial_running.trial_ends_at = Some(t + days(5));
    let mut contract_over = period(
        license("due-contract-end", "pro", t - days(400)),
        t + days(5),
    );
    contract_over.ends_at = Some(t - hours(1));
    let period_over = period(
        license("due-period-ended", "pro", t - days(90)),
        t - hours(1),
    );
    let period_running = period(
        license("not-period-runs1", "pro", t - days(90)),
        t + days(1),
    );
    let suspended = with_status(
        period(
            license("not-suspended-01", "pro", t - days(90)),
            t - days(1),
        ),
        LicenseStatus::Suspended,
    );
    let revoked = with_status(
        period(
            license("not-revoked-0001", "pro", t - days(90)),
            t - days(1),
        ),
        LicenseStatus::Revoked,
    );
    let mut expired = with_status(
        license("not-expired-0001", "pro", t - days(90)),
        LicenseStatus::Expired,
    );
    expired.trial_ends_at = Some(t - days(60));
    let all = [
        trial_over,
        trial_ends_now,
        trial_running,
        contract_over,
        period_over,
        period_running,
        suspended,
        revoked,
        expired,
    ];
    for (i, l) in all.into_iter().enumerate() {
        create(&store, "Due", &format!("due{i}@example.com"), l).await;
    }

    let mut due = store.licenses_due(t, 100).await.expect("due");
    due.sort_by(|a, b| a.install_id.cmp(&b.install_id));
    let due_ids: Vec<&str> = due.iter().map(|l| l.install_id.as_str()).collect();
    assert_eq!(
        due_ids,
        [
            "due-contract-end",
            "due-period-ended",
            "due-trial-now-02",
            "due-trial-over-1"
        ]
    );
    for l in &due {
        assert_eq!(
            Some(l),
            store
                .get_license(&l.install_id)
                .await
                .expect("get")
                .as_ref()
        );
    }
    let capped = store.licenses_due(t, 2).await.expect("due capped");
    assert_eq!(capped.len(), 2);
    assert!(capped.iter().all(|l| due.contains(l)));
    assert!(store
        .licenses_due(t - days(100), 100)
        .await
        .expect("due earlier")
        .is_empty());
}
