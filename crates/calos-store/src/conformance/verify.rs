//! Signing keys, instances and the verify path's batched writes.

use std::sync::Arc;

use super::support::{
    all_audit, assert_conflict, audit, create, hours, install, license, now, seed_plans,
};
use crate::{SigningKeyRecord, Store, VerifySeen};

fn key(kid: &str, at: chrono::DateTime<chrono::Utc>) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.to_owned(),
        public_key: vec![1; 32],
        sealed_private_key: vec![2; 48],
        nonce: vec![3; 12],
        created_at: at,
        activated_at: at,
        retired_at: None,
        publish_until: None,
    }
}

/// The first key is stored once however often it is offered; rotating retires
/// the active key (keeping its publish window) and audits; a taken kid is
/// `Conflict` and changes nothing.
pub async fn signing_keys_first_rotate_and_list(store: Arc<dyn Store>) {
    let t = now();
    assert!(store.list_signing_keys().await.unwrap().is_empty());
    assert!(store.insert_first_signing_key(&key("k1", t)).await.unwrap());
    assert!(!store.insert_first_signing_key(&key("k0", t)).await.unwrap());
    assert_eq!(store.list_signing_keys().await.unwrap(), vec![key("k1", t)]);

    let later = t + hours(1);
    let until = t + hours(24 * 40);
    store
        .rotate_signing_key(
            &key("k2", later),
            until,
            &audit("keys.rotate", "signing_key", "k2"),
        )
        .await
        .unwrap();
    let keys = store.list_signing_keys().await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].kid, "k1");
    assert_eq!(keys[0].retired_at, Some(later));
    assert_eq!(keys[0].publish_until, Some(until));
    assert_eq!(keys[0].public_key, vec![1; 32]);
    assert_eq!(keys[1], key("k2", later));
    assert_eq!(all_audit(&store).await.len(), 1);

    let refused = store
        .rotate_signing_key(
            &key("k2", later + hours(1)),
            until,
            &audit("keys.rotate", "signing_key", "k2"),
        )
        .await;
    assert_conflict(refused, "kid");
    let after = store.list_signing_keys().await.unwrap();
    assert_eq!(after, keys, "a refused rotation changes nothing");
    assert_eq!(all_audit(&store).await.len(), 1);
}

fn seen(
    install_id: &str,
    instance: &str,
    domain: Option<&str>,
    at: chrono::DateTime<chrono::Utc>,
) -> VerifySeen {
    VerifySeen {
        install_id: install(install_id),
        instance_id: instance.to_owned(),
        domain: domain.map(str::to_owned),
        version: Some(format!("v-{}", at.timestamp())),
        ip: Some("203.0.113.7".to_owned()),
        user_agent: Some("sdk/1 '\"; DROP TABLE x; --".to_owned()),
        at,
    }
}

