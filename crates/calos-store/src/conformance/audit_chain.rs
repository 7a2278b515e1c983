//! The audit log's hash chain: every append links to the one before it,
//! also when appends race.

use std::sync::Arc;

use serde_json::json;

use calos_core::audit::chain::{ChainVerifier, ChainedRecord, GENESIS};
use calos_core::auth::Role;

use super::support::{audit, now};
use crate::{NewAdmin, Store};

fn new_admin(username: &str) -> NewAdmin {
    NewAdmin {
        username: username.to_owned(),
        email: None,
        role: Role::Viewer,
        password_hash: "$argon2id$unused".to_owned(),
        created_at: now(),
    }
}

/// The whole chain, read in pages of three (so paging is exercised too).
async fn whole_chain(store: &Arc<dyn Store>) -> Vec<ChainedRecord> {
    let mut all: Vec<ChainedRecord> = Vec::new();
    loop {
        let after = all.last().map_or(0, |r| r.id);
        let page = store.audit_chain(after, 3).await.expect("audit_chain");
        assert!(page.len() <= 3, "a page holds at most `limit` records");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

fn verify(records: &[ChainedRecord]) -> u64 {
    let mut verifier = ChainVerifier::new();
    for r in records {
        verifier
            .push(r)
            .unwrap_or_else(|b| panic!("chain broken: {b:?}"));
    }
    verifier.finish().checked
}

/// Appends made one after another form one chain from the genesis hash,
/// and every record reads back exactly as it was hashed.
pub async fn audit_chain_links_every_append(store: Arc<dyn Store>) {
    assert!(store.audit_chain(0, 10).await.expect("empty").is_empty());
    for i in 0..7 {
        let mut entry = audit("admin.create", "admin", &format!("user{i}"));
        // Unicode, nesting and key order must survive the round trip unchanged.
        entry.after = Some(json!({ "z": [1, 2.5, null], "a": { "ñ": "日本", "q": "it's \"x\"" } }));
        store
            .create_admin(&new_admin(&format!("user{i}")), &entry)
            .await
            .expect("create_admin");
    }
    let chain = whole_chain(&store).await;
    assert_eq!(chain.len(), 7);
    assert_eq!(chain[0].prev_hash.as_deref(), Some(GENESIS));
    assert!(chain.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(verify(&chain), 7);
    assert_eq!(chain[6].entry.target_id, "user6");
}

/// Appends racing each other still form one unbroken chain: the store
/// serialises them instead of letting two link to the same head.
pub async fn audit_chain_survives_concurrent_appends(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let name = format!("racer{i}");
                store
                    .create_admin(&new_admin(&name), &audit("admin.create", "admin", &name))
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("create_admin");
    }
    let chain = whole_chain(&store).await;
    assert_eq!(chain.len(), 24);
    assert_eq!(verify(&chain), 24);
    let mut heads: Vec<_> = chain.iter().filter_map(|r| r.prev_hash.clone()).collect();
    heads.sort();
    heads.dedup();
    assert_eq!(
        heads.len(),
        24,
        "no two records link to the same predecessor"
    );
}
