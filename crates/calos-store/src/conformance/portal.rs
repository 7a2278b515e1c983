//! The customer portal's accounts and sessions, and domain claims (issue 8).

use std::sync::Arc;

use super::support::{
    all_audit, assert_not_found, audit, create, domain, email, hours, install, license, now,
    seed_plans,
};
use crate::{PortalInvite, PortalSession, Store};

fn invite(
    install_id: &str,
    mail: &str,
    token: &[u8],
    at: chrono::DateTime<chrono::Utc>,
) -> PortalInvite {
    PortalInvite {
        install_id: install(install_id),
        email: email(mail),
        token_hash: token.to_vec(),
        expires_at: at + hours(72),
        now: at,
    }
}

/// An invitation creates an inactive account scoped to one install; the
/// token sets a password once (not after it expired, not twice); a new
/// invitation of the same address is a reset link that ends old sessions;
/// sessions expire at `expires_at`; an unknown license is `NotFound`.
pub async fn portal_invites_logins_and_sessions(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    create(
        &store,
        "A",
        "a@example.com",
        license("portal-a-0001", "pro", t),
    )
    .await;
    create(
        &store,
        "B",
        "b@example.com",
        license("portal-b-0001", "pro", t),
    )
    .await;

    let ua = store
        .invite_portal_user(
            &invite("portal-a-0001", "ops@a.example", b"tok-a", t),
            &audit("portal_user.invite", "license", "portal-a-0001"),
        )
        .await
        .expect("invite");
    assert!(!ua.active);
    assert_eq!(ua.install_id.as_str(), "portal-a-0001");
    // The same address at another customer is another account.
    let ub = store
        .invite_portal_user(
            &invite("portal-b-0001", "ops@a.example", b"tok-b", t),
            &audit("portal_user.invite", "license", "portal-b-0001"),
        )
        .await
        .expect("invite b");
    assert_ne!(ua.id, ub.id);
    assert_eq!(
        store
            .list_portal_users(&install("portal-a-0001"))
            .await
            .expect("list"),
        vec![ua.clone()]
    );

    let (_, hash) = store
        .get_portal_login(&install("portal-a-0001"), &email("ops@a.example"))
        .await
        .expect("login")
        .expect("user");
    assert_eq!(hash, None, "no password before the invitation is accepted");

    assert_eq!(
        store
            .accept_portal_invite(
                &install("portal-a-0001"),
                b"tok-a",
                "$argon2id$x",
                t + hours(73),
                &audit("portal_user.activate", "portal_user", "?")
            )
            .await
            .expect("late"),
        None,
        "expired token"
    );
    assert_eq!(
        store
            .accept_portal_invite(
                &install("portal-b-0001"),
                b"tok-a",
                "$argon2id$x",
                t + hours(1),
                &audit("portal_user.activate", "portal_user", "?")
            )
            .await
            .expect("other"),
        None,
        "a token of another install"
    );
    let active = store
        .accept_portal_invite(
            &install("portal-a-0001"),
            b"tok-a",
            "$argon2id$x",
            t + hours(1),
            &audit("portal_user.activate", "portal_user", "?"),
        )
        .await
        .expect("accept")
        .expect("accepted");
    assert!(active.active);
    assert_eq!(
        store
            .accept_portal_invite(
                &install("portal-a-0001"),
                b"tok-a",
                "$argon2id$y",
                t + hours(1),
                &audit("portal_user.activate", "portal_user", "?")
            )
            .await
            .expect("again"),
        None,
        "a token works once"
    );
    let (_, hash) = store
        .get_portal_login(&install("portal-a-0001"), &email("ops@a.example"))
        .await
        .expect("login")
        .expect("user");
    assert_eq!(hash.as_deref(), Some("$argon2id$x"));
    assert_eq!(
        store
            .get_portal_login(&install("portal-b-0001"), &email("nobody@a.example"))
            .await
            .expect("login"),
        None
    );

    let session = PortalSession {
        token_hash: b"session-a".to_vec(),
        user_id: active.id,
        install_id: install("portal-a-0001"),
        csrf_token: "csrf".to_owned(),
        created_at: t + hours(2),
        expires_at: t + hours(14),
    };
    store
        .create_portal_session(&session)
        .await
        .expect("session");
    let (found, u) = store
        .get_portal_session(b"session-a", t + hours(3))
        .await
        .expect("get")
        .expect("live");
    assert_eq!(
        (found, u.last_login_at),
        (session.clone(), Some(t + hours(2)))
    );
    assert_eq!(
        store
            .get_portal_session(b"session-a", t + hours(14))
            .await
            .expect("get"),
        None,
        "expires at expires_at"
    );

    // A re-invitation is a reset link: accepting it ends the old sessions.
    store
        .invite_portal_user(
            &invite("portal-a-0001", "ops@a.example", b"tok-a2", t + hours(3)),
            &audit("portal_user.invite", "license", "portal-a-0001"),
        )
        .await
        .expect("reinvite");
    store
        .accept_portal_invite(
            &install("portal-a-0001"),
            b"tok-a2",
            "$argon2id$z",
            t + hours(4),
            &audit("portal_user.activate", "portal_user", "?"),
        )
        .await
        .expect("reset")
        .expect("reset done");
    assert_eq!(
        store
            .get_portal_session(b"session-a", t + hours(5))
            .await
            .expect("get"),
        None
    );

    store
        .create_portal_session(&PortalSession {
            token_hash: b"session-2".to_vec(),
            ..session
        })
        .await
        .expect("session");
    store
        .delete_portal_session(b"session-2")
        .await
        .expect("delete");
    assert_eq!(
        store
            .get_portal_session(b"session-2", t + hours(5))
            .await
            .expect("get"),
        None
    );

    let audits = all_audit(&store).await.len();
    assert_not_found(
        store
            .invite_portal_user(
                &invite("ghost-portal-01", "x@y.example", b"tok-g", t),
                &audit("portal_user.invite", "license", "ghost-portal-01"),
            )
            .await,
    );
    assert_eq!(all_audit(&store).await.len(), audits);
}

