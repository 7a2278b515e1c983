//! Clock skew and a clock set back.

use calos_client::{LicenseState, SKEW_TOLERANCE_SECS};

use crate::fake::{FakeServer, Reply, LEASE, T0};

#[tokio::test]
async fn clock_moved_back_extends_nothing() {
    let mut server = FakeServer::start().await;
    let client = server.builder().build().unwrap();
    client.start().await;
    server.stop();
    let clock = server.fake.clock.clone();
    clock.set(T0 + LEASE + 10);
    assert!(matches!(client.state(), LicenseState::Grace { .. }));
    // Set back into the lease: still in grace, and reported.
    clock.set(T0 + 60);
    assert!(matches!(client.state(), LicenseState::Grace { .. }));
    let back = client.diagnostics().clock_moved_back_secs.unwrap();
    assert!(back >= LEASE - 60, "{back}");
    client.shutdown().await;
}

#[tokio::test]
async fn clock_set_back_before_a_restart_does_not_stretch_the_lease() {
    let mut server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let first = server.builder().data_dir(dir.path()).build().unwrap();
    first.start().await;
    first.shutdown().await;
    server.stop();
    // The clock-watermark file is removed too: the signed iat is the floor.
    std::fs::remove_file(dir.path().join("clock-watermark")).unwrap();
    let clock = server.fake.clock.clone();
    clock.set(T0 - 30 * 24 * 3600);
    let again = server.builder().data_dir(dir.path()).build().unwrap();
    assert!(again.state().is_licensed());
    // A lease's worth of local time later, the lease is over, although
    // the local clock is still far before the token's exp.
    clock.advance(LEASE);
    assert!(matches!(again.state(), LicenseState::Grace { .. }));
    assert!(again.diagnostics().clock_moved_back_secs.is_some());
}

#[tokio::test]
async fn clock_skew_beyond_tolerance_is_reported() {
    let server = FakeServer::start().await;
    server.fake.set_verify(|f, req| {
        let mut claims = f.valid_claims(req);
        // The server's clock is ten minutes ahead of ours.
        claims.iat += 600;
        Reply::token(f.sign(&claims))
    });
    let client = server.builder().build().unwrap();
    client.refresh_now().await.unwrap();
    assert!(client.state().is_licensed());
    assert_eq!(client.diagnostics().clock_skew_secs, Some(-600));
}

#[tokio::test]
async fn clock_skew_within_tolerance_is_not_reported() {
    let server = FakeServer::start().await;
    server.fake.set_verify(|f, req| {
        let mut claims = f.valid_claims(req);
        claims.iat -= SKEW_TOLERANCE_SECS - 10;
        Reply::token(f.sign(&claims))
    });
    let client = server.builder().build().unwrap();
    client.refresh_now().await.unwrap();
    assert!(client.state().is_licensed());
    assert_eq!(client.diagnostics().clock_skew_secs, None);
}
