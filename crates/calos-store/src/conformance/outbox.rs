//! The notification outbox: deduplicated enqueues that plan one delivery
//! per channel, notifications written in the transaction of the license
//! change that causes them, claims with a lease and a fence, concurrent
//! claimers that never share a delivery, webhook endpoints with their
//! failure count, metered totals for the usage scan, and subscriptions.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use calos_core::auth::Role;
use calos_core::license::LicenseStatus;
use calos_core::notify::{EventKind, NewNotification};
use calos_core::plan::{default_plans, Meter, UsageType};
use calos_core::telemetry::{EventType, TelemetryEvent, UsageRecord};

use super::support::{
    all_audit, assert_conflict, assert_not_found, audit, create, days, install, license, now,
    seed_plans,
};
use crate::{
    Channel, DeliveryOutcome, DeliveryQuery, DeliveryStatus, DeliveryView, IngestBatch,
    IngestEvent, MeteringTerms, Store, WebhookSettings,
};

fn note(event: EventKind, key: Option<&str>) -> NewNotification {
    NewNotification {
        event,
        dedupe_key: key.map(str::to_owned),
        install_id: Some("outbox-install-01".to_owned()),
        data: json!({"installId": "outbox-install-01", "n": 1}),
        created_at: now(),
    }
}

fn hook(url: &str, events: Vec<EventKind>, enabled: bool) -> WebhookSettings {
    WebhookSettings {
        url: url.to_owned(),
        description: Some("ops".to_owned()),
        events,
        enabled,
        allow_private: false,
        secret_salt: Some(vec![7; 16]),
        now: now(),
    }
}

async fn deliveries(store: &Arc<dyn Store>) -> Vec<DeliveryView> {
    store
        .list_deliveries(&DeliveryQuery {
            per_page: 200,
            ..DeliveryQuery::default()
        })
        .await
        .expect("list_deliveries")
        .items
}

/// A key notifies once, also when enqueued from many tasks at once; each
/// notification gets one e-mail and one delivery per enabled endpoint that
/// wants its event; the alert about endpoints goes by e-mail only.
pub async fn outbox_enqueue_dedupes_and_plans_deliveries(store: Arc<dyn Store>) {
    let all = store
        .create_webhook(
            &hook("https://a.example.com/h", vec![], true),
            &audit("webhook.create", "webhook", "?"),
        )
        .await
        .expect("create all");
    let revoked_only = store
        .create_webhook(
            &hook(
                "https://b.example.com/h",
                vec![EventKind::LicenseRevoked],
                true,
            ),
            &audit("webhook.create", "webhook", "?"),
        )
        .await
        .expect("create filtered");
    store
        .create_webhook(
            &hook("https://c.example.com/h", vec![], false),
            &audit("webhook.create", "webhook", "?"),
        )
        .await
        .expect("create disabled");

    let first = store
        .enqueue_notification(&note(EventKind::UsageLimitReached, Some("usage:k:80")))
        .await
        .expect("enqueue");
    assert!(first.is_some());
    let again = store
        .enqueue_notification(&note(EventKind::UsageLimitReached, Some("usage:k:80")))
        .await
        .expect("enqueue again");
    assert_eq!(again, None, "the same key notifies once");

    let racing = futures::future::join_all((0..8).map(|_| {
        let store = store.clone();
        async move {
            store
                .enqueue_notification(&note(EventKind::UsageLimitReached, Some("usage:k:95")))
                .await
                .expect("concurrent enqueue")
        }
    }))
    .await;
    assert_eq!(racing.iter().filter(|r| r.is_some()).count(), 1);

    let list = deliveries(&store).await;
    assert_eq!(
        list.len(),
        4,
        "two notifications × (e-mail + the unfiltered endpoint)"
    );
    for v in &list {
        assert_eq!(v.delivery.status, DeliveryStatus::Pending);
        assert_eq!(v.delivery.attempts, 0);
        match v.delivery.channel {
            Channel::Email => assert_eq!(v.delivery.endpoint_id, None),
            Channel::Webhook => assert_eq!(v.delivery.endpoint_id, Some(all.id)),
        }
        assert_eq!(v.notification.event, EventKind::UsageLimitReached);
        assert_eq!(v.notification.data["n"], 1);
    }

    let revoke = store
        .enqueue_notification(&note(EventKind::LicenseRevoked, None))
        .await
        .expect("revoke")
        .expect("no key: always stored");
    let for_revoke: Vec<_> = deliveries(&store)
        .await
        .into_iter()
        .filter(|v| v.notification.id == revoke)
        .collect();
    assert_eq!(
        for_revoke.len(),
        3,
        "e-mail, unfiltered and revoked-only endpoints"
    );
    assert!(for_revoke
        .iter()
        .any(|v| v.delivery.endpoint_id == Some(revoked_only.id)));

    let alert = store
        .enqueue_notification(&note(EventKind::WebhookDisabled, None))
        .await
        .expect("alert")
        .expect("stored");
    let for_alert: Vec<_> = deliveries(&store)
        .await
        .into_iter()
        .filter(|v| v.notification.id == alert)
        .collect();
    assert_eq!(for_alert.len(), 1);
    assert_eq!(for_alert[0].delivery.channel, Channel::Email);

    let filtered = store
        .list_deliveries(&DeliveryQuery {
            channel: Some(Channel::Webhook),
            endpoint_id: Some(revoked_only.id),
            ..DeliveryQuery::default()
        })
        .await
        .expect("filtered");
    assert_eq!(filtered.total, 1);
}

