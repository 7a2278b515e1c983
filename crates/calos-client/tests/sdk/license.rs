//! The license lifecycle: valid, revoked, server down, rate limited.

use std::time::{Duration, Instant};

use calos_client::{CallError, LicenseState, UnlicensedCode};
use calos_core::verdict::VerdictCode;

use crate::fake::{FakeServer, Reply, GRACE, INSTALL, LEASE, T0};

#[tokio::test]
async fn valid_answer_licenses_and_allows_entitled_features() {
    let server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let client = server
        .builder()
        .domain("erp.acme.com")
        .product_version("2.1.0")
        .data_dir(dir.path())
        .build()
        .unwrap();
    client.start().await;
    match client.state() {
        LicenseState::Licensed { tier, expires, .. } => {
            assert_eq!(tier, "pro");
            assert_eq!(expires.timestamp(), T0 + LEASE);
        }
        other => panic!("expected Licensed, got {other:?}"),
    }
    assert!(client.allows("crypto"));
    assert!(!client.allows("reports"));
    let req = server.fake.verify_requests.lock().unwrap()[0].clone();
    assert_eq!(req.install_id, INSTALL);
    assert_eq!(req.domain.as_deref(), Some("erp.acme.com"));
    assert_eq!(req.version.as_deref(), Some("2.1.0"));
    assert_eq!(req.instance_id, client.instance_id());
    assert!(req.nonce.len() >= 32);
    client.shutdown().await;
}

#[tokio::test]
async fn each_request_carries_a_fresh_nonce() {
    let server = FakeServer::start().await;
    let client = server.builder().build().unwrap();
    client.start().await;
    client.refresh_now().await.unwrap();
    let reqs = server.fake.verify_requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 2);
    assert_ne!(reqs[0].nonce, reqs[1].nonce);
    client.shutdown().await;
}

#[tokio::test]
async fn instance_id_is_stable_per_data_dir() {
    let server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let a = server.builder().data_dir(dir.path()).build().unwrap();
    let b = server.builder().data_dir(dir.path()).build().unwrap();
    let c = server.builder().data_dir(other.path()).build().unwrap();
    assert_eq!(a.instance_id(), b.instance_id());
    assert_ne!(a.instance_id(), c.instance_id());
}

#[tokio::test]
async fn online_revoke_is_unlicensed_at_once_and_survives_a_restart() {
    let mut server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let client = server.builder().data_dir(dir.path()).build().unwrap();
    client.start().await;
    assert!(client.state().is_licensed());

    server
        .fake
        .set_verify(|f, req| Reply::token(f.sign(&f.revoked_claims(req))));
    let state = client.refresh_now().await.unwrap();
    assert_eq!(
        state,
        LicenseState::Unlicensed {
            code: UnlicensedCode::Verdict(VerdictCode::Revoked)
        }
    );
    assert!(!client.allows("crypto"));
    client.shutdown().await;

    // The signed revoke replaced the cached valid token: a restart while
    // offline does not bring the old lease back.
    server.stop();
    let again = server.builder().data_dir(dir.path()).build().unwrap();
    assert_eq!(
        again.state(),
        LicenseState::Unlicensed {
            code: UnlicensedCode::Verdict(VerdictCode::Revoked)
        }
    );
}

#[tokio::test]
async fn revoked_license_with_cached_token_ends_with_lease_and_grace_offline() {
    let mut server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let client = server.builder().data_dir(dir.path()).build().unwrap();
    client.start().await;
    client.shutdown().await;
    // Revoked on the server, but this deployment cannot reach it any more.
    server
        .fake
        .set_verify(|f, req| Reply::token(f.sign(&f.revoked_claims(req))));
    server.stop();
    let clock = server.fake.clock.clone();
    let offline = server.builder().data_dir(dir.path()).build().unwrap();
    offline.start().await;
    assert!(matches!(offline.state(), LicenseState::Licensed { .. }));
    clock.set(T0 + LEASE);
    assert!(matches!(offline.state(), LicenseState::Grace { .. }));
    clock.set(T0 + LEASE + GRACE);
    assert_eq!(
        offline.state(),
        LicenseState::Unlicensed {
            code: UnlicensedCode::GraceEnded
        }
    );
    offline.shutdown().await;
}

#[tokio::test]
async fn server_down_licensed_through_lease_then_grace_then_unlicensed() {
    let mut server = FakeServer::start().await;
    let client = server.builder().build().unwrap();
    client.start().await;
    server.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let clock = server.fake.clock.clone();

    clock.set(T0 + LEASE - 1);
    assert!(matches!(
        client.refresh_now().await,
        Err(CallError::Unreachable(_))
    ));
    assert!(matches!(client.state(), LicenseState::Licensed { .. }));
    clock.set(T0 + LEASE);
    match client.state() {
        LicenseState::Grace {
            until, features, ..
        } => {
            assert_eq!(until.timestamp(), T0 + LEASE + GRACE);
            assert!(features.contains(&"crypto".to_owned()));
        }
        other => panic!("expected Grace, got {other:?}"),
    }
    assert!(client.allows("crypto"));
    clock.set(T0 + LEASE + GRACE);
    assert_eq!(
        client.state(),
        LicenseState::Unlicensed {
            code: UnlicensedCode::GraceEnded
        }
    );
    assert!(!client.allows("crypto"));
    client.shutdown().await;
}

#[tokio::test]
async fn a_server_that_never_answers_does_not_block_startup_or_reads() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let client = calos_client::Client::builder()
        .server(&format!("http://{addr}"))
        .install_id(INSTALL)
        .license_key("k")
        .startup_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    client.start().await;
    assert!(started.elapsed() < Duration::from_secs(2), "start blocked");
    let read = Instant::now();
    for _ in 0..1000 {
        assert!(!client.state().is_licensed());
    }
    assert!(read.elapsed() < Duration::from_secs(1), "state() blocked");
    hold.abort();
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = FakeServer::start().await;
    server.fake.set_verify(|_, _| {
        let mut r = Reply::json(
            429,
            serde_json::json!({"error":{"code":"RATE_LIMITED","message":"slow down"}}),
        );
        r.headers.push(("retry-after", "2".into()));
        r
    });
    let client = server.builder().build().unwrap();
    client.start().await;
    // The backoff base is 50 ms: without Retry-After there would be several
    // attempts in this window.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(server.fake.verify_count(), 1);
    let next = client.diagnostics().next_refresh_in.unwrap();
    assert!(next >= Duration::from_secs(2), "{next:?}");
    assert!(matches!(
        client.refresh_now().await,
        Err(CallError::RateLimited {
            retry_after: Some(d)
        }) if d == Duration::from_secs(2)
    ));
    client.shutdown().await;
}

#[tokio::test]
async fn failures_back_off_without_speeding_up() {
    let server = FakeServer::start().await;
    server.fake.set_verify(|_, _| {
        Reply::json(
            503,
            serde_json::json!({"error":{"code":"UNAVAILABLE","message":"down"}}),
        )
    });
    let client = server.builder().build().unwrap();
    client.start().await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        let before = server.fake.verify_count();
        assert!(
            crate::wait_until(Duration::from_secs(5), || server.fake.verify_count()
                > before)
            .await
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
        seen.push(client.diagnostics().next_refresh_in.unwrap());
    }
    assert!(seen.windows(2).all(|w| w[1] >= w[0]), "{seen:?}");
    assert!(client.diagnostics().consecutive_failures >= 4);
    client.shutdown().await;
}
