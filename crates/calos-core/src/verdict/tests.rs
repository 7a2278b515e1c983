use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::customer::Notes;
use crate::ids::InstallId;
use crate::license::{BillingPeriod, LicenseTerms};
use crate::plan::{default_plans, PlanSlug};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()
}

fn plan(slug: &str) -> Plan {
    default_plans()
        .into_iter()
        .find(|p| p.slug.as_str() == slug)
        .unwrap()
}

fn license(trial_days: u32) -> License {
    License::create(
        LicenseTerms {
            install_id: InstallId::parse("verdict-test-0001").unwrap(),
            customer_id: 1,
            plan: PlanSlug::parse("pro").unwrap(),
            billing_period: BillingPeriod::Monthly,
            trial_days,
            notes: Notes::default(),
            domains: vec![],
        },
        now() - Duration::days(1),
    )
}

fn decide_for(l: &License, p: &Plan, domain: Option<&Domain>) -> Decision {
    decide(
        &VerifyFacts {
            license: l,
            plan: p,
            domain,
            active_instances: 1,
            instance_limit: None,
            over_limit: OverLimitPolicy::Warn,
            now: now(),
        },
        &VerifyPolicy::default(),
    )
}

#[test]
fn active_pro_is_valid_with_a_seven_day_lease_and_grace() {
    let d = decide_for(&license(0), &plan("pro"), None);
    assert_eq!(d.code, VerdictCode::Valid);
    assert!(d.valid);
    assert_eq!(d.lease_until, now() + Duration::days(7));
    assert_eq!(d.grace_until, now() + Duration::days(14));
    assert_eq!(d.refresh_after, now() + Duration::minutes(15));
}

#[test]
fn grace_is_a_separate_clock_from_refresh_and_lease() {
    let d = decide_for(&license(0), &plan("enterprise"), None);
    assert!(d.refresh_after < d.lease_until && d.lease_until < d.grace_until);
    assert_eq!(d.grace_until - d.lease_until, Duration::days(30));
}

#[test]
fn air_gapped_plans_get_the_long_offline_lease() {
    let d = decide_for(&license(0), &plan("self_hosted"), None);
    assert_eq!(d.lease_until, now() + Duration::days(365));
}

#[test]
fn trial_is_valid_but_never_leased_past_its_end() {
    let l = license(3);
    let d = decide_for(&l, &plan("pro"), None);
    assert_eq!(d.code, VerdictCode::Trial);
    assert_eq!(Some(d.lease_until), l.trial_ends_at);
    assert_eq!(
        d.grace_until, d.lease_until,
        "no offline grace after a trial"
    );
}

#[test]
fn ended_trial_is_trial_expired() {
    let l = license(1).advance_time(now() + Duration::days(1)).unwrap();
    let d = decide_for(&l, &plan("pro"), None);
    assert_eq!(d.code, VerdictCode::TrialExpired);
    assert!(!d.valid);
    assert_eq!(d.lease_until, now());
}

#[test]
fn ended_contract_is_valid_in_grace_then_expired() {
    let mut l = license(0);
    l.status = LicenseStatus::Expired;
    l.ends_at = Some(now() - Duration::days(2));
    let d = decide_for(&l, &plan("pro"), None);
    assert_eq!(d.code, VerdictCode::ValidInGrace);
    assert!(d.valid && d.warning.is_some());
    assert_eq!(d.lease_until, now() + Duration::days(5));
    l.ends_at = Some(now() - Duration::days(8));
    let d = decide_for(&l, &plan("pro"), None);
    assert_eq!(d.code, VerdictCode::Expired);
    assert!(!d.valid);
}

#[test]
fn suspended_and_revoked_are_invalid_with_no_lease() {
    for (status, code) in [
        (LicenseStatus::Suspended, VerdictCode::Suspended),
        (LicenseStatus::Revoked, VerdictCode::Revoked),
    ] {
        let mut l = license(0);
        l.status = status;
        let d = decide_for(&l, &plan("enterprise"), None);
        assert_eq!(d.code, code);
        assert!(!d.valid);
        assert_eq!((d.lease_until, d.grace_until), (now(), now()));
    }
}

