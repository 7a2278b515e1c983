//! Creating and reading licenses and their customers.

use std::sync::Arc;

use calos_core::license::BillingPeriod;

use super::support::{
    all_audit, assert_conflict, assert_not_found, audit, audit_of, create, domain, email, hours,
    install, key_hash, license, new_customer, new_license, notes, now, seed_plans, slug,
};
use crate::{CustomerRef, Store};

/// A license with a new customer creates both; one with an existing customer
/// reuses it; an unknown customer id is `NotFound` and writes nothing.
pub async fn create_license_with_new_and_existing_customer(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    assert_eq!(store.count_customers().await.expect("count"), 0);

    let mut first = license("acme-install-0001", "pro", t);
    first.customer_id = -1;
    first.domains = vec![domain("acme.example.com")];
    first.notes = notes("signed by Jo\nnet-30");
    let new = new_license(
        CustomerRef::New(new_customer(
            "Acme Ltd",
            "ops@acme.example",
            Some("Acme Holdings"),
        )),
        first.clone(),
    );
    let create_audit = audit("license.create", "license", "acme-install-0001");
    let (customer, created) = store
        .create_license(&new, &create_audit)
        .await
        .expect("create");
    assert!(customer.id > 0);
    assert_eq!(customer.name.as_str(), "Acme Ltd");
    assert_eq!(customer.email.as_str(), "ops@acme.example");
    assert_eq!(
        customer.company.as_ref().map(|c| c.as_str()),
        Some("Acme Holdings")
    );
    assert_eq!(
        customer.created_at, t,
        "a new customer is created at the license's creation time"
    );
    first.customer_id = customer.id;
    assert_eq!(created, first);

    assert_eq!(
        store.get_license(&first.install_id).await.expect("get"),
        Some(first.clone())
    );
    assert_eq!(
        store.get_customer(customer.id).await.expect("get customer"),
        Some(customer.clone())
    );
    assert_eq!(
        store
            .get_customer(customer.id + 1000)
            .await
            .expect("get unknown customer"),
        None
    );
    assert_eq!(
        store
            .find_customer_by_email(&email("ops@acme.example"))
            .await
            .expect("find"),
        Some(customer.clone())
    );
    assert_eq!(
        store
            .find_customer_by_email(&email("nobody@acme.example"))
            .await
            .expect("find"),
        None
    );
    assert_eq!(
        store
            .license_key_hash(&first.install_id)
            .await
            .expect("key hash"),
        Some(key_hash(&first.install_id))
    );
    assert_eq!(
        store
            .license_key_hash(&install("unknown-install-0"))
            .await
            .expect("key hash"),
        None
    );
    assert_eq!(
        store
            .get_license(&install("unknown-install-0"))
            .await
            .expect("get"),
        None
    );

    // A second license for the same customer.
    let mut second = license("acme-install-0002", "enterprise", t + hours(1));
    second.customer_id = customer.id;
    second.billing_period = BillingPeriod::Annual;
    let (same_customer, created2) = store
        .create_license(
            &new_license(CustomerRef::Existing(customer.id), second.clone()),
            &audit("license.create", "license", "acme-install-0002"),
        )
        .await
        .expect("create for existing customer");
    assert_eq!(same_customer, customer);
    assert_eq!(created2, second);
    assert_eq!(store.count_customers().await.expect("count"), 1);

    // An existing customer that does not exist.
    let mut orphan = license("acme-install-0003", "pro", t);
    orphan.customer_id = customer.id + 1000;
    assert_not_found(
        store
            .create_license(
                &new_license(CustomerRef::Existing(customer.id + 1000), orphan.clone()),
                &audit("license.create", "license", "acme-install-0003"),
            )
            .await,
    );
    assert_eq!(
        store.get_license(&orphan.install_id).await.expect("get"),
        None
    );

    let records = audit_of(&store, "license", "acme-install-0001").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].entry, create_audit);
    assert_eq!(
        all_audit(&store).await.len(),
        2,
        "the refused create wrote no audit record"
    );
}

/// Duplicate e-mail, install id or domain: `Conflict` naming the field, and
/// neither the customer, the license nor an audit record is written.
pub async fn create_license_refusals_write_nothing(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let mut first = license("first-install-01", "pro", t);
    first.domains = vec![domain("taken.example.com")];
    create(&store, "First", "one@example.com", first).await;
    let audits = all_audit(&store).await.len();

    // Duplicate e-mail for a new customer.
    let dup_email = new_license(
        CustomerRef::New(new_customer("Other", "one@example.com", None)),
        license("second-install-02", "pro", t),
    );
    assert_conflict(
        store
            .create_license(
                &dup_email,
                &audit("license.create", "license", "second-install-02"),
            )
            .await,
        "email",
    );
    assert_eq!(
        store
            .get_license(&install("second-install-02"))
            .await
            .expect("get"),
        None
    );

    // Duplicate install id: the new customer must not be left behind.
    let dup_install = new_license(
        CustomerRef::New(new_customer("Third", "three@example.com", None)),
        license("first-install-01", "community", t),
    );
    assert_conflict(
        store
            .create_license(
                &dup_install,
                &audit("license.create", "license", "first-install-01"),
            )
            .await,
        "install_id",
    );
    assert_eq!(
        store
            .find_customer_by_email(&email("three@example.com"))
            .await
            .expect("find"),
        None
    );
    let existing = store
        .find_customer_by_email(&email("one@example.com"))
        .await
        .expect("find")
        .expect("first customer");
    let mut dup_install_existing = license("first-install-01", "community", t);
    dup_install_existing.customer_id = existing.id;
    assert_conflict(
        store
            .create_license(
                &new_license(CustomerRef::Existing(existing.id), dup_install_existing),
                &audit("license.create", "license", "first-install-01"),
            )
            .await,
        "install_id",
    );
    let stored = store
        .get_license(&install("first-install-01"))
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(
        stored.plan,
        slug("pro"),
        "the refused create did not overwrite the license"
    );

    // A domain already used by another license.
    let mut dup_domain = license("fourth-install-04", "pro", t);
    dup_domain.domains = vec![domain("free.example.com"), domain("taken.example.com")];
    assert_conflict(
        store
            .create_license(
                &new_license(
                    CustomerRef::New(new_customer("Fourth", "four@example.com", None)),
                    dup_domain,
                ),
                &audit("license.create", "license", "fourth-install-04"),
            )
            .await,
        "domain",
    );
    assert_eq!(
        store
            .get_license(&install("fourth-install-04"))
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        store
            .find_customer_by_email(&email("four@example.com"))
            .await
            .expect("find"),
        None
    );

    // Nothing half-written: the free domain is still free.
    let mut later = license("fifth-install-05", "pro", t);
    later.domains = vec![domain("free.example.com")];
    create(&store, "Fifth", "five@example.com", later).await;

    assert_eq!(store.count_customers().await.expect("count"), 2);
    assert_eq!(
        all_audit(&store).await.len(),
        audits + 1,
        "refused creates wrote no audit record"
    );
}