/// Creating, revoking and changing the tier of a license enqueue their
/// event in the change's transaction; a refused change enqueues nothing.
pub async fn outbox_license_changes_enqueue_in_their_transaction(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let (_, created) = create(
        &store,
        "Globex",
        "ops@globex.example.com",
        license("outbox-install-02", "pro", t),
    )
    .await;
    let events = |list: &[DeliveryView]| -> Vec<EventKind> {
        let mut ids = BTreeSet::new();
        list.iter()
            .filter(|v| ids.insert(v.notification.id))
            .map(|v| v.notification.event)
            .collect()
    };
    let list = deliveries(&store).await;
    assert_eq!(events(&list), vec![EventKind::LicenseCreated]);
    let created_note = &list[0].notification;
    assert_eq!(
        created_note.install_id.as_deref(),
        Some("outbox-install-02")
    );
    assert_eq!(created_note.data["customer"]["name"], "Globex");
    assert_eq!(created_note.data["plan"], "pro");

    let mut revoked = created.clone();
    revoked.status = LicenseStatus::Revoked;
    revoked.status_reason = Some("unpaid".to_owned());
    let mut entry = audit("license.revoke", "license", "outbox-install-02");
    entry.after = Some(serde_json::to_value(&revoked).expect("json"));
    store
        .update_license(&revoked, &entry)
        .await
        .expect("revoke");

    // A stale version is refused: no notification for it.
    let stale = created.clone();
    assert_conflict(store.update_license(&stale, &entry).await, "version");

    let list = deliveries(&store).await;
    let mut got = events(&list);
    got.sort();
    assert_eq!(
        got,
        vec![EventKind::LicenseCreated, EventKind::LicenseRevoked]
    );
    let revoke_note = list
        .iter()
        .find(|v| v.notification.event == EventKind::LicenseRevoked)
        .expect("revoked");
    assert_eq!(revoke_note.notification.data["reason"], "unpaid");

    // An action that announces nothing.
    let mut noted = revoked.clone();
    noted.version += 1;
    store
        .update_license(
            &noted,
            &audit("license.update", "license", "outbox-install-02"),
        )
        .await
        .expect("details");
    assert_eq!(events(&deliveries(&store).await).len(), 2);
}

