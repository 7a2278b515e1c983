use chrono::TimeZone;
use serde_json::json;

use super::*;

fn ctx() -> IngestContext {
    IngestContext {
        install_id: InstallId::parse("ingest-install-0001").unwrap(),
        now: Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap(),
        retention: Duration::days(90),
        currency: Currency::usd(),
    }
}

fn base() -> Value {
    json!({"eventId": "e1", "type": "feature_used", "ts": "2025-06-01T11:00:00Z", "feature": "pos"})
}

fn with(f: impl FnOnce(&mut Map<String, Value>)) -> Value {
    let mut v = base();
    f(v.as_object_mut().unwrap());
    v
}

fn reason(v: &Value) -> Reason {
    validate(v, &ctx()).unwrap_err()
}

#[test]
fn a_full_event_keeps_every_field() {
    let v = json!({
        "eventId": "e1", "type": "api_call", "feature": "reports", "user": "u1", "session": "s1",
        "ts": "2025-06-01T11:00:00Z", "userAgent": "Mozilla/5.0", "endpoint": "/api/x",
        "durationMs": 12.6, "status": 201, "error": null, "props": {"method": "GET"}
    });
    let ok = validate(&v, &ctx()).unwrap();
    let e = &ok.event;
    assert_eq!(e.feature.as_deref(), Some("reports"));
    assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0"));
    assert_eq!((e.duration_ms, e.status), (Some(13), Some(201)));
    assert_eq!(e.props["method"], "GET");
    let usage = ok.usage.unwrap();
    assert_eq!(
        (usage.usage_type, usage.quantity),
        (UsageType::ApiRequest, 1)
    );
}

#[test]
fn unknown_type_is_refused() {
    let r = reason(&with(|m| {
        m.insert("type".into(), json!("forum_post"));
    }));
    assert_eq!(r.code(), "unknown_type");
    assert!(r.to_string().contains("forum_post"));
}

#[test]
fn props_over_the_limit_are_refused() {
    let big = "x".repeat(10 * 1024);
    let r = reason(&with(|m| {
        m.insert("props".into(), json!({ "blob": big }));
    }));
    assert_eq!(r.code(), "props_too_large");
    let nested = reason(&with(|m| {
        m.insert("props".into(), json!({ "a": {"b": 1} }));
    }));
    assert_eq!(nested.code(), "props_not_flat");
}

#[test]
fn nan_and_negative_durations_are_refused() {
    for bad in [json!("NaN"), json!(-1), json!(-0.5), json!(1e12)] {
        let r = reason(&with(|m| {
            m.insert("durationMs".into(), bad.clone());
        }));
        assert_eq!(r.code(), "invalid_duration", "{bad}");
    }
}

#[test]
fn far_future_and_too_old_timestamps_are_refused() {
    let future = reason(&with(|m| {
        m.insert("ts".into(), json!("9999-01-01T00:00:00Z"));
    }));
    assert_eq!(future.code(), "timestamp_in_future");
    let old = reason(&with(|m| {
        m.insert("ts".into(), json!("1970-01-01T00:00:00Z"));
    }));
    assert_eq!(old.code(), "timestamp_too_old");
    assert!(old.to_string().contains("90-day"));
    let garbage = reason(&with(|m| {
        m.insert("ts".into(), json!("yesterday"));
    }));
    assert_eq!(garbage.code(), "invalid_timestamp");
    // A little clock skew is fine.
    let skew = with(|m| {
        m.insert("ts".into(), json!("2025-06-01T12:30:00Z"));
    });
    assert!(validate(&skew, &ctx()).is_ok());
}

#[test]
fn event_ids_and_fields_are_checked() {
    assert_eq!(
        reason(&with(|m| {
            m.remove("eventId");
        }))
        .code(),
        "invalid_event_id"
    );
    assert_eq!(
        reason(&with(|m| {
            m.insert("eventId".into(), json!("has space"));
        }))
        .code(),
        "invalid_event_id"
    );
    assert_eq!(
        reason(&with(|m| {
            m.insert("bogus".into(), json!(1));
        }))
        .code(),
        "unknown_field"
    );
    assert_eq!(reason(&json!([1])).code(), "not_an_object");
    assert_eq!(
        reason(&with(|m| {
            m.insert("status".into(), json!(42));
        }))
        .code(),
        "invalid_field"
    );
}

#[test]
fn usage_events_meter_with_money_in_the_plan_currency() {
    let pos = json!({"eventId": "u1", "type": "usage", "ts": "2025-06-01T11:00:00Z",
        "meter": "pos_transactions", "quantity": 2, "amountMinor": 5000, "currency": "USD",
        "props": {"channel": "online"}});
    let r = validate(&pos, &ctx()).unwrap().usage.unwrap();
    assert_eq!(
        (r.usage_type, r.quantity, r.amount_minor),
        (UsageType::PosOnline, 2, Some(5000))
    );

    let mut eur = pos.clone();
    eur["currency"] = json!("EUR");
    assert_eq!(reason(&eur).code(), "invalid_usage");
    let mut no_amount = pos.clone();
    no_amount.as_object_mut().unwrap().remove("amountMinor");
    assert_eq!(reason(&no_amount).code(), "invalid_usage");

    let t = json!({"eventId": "u2", "type": "usage", "ts": "2025-06-01T11:00:00Z", "meter": "transcripts"});
    let r = validate(&t, &ctx()).unwrap().usage.unwrap();
    assert_eq!(
        (r.usage_type, r.quantity, r.amount_minor),
        (UsageType::Transcript, 1, None)
    );

    for bad in [json!("seats"), json!("forum_posts")] {
        let mut e = t.clone();
        e["meter"] = bad;
        assert_eq!(reason(&e).code(), "invalid_usage");
    }
    let mut zero = t.clone();
    zero["quantity"] = json!(0);
    assert_eq!(reason(&zero).code(), "invalid_usage");
    // Usage fields on another type are a client mistake, not silently dropped.
    let stray = with(|m| {
        m.insert("meter".into(), json!("transcripts"));
    });
    assert_eq!(reason(&stray).code(), "invalid_usage");
}

#[test]
fn batches_count_repeated_ids_once_and_keep_good_events() {
    let events = vec![
        base(),
        base(),
        json!({"eventId": "e2", "type": "nope", "ts": "x"}),
        with(|m| {
            m.insert("eventId".into(), json!("e3"));
        }),
    ];
    let v = validate_batch(&events, &ctx());
    assert_eq!(v.valid.len(), 2);
    assert_eq!(v.duplicates_in_batch, 1);
    assert_eq!(v.rejected.len(), 1);
    assert_eq!(v.rejected[0].0, 2);
    assert_eq!(v.rejected[0].1.as_deref(), Some("e2"));
}
