//! Two server processes on one PostgreSQL database: a revoke made through
//! one reaches the other's license cache through LISTEN/NOTIFY. Node 1 is
//! the in-process test app; node 2 is the built `calos` binary.

use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::json;

use calos_core::verdict::VerdictCode;

use crate::binary;
use crate::helpers::{run_on, Backend, TestApp};
use crate::verify_support::{new_install, request, verify_ok};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_through_one_process_reaches_another_process() {
    run_on(Backend::Postgres, |app| Box::pin(two_processes(app))).await;
}

async fn two_processes(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let mut node2 = binary::calos(dir.path(), "node two password");
    node2
        .env("DATABASE_URL", &app.state.config.database_url)
        // The same master key as node 1, as every node of one deployment must have.
        .env(
            "CALOS_MASTER_KEY",
            base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
        );
    let (mut server, node2_base) = binary::serve(node2, Stdio::null()).await;

    let i = new_install(app, "enterprise", json!({ "trialDays": 0 })).await;
    // Let the creation's own notification pass before node 2 caches the license.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = verify_ok(&node2_base, &request(&i, "node-2", None)).await;
    assert_eq!(before.code, VerdictCode::Valid);

    let admin = app.admin().await;
    let r = admin
        .post(
            "/api/enterprise/revoke-license",
            &json!({ "installId": i.install_id, "reason": "two-process test" }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);

    // Far below the cache TTL (5 minutes), which would otherwise be the bound.
    let start = Instant::now();
    loop {
        let c = verify_ok(&node2_base, &request(&i, "node-2", None)).await;
        if c.code == VerdictCode::Revoked {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "node 2 still says {:?}",
            c.code
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.start_kill().unwrap();
    let _ = server.wait().await;
}
