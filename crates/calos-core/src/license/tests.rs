use chrono::{Duration, TimeZone, Utc};

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()
}

fn terms(trial_days: u32) -> LicenseTerms {
    LicenseTerms {
        install_id: InstallId::parse("test-install-0001").unwrap(),
        customer_id: 1,
        plan: PlanSlug::parse("pro").unwrap(),
        billing_period: BillingPeriod::Monthly,
        trial_days,
        notes: Notes::default(),
        domains: vec![],
    }
}

fn with_status(status: LicenseStatus) -> License {
    let mut l = License::create(terms(0), now());
    l.status = status;
    l
}

fn changed(t: Transition) -> License {
    match t {
        Transition::Changed(l) => l,
        Transition::Unchanged => panic!("expected a change"),
    }
}

#[test]
fn create_with_trial_days_starts_a_trial() {
    let l = License::create(terms(14), now());
    assert_eq!(l.status, LicenseStatus::Trial);
    assert_eq!(l.trial_ends_at, Some(now() + Duration::days(14)));
    assert!(l.is_unconverted_trial());
}

#[test]
fn create_without_trial_is_active_for_one_period() {
    let l = License::create(terms(0), now());
    assert_eq!(l.status, LicenseStatus::Active);
    assert_eq!(
        l.current_period_end,
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    );
    let mut annual = terms(0);
    annual.billing_period = BillingPeriod::Annual;
    let l = License::create(annual, now());
    assert_eq!(
        l.current_period_end,
        Utc.with_ymd_and_hms(2027, 11, 1, 12, 0, 0).unwrap()
    );
}

#[test]
fn trial_activates_and_records_conversion() {
    let trial = License::create(terms(14), now());
    let later = now() + Duration::days(3);
    let l = changed(trial.apply(&LicenseCommand::Activate, later).unwrap());
    assert_eq!(l.status, LicenseStatus::Active);
    assert_eq!(l.converted_at, Some(later));
    assert_eq!(l.current_period_start, later);
}

#[test]
fn expired_trial_can_still_be_activated() {
    let trial = License::create(terms(14), now());
    let expired = trial.advance_time(now() + Duration::days(15)).unwrap();
    assert_eq!(expired.status, LicenseStatus::Expired);
    let l = changed(
        expired
            .apply(&LicenseCommand::Activate, now() + Duration::days(16))
            .unwrap(),
    );
    assert_eq!(l.status, LicenseStatus::Active);
}

#[test]
fn activating_an_active_license_is_a_no_op() {
    assert_eq!(
        with_status(LicenseStatus::Active).apply(&LicenseCommand::Activate, now()),
        Ok(Transition::Unchanged)
    );
}

#[test]
fn suspended_or_revoked_cannot_be_activated() {
    for s in [LicenseStatus::Suspended, LicenseStatus::Revoked] {
        assert!(
            with_status(s)
                .apply(&LicenseCommand::Activate, now())
                .is_err(),
            "{s:?}"
        );
    }
}

#[test]
fn trial_expiry_keeps_the_tier() {
    let trial = License::create(terms(7), now());
    assert!(trial.advance_time(now() + Duration::days(6)).is_none());
    let expired = trial.advance_time(now() + Duration::days(7)).unwrap();
    assert_eq!(expired.status, LicenseStatus::Expired);
    assert_eq!(
        expired.plan.as_str(),
        "pro",
        "the seed rewrote the tier to community"
    );
}

#[test]
fn active_periods_roll_forward_without_expiring() {
    let l = License::create(terms(0), now());
    let later = now() + Duration::days(65);
    let rolled = l.advance_time(later).unwrap();
    assert_eq!(rolled.status, LicenseStatus::Active);
    assert!(rolled.current_period_start <= later && later < rolled.current_period_end);
}

#[test]
fn contract_end_expires_an_active_license_and_renew_reopens_it() {
    let l = changed(
        with_status(LicenseStatus::Active)
            .apply(
                &LicenseCommand::Renew {
                    ends_at: Some(now() + Duration::days(30)),
                },
                now(),
            )
            .unwrap(),
    );
    let expired = l.advance_time(now() + Duration::days(31)).unwrap();
    assert_eq!(expired.status, LicenseStatus::Expired);
    let renewed = changed(
        expired
            .apply(
                &LicenseCommand::Renew { ends_at: None },
                now() + Duration::days(32),
            )
            .unwrap(),
    );
    assert_eq!(renewed.status, LicenseStatus::Active);
    assert_eq!(renewed.ends_at, None);
}

