//! Login protection ([`crate::SecurityStore`]): sessions with idle and
//! absolute timeouts, audited logins, ending an admin's sessions (also on a
//! new password), TOTP factors with replay protection, and single-use login
//! challenges.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use calos_core::auth::Role;

use super::support::{all_audit, assert_conflict, assert_not_found, audit, hours, now};
use crate::{Admin, NewAdmin, NewSession, Store};

async fn make(store: &Arc<dyn Store>, username: &str) -> Admin {
    store
        .create_admin(
            &NewAdmin {
                username: username.to_owned(),
                email: None,
                role: Role::Admin,
                password_hash: "$argon2id$unused".to_owned(),
                created_at: now(),
            },
            &audit("admin.create", "admin", username),
        )
        .await
        .expect("create_admin")
}

fn session(token: u8, admin_id: i64, created: chrono::DateTime<chrono::Utc>) -> NewSession {
    NewSession {
        token_hash: vec![token; 32],
        admin_id,
        csrf_token: format!("csrf-{token}"),
        created_at: created,
        expires_at: created + hours(12),
    }
}

const MIN: StdDuration = StdDuration::from_secs(60);

/// A session started with `start_session` is audited in the same call; it
/// is active until idle for `idle` (use moves that on, at most once per
/// `touch_after`) and never past `expires_at`.
pub async fn sessions_idle_and_absolute_timeouts(store: Arc<dyn Store>) {
    let alice = make(&store, "alice").await;
    let t0 = now();
    let before = all_audit(&store).await.len();
    store
        .start_session(
            &session(1, alice.id, t0),
            &audit("admin.login", "admin", "alice"),
        )
        .await
        .expect("start_session");
    assert_eq!(all_audit(&store).await.len(), before + 1, "login audited");
    let idle = 30 * MIN;
    let at = |m: i64| t0 + chrono::Duration::minutes(m);
    let active = |m: i64, token: u8| {
        let store = store.clone();
        async move {
            store
                .active_session(&[token; 32], at(m), idle, MIN)
                .await
                .expect("active_session")
        }
    };
    let (s, a) = active(29, 1).await.expect("used within the idle timeout");
    assert_eq!((s.admin_id, a.username.as_str()), (alice.id, "alice"));
    assert_eq!(s.csrf_token, "csrf-1");
    // Last seen at minute 29: still active at 58, idle at 59 and later.
    assert!(active(58, 1).await.is_some(), "use moved the idle deadline");
    assert!(active(87, 1).await.is_some(), "last seen at 58");
    assert!(active(119, 1).await.is_none(), "idle 31 minutes");
    assert!(active(1, 9).await.is_none(), "unknown token");

    // Kept busy, a session still ends at expires_at (12 h).
    store
        .create_session(&session(2, alice.id, t0))
        .await
        .expect("create_session");
    for m in (20..12 * 60).step_by(20) {
        assert!(active(m, 2).await.is_some(), "busy at minute {m}");
    }
    assert!(active(12 * 60, 2).await.is_none(), "absolute timeout");

    // A plain get_session still sees a session created by create_session.
    assert!(store
        .get_session(&[2; 32], at(1))
        .await
        .expect("get_session")
        .is_some());
}

/// `end_admin_sessions` and `set_admin_password` end every session of that
/// admin and no other's.
pub async fn admin_sessions_end_together(store: Arc<dyn Store>) {
    let alice = make(&store, "alice").await;
    let bob = make(&store, "bob").await;
    let t0 = now();
    for (token, id) in [(1, alice.id), (2, alice.id), (3, bob.id)] {
        store
            .create_session(&session(token, id, t0))
            .await
            .expect("create_session");
    }
    let live = |token: u8| {
        let store = store.clone();
        async move {
            store
                .active_session(&[token; 32], t0, 30 * MIN, MIN)
                .await
                .expect("active_session")
                .is_some()
        }
    };
    assert_eq!(store.end_admin_sessions(alice.id).await.unwrap(), 2);
    assert!(!live(1).await && !live(2).await && live(3).await);
    store
        .create_session(&session(4, alice.id, t0))
        .await
        .unwrap();
    store
        .set_admin_password(
            bob.id,
            "$argon2id$new",
            &audit("admin.reset", "admin", "bob"),
        )
        .await
        .expect("set_admin_password");
    assert!(!live(3).await, "a new password ends the admin's sessions");
    assert!(live(4).await, "other admins keep theirs");

    let before = all_audit(&store).await.len();
    store
        .record_security_event(&audit("admin.login_failed", "admin", "mallory"))
        .await
        .expect("record_security_event");
    let records = all_audit(&store).await;
    assert_eq!(records.len(), before + 1);
    assert!(records
        .iter()
        .any(|r| r.entry.action == "admin.login_failed" && r.entry.target_id == "mallory"));
}

