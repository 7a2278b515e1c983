//! Golden tests: every figure below was worked out by hand from the seed's
//! price table (pro $29/month, $312/year; enterprise $99/month, $1,068/year).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::license::{BillingPeriod, LicenseStatus};
use crate::plan::{default_plans, Limit, Meter, Plan, PlanSlug, UsageType};

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

fn plans() -> BTreeMap<PlanSlug, Plan> {
    default_plans()
        .into_iter()
        .map(|p| (p.slug.clone(), p))
        .collect()
}

fn state(
    from: DateTime<Utc>,
    plan: &str,
    period: BillingPeriod,
    status: LicenseStatus,
    period_start: DateTime<Utc>,
) -> LicenseState {
    LicenseState {
        from,
        plan: PlanSlug::parse(plan).unwrap(),
        billing_period: period,
        status,
        period_start,
    }
}

fn month(raw: &str) -> InvoiceMonth {
    InvoiceMonth::parse(raw).unwrap()
}

fn amounts(lines: &[Line]) -> Vec<i64> {
    lines.iter().map(|l| l.amount_minor).collect()
}

#[test]
fn a_whole_month_bills_the_monthly_price_exactly() {
    let start = at(2026, 8, 3, 9);
    let s = [state(
        start,
        "pro",
        BillingPeriod::Monthly,
        LicenseStatus::Active,
        start,
    )];
    let lines = base_lines(month("2026-10"), &s, &plans());
    assert_eq!(amounts(&lines), vec![2_900]);
    assert_eq!((lines[0].quantity, lines[0].unit.as_str()), (1, "month"));
}

#[test]
fn proration_mid_month_upgrade_splits_by_days() {
    // Pro from before October; enterprise from 15 Oct 10:00 (that day counts
    // as enterprise): 14 days of pro, 17 of enterprise, October has 31.
    let start = at(2026, 8, 3, 9);
    let s = [
        state(
            start,
            "pro",
            BillingPeriod::Monthly,
            LicenseStatus::Active,
            start,
        ),
        state(
            at(2026, 10, 15, 10),
            "enterprise",
            BillingPeriod::Monthly,
            LicenseStatus::Active,
            start,
        ),
    ];
    let lines = base_lines(month("2026-10"), &s, &plans());
    // 2900 × 14 / 31 = 1309.67 → 1310; 9900 × 17 / 31 = 5429.03 → 5429
    assert_eq!(amounts(&lines), vec![1_310, 5_429]);
    assert_eq!(lines[0].quantity, 14);
    assert_eq!(
        lines[1].detail.as_deref(),
        Some("17/31 days, 15 Oct 2026 – 31 Oct 2026")
    );
}

#[test]
fn proration_counts_only_active_days_after_a_trial_and_before_a_revoke() {
    let created = at(2026, 9, 20, 8);
    let s = [
        state(
            created,
            "pro",
            BillingPeriod::Monthly,
            LicenseStatus::Trial,
            created,
        ),
        // Converted on 4 Nov: 4-30 Nov active is 27 of 30 days.
        state(
            at(2026, 11, 4, 12),
            "pro",
            BillingPeriod::Monthly,
            LicenseStatus::Active,
            at(2026, 11, 4, 12),
        ),
    ];
    // 2900 × 27 / 30 = 2610
    assert_eq!(
        amounts(&base_lines(month("2026-11"), &s, &plans())),
        vec![2_610]
    );
    assert!(
        base_lines(month("2026-10"), &s, &plans()).is_empty(),
        "trial only"
    );

    let mut revoked = s.to_vec();
    revoked.push(state(
        at(2026, 12, 10, 0),
        "pro",
        BillingPeriod::Monthly,
        LicenseStatus::Revoked,
        at(2026, 12, 4, 12),
    ));
    // 1-9 Dec: 2900 × 9 / 31 = 841.94 → 842
    assert_eq!(
        amounts(&base_lines(month("2026-12"), &revoked, &plans())),
        vec![842]
    );
}

#[test]
fn annual_plans_bill_once_a_year_on_the_period_start() {
    let start = at(2026, 3, 15, 9);
    let s = [state(
        start,
        "pro",
        BillingPeriod::Annual,
        LicenseStatus::Active,
        start,
    )];
    assert_eq!(
        amounts(&base_lines(month("2026-03"), &s, &plans())),
        vec![31_200]
    );
    assert!(base_lines(month("2026-04"), &s, &plans()).is_empty());
    assert!(base_lines(month("2027-02"), &s, &plans()).is_empty());
    let renewal = base_lines(month("2027-03"), &s, &plans());
    assert_eq!(amounts(&renewal), vec![31_200]);
    assert_eq!(
        renewal[0].detail.as_deref(),
        Some("15 Mar 2027 – 14 Mar 2028")
    );
}