/// A claim leases a delivery to one claimer; its outcome counts only for
/// the current claim; a lease that ran out makes it due again; retries wait
/// for their time; a resend starts over and is audited.
pub async fn outbox_claim_lease_finish_and_resend(store: Arc<dyn Store>) {
    store
        .enqueue_notification(&note(EventKind::LicenseSuspended, None))
        .await
        .expect("enqueue");
    let t = now();
    let lease = Duration::seconds(60);
    let claimed = store.claim_deliveries(t, lease, 10).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    let first = &claimed[0];
    assert_eq!(first.delivery.status, DeliveryStatus::Sending);
    assert_eq!(first.delivery.attempts, 1);
    assert_eq!(first.delivery.lease_until, Some(t + lease));
    assert_eq!(first.notification.event, EventKind::LicenseSuspended);
    assert!(first.endpoint.is_none());
    assert!(store
        .claim_deliveries(t, lease, 10)
        .await
        .expect("claim")
        .is_empty());

    // The lease runs out (the node died): claimed again, the old claim is fenced off.
    let later = t + Duration::seconds(61);
    let again = store
        .claim_deliveries(later, lease, 10)
        .await
        .expect("reclaim");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].delivery.attempts, 2);
    let sent = DeliveryOutcome::Sent {
        target: Some("ops@vendor.example.com".to_owned()),
    };
    let id = first.delivery.id;
    assert!(!store
        .finish_delivery(id, first.delivery.claim_seq, &sent, later)
        .await
        .expect("stale finish"));
    let retry_at = later + Duration::seconds(120);
    let retry = DeliveryOutcome::Retry {
        error: "connection refused".to_owned(),
        at: retry_at,
        target: None,
    };
    assert!(store
        .finish_delivery(id, again[0].delivery.claim_seq, &retry, later)
        .await
        .expect("finish"));
    let v = store.get_delivery(id).await.expect("get").expect("exists");
    assert_eq!(v.delivery.status, DeliveryStatus::Pending);
    assert_eq!(v.delivery.next_attempt_at, retry_at);
    assert_eq!(v.delivery.last_error.as_deref(), Some("connection refused"));
    assert!(store
        .claim_deliveries(retry_at - Duration::seconds(1), lease, 10)
        .await
        .expect("early")
        .is_empty());
    let third = store
        .claim_deliveries(retry_at, lease, 10)
        .await
        .expect("due");
    assert_eq!(third[0].delivery.attempts, 3);
    assert!(store
        .finish_delivery(id, third[0].delivery.claim_seq, &sent, retry_at)
        .await
        .expect("sent"));
    let v = store.get_delivery(id).await.expect("get").expect("exists");
    assert_eq!(v.delivery.status, DeliveryStatus::Sent);
    assert_eq!(v.delivery.sent_at, Some(retry_at));
    assert_eq!(v.delivery.last_error, None);
    assert_eq!(v.delivery.target.as_deref(), Some("ops@vendor.example.com"));
    assert!(store
        .claim_deliveries(retry_at + days(1), lease, 10)
        .await
        .expect("none")
        .is_empty());

    let before = all_audit(&store).await.len();
    let resent = store
        .resend_delivery(
            id,
            retry_at,
            &audit("notification.resend", "notification", &id.to_string()),
        )
        .await
        .expect("resend");
    assert_eq!(resent.delivery.status, DeliveryStatus::Pending);
    assert_eq!(resent.delivery.attempts, 0);
    assert_eq!(all_audit(&store).await.len(), before + 1);
    assert_not_found(
        store
            .resend_delivery(
                9_999_999,
                t,
                &audit("notification.resend", "notification", "x"),
            )
            .await,
    );
    assert_eq!(all_audit(&store).await.len(), before + 1);
    assert!(store.get_delivery(9_999_999).await.expect("get").is_none());

    let skipped = store
        .claim_deliveries(retry_at, lease, 10)
        .await
        .expect("claim");
    let reason = DeliveryOutcome::Skipped {
        reason: "no SMTP server configured".to_owned(),
    };
    assert!(store
        .finish_delivery(id, skipped[0].delivery.claim_seq, &reason, retry_at)
        .await
        .expect("skip"));
    let failed_list = store
        .list_deliveries(&DeliveryQuery {
            status: Some(DeliveryStatus::Skipped),
            ..DeliveryQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(failed_list.total, 1);
}

/// Claimers racing over many due deliveries each get distinct ones, and
/// together all of them.
pub async fn outbox_concurrent_claimers_never_share(store: Arc<dyn Store>) {
    store
        .create_webhook(
            &hook("https://a.example.com/h", vec![], true),
            &audit("webhook.create", "webhook", "?"),
        )
        .await
        .expect("webhook");
    for n in 0..30 {
        store
            .enqueue_notification(&note(
                EventKind::UsageLimitReached,
                Some(&format!("race:{n}")),
            ))
            .await
            .expect("enqueue");
    }
    let t = now();
    let claimed = futures::future::join_all((0..6).map(|_| {
        let store = store.clone();
        async move {
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_deliveries(t, Duration::seconds(300), 4)
                    .await
                    .expect("claim");
                if batch.is_empty() {
                    break;
                }
                mine.extend(batch.into_iter().map(|c| {
                    assert!(c.delivery.channel == Channel::Email || c.endpoint.is_some());
                    c.delivery.id
                }));
            }
            mine
        }
    }))
    .await;
    let all: Vec<i64> = claimed.into_iter().flatten().collect();
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 60, "every delivery claimed");
    assert_eq!(distinct.len(), 60, "none claimed twice");
}