/// A batch upserts instances (first seen kept, details from the newest),
/// domains and the license's last seen (never moved back); entries for
/// unknown installs are skipped; counts honour `since` (inclusive).
pub async fn verify_writes_track_instances_and_domains(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let (_, l) = create(
        &store,
        "Acme",
        "a@acme.test",
        license("verify-install-1", "pro", t),
    )
    .await;
    let id = l.install_id.clone();

    store
        .record_verifications(&[
            seen(
                "verify-install-1",
                "node-a",
                Some("a.acme.com"),
                t + hours(2),
            ),
            seen(
                "verify-install-1",
                "node-a",
                Some("b.acme.com"),
                t + hours(1),
            ),
            seen("verify-install-1", "node-b", None, t + hours(1)),
            seen("verify-unknown-9", "node-z", Some("z.test"), t),
        ])
        .await
        .unwrap();
    let instances = store.list_instances(&id).await.unwrap();
    assert_eq!(instances.len(), 2);
    assert_eq!(instances[0].instance_id, "node-a");
    assert_eq!(instances[0].first_seen_at, t + hours(1));
    assert_eq!(instances[0].last_seen_at, t + hours(2));
    assert_eq!(instances[0].domain.as_deref(), Some("a.acme.com"));
    assert_eq!(
        instances[0].user_agent.as_deref(),
        Some("sdk/1 '\"; DROP TABLE x; --")
    );
    assert_eq!(instances[1].instance_id, "node-b");
    assert!(store
        .list_instances(&install("verify-unknown-9"))
        .await
        .unwrap()
        .is_empty());

    // An older request arriving late moves nothing back.
    store
        .record_verifications(&[seen("verify-install-1", "node-a", Some("old.acme.com"), t)])
        .await
        .unwrap();
    let instances = store.list_instances(&id).await.unwrap();
    assert_eq!(instances[0].first_seen_at, t);
    assert_eq!(instances[0].last_seen_at, t + hours(2));
    assert_eq!(instances[0].domain.as_deref(), Some("a.acme.com"));
    let stored = store.get_license(&id).await.unwrap().unwrap();
    assert_eq!(stored.last_seen_at, Some(t + hours(2)));
    assert_eq!(
        stored.version, l.version,
        "last seen does not bump the version"
    );

    assert_eq!(
        store
            .count_active_instances(&id, t + hours(1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .count_active_instances(&id, t + hours(2))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .count_active_instances(&id, t + hours(3))
            .await
            .unwrap(),
        0
    );

    let domains = store.list_domains_seen(&id).await.unwrap();
    let names: Vec<&str> = domains.iter().map(|d| d.domain.as_str()).collect();
    assert_eq!(names, ["a.acme.com", "b.acme.com", "old.acme.com"]);
    assert_eq!(domains[0].first_seen_at, t + hours(2));
    assert_eq!(store.count_domains_seen(&id, t).await.unwrap(), 3);
    assert_eq!(
        store.count_domains_seen(&id, t + hours(2)).await.unwrap(),
        1
    );
    store.record_verifications(&[]).await.unwrap();
}

/// A flush after a busy minute: thousands of instances over many installs
/// in one batch (one statement per table on both backends) are all stored,
/// each with its own details, and every license's last seen moves.
pub async fn verify_writes_store_a_large_batch(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    const INSTALLS: usize = 40;
    const INSTANCES: usize = 150;
    for i in 0..INSTALLS {
        let id = format!("verify-batch-{i:03}");
        create(
            &store,
            &format!("Batch {i}"),
            &format!("b{i}@batch.test"),
            license(&id, "pro", t),
        )
        .await;
    }
    let batch: Vec<VerifySeen> = (0..INSTALLS)
        .flat_map(|i| {
            (0..INSTANCES).map(move |n| {
                let mut s = seen(
                    &format!("verify-batch-{i:03}"),
                    &format!("node-{n:04}"),
                    Some(&format!("n{n}.batch{i}.test")),
                    t + chrono::Duration::seconds(n as i64),
                );
                s.user_agent = (n % 2 == 0).then(|| format!("agent {n} \u{e9}"));
                s
            })
        })
        .collect();
    store.record_verifications(&batch).await.unwrap();
    for i in [0, INSTALLS / 2, INSTALLS - 1] {
        let id = install(&format!("verify-batch-{i:03}"));
        let instances = store.list_instances(&id).await.unwrap();
        assert_eq!(instances.len(), INSTANCES, "install {i}");
        let newest = &instances[0];
        let last = INSTANCES - 1;
        assert_eq!(newest.instance_id, format!("node-{last:04}"));
        assert_eq!(
            newest.last_seen_at,
            t + chrono::Duration::seconds(last as i64)
        );
        assert_eq!(newest.domain, Some(format!("n{last}.batch{i}.test")));
        assert_eq!(newest.user_agent, None, "an odd instance sent no agent");
        assert_eq!(instances[1].user_agent.as_deref(), Some("agent 148 \u{e9}"));
        assert_eq!(
            store.count_domains_seen(&id, t).await.unwrap(),
            INSTANCES as u64
        );
        let stored = store.get_license(&id).await.unwrap().unwrap();
        assert_eq!(
            stored.last_seen_at,
            Some(t + chrono::Duration::seconds(last as i64))
        );
    }
}
