//! Backoff rules, checked directly.

use std::time::Duration;

use calos_client::backoff::{Backoff, MAX_RETRY_AFTER};

#[test]
fn delays_never_decrease_across_failures() {
    for _ in 0..50 {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(60));
        let delays: Vec<_> = (0..30).map(|_| b.next_delay(None)).collect();
        assert!(delays.windows(2).all(|w| w[1] >= w[0]), "{delays:?}");
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(60)));
        assert!(
            delays[29] >= Duration::from_secs(30),
            "reaches the cap's upper half"
        );
    }
}

#[test]
fn retry_after_sets_a_floor_that_later_failures_keep() {
    let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(60));
    let first = b.next_delay(Some(Duration::from_secs(120)));
    assert!(first >= Duration::from_secs(120));
    let second = b.next_delay(None);
    assert!(second >= first);
}

#[test]
fn absurd_retry_after_is_clamped() {
    let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(60));
    let d = b.next_delay(Some(Duration::from_secs(10 * 365 * 24 * 3600)));
    assert_eq!(d, MAX_RETRY_AFTER);
}

#[test]
fn success_resets_the_backoff() {
    let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(60));
    for _ in 0..10 {
        b.next_delay(None);
    }
    b.reset();
    assert_eq!(b.failures(), 0);
    assert!(b.next_delay(None) <= Duration::from_millis(100));
}

#[test]
fn retry_after_header_parses_seconds_and_dates() {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("retry-after", "30".parse().unwrap());
    assert_eq!(
        calos_client::parse_retry_after(&h),
        Some(Duration::from_secs(30))
    );
    h.insert(
        "retry-after",
        "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
    );
    assert_eq!(calos_client::parse_retry_after(&h), Some(Duration::ZERO));
    h.insert("retry-after", "soon".parse().unwrap());
    assert_eq!(calos_client::parse_retry_after(&h), None);
}