/// Endpoints are created, listed, changed and deleted with audit records;
/// failures in a row switch an endpoint off once; success or re-enabling
/// starts the count over.
pub async fn webhooks_crud_and_failure_count(store: Arc<dyn Store>) {
    let a = store
        .create_webhook(
            &hook(
                "https://a.example.com/h",
                vec![EventKind::LicenseCreated],
                true,
            ),
            &audit("webhook.create", "webhook", "?"),
        )
        .await
        .expect("create");
    assert_eq!(a.events, vec![EventKind::LicenseCreated]);
    assert!(a.enabled && !a.allow_private);
    assert_eq!(store.get_webhook(a.id).await.expect("get"), Some(a.clone()));
    let records = all_audit(&store).await;
    assert_eq!(records[0].entry.target_id, a.id.to_string());

    let mut change = hook("https://a2.example.com/h", vec![], true);
    change.secret_salt = None;
    change.allow_private = true;
    let b = store
        .update_webhook(
            a.id,
            &change,
            &audit("webhook.update", "webhook", &a.id.to_string()),
        )
        .await
        .expect("update");
    assert_eq!(
        (b.url.as_str(), b.allow_private),
        ("https://a2.example.com/h", true)
    );
    assert_not_found(
        store
            .update_webhook(424_242, &change, &audit("webhook.update", "webhook", "x"))
            .await,
    );

    for _ in 0..2 {
        assert_eq!(
            store
                .record_endpoint_attempt(a.id, false, 3, "failing", now())
                .await
                .expect("fail"),
            None
        );
    }
    store
        .record_endpoint_attempt(a.id, true, 3, "failing", now())
        .await
        .expect("ok");
    for _ in 0..2 {
        store
            .record_endpoint_attempt(a.id, false, 3, "failing", now())
            .await
            .expect("fail");
    }
    let off = store
        .record_endpoint_attempt(a.id, false, 3, "3 failures in a row", now())
        .await
        .expect("third")
        .expect("switched off now");
    assert!(!off.enabled);
    assert_eq!(off.consecutive_failures, 3);
    assert_eq!(off.disabled_reason.as_deref(), Some("3 failures in a row"));
    assert_eq!(
        store
            .record_endpoint_attempt(a.id, false, 3, "again", now())
            .await
            .expect("fourth"),
        None,
        "switched off once"
    );
    let on = store
        .update_webhook(
            a.id,
            &change,
            &audit("webhook.update", "webhook", &a.id.to_string()),
        )
        .await
        .expect("enable");
    assert!(on.enabled);
    assert_eq!((on.consecutive_failures, on.disabled_reason), (0, None));

    let before = all_audit(&store).await.len();
    store
        .delete_webhook(a.id, &audit("webhook.delete", "webhook", &a.id.to_string()))
        .await
        .expect("delete");
    assert_not_found(
        store
            .delete_webhook(a.id, &audit("webhook.delete", "webhook", "x"))
            .await,
    );
    assert_eq!(all_audit(&store).await.len(), before + 1);
    assert!(store.list_webhooks().await.expect("list").is_empty());
}

