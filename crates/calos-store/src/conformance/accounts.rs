//! Admin accounts, login sessions and API tokens.

use std::sync::Arc;

use calos_core::auth::Role;

use super::support::{
    all_audit, assert_conflict, assert_not_found, audit, audit_of, days, hours, now,
};
use crate::{Admin, NewAdmin, NewApiToken, NewSession, Session, Store};

fn new_admin(username: &str, role: Role, email: Option<&str>) -> NewAdmin {
    NewAdmin {
        username: username.to_owned(),
        email: email.map(str::to_owned),
        role,
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1${username}$hash"),
        created_at: now(),
    }
}

async fn make_admin(store: &Arc<dyn Store>, username: &str) -> Admin {
    store
        .create_admin(
            &new_admin(username, Role::Admin, None),
            &audit("admin.create", "admin", username),
        )
        .await
        .expect("create_admin")
}

/// Admins: create (username unique), get, login lookup, list, password change.
pub async fn admins_create_get_list_and_password(store: Arc<dyn Store>) {
    assert_eq!(store.count_admins().await.expect("count"), 0);
    assert!(store.list_admins().await.expect("list").is_empty());

    let alice_new = new_admin("alice", Role::Owner, Some("alice@vendor.example"));
    let alice = store
        .create_admin(&alice_new, &audit("admin.create", "admin", "alice"))
        .await
        .expect("create alice");
    assert!(alice.id > 0);
    assert_eq!(
        alice,
        Admin {
            id: alice.id,
            username: "alice".to_owned(),
            email: Some("alice@vendor.example".to_owned()),
            role: Role::Owner,
            disabled: false,
            created_at: alice_new.created_at,
        }
    );
    let bob = store
        .create_admin(
            &new_admin("bob", Role::Viewer, None),
            &audit("admin.create", "admin", "bob"),
        )
        .await
        .expect("create bob");
    assert_eq!((bob.role, bob.email.clone()), (Role::Viewer, None));
    assert_ne!(alice.id, bob.id);

    assert_eq!(
        store.get_admin(alice.id).await.expect("get"),
        Some(alice.clone())
    );
    assert_eq!(
        store.get_admin(bob.id + 1000).await.expect("get unknown"),
        None
    );
    assert_eq!(
        store.get_admin_login("alice").await.expect("login"),
        Some((alice.clone(), alice_new.password_hash.clone()))
    );
    assert_eq!(
        store
            .get_admin_login("mallory")
            .await
            .expect("login unknown"),
        None
    );

    let audits = all_audit(&store).await.len();
    assert_conflict(
        store
            .create_admin(
                &new_admin("alice", Role::Viewer, None),
                &audit("admin.create", "admin", "alice"),
            )
            .await,
        "username",
    );
    assert_eq!(store.count_admins().await.expect("count"), 2);
    assert_eq!(
        store.list_admins().await.expect("list"),
        vec![alice.clone(), bob.clone()],
        "by id"
    );

    let changed = audit("admin.password", "admin", &alice.id.to_string());
    store
        .set_admin_password(alice.id, "$argon2id$new", &changed)
        .await
        .expect("set password");
    assert_eq!(
        store.get_admin_login("alice").await.expect("login"),
        Some((alice.clone(), "$argon2id$new".to_owned()))
    );
    assert_not_found(
        store
            .set_admin_password(
                bob.id + 1000,
                "$argon2id$x",
                &audit("admin.password", "admin", "ghost"),
            )
            .await,
    );
    assert_eq!(
        all_audit(&store).await.len(),
        audits + 1,
        "only the real change was audited"
    );
    assert_eq!(
        audit_of(&store, "admin", &alice.id.to_string()).await[0].entry,
        changed
    );
}

