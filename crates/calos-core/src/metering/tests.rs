//! Each of the seed's metering bugs (original-system §1.6, §8.1 items 7, 8,
//! 15) has its own test here.

use super::*;
use crate::plan::default_plans;

fn plan(slug: &str) -> Plan {
    default_plans()
        .into_iter()
        .find(|p| p.slug.as_str() == slug)
        .unwrap()
}

fn find(rows: &[MeterStatus], meter: Meter) -> &MeterStatus {
    rows.iter().find(|r| r.meter == meter).unwrap()
}

/// Seed bug: `get_current_usage` summed only billable rows, so 102 API
/// requests on a 100 allowance showed as 2.
#[test]
fn usage_counts_free_and_billable_units() {
    let community = plan("community");
    let records: Vec<_> = (0..102).map(|_| (UsageType::ApiRequest, 1, None)).collect();
    let metered = meter_records(
        &community.limits,
        &community.usage_prices,
        &BTreeMap::new(),
        &records,
    );
    let free: i64 = metered.iter().map(|m| m.split.free).sum();
    let billable: i64 = metered.iter().map(|m| m.split.billable).sum();
    assert_eq!((free, billable), (100, 2));
    let used = per_meter(records.iter().map(|r| (r.0, r.1)));
    let api = find(&status(&community, &used), Meter::ApiRequests).clone();
    assert_eq!((api.used, api.free, api.billable), (102, 100, 2));
    assert!(api.over_limit);
    // $0.001 per request over the allowance.
    assert_eq!(metered.iter().map(|m| m.cost_micros).sum::<i64>(), 2_000);
}

/// Seed bug: limits were keyed `transcripts`/`api_requests` and usage
/// `transcript`/`api_request`, so the 80% warning never fired. Here every
/// usage type lands on a meter the plan has a limit under, and 9,990 of
/// Pro's 10,000 API requests warns.
#[test]
fn limits_and_usage_share_one_key_so_the_warning_fires() {
    let pro = plan("pro");
    for usage_type in UsageType::ALL {
        assert!(
            pro.limits.contains_key(&usage_type.meter()),
            "{usage_type:?}"
        );
    }
    let used = per_meter([(UsageType::ApiRequest, 9_990)]);
    let api = find(&status(&pro, &used), Meter::ApiRequests).clone();
    assert_eq!(api.limit, Some(10_000));
    assert!(api.warning && !api.over_limit);
    assert!((api.percent.unwrap() - 99.9).abs() < 1e-9);
    let quiet = find(
        &status(&pro, &per_meter([(UsageType::ApiRequest, 7_999)])),
        Meter::ApiRequests,
    )
    .clone();
    assert!(!quiet.warning);
}

/// Seed bug: `check_usage_limits` compared each POS channel with the whole
/// POS limit, so 60 in person + 60 online on a 100 allowance looked fine.
#[test]
fn both_pos_channels_share_one_allowance() {
    let community = plan("community");
    let records = [
        (UsageType::PosInPerson, 60, Some(60_000)),
        (UsageType::PosOnline, 60, Some(60_000)),
    ];
    let metered = meter_records(
        &community.limits,
        &community.usage_prices,
        &BTreeMap::new(),
        &records,
    );
    assert_eq!(
        metered[0].split,
        Split {
            free: 60,
            billable: 0
        }
    );
    assert_eq!(
        metered[1].split,
        Split {
            free: 40,
            billable: 20
        }
    );
    // 20 of 60 online units: $200 of $600 at 2.9% + $0.30 each = $5.80 + $6.00.
    assert_eq!(metered[1].cost_micros, 5_800_000 + 6_000_000);
    let used = per_meter(records.iter().map(|r| (r.0, r.1)));
    let pos = find(&status(&community, &used), Meter::PosTransactions).clone();
    assert_eq!((pos.used, pos.billable), (120, 20));
}

/// Seed bug: `track_usage_event` billed every unit when the limit was NULL
/// (unlimited), so every Pro transcript cost $0.05.
#[test]
fn unlimited_meters_are_never_billed() {
    let pro = plan("pro");
    let records: Vec<_> = (0..1_000)
        .map(|_| (UsageType::Transcript, 1, None))
        .collect();
    let metered = meter_records(&pro.limits, &pro.usage_prices, &BTreeMap::new(), &records);
    assert!(metered
        .iter()
        .all(|m| m.split.billable == 0 && m.cost_micros == 0));
    let t = find(
        &status(&pro, &per_meter([(UsageType::Transcript, 1_000)])),
        Meter::Transcripts,
    )
    .clone();
    assert_eq!(
        (t.limit, t.percent, t.billable, t.warning),
        (None, None, 0, false)
    );
}

#[test]
fn a_record_straddling_the_limit_is_split_and_priced_pro_rata() {
    assert_eq!(
        split(Limit::Max(5), 3, 4),
        Split {
            free: 2,
            billable: 2
        }
    );
    assert_eq!(
        split(Limit::Max(5), 9, 4),
        Split {
            free: 0,
            billable: 4
        }
    );
    assert_eq!(
        split(Limit::Max(0), 0, 3),
        Split {
            free: 0,
            billable: 3
        }
    );
    // Crypto 1.5% of the billable half of $100.00 = $0.75.
    let model = PricingModel::Percentage { basis_points: 150 };
    assert_eq!(overage_micros(Some(&model), 1, 2, Some(10_000)), 750_000);
    assert_eq!(overage_micros(None, 5, 5, None), 0);
    assert_eq!(overage_micros(Some(&model), 0, 2, Some(10_000)), 0);
}

#[test]
fn used_before_carries_across_batches() {
    let community = plan("community");
    let before = BTreeMap::from([(Meter::Transcripts, 4)]);
    let m = meter_records(
        &community.limits,
        &community.usage_prices,
        &before,
        &[(UsageType::Transcript, 3, None)],
    );
    assert_eq!(
        m[0].split,
        Split {
            free: 1,
            billable: 2
        }
    );
    assert_eq!(m[0].cost_micros, 100_000);
}
