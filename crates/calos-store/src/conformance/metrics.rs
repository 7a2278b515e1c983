//! What `/metrics` samples: the outbox depth follows a delivery from
//! pending through sending to failed, and the pool's figures are coherent.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use calos_core::notify::{EventKind, NewNotification};

use super::support::now;
use crate::{DeliveryOutcome, OutboxDepth, Store};

pub async fn metrics_outbox_depth_and_pool_stats(store: Arc<dyn Store>) {
    assert_eq!(
        store.outbox_depth().await.expect("depth"),
        OutboxDepth::default(),
        "an empty store has no backlog"
    );
    // No webhook endpoints: each notification plans exactly one e-mail.
    for n in 0..3 {
        store
            .enqueue_notification(&NewNotification {
                event: EventKind::LicenseSuspended,
                dedupe_key: None,
                install_id: Some("metrics-install-01".to_owned()),
                data: json!({ "n": n }),
                created_at: now(),
            })
            .await
            .expect("enqueue");
    }
    let depth = store.outbox_depth().await.expect("depth");
    assert_eq!((depth.pending, depth.sending, depth.failed), (3, 0, 0));

    let claimed = store
        .claim_deliveries(now(), Duration::seconds(60), 1)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    let depth = store.outbox_depth().await.expect("depth");
    assert_eq!((depth.pending, depth.sending, depth.failed), (2, 1, 0));

    let failed = DeliveryOutcome::Failed {
        error: "refused".to_owned(),
        target: None,
    };
    let d = &claimed[0].delivery;
    assert!(store
        .finish_delivery(d.id, d.claim_seq, &failed, now())
        .await
        .expect("finish"));
    let depth = store.outbox_depth().await.expect("depth");
    assert_eq!((depth.pending, depth.sending, depth.failed), (2, 0, 1));

    store.ping().await.expect("ping");
    let pool = store.pool_stats();
    assert!(
        pool.size >= 1,
        "a store that answered has a connection: {pool:?}"
    );
    assert!(pool.idle <= pool.size && pool.size <= pool.max, "{pool:?}");
    assert_eq!(pool.in_use(), pool.size - pool.idle);
}
