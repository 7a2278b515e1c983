//! `kill -9` of the `calos` binary while webhooks are in flight, then a
//! restart on the same database: every notification reaches the receiver
//! at least once, and exactly once after dropping repeats by the
//! `X-Calos-Delivery` idempotency key. On SQLite and on PostgreSQL: the
//! `both_backends_configured!` machinery makes (and drops) the throwaway
//! database; its in-process server is kept idle (workers once an hour) and
//! only the `calos` processes deliver.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;

use crate::binary::{calos, login, serve};
use crate::helpers::{TestApp, ADMIN_PASSWORD};
use crate::notify_support::{deliveries, eventually, Receiver};

/// The in-process server only provides the database: its notification
/// workers run once at start (nothing is due yet), then not for an hour.
fn idle(config: &mut calos_server::config::Config) {
    let hour = Duration::from_secs(3600);
    config.notify.scan_interval = hour;
    config.notify.insight_interval = hour;
    config.notify.deliver_interval = hour;
}

/// `calos` on the test's database, with its master key (the database's
/// keys are sealed with it).
fn command(dir: &std::path::Path, app: &TestApp) -> tokio::process::Command {
    let mut cmd = calos(dir, ADMIN_PASSWORD);
    if let Some(key) = &app.state.config.master_key {
        cmd.env("CALOS_MASTER_KEY", key.expose());
    }
    cmd.env("DATABASE_URL", &app.state.config.database_url)
        .env("CALOS_NOTIFY_DELIVER_INTERVAL_SECS", "1")
        .env("CALOS_NOTIFY_TIMEOUT_SECS", "3")
        .env("CALOS_NOTIFY_RETRY_BASE_SECS", "1");
    cmd
}

async fn kill_mid_delivery_then_restart_delivers_every_notification(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start().await;
    // Slow enough that the kill lands while requests are in flight.
    rx.delay_ms.store(1500, Ordering::SeqCst);

    let (mut server, base) = serve(command(dir.path(), app), Stdio::null()).await;
    let admin = login(&base).await;
    let r = admin
        .post(
            "/api/enterprise/webhooks",
            &json!({"url": rx.url, "allowPrivate": true}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    for n in 0..6 {
        let r = admin
            .post(
                "/api/enterprise/create-license",
                &json!({"customer": {"name": format!("Restart {n}"), "email": format!("r{n}@example.com")}, "tier": "pro"}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    }
    eventually("a webhook in flight", Duration::from_secs(30), || async {
        (!rx.received().is_empty()).then_some(())
    })
    .await;
    server.kill().await.unwrap(); // SIGKILL: no graceful anything
    let before_restart = rx.received().len();

    let (mut server, base) = serve(command(dir.path(), app), Stdio::null()).await;
    let admin = login(&base).await;
    // Claims of the killed process run out after their lease (2 × 3 s + 5 s).
    let sent = eventually(
        "every webhook delivery sent",
        Duration::from_secs(90),
        || async {
            let list = deliveries(&admin, "channel=webhook").await;
            (list.len() == 6 && list.iter().all(|d| d["status"] == "sent")).then_some(list)
        },
    )
    .await;
    server.kill().await.unwrap();

    let received = rx.received();
    let mut per_delivery: BTreeMap<String, usize> = BTreeMap::new();
    for r in &received {
        *per_delivery
            .entry(r.header("x-calos-delivery"))
            .or_default() += 1;
    }
    let expected: BTreeSet<String> = sent.iter().map(|d| d["id"].to_string()).collect();
    let got: BTreeSet<String> = per_delivery.keys().cloned().collect();
    assert_eq!(
        got, expected,
        "every delivery arrived; after dedupe each exactly once"
    );
    let events: BTreeSet<String> = received
        .iter()
        .map(|r| r.json()["id"].to_string())
        .collect();
    assert_eq!(events.len(), 6, "six distinct notifications");
    assert!(before_restart >= 1);
    assert!(
        received.len() > 6,
        "the requests cut off by the kill were delivered again ({} requests for 6 deliveries)",
        received.len()
    );
}

crate::both_backends_configured!(idle;
    kill_mid_delivery_then_restart_delivers_every_notification,
);
