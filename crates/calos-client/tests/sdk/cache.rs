//! The disk cache: the signed token itself, re-verified on load.

use std::time::Duration;

use calos_client::{LicenseState, UnlicensedCode};

use crate::fake::{FakeServer, LEASE, T0};

#[tokio::test]
async fn restart_while_offline_uses_the_cached_token() {
    let mut server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let first = server.builder().data_dir(dir.path()).build().unwrap();
    first.start().await;
    first.shutdown().await;
    server.stop();

    let again = server
        .builder()
        .data_dir(dir.path())
        .startup_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    // Licensed from the cache before any network call.
    assert!(matches!(again.state(), LicenseState::Licensed { .. }));
    again.start().await;
    match again.state() {
        LicenseState::Licensed { tier, expires, .. } => {
            assert_eq!(tier, "pro");
            assert_eq!(expires.timestamp(), T0 + LEASE);
        }
        other => panic!("expected Licensed, got {other:?}"),
    }
    assert!(again.allows("crypto"));
    again.shutdown().await;
}

#[tokio::test]
async fn hand_edited_cache_is_rejected() {
    let mut server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let first = server.builder().data_dir(dir.path()).build().unwrap();
    first.start().await;
    first.shutdown().await;
    server.stop();

    let path = dir.path().join("license.jws");
    let token = std::fs::read_to_string(&path).unwrap();
    assert_eq!(token.split('.').count(), 3, "the cache is the compact JWS");
    let edited = crate::edit_payload(&token, |p| {
        p["tier"] = "enterprise".into();
        p["exp"] = (T0 + 100 * LEASE).into();
    });
    std::fs::write(&path, edited).unwrap();

    let again = server.builder().data_dir(dir.path()).build().unwrap();
    assert_eq!(
        again.state(),
        LicenseState::Unlicensed {
            code: UnlicensedCode::NotVerified
        }
    );
    assert!(again
        .diagnostics()
        .last_error
        .unwrap()
        .contains("cached token rejected"));
}

#[tokio::test]
async fn cache_replaced_by_plain_json_is_rejected() {
    let server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("license.jws"),
        r#"{"valid":true,"tier":"enterprise","exp":9999999999}"#,
    )
    .unwrap();
    let client = server.builder().data_dir(dir.path()).build().unwrap();
    assert!(!client.state().is_licensed());
}

#[cfg(unix)]
#[tokio::test]
async fn cache_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let client = server.builder().data_dir(dir.path()).build().unwrap();
    client.start().await;
    client.shutdown().await;
    for name in ["license.jws", "instance-id", "clock-watermark"] {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
    // No temp files left behind by the atomic writes.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[tokio::test]
async fn fetched_jwks_is_cached_for_an_offline_restart() {
    let mut server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let first = server
        .builder_unpinned()
        .data_dir(dir.path())
        .build()
        .unwrap();
    first.start().await;
    first.shutdown().await;
    server.stop();
    let again = server
        .builder_unpinned()
        .data_dir(dir.path())
        .build()
        .unwrap();
    assert!(again.state().is_licensed());
}