#[test]
fn an_annual_tier_change_prorates_the_difference_for_the_rest_of_the_year() {
    let start = at(2026, 1, 1, 0);
    let s = [
        state(
            start,
            "pro",
            BillingPeriod::Annual,
            LicenseStatus::Active,
            start,
        ),
        state(
            at(2026, 7, 2, 12),
            "enterprise",
            BillingPeriod::Annual,
            LicenseStatus::Active,
            start,
        ),
    ];
    let lines = base_lines(month("2026-07"), &s, &plans());
    // 2 Jul 2026 to 1 Jan 2027: 183 of 365 days of (106800 − 31200) = 37903.56 → 37904
    assert_eq!(amounts(&lines), vec![37_904]);
    assert_eq!(lines[0].kind, LineKind::Proration);
    // A downgrade credits the same way.
    let down = [
        state(
            start,
            "enterprise",
            BillingPeriod::Annual,
            LicenseStatus::Active,
            start,
        ),
        state(
            at(2026, 7, 2, 12),
            "pro",
            BillingPeriod::Annual,
            LicenseStatus::Active,
            start,
        ),
    ];
    assert_eq!(
        amounts(&base_lines(month("2026-07"), &down, &plans())),
        vec![-37_904]
    );
}

fn usage(t: UsageType, q: i64, amount: i64) -> BillableUsage {
    BillableUsage {
        usage_type: t,
        billable_quantity: q,
        billable_amount_minor: amount,
    }
}

#[test]
fn overage_per_unit_percentage_and_percentage_plus_fixed() {
    let pro = plans()[&PlanSlug::parse("pro").unwrap()].clone();
    let lines = usage::overage_lines(
        &pro,
        &[
            // per unit: 1,235 × $0.001 = $1.235 → 124 (half away from zero)
            usage(UsageType::ApiRequest, 1_235, 0),
            // percentage: 1.5% of $1,234.56 = 18.5184 → 1852
            usage(UsageType::Crypto, 3, 123_456),
            // 2.9% of $100.00 + 7 × $0.30 = 2.90 + 2.10 = 500
            usage(UsageType::PosOnline, 7, 10_000),
            // 2.6% of $10.01 + 3 × $0.10 = 0.26026 + 0.30 = 56.026 → 56
            usage(UsageType::PosInPerson, 3, 1_001),
            // transcripts: 3 × $0.05 = 15
            usage(UsageType::Transcript, 3, 0),
            usage(UsageType::Location, 0, 0),
        ],
    );
    let by_type: Vec<(String, i64)> = lines
        .iter()
        .map(|l| (l.description.clone(), l.amount_minor))
        .collect();
    assert_eq!(
        by_type.iter().map(|(_, a)| *a).collect::<Vec<_>>(),
        vec![15, 56, 500, 1_852, 124],
        "{by_type:?}"
    );
    assert_eq!(
        lines[2].detail.as_deref(),
        Some("2.9% of 100.00 + 7 × 0.30")
    );
    assert_eq!(lines[4].detail.as_deref(), Some("1235 × 0.001"));
}

#[test]
fn extra_seats_bill_above_the_seat_limit_only() {
    let mut pro = plans()[&PlanSlug::parse("pro").unwrap()].clone();
    assert!(
        usage::extra_seats_line(&pro, 500, 1_000).is_none(),
        "unlimited"
    );
    pro.limits.insert(Meter::Seats, Limit::Max(10));
    let line = usage::extra_seats_line(&pro, 13, 1_500).unwrap();
    assert_eq!((line.quantity, line.amount_minor), (3, 4_500));
    assert!(usage::extra_seats_line(&pro, 10, 1_500).is_none());
    assert!(usage::extra_seats_line(&pro, 13, 0).is_none(), "not priced");
}

fn line(amount: i64) -> Line {
    Line {
        kind: LineKind::Base,
        description: "x".into(),
        quantity: 1,
        unit: "month".into(),
        unit_price_minor: Some(amount),
        detail: None,
        amount_minor: amount,
        plan: None,
    }
}

fn rate(name: &str, bp: i64) -> TaxRate {
    TaxRate {
        name: name.into(),
        basis_points: bp,
    }
}

#[test]
fn tax_applies_to_the_discounted_subtotal_and_rounds_half_away_from_zero() {
    // 29.00 + 12.35 = 41.35, discount 1.35 → 40.00; 19% = 7.60; 7.25% of 40.00 = 2.90
    let t = compute_totals(
        &[line(2_900), line(1_235)],
        135,
        &[rate("VAT", 1_900), rate("City", 725)],
    )
    .unwrap();
    assert_eq!(
        (
            t.subtotal_minor,
            t.discount_minor,
            t.taxable_minor,
            t.tax_minor,
            t.total_minor
        ),
        (4_135, 135, 4_000, 1_050, 5_050)
    );
    assert_eq!(t.taxes[1].amount_minor, 290);
    // 8.5% of 0.10 = 0.0085 → 0.01 (half away from zero), 8.5% of 0.05 = 0.00425 → 0
    assert_eq!(
        compute_totals(&[line(10)], 0, &[rate("t", 850)])
            .unwrap()
            .tax_minor,
        1
    );
    assert_eq!(
        compute_totals(&[line(5)], 0, &[rate("t", 850)])
            .unwrap()
            .tax_minor,
        0
    );
    // Half a minor unit exactly: 50% of 0.01 → 0.01; of −0.01 → −0.01.
    assert_eq!(
        compute_totals(&[line(1)], 0, &[rate("t", 5_000)])
            .unwrap()
            .tax_minor,
        1
    );
    assert_eq!(
        compute_totals(&[line(-1)], 0, &[rate("t", 5_000)])
            .unwrap()
            .tax_minor,
        -1
    );
}