/// Domain claims keep their token, move to a new owner from scratch, record
/// checks (first success kept); the host router finds the exact domain or
/// the nearest wildcard of a license, with its verification state.
pub async fn domain_claims_and_host_owners(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let mut la = license("dom-a-000001", "enterprise", t);
    la.domains = vec![domain("portal.acme.example"), domain("*.acme.example")];
    create(&store, "A", "a@example.com", la).await;
    let mut lb = license("dom-b-000001", "enterprise", t);
    lb.domains = vec![domain("deep.eu.acme.example")];
    create(&store, "B", "b@example.com", lb).await;
    let a = install("dom-a-000001");

    let c1 = store
        .ensure_domain_claim(&a, &domain("portal.acme.example"), "tok1", t)
        .await
        .expect("claim");
    assert_eq!((c1.token.as_str(), c1.verified_at), ("tok1", None));
    let again = store
        .ensure_domain_claim(&a, &domain("portal.acme.example"), "tok2", t + hours(1))
        .await
        .expect("claim");
    assert_eq!(again, c1, "an existing claim keeps its token");

    let failed = store
        .record_domain_check(
            &a,
            &domain("portal.acme.example"),
            false,
            t + hours(1),
            &audit("domain.check", "license", "dom-a-000001"),
        )
        .await
        .expect("check");
    assert_eq!(
        (failed.verified_at, failed.checked_at),
        (None, Some(t + hours(1)))
    );
    let ok = store
        .record_domain_check(
            &a,
            &domain("portal.acme.example"),
            true,
            t + hours(2),
            &audit("domain.verify", "license", "dom-a-000001"),
        )
        .await
        .expect("check");
    assert_eq!(ok.verified_at, Some(t + hours(2)));
    let later = store
        .record_domain_check(
            &a,
            &domain("portal.acme.example"),
            true,
            t + hours(3),
            &audit("domain.verify", "license", "dom-a-000001"),
        )
        .await
        .expect("check");
    assert_eq!(
        later.verified_at,
        Some(t + hours(2)),
        "the first success is kept"
    );
    assert_eq!(
        store.list_domain_claims(&a).await.expect("list"),
        vec![later]
    );
    assert_not_found(
        store
            .record_domain_check(
                &a,
                &domain("other.example"),
                true,
                t,
                &audit("domain.verify", "license", "dom-a-000001"),
            )
            .await,
    );

    // The claim moves to another install from scratch.
    let b = install("dom-b-000001");
    let moved = store
        .ensure_domain_claim(&b, &domain("portal.acme.example"), "tok3", t + hours(4))
        .await
        .expect("move");
    assert_eq!(
        (
            moved.install_id.clone(),
            moved.token.as_str(),
            moved.verified_at
        ),
        (b.clone(), "tok3", None)
    );
    store
        .ensure_domain_claim(&a, &domain("portal.acme.example"), "tok4", t + hours(5))
        .await
        .expect("back");

    let owner = store
        .find_host_owner(
            &domain("portal.acme.example"),
            &["*.acme.example".to_owned()],
        )
        .await
        .expect("find")
        .expect("owner");
    assert_eq!(
        (
            owner.install_id.clone(),
            owner.matched.as_str(),
            owner.verified
        ),
        (a.clone(), "portal.acme.example", false)
    );
    let wild = store
        .find_host_owner(&domain("x.acme.example"), &["*.acme.example".to_owned()])
        .await
        .expect("find")
        .expect("owner");
    assert_eq!(
        (wild.install_id.clone(), wild.matched.as_str()),
        (a.clone(), "*.acme.example")
    );
    let exact_b = store
        .find_host_owner(
            &domain("deep.eu.acme.example"),
            &["*.eu.acme.example".to_owned(), "*.acme.example".to_owned()],
        )
        .await
        .expect("find")
        .expect("owner");
    assert_eq!(exact_b.install_id, b);
    assert_eq!(
        store
            .find_host_owner(&domain("elsewhere.example"), &[])
            .await
            .expect("find"),
        None
    );
}