/// Enrolment, confirmation, replay protection and removal of a TOTP factor.
pub async fn totp_factor_lifecycle(store: Arc<dyn Store>) {
    let alice = make(&store, "alice").await;
    let t0 = now();
    assert_eq!(store.totp_factor(alice.id).await.unwrap(), None);
    assert_not_found(
        store
            .begin_totp_enrolment(alice.id + 999, b"sealed", t0)
            .await,
    );
    assert_not_found(
        store
            .enable_totp(alice.id, 10, &audit("admin.totp_enable", "admin", "alice"))
            .await,
    );
    store
        .begin_totp_enrolment(alice.id, b"first", t0)
        .await
        .expect("begin");
    // Restarting enrolment replaces the pending secret.
    store
        .begin_totp_enrolment(alice.id, b"second", t0)
        .await
        .expect("restart");
    let pending = store.totp_factor(alice.id).await.unwrap().unwrap();
    assert_eq!(
        (
            pending.sealed_secret.as_slice(),
            pending.enabled,
            pending.last_step
        ),
        (b"second".as_slice(), false, None)
    );
    assert!(
        !store.claim_totp_step(alice.id, 5).await.unwrap(),
        "no code is accepted before the factor is enabled"
    );
    let before = all_audit(&store).await.len();
    store
        .enable_totp(alice.id, 10, &audit("admin.totp_enable", "admin", "alice"))
        .await
        .expect("enable");
    assert_eq!(all_audit(&store).await.len(), before + 1);
    let enabled = store.totp_factor(alice.id).await.unwrap().unwrap();
    assert_eq!((enabled.enabled, enabled.last_step), (true, Some(10)));
    assert_conflict(
        store.begin_totp_enrolment(alice.id, b"third", t0).await,
        "totp",
    );
    assert_eq!(
        store
            .totp_factor(alice.id)
            .await
            .unwrap()
            .unwrap()
            .sealed_secret,
        b"second"
    );

    assert!(
        !store.claim_totp_step(alice.id, 10).await.unwrap(),
        "replay"
    );
    assert!(!store.claim_totp_step(alice.id, 9).await.unwrap(), "older");
    assert!(store.claim_totp_step(alice.id, 11).await.unwrap());
    assert!(!store.claim_totp_step(alice.id, 11).await.unwrap(), "once");

    store
        .remove_totp(alice.id, &audit("admin.totp_disable", "admin", "alice"))
        .await
        .expect("remove");
    assert_eq!(store.totp_factor(alice.id).await.unwrap(), None);
    let before = all_audit(&store).await.len();
    assert_not_found(
        store
            .remove_totp(alice.id, &audit("admin.totp_disable", "admin", "alice"))
            .await,
    );
    assert_eq!(all_audit(&store).await.len(), before, "refusal not audited");
}

/// A login challenge is taken once, only before it expires.
pub async fn login_challenges_are_single_use(store: Arc<dyn Store>) {
    let alice = make(&store, "alice").await;
    let t0 = now();
    let expires = t0 + chrono::Duration::minutes(5);
    store
        .create_login_challenge(&[1; 32], alice.id, t0, expires)
        .await
        .expect("create");
    store
        .create_login_challenge(&[2; 32], alice.id, t0, expires)
        .await
        .expect("create");
    let taken = store.take_login_challenge(&[1; 32], t0).await.unwrap();
    assert_eq!(taken.map(|a| a.username), Some("alice".to_owned()));
    assert_eq!(
        store.take_login_challenge(&[1; 32], t0).await.unwrap(),
        None
    );
    assert_eq!(
        store.take_login_challenge(&[2; 32], expires).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store.take_login_challenge(&[3; 32], t0).await.unwrap(),
        None
    );
}