#[test]
fn renew_refuses_past_end_and_wrong_states() {
    let past = LicenseCommand::Renew {
        ends_at: Some(now() - Duration::days(1)),
    };
    assert!(with_status(LicenseStatus::Active)
        .apply(&past, now())
        .is_err());
    let open = LicenseCommand::Renew { ends_at: None };
    for s in [
        LicenseStatus::Trial,
        LicenseStatus::Suspended,
        LicenseStatus::Revoked,
    ] {
        assert!(with_status(s).apply(&open, now()).is_err(), "{s:?}");
    }
}

#[test]
fn suspend_and_reactivate_round_trip() {
    let suspend = LicenseCommand::Suspend {
        reason: Some("unpaid invoice".into()),
    };
    let s = changed(
        with_status(LicenseStatus::Active)
            .apply(&suspend, now())
            .unwrap(),
    );
    assert_eq!(s.status, LicenseStatus::Suspended);
    assert_eq!(s.status_reason.as_deref(), Some("unpaid invoice"));
    assert_eq!(s.apply(&suspend, now()), Ok(Transition::Unchanged));
    let r = changed(s.apply(&LicenseCommand::Reactivate, now()).unwrap());
    assert_eq!(r.status, LicenseStatus::Active);
    assert_eq!(r.status_reason, None);
}

#[test]
fn reactivating_a_suspended_trial_resumes_the_trial_or_expires_it() {
    let trial = License::create(terms(10), now());
    let s = changed(
        trial
            .apply(&LicenseCommand::Suspend { reason: None }, now())
            .unwrap(),
    );
    let early = changed(
        s.apply(&LicenseCommand::Reactivate, now() + Duration::days(2))
            .unwrap(),
    );
    assert_eq!(early.status, LicenseStatus::Trial);
    let late = changed(
        s.apply(&LicenseCommand::Reactivate, now() + Duration::days(20))
            .unwrap(),
    );
    assert_eq!(late.status, LicenseStatus::Expired);
}

#[test]
fn suspend_refused_for_revoked_and_expired() {
    let suspend = LicenseCommand::Suspend { reason: None };
    for s in [LicenseStatus::Revoked, LicenseStatus::Expired] {
        assert!(with_status(s).apply(&suspend, now()).is_err(), "{s:?}");
    }
}

#[test]
fn reactivate_refused_unless_suspended() {
    for s in [
        LicenseStatus::Trial,
        LicenseStatus::Active,
        LicenseStatus::Revoked,
        LicenseStatus::Expired,
    ] {
        assert!(
            with_status(s)
                .apply(&LicenseCommand::Reactivate, now())
                .is_err(),
            "{s:?}"
        );
    }
}

#[test]
fn revoke_from_every_state_and_twice_is_idempotent() {
    let revoke = LicenseCommand::Revoke {
        reason: Some("fraud".into()),
    };
    for s in [
        LicenseStatus::Trial,
        LicenseStatus::Active,
        LicenseStatus::Suspended,
        LicenseStatus::Expired,
    ] {
        let r = changed(with_status(s).apply(&revoke, now()).unwrap());
        assert_eq!(r.status, LicenseStatus::Revoked);
        assert_eq!(r.apply(&revoke, now()), Ok(Transition::Unchanged));
    }
}

#[test]
fn a_revoked_license_never_comes_back_by_tier_change() {
    let revoked = with_status(LicenseStatus::Revoked);
    let change = LicenseCommand::ChangePlan {
        plan: PlanSlug::parse("enterprise").unwrap(),
        billing_period: None,
    };
    let refused = revoked.apply(&change, now()).unwrap_err();
    assert_eq!(refused.from, LicenseStatus::Revoked);
    for cmd in [
        LicenseCommand::Reactivate,
        LicenseCommand::Activate,
        LicenseCommand::Renew { ends_at: None },
        LicenseCommand::ExtendTrial { days: 5 },
    ] {
        assert!(revoked.apply(&cmd, now()).is_err(), "{cmd:?}");
    }
    assert!(revoked.advance_time(now() + Duration::days(999)).is_none());
}

