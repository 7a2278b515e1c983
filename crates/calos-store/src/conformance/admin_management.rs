//! Admin management: role changes, disabling, and the rule that at least
//! one enabled owner always remains (also under concurrent changes); API
//! tokens scoped to a role.

use std::sync::Arc;

use calos_core::auth::Role;

use super::support::{all_audit, assert_conflict, assert_not_found, audit, hours, now};
use crate::{Admin, NewApiToken, NewSession, Store};

async fn make(store: &Arc<dyn Store>, username: &str, role: Role) -> Admin {
    store
        .create_admin(
            &crate::NewAdmin {
                username: username.to_owned(),
                email: None,
                role,
                password_hash: "$argon2id$unused".to_owned(),
                created_at: now(),
            },
            &audit("admin.create", "admin", username),
        )
        .await
        .expect("create_admin")
}

fn enabled_owners(admins: &[Admin]) -> usize {
    admins
        .iter()
        .filter(|a| a.role == Role::Owner && !a.disabled)
        .count()
}

/// Role changes and disabling are stored and audited; demoting or disabling
/// the last enabled owner is `Conflict` and writes nothing.
pub async fn admin_role_and_disable_keep_an_owner(store: Arc<dyn Store>) {
    let alice = make(&store, "alice", Role::Owner).await;
    let bob = make(&store, "bob", Role::Admin).await;

    let bob2 = store
        .set_admin_role(bob.id, Role::Sales, &audit("admin.role", "admin", "bob"))
        .await
        .expect("demote bob");
    assert_eq!((bob2.role, bob2.disabled), (Role::Sales, false));
    assert_eq!(
        store.get_admin(bob.id).await.unwrap().unwrap().role,
        Role::Sales
    );

    let audit_rows = all_audit(&store).await.len();
    assert_conflict(
        store
            .set_admin_role(
                alice.id,
                Role::Admin,
                &audit("admin.role", "admin", "alice"),
            )
            .await,
        "role",
    );
    assert_conflict(
        store
            .set_admin_disabled(alice.id, true, &audit("admin.disable", "admin", "alice"))
            .await,
        "disabled",
    );
    assert_eq!(store.get_admin(alice.id).await.unwrap().unwrap(), alice);
    assert_eq!(
        all_audit(&store).await.len(),
        audit_rows,
        "refusals write no audit"
    );

    assert_not_found(
        store
            .set_admin_role(
                alice.id + 999,
                Role::Viewer,
                &audit("admin.role", "admin", "x"),
            )
            .await,
    );
    assert_not_found(
        store
            .set_admin_disabled(alice.id + 999, true, &audit("admin.disable", "admin", "x"))
            .await,
    );

    // With a second owner, alice may be disabled; her sessions end with it.
    store
        .set_admin_role(bob.id, Role::Owner, &audit("admin.role", "admin", "bob"))
        .await
        .expect("promote bob");
    let t = now();
    store
        .create_session(&NewSession {
            token_hash: vec![42; 32],
            admin_id: alice.id,
            csrf_token: "csrf".to_owned(),
            created_at: t,
            expires_at: t + hours(1),
        })
        .await
        .expect("session");
    let disabled = store
        .set_admin_disabled(alice.id, true, &audit("admin.disable", "admin", "alice"))
        .await
        .expect("disable alice");
    assert!(disabled.disabled);
    assert!(store.get_session(&[42; 32], t).await.unwrap().is_none());
    // A disabled owner does not count: bob is now the last enabled one.
    assert_conflict(
        store
            .set_admin_role(bob.id, Role::Viewer, &audit("admin.role", "admin", "bob"))
            .await,
        "role",
    );
    let back = store
        .set_admin_disabled(alice.id, false, &audit("admin.enable", "admin", "alice"))
        .await
        .expect("re-enable alice");
    assert!(!back.disabled);
    assert_eq!(enabled_owners(&store.list_admins().await.unwrap()), 2);
}

/// Two owners demoting each other at the same time: one wins, the other is
/// `Conflict`, and one enabled owner remains.
pub async fn concurrent_owner_demotions_keep_one_owner(store: Arc<dyn Store>) {
    for round in 0..5 {
        let a = make(&store, &format!("a{round}"), Role::Owner).await;
        let b = make(&store, &format!("b{round}"), Role::Owner).await;
        // Earlier rounds' survivors are demoted out of the way first.
        for other in store.list_admins().await.unwrap() {
            if other.role == Role::Owner && other.id != a.id && other.id != b.id {
                store
                    .set_admin_role(other.id, Role::Viewer, &audit("admin.role", "admin", "o"))
                    .await
                    .expect("demote an earlier owner");
            }
        }
        let demote = |id: i64| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .set_admin_role(id, Role::Viewer, &audit("admin.role", "admin", "race"))
                    .await
            })
        };
        let (ra, rb) = (demote(a.id), demote(b.id));
        let (ra, rb) = (ra.await.unwrap(), rb.await.unwrap());
        assert_eq!(
            usize::from(ra.is_ok()) + usize::from(rb.is_ok()),
            1,
            "exactly one demotion wins: {ra:?} {rb:?}"
        );
        assert_eq!(enabled_owners(&store.list_admins().await.unwrap()), 1);
    }
}

/// A token's role cap is stored and read back by list and lookup.
pub async fn api_token_role_round_trips(store: Arc<dyn Store>) {
    let alice = make(&store, "alice", Role::Owner).await;
    let t = now();
    let new = NewApiToken {
        admin_id: alice.id,
        name: "support-bot".to_owned(),
        prefix: "calos_at_12345678".to_owned(),
        token_hash: vec![7; 32],
        created_at: t,
        expires_at: None,
        role: Some(Role::Support),
    };
    let created = store
        .create_api_token(&new, &audit("api_token.create", "api_token", "bot"))
        .await
        .expect("create token");
    assert_eq!(created.role, Some(Role::Support));
    let (found, _) = store.find_api_token(&[7; 32], t).await.unwrap().unwrap();
    assert_eq!(found, created);
    assert_eq!(store.list_api_tokens().await.unwrap(), vec![created]);
}