/// A session is found until its `expires_at` (exclusive); expired ones are swept.
pub async fn sessions_honour_expiry(store: Arc<dyn Store>) {
    let alice = make_admin(&store, "alice").await;
    let t = now();
    let live = NewSession {
        token_hash: vec![1; 32],
        admin_id: alice.id,
        csrf_token: "csrf-live".to_owned(),
        created_at: t,
        expires_at: t + hours(1),
    };
    let stale = NewSession {
        token_hash: vec![2; 32],
        admin_id: alice.id,
        csrf_token: "csrf-stale".to_owned(),
        created_at: t - hours(3),
        expires_at: t - hours(1),
    };
    store.create_session(&live).await.expect("create live");
    store.create_session(&stale).await.expect("create stale");

    let expected = Session {
        admin_id: alice.id,
        csrf_token: "csrf-live".to_owned(),
        created_at: t,
        expires_at: t + hours(1),
    };
    assert_eq!(
        store.get_session(&live.token_hash, t).await.expect("get"),
        Some((expected.clone(), alice.clone()))
    );
    let just_before = t + hours(1) - chrono::Duration::microseconds(1);
    assert!(store
        .get_session(&live.token_hash, just_before)
        .await
        .expect("get")
        .is_some());
    assert_eq!(
        store
            .get_session(&live.token_hash, t + hours(1))
            .await
            .expect("get at expiry"),
        None
    );
    assert_eq!(
        store
            .get_session(&stale.token_hash, t)
            .await
            .expect("get stale"),
        None
    );
    assert_eq!(
        store.get_session(&[9; 32], t).await.expect("get unknown"),
        None
    );

    assert_eq!(store.delete_expired_sessions(t).await.expect("sweep"), 1);
    assert_eq!(
        store.delete_expired_sessions(t).await.expect("sweep again"),
        0
    );
    assert!(store
        .get_session(&live.token_hash, t)
        .await
        .expect("get")
        .is_some());

    store
        .delete_session(&live.token_hash)
        .await
        .expect("logout");
    assert_eq!(
        store.get_session(&live.token_hash, t).await.expect("get"),
        None
    );
    store
        .delete_session(&live.token_hash)
        .await
        .expect("logging out twice is fine");

    let orphan = NewSession {
        token_hash: vec![3; 32],
        admin_id: alice.id + 1000,
        ..live
    };
    assert!(
        store.create_session(&orphan).await.is_err(),
        "a session needs an existing admin"
    );
    assert_eq!(
        store
            .delete_expired_sessions(t + days(1))
            .await
            .expect("sweep"),
        0
    );
}

/// Tokens: found while neither expired nor revoked; listed by id; revoke is audited.
pub async fn api_tokens_expired_or_revoked_are_not_found(store: Arc<dyn Store>) {
    let alice = make_admin(&store, "alice").await;
    let t = now();
    let new_token = |n: u8, expires_at| NewApiToken {
        admin_id: alice.id,
        name: format!("ci-{n}"),
        prefix: format!("calos_at_{n:08}"),
        token_hash: vec![n; 32],
        created_at: t - hours(2),
        expires_at,
        role: None,
    };
    let forever = new_token(1, None);
    let a_day = new_token(2, Some(t + days(1)));
    let gone = new_token(3, Some(t - hours(1)));
    let mut tokens = Vec::new();
    for new in [&forever, &a_day, &gone] {
        let created = store
            .create_api_token(new, &audit("api_token.create", "api_token", &new.name))
            .await
            .expect("create token");
        assert!(created.id > 0);
        assert_eq!(
            (
                created.admin_id,
                &created.name,
                &created.prefix,
                created.created_at,
                created.expires_at,
                created.revoked_at
            ),
            (
                alice.id,
                &new.name,
                &new.prefix,
                new.created_at,
                new.expires_at,
                None
            )
        );
        tokens.push(created);
    }

    assert_eq!(
        store
            .find_api_token(&forever.token_hash, t)
            .await
            .expect("find"),
        Some((tokens[0].clone(), alice.clone()))
    );
    assert!(store
        .find_api_token(&a_day.token_hash, t)
        .await
        .expect("find")
        .is_some());
    assert_eq!(
        store
            .find_api_token(&a_day.token_hash, t + days(1))
            .await
            .expect("find at expiry"),
        None
    );
    assert_eq!(
        store
            .find_api_token(&gone.token_hash, t)
            .await
            .expect("find expired"),
        None
    );
    assert_eq!(
        store
            .find_api_token(&[7; 32], t)
            .await
            .expect("find unknown"),
        None
    );
    assert_eq!(
        store.list_api_tokens().await.expect("list"),
        tokens,
        "by id, expired ones included"
    );

    let audits = all_audit(&store).await.len();
    let revoke = audit("api_token.revoke", "api_token", &tokens[0].id.to_string());
    store
        .revoke_api_token(tokens[0].id, t, &revoke)
        .await
        .expect("revoke");
    assert_eq!(
        store
            .find_api_token(&forever.token_hash, t)
            .await
            .expect("find revoked"),
        None
    );
    let listed = store.list_api_tokens().await.expect("list");
    assert_eq!(listed[0].revoked_at, Some(t));
    assert_eq!(listed[1], tokens[1]);
    assert_not_found(
        store
            .revoke_api_token(
                tokens[2].id + 1000,
                t,
                &audit("api_token.revoke", "api_token", "ghost"),
            )
            .await,
    );
    assert_eq!(all_audit(&store).await.len(), audits + 1);
    assert_eq!(
        audit_of(&store, "api_token", &tokens[0].id.to_string()).await[0].entry,
        revoke
    );

    let orphan = NewApiToken {
        admin_id: alice.id + 1000,
        token_hash: vec![8; 32],
        ..new_token(8, None)
    };
    assert!(
        store
            .create_api_token(&orphan, &audit("api_token.create", "api_token", "orphan"))
            .await
            .is_err(),
        "a token needs an existing admin"
    );
    assert_eq!(
        all_audit(&store).await.len(),
        audits + 1,
        "the refused token wrote no audit record"
    );
}
