//! Builders and assertions shared by the checks.

use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::json;

use calos_core::audit::{Actor, AuditEntry, AuditRecord};
use calos_core::customer::{Customer, DisplayText, Domain, Email, NewCustomer, Notes};
use calos_core::ids::InstallId;
use calos_core::license::{BillingPeriod, License, LicenseStatus, LicenseTerms};
use calos_core::plan::{default_plans, PlanSlug};

use crate::{AuditQuery, CustomerRef, NewLicense, Store, StoreError, StoreResult};

/// "Now" at the precision every backend keeps (PostgreSQL stores microseconds).
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub(crate) fn hours(n: i64) -> Duration {
    Duration::hours(n)
}

pub(crate) fn days(n: i64) -> Duration {
    Duration::days(n)
}

pub(crate) fn install(raw: &str) -> InstallId {
    InstallId::parse(raw).expect("test install id")
}

pub(crate) fn slug(raw: &str) -> PlanSlug {
    PlanSlug::parse(raw).expect("test plan slug")
}

pub(crate) fn email(raw: &str) -> Email {
    Email::parse(raw).expect("test e-mail")
}

pub(crate) fn text(raw: &str) -> DisplayText {
    DisplayText::parse("text", raw).expect("test text")
}

pub(crate) fn domain(raw: &str) -> Domain {
    Domain::parse(raw).expect("test domain")
}

pub(crate) fn notes(raw: &str) -> Notes {
    Notes::parse(raw).expect("test notes")
}

pub(crate) fn actor() -> Actor {
    Actor::Admin {
        id: 1,
        username: "alice".to_owned(),
    }
}

/// An audit entry at `at` about `target_type`/`target_id`.
pub(crate) fn audit_at(
    at: DateTime<Utc>,
    action: &str,
    target_type: &str,
    target_id: &str,
) -> AuditEntry {
    AuditEntry {
        at,
        actor: actor(),
        action: action.to_owned(),
        target_type: target_type.to_owned(),
        target_id: target_id.to_owned(),
        before: Some(json!({ "status": "trial" })),
        after: Some(json!({ "status": "active", "n": 1 })),
        ip: Some("203.0.113.7".to_owned()),
    }
}

pub(crate) fn audit(action: &str, target_type: &str, target_id: &str) -> AuditEntry {
    audit_at(now(), action, target_type, target_id)
}

pub(crate) fn new_customer(name: &str, mail: &str, company: Option<&str>) -> NewCustomer {
    NewCustomer {
        name: text(name),
        email: email(mail),
        company: company.map(text),
    }
}

/// An active monthly license created at `at`, not yet tied to a customer.
pub(crate) fn license(install_id: &str, plan: &str, at: DateTime<Utc>) -> License {
    License::create(
        LicenseTerms {
            install_id: install(install_id),
            customer_id: 0,
            plan: slug(plan),
            billing_period: BillingPeriod::Monthly,
            trial_days: 0,
            notes: Notes::default(),
            domains: Vec::new(),
        },
        at,
    )
}

pub(crate) fn with_status(mut l: License, status: LicenseStatus) -> License {
    l.status = status;
    l
}

/// A key hash that differs per install, so mix-ups show.
pub(crate) fn key_hash(install_id: &InstallId) -> Vec<u8> {
    let mut h = vec![0xa5; 32];
    h.extend_from_slice(install_id.as_str().as_bytes());
    h
}

pub(crate) fn new_license(customer: CustomerRef, license: License) -> NewLicense {
    NewLicense {
        key_hash: key_hash(&license.install_id),
        owner: None,
        customer,
        license,
    }
}

/// Seeds the default plans, which most checks need for the licenses' foreign key.
pub(crate) async fn seed_plans(store: &Arc<dyn Store>) {
    store
        .ensure_plans(&default_plans())
        .await
        .expect("ensure_plans");
}

/// Creates `license` for a new customer with `mail`, named `name`.
pub(crate) async fn create(
    store: &Arc<dyn Store>,
    name: &str,
    mail: &str,
    license: License,
) -> (Customer, License) {
    let install_id = license.install_id.as_str().to_owned();
    let new = new_license(CustomerRef::New(new_customer(name, mail, None)), license);
    store
        .create_license(&new, &audit("license.create", "license", &install_id))
        .await
        .expect("create_license")
}

/// Every audit record, newest first.
pub(crate) async fn all_audit(store: &Arc<dyn Store>) -> Vec<AuditRecord> {
    store
        .list_audit(&AuditQuery {
            limit: 10_000,
            ..AuditQuery::default()
        })
        .await
        .expect("list_audit")
}

pub(crate) async fn audit_of(
    store: &Arc<dyn Store>,
    target_type: &str,
    target_id: &str,
) -> Vec<AuditRecord> {
    store
        .list_audit(&AuditQuery {
            target_type: Some(target_type.to_owned()),
            target_id: Some(target_id.to_owned()),
            limit: 10_000,
        })
        .await
        .expect("list_audit")
}

#[track_caller]
pub(crate) fn assert_conflict<T: std::fmt::Debug>(result: StoreResult<T>, expected_field: &str) {
    match result {
        Err(StoreError::Conflict { field, .. }) => {
            assert_eq!(field, expected_field, "conflict on the wrong field")
        }
        other => panic!("expected Conflict on {expected_field}, got {other:?}"),
    }
}

#[track_caller]
pub(crate) fn assert_not_found<T: std::fmt::Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::NotFound(_))),
        "expected NotFound, got {result:?}"
    );
}