/// Metered totals of usable licenses' current periods, and admins'
/// subscriptions.
pub async fn outbox_meter_totals_and_subscriptions(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let (_, lic) = create(
        &store,
        "Metered",
        "m@example.com",
        license("outbox-install-03", "community", t - days(1)),
    )
    .await;
    let community = default_plans()
        .into_iter()
        .find(|p| p.slug.as_str() == "community")
        .expect("community");
    let usage = |n: u32, q: i64| IngestEvent {
        event: TelemetryEvent {
            install_id: install("outbox-install-03"),
            event_id: format!("use-{n}"),
            event_type: EventType::Usage,
            feature: None,
            user: None,
            session: None,
            ts: t,
            user_agent: None,
            endpoint: None,
            duration_ms: None,
            status: None,
            error: None,
            props: serde_json::Map::new(),
        },
        usage: Some(UsageRecord {
            install_id: install("outbox-install-03"),
            usage_type: UsageType::Transcript,
            quantity: q,
            amount_minor: None,
            at: t,
        }),
    };
    store
        .ingest(&IngestBatch {
            install_id: install("outbox-install-03"),
            events: vec![usage(1, 3), usage(2, 1)],
            terms: MeteringTerms {
                period_start: lic.current_period_start,
                period_end: lic.current_period_end,
                limits: community.limits.clone(),
                prices: community.usage_prices.clone(),
                closed_before: None,
            },
        })
        .await
        .expect("ingest");
    let totals = store.current_meter_totals().await.expect("totals");
    assert_eq!(totals.len(), 1);
    assert_eq!(totals[0].meter, Meter::Transcripts);
    assert_eq!(totals[0].quantity, 4);
    assert_eq!(totals[0].period_start, lic.current_period_start);
    assert_eq!(totals[0].subject.customer_name, "Metered");
    assert_eq!(totals[0].subject.plan, "community");

    let mut suspended = lic.clone();
    suspended.status = LicenseStatus::Suspended;
    store
        .update_license(
            &suspended,
            &audit("license.suspend", "license", "outbox-install-03"),
        )
        .await
        .expect("suspend");
    assert!(store
        .current_meter_totals()
        .await
        .expect("totals")
        .is_empty());

    let admin = store
        .create_admin(
            &crate::NewAdmin {
                username: "sub".to_owned(),
                email: Some("sub@vendor.example.com".to_owned()),
                role: Role::Sales,
                password_hash: "$argon2id$unused".to_owned(),
                created_at: t,
            },
            &audit("admin.create", "admin", "sub"),
        )
        .await
        .expect("admin");
    let events = [EventKind::UpsellFound, EventKind::HealthDropped];
    store
        .set_notify_subscriptions(
            admin.id,
            &events,
            &audit("notify.subscribe", "admin", "sub"),
        )
        .await
        .expect("subscribe");
    let mut mine = store.notify_subscriptions(admin.id).await.expect("mine");
    mine.sort();
    assert_eq!(mine, vec![EventKind::UpsellFound, EventKind::HealthDropped]);
    let subs = store.notify_subscribers().await.expect("subscribers");
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].0, "sub@vendor.example.com");
    assert_eq!(subs[0].1.len(), 2);
    assert_not_found(
        store
            .set_notify_subscriptions(987_654, &events, &audit("notify.subscribe", "admin", "x"))
            .await,
    );
    store
        .set_notify_subscriptions(admin.id, &[], &audit("notify.subscribe", "admin", "sub"))
        .await
        .expect("none");
    assert!(store
        .notify_subscribers()
        .await
        .expect("subscribers")
        .is_empty());
}