#[test]
fn change_plan_keeps_billing_period_unless_asked() {
    let mut annual = with_status(LicenseStatus::Active);
    annual.billing_period = BillingPeriod::Annual;
    let change = LicenseCommand::ChangePlan {
        plan: PlanSlug::parse("enterprise").unwrap(),
        billing_period: None,
    };
    let l = changed(annual.apply(&change, now() + Duration::days(1)).unwrap());
    assert_eq!(l.plan.as_str(), "enterprise");
    assert_eq!(
        l.billing_period,
        BillingPeriod::Annual,
        "the seed reset it to monthly"
    );
    assert_eq!(l.current_period_start, annual.current_period_start);
}

#[test]
fn change_billing_period_restarts_the_period() {
    let l = with_status(LicenseStatus::Active);
    let later = now() + Duration::days(3);
    let change = LicenseCommand::ChangePlan {
        plan: l.plan.clone(),
        billing_period: Some(BillingPeriod::Annual),
    };
    let next = changed(l.apply(&change, later).unwrap());
    assert_eq!(next.current_period_start, later);
    assert_eq!(
        next.current_period_end,
        BillingPeriod::Annual.end_of_period(later)
    );
    let same = LicenseCommand::ChangePlan {
        plan: l.plan.clone(),
        billing_period: None,
    };
    assert_eq!(l.apply(&same, later), Ok(Transition::Unchanged));
}

#[test]
fn tier_change_keeps_status_for_suspended_and_expired() {
    let change = LicenseCommand::ChangePlan {
        plan: PlanSlug::parse("community").unwrap(),
        billing_period: None,
    };
    for s in [
        LicenseStatus::Trial,
        LicenseStatus::Suspended,
        LicenseStatus::Expired,
    ] {
        let l = changed(with_status(s).apply(&change, now()).unwrap());
        assert_eq!(l.status, s);
    }
}

#[test]
fn extend_trial_adds_days_or_reopens_an_expired_trial() {
    let trial = License::create(terms(7), now());
    let ext = LicenseCommand::ExtendTrial { days: 7 };
    let l = changed(trial.apply(&ext, now()).unwrap());
    assert_eq!(l.trial_ends_at, Some(now() + Duration::days(14)));
    let expired = trial.advance_time(now() + Duration::days(8)).unwrap();
    let reopened = changed(expired.apply(&ext, now() + Duration::days(8)).unwrap());
    assert_eq!(reopened.status, LicenseStatus::Trial);
    assert_eq!(reopened.trial_ends_at, Some(now() + Duration::days(15)));
}

#[test]
fn extend_trial_refused_for_paid_or_absurd_days() {
    let ext = LicenseCommand::ExtendTrial { days: 7 };
    assert!(with_status(LicenseStatus::Active)
        .apply(&ext, now())
        .is_err());
    let trial = License::create(terms(7), now());
    assert!(trial
        .apply(&LicenseCommand::ExtendTrial { days: 0 }, now())
        .is_err());
    assert!(trial
        .apply(&LicenseCommand::ExtendTrial { days: 366 }, now())
        .is_err());
    let paid_then_expired = {
        let mut l = changed(trial.apply(&LicenseCommand::Activate, now()).unwrap());
        l.status = LicenseStatus::Expired;
        l
    };
    assert!(paid_then_expired.apply(&ext, now()).is_err());
}

#[test]
fn update_details_works_in_every_state_and_detects_no_change() {
    let notes = Notes::parse("called on Monday").unwrap();
    let cmd = LicenseCommand::UpdateDetails {
        notes: Some(notes.clone()),
        domains: None,
    };
    for s in LicenseStatus::ALL {
        let l = changed(with_status(s).apply(&cmd, now()).unwrap());
        assert_eq!(l.notes, notes);
        assert_eq!(l.apply(&cmd, now()), Ok(Transition::Unchanged));
    }
}

#[test]
fn trial_days_bounds() {
    assert_eq!(parse_trial_days(0), Ok(0));
    assert_eq!(parse_trial_days(365), Ok(365));
    assert!(parse_trial_days(-1).is_err());
    assert!(parse_trial_days(366).is_err());
    assert!(parse_trial_days(i64::MAX).is_err());
}

#[test]
fn status_and_period_parse() {
    assert_eq!(
        LicenseStatus::parse("suspended"),
        Ok(LicenseStatus::Suspended)
    );
    assert!(LicenseStatus::parse("canceled").is_err());
    assert!(BillingPeriod::parse("weekly").is_err());
    assert!(LicenseStatus::Trial.is_usable() && !LicenseStatus::Suspended.is_usable());
}
