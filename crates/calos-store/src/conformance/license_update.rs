//! Versioned license updates and the domains that come with them.

use std::sync::Arc;

use calos_core::license::{BillingPeriod, LicenseStatus};

use super::support::{
    all_audit, assert_conflict, assert_not_found, audit, audit_at, audit_of, create, days, domain,
    hours, license, new_customer, new_license, notes, now, seed_plans, slug,
};
use crate::{CustomerRef, Store};

/// `update_license` stores every field, bumps the version, replaces the
/// domains (freeing the old ones) and records the change.
pub async fn update_license_bumps_version_and_replaces_domains(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let mut original = license("upd-install-0001", "pro", t);
    original.domains = vec![domain("a.example.com"), domain("b.example.com")];
    let (_, created) = create(&store, "Upd", "upd@example.com", original).await;
    assert_eq!(created.version, 0);

    let mut next = created.clone();
    next.plan = slug("enterprise");
    next.billing_period = BillingPeriod::Annual;
    next.status = LicenseStatus::Suspended;
    next.status_reason = Some("invoice 2024-117 unpaid".to_owned());
    next.trial_ends_at = Some(t - days(3));
    next.converted_at = Some(t - days(2));
    next.current_period_start = t - days(2);
    next.current_period_end = t + days(363);
    next.ends_at = Some(t + days(700));
    next.notes = notes("moved to annual\nsee ticket #42");
    next.domains = vec![domain("b.example.com"), domain("c.example.com")];
    next.updated_at = t + hours(1);
    next.last_seen_at = Some(t + hours(1) - days(1));
    let first_update = audit_at(
        t + hours(1),
        "license.update",
        "license",
        "upd-install-0001",
    );
    let stored = store
        .update_license(&next, &first_update)
        .await
        .expect("update");
    let mut expected = next.clone();
    expected.version = 1;
    assert_eq!(stored, expected);
    assert_eq!(
        store.get_license(&next.install_id).await.expect("get"),
        Some(expected.clone())
    );

    // The dropped domain is free for another license now.
    let mut other = license("other-install-002", "pro", t);
    other.domains = vec![domain("a.example.com")];
    create(&store, "Other", "other@example.com", other).await;

    let mut again = stored.clone();
    again.status = LicenseStatus::Active;
    again.status_reason = None;
    again.ends_at = None;
    again.domains = Vec::new();
    again.updated_at = t + hours(2);
    let second_update = audit_at(
        t + hours(2),
        "license.reactivate",
        "license",
        "upd-install-0001",
    );
    let stored2 = store
        .update_license(&again, &second_update)
        .await
        .expect("second update");
    assert_eq!(stored2.version, 2);
    assert!(stored2.domains.is_empty());
    assert_eq!(
        store.get_license(&again.install_id).await.expect("get"),
        Some(stored2)
    );

    let entries: Vec<_> = audit_of(&store, "license", "upd-install-0001")
        .await
        .into_iter()
        .map(|r| r.entry)
        .collect();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0], second_update, "newest first");
    assert_eq!(entries[1], first_update);
}

/// A stale version is `Conflict("version")`, an unknown license `NotFound`, a
/// domain of another license `Conflict("domain")`; none changes anything.
pub async fn update_license_refusals_write_nothing(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let mut one = license("one-install-0001", "pro", t);
    one.domains = vec![domain("one.example.com")];
    let (_, one) = create(&store, "One", "one@example.com", one).await;
    let mut two = license("two-install-0002", "pro", t);
    two.domains = vec![domain("two.example.com")];
    let (_, two) = create(&store, "Two", "two@example.com", two).await;

    let mut edit = one.clone();
    edit.notes = notes("first writer wins");
    let v1 = store
        .update_license(
            &edit,
            &audit("license.update", "license", "one-install-0001"),
        )
        .await
        .expect("update");
    let audits = all_audit(&store).await.len();

    // A second writer still holding version 0.
    let mut stale = one.clone();
    stale.notes = notes("second writer loses");
    assert_conflict(
        store
            .update_license(
                &stale,
                &audit("license.update", "license", "one-install-0001"),
            )
            .await,
        "version",
    );
    assert_eq!(
        store.get_license(&one.install_id).await.expect("get"),
        Some(v1.clone())
    );

    let mut ghost = license("ghost-install-0009", "pro", t);
    ghost.version = 0;
    assert_not_found(
        store
            .update_license(
                &ghost,
                &audit("license.update", "license", "ghost-install-0009"),
            )
            .await,
    );
    assert_eq!(
        store.get_license(&ghost.install_id).await.expect("get"),
        None
    );

    let mut steal = two.clone();
    steal.domains = vec![domain("two.example.com"), domain("one.example.com")];
    steal.notes = notes("tried to take a domain");
    assert_conflict(
        store
            .update_license(
                &steal,
                &audit("license.update", "license", "two-install-0002"),
            )
            .await,
        "domain",
    );
    assert_eq!(
        store.get_license(&two.install_id).await.expect("get"),
        Some(two.clone())
    );
    // The refused update did not release two's own domain either.
    let mut grab = license("three-install-0003", "pro", t);
    grab.domains = vec![domain("two.example.com")];
    assert_conflict(
        store
            .create_license(
                &new_license(
                    CustomerRef::New(new_customer("Three", "three@example.com", None)),
                    grab,
                ),
                &audit("license.create", "license", "three-install-0003"),
            )
            .await,
        "domain",
    );

    assert_eq!(
        all_audit(&store).await.len(),
        audits,
        "refused updates wrote no audit record"
    );
}

/// Domains come back sorted by byte order, whatever order they were given in.
pub async fn license_domains_come_back_sorted(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let mut l = license("dom-install-0001", "enterprise", now());
    l.domains = vec![
        domain("b.example.com"),
        domain("ab.example.com"),
        domain("a-b.example.com"),
        domain("*.z.example.com"),
    ];
    let mut sorted = l.domains.clone();
    sorted.sort();
    let (_, created) = create(&store, "Dom", "dom@example.com", l).await;
    assert_eq!(created.domains, sorted);
    let stored = store
        .get_license(&created.install_id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.domains, sorted);

    let mut next = stored.clone();
    next.domains = vec![domain("zz.example.com"), domain("a.example.com")];
    let updated = store
        .update_license(
            &next,
            &audit("license.update", "license", "dom-install-0001"),
        )
        .await
        .expect("update");
    assert_eq!(
        updated.domains,
        vec![domain("a.example.com"), domain("zz.example.com")]
    );

    let (_, bare) = create(
        &store,
        "Bare",
        "bare@example.com",
        license("bare-install-0002", "pro", now()),
    )
    .await;
    assert!(bare.domains.is_empty());
    assert_eq!(
        store
            .get_license(&bare.install_id)
            .await
            .expect("get")
            .map(|l| l.domains),
        Some(Vec::new())
    );
}