#[test]
fn discounts_are_never_negative_nor_above_the_subtotal() {
    let e = compute_totals(&[line(1_000)], -1, &[]).unwrap_err();
    assert_eq!(e.field, "discountMinor");
    assert!(e.message.contains("negative"));
    assert!(compute_totals(&[line(1_000)], 1_001, &[]).is_err());
    assert_eq!(
        compute_totals(&[line(1_000)], 1_000, &[])
            .unwrap()
            .total_minor,
        0
    );
}

#[test]
fn a_credit_note_negates_every_line_and_total() {
    let bill_to = BillTo {
        name: "A".into(),
        company: None,
        email: "a@example.com".into(),
    };
    let doc = InvoiceDocument::new(bill_to, vec![line(2_900)], vec![rate("VAT", 2_000)], 30)
        .unwrap()
        .with_discount(900, Some("launch".into()))
        .unwrap();
    assert_eq!(doc.totals.total_minor, 2_400);
    let credit = doc.negated();
    assert_eq!(credit.totals.total_minor, -2_400);
    assert_eq!(credit.totals.taxes[0].amount_minor, -400);
    assert_eq!(credit.lines[0].kind, LineKind::Credit);
}

#[test]
fn trials_and_free_tiers_are_not_billable() {
    let start = at(2026, 8, 3, 9);
    let free = [state(
        start,
        "community",
        BillingPeriod::Monthly,
        LicenseStatus::Active,
        start,
    )];
    let ps = plans();
    let input = |s: &'static [LicenseState]| BillingInput {
        month: month("2026-10"),
        states: s,
        plans: &ps,
        usage: &[],
        seats_used: 0,
        extra_seat_price_minor: 0,
    };
    let free: &'static [LicenseState] = Box::leak(Box::new(free));
    assert_eq!(month_lines(&input(free)), Err(NotBillable::NoPaidDays));
    let trial: &'static [LicenseState] = Box::leak(Box::new([state(
        start,
        "enterprise",
        BillingPeriod::Monthly,
        LicenseStatus::Trial,
        start,
    )]));
    assert_eq!(month_lines(&input(trial)), Err(NotBillable::NoPaidDays));
    let annual: &'static [LicenseState] = Box::leak(Box::new([state(
        start,
        "pro",
        BillingPeriod::Annual,
        LicenseStatus::Active,
        start,
    )]));
    assert_eq!(month_lines(&input(annual)), Err(NotBillable::NothingDue));
    let paid: &'static [LicenseState] = Box::leak(Box::new([state(
        start,
        "pro",
        BillingPeriod::Monthly,
        LicenseStatus::Active,
        start,
    )]));
    let ok = month_lines(&input(paid)).unwrap();
    assert_eq!(
        (amounts(&ok.lines), ok.currency.as_str()),
        (vec![2_900], "USD")
    );
}

#[test]
fn overdue_is_computed_from_the_due_date() {
    use chrono::NaiveDate;
    let doc = InvoiceDocument::new(
        BillTo {
            name: "A".into(),
            company: None,
            email: "a@example.com".into(),
        },
        vec![line(100)],
        vec![],
        30,
    )
    .unwrap();
    let mut inv = Invoice {
        id: 1,
        kind: InvoiceKind::Invoice,
        number: Some("INV-2026-00001".into()),
        install_id: crate::ids::InstallId::parse("invoice-test-0001").unwrap(),
        customer_id: 1,
        month: month("2026-10"),
        status: InvoiceStatus::Issued,
        currency: crate::money::Currency::usd(),
        document: doc,
        issued_at: Some(at(2026, 11, 1, 0)),
        due_date: NaiveDate::from_ymd_opt(2026, 12, 1),
        paid_on: None,
        payment_reference: None,
        voided_at: None,
        void_reason: None,
        credits_invoice_id: None,
        created_at: at(2026, 11, 1, 0),
        updated_at: at(2026, 11, 1, 0),
    };
    let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    assert_eq!(
        inv.shown_status(day(1)),
        ShownStatus::Issued,
        "due today is not late"
    );
    assert_eq!(inv.shown_status(day(2)), ShownStatus::Overdue);
    inv.status = InvoiceStatus::Paid;
    assert_eq!(inv.shown_status(day(2)), ShownStatus::Paid);
}