#[test]
fn restricted_license_refuses_other_and_missing_domains() {
    let mut l = license(0);
    l.domains = vec![
        Domain::parse("*.acme.com").unwrap(),
        Domain::parse("acme.io").unwrap(),
    ];
    let ok = Domain::parse("app.acme.com").unwrap();
    let apex = Domain::parse("acme.com").unwrap();
    let other = Domain::parse("evil.com").unwrap();
    assert_eq!(
        decide_for(&l, &plan("pro"), Some(&ok)).code,
        VerdictCode::Valid
    );
    assert_eq!(
        decide_for(&l, &plan("pro"), Some(&apex)).code,
        VerdictCode::DomainNotAllowed
    );
    assert_eq!(
        decide_for(&l, &plan("pro"), Some(&other)).code,
        VerdictCode::DomainNotAllowed
    );
    assert_eq!(
        decide_for(&l, &plan("pro"), None).code,
        VerdictCode::DomainNotAllowed
    );
}

#[test]
fn a_local_looking_domain_gets_no_special_tier() {
    let mut l = license(0);
    l.domains = vec![Domain::parse("acme.com").unwrap()];
    let local = Domain::parse("localhost").unwrap();
    let d = decide_for(&l, &plan("pro"), Some(&local));
    assert_eq!(
        d.code,
        VerdictCode::DomainNotAllowed,
        "the seed granted 'development' here"
    );
}

#[test]
fn wildcard_does_not_match_lookalike_suffixes() {
    let allowed = [Domain::parse("*.acme.com").unwrap()];
    let evil = Domain::parse("evilacme.com").unwrap();
    assert!(!domain_allowed(&allowed, Some(&evil)));
    let deep = Domain::parse("a.b.acme.com").unwrap();
    assert!(domain_allowed(&allowed, Some(&deep)));
}

#[test]
fn too_many_instances_blocks_or_warns_by_policy() {
    let l = license(0);
    let p = plan("community");
    let facts = |policy| VerifyFacts {
        license: &l,
        plan: &p,
        domain: None,
        active_instances: 3,
        instance_limit: Some(2),
        over_limit: policy,
        now: now(),
    };
    let blocked = decide(&facts(OverLimitPolicy::Block), &VerifyPolicy::default());
    assert_eq!(blocked.code, VerdictCode::TooManyInstances);
    assert!(!blocked.valid);
    let warned = decide(&facts(OverLimitPolicy::Warn), &VerifyPolicy::default());
    assert_eq!(warned.code, VerdictCode::Valid);
    assert!(warned.warning.unwrap().contains("3 instances"));
}

#[test]
fn unknown_install_looks_like_a_bad_key_from_outside() {
    assert_eq!(
        VerdictCode::UnknownInstall.outward(),
        VerdictCode::BadLicenseKey
    );
    assert_eq!(VerdictCode::Revoked.outward(), VerdictCode::Revoked);
    assert_eq!(
        serde_json::to_string(&VerdictCode::ValidInGrace).unwrap(),
        "\"VALID_IN_GRACE\""
    );
}

#[test]
fn instance_rule_uses_seats_and_blocks_only_free_plans() {
    let mut community = plan("community");
    assert_eq!(
        InstanceRule::for_plan(&community),
        InstanceRule {
            limit: None,
            over_limit: OverLimitPolicy::Block
        }
    );
    community
        .limits
        .insert(crate::plan::Meter::Seats, crate::plan::Limit::Max(2));
    assert_eq!(InstanceRule::for_plan(&community).limit, Some(2));
    let mut pro = plan("pro");
    pro.limits
        .insert(crate::plan::Meter::Seats, crate::plan::Limit::Max(0));
    let rule = InstanceRule::for_plan(&pro);
    assert_eq!(rule.over_limit, OverLimitPolicy::Warn);
    assert_eq!(rule.limit, Some(1), "the asking instance always fits");
}

#[test]
fn retired_keys_outlive_every_lease_and_grace() {
    let policy = VerifyPolicy::default();
    let plans = default_plans();
    let life = longest_token_life(&plans, &policy);
    for p in &plans {
        let l = license(0);
        let mut l = l;
        l.plan = p.slug.clone();
        let d = decide_for(&l, p, None);
        assert!(d.grace_until - now() < life, "{}", p.slug.as_str());
    }
}
