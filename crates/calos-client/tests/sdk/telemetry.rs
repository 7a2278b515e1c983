//! Telemetry: bounded queue, batching, idempotent retries, persistence.

use std::collections::HashSet;
use std::time::Duration;

use calos_client::{Event, EventType};
use serde_json::Value;

use crate::fake::{FakeServer, INSTALL, KEY};
use crate::wait_until;

fn ids_of(body: &Value) -> Vec<String> {
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap().to_owned())
        .collect()
}

fn all_ids(server: &FakeServer) -> Vec<String> {
    server
        .fake
        .telemetry_bodies
        .lock()
        .unwrap()
        .iter()
        .flat_map(ids_of)
        .collect()
}

#[tokio::test]
async fn queue_is_bounded_and_drops_the_oldest_with_a_counter() {
    let server = FakeServer::start().await;
    let client = server
        .builder()
        .telemetry_queue_capacity(5)
        .build()
        .unwrap();
    for i in 0..12 {
        client.track(Event::feature_used("pos").prop("i", i));
    }
    let d = client.diagnostics().telemetry;
    assert_eq!(d.queued, 5);
    assert_eq!(d.dropped, 7);
    client.start().await;
    client.shutdown().await;
    let bodies = server.fake.telemetry_bodies.lock().unwrap().clone();
    let sent: Vec<i64> = bodies
        .iter()
        .flat_map(|b| b["events"].as_array().unwrap().clone())
        .map(|e| e["props"]["i"].as_i64().unwrap())
        .collect();
    assert_eq!(sent, vec![7, 8, 9, 10, 11], "the newest five survive");
}

#[tokio::test]
async fn events_are_sent_in_batches_of_at_most_the_batch_size() {
    let server = FakeServer::start().await;
    let client = server.builder().telemetry_batch_size(10).build().unwrap();
    client.start().await;
    for _ in 0..25 {
        client.track(Event::new(EventType::PageView).endpoint("/home"));
    }
    client.shutdown().await;
    let bodies = server.fake.telemetry_bodies.lock().unwrap().clone();
    assert!(bodies
        .iter()
        .all(|b| b["events"].as_array().unwrap().len() <= 10));
    assert_eq!(bodies[0]["installId"], INSTALL);
    assert_eq!(bodies[0]["licenseKey"], KEY);
    let ids = all_ids(&server);
    assert_eq!(ids.len(), 25);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        25,
        "unique eventIds"
    );
    for id in &ids {
        let uuid = uuid::Uuid::parse_str(id).unwrap();
        assert_eq!(uuid.get_version_num(), 4);
    }
    let first = &bodies[0]["events"][0];
    assert_eq!(first["type"], "page_view");
    assert!(first["ts"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn full_batch_is_sent_before_the_flush_interval() {
    let server = FakeServer::start().await;
    let client = server
        .builder()
        .telemetry_batch_size(5)
        .telemetry_flush_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    client.start().await;
    for _ in 0..5 {
        client.track(Event::feature_used("crypto"));
    }
    assert!(wait_until(Duration::from_secs(5), || all_ids(&server).len() == 5).await);
    client.shutdown().await;
}

#[tokio::test]
async fn failed_post_is_retried_with_the_same_event_ids() {
    let server = FakeServer::start().await;
    server
        .fake
        .telemetry_script
        .lock()
        .unwrap()
        .push_back((500, None));
    let client = server
        .builder()
        .telemetry_flush_interval(Duration::from_millis(50))
        .build()
        .unwrap();
    client.start().await;
    for _ in 0..3 {
        client.track(Event::feature_used("reports"));
    }
    assert!(
        wait_until(Duration::from_secs(5), || server
            .fake
            .telemetry_bodies
            .lock()
            .unwrap()
            .len()
            >= 2)
        .await
    );
    let bodies = server.fake.telemetry_bodies.lock().unwrap().clone();
    assert_eq!(ids_of(&bodies[0]).len(), 3);
    assert_eq!(ids_of(&bodies[0]), ids_of(&bodies[1]));
    client.shutdown().await;
    let stats = client.diagnostics().telemetry;
    assert_eq!(stats.sent, 3);
    assert_eq!(stats.failed_posts, 1);
}

#[tokio::test]
async fn telemetry_retry_after_is_honoured() {
    let server = FakeServer::start().await;
    server
        .fake
        .telemetry_script
        .lock()
        .unwrap()
        .push_back((429, Some(3)));
    let client = server
        .builder()
        .telemetry_flush_interval(Duration::from_millis(50))
        .shutdown_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    client.start().await;
    client.track(Event::feature_used("pos"));
    assert!(
        wait_until(Duration::from_secs(5), || client
            .diagnostics()
            .telemetry
            .next_retry_in
            .is_some())
        .await
    );
    assert!(client.diagnostics().telemetry.next_retry_in.unwrap() >= Duration::from_secs(3));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.fake.telemetry_bodies.lock().unwrap().len(), 1);
    client.shutdown().await;
}

#[tokio::test]
async fn refused_credentials_drop_the_batch_instead_of_retrying_forever() {
    let server = FakeServer::start().await;
    server
        .fake
        .telemetry_script
        .lock()
        .unwrap()
        .push_back((401, None));
    let client = server.builder().build().unwrap();
    client.start().await;
    for _ in 0..3 {
        client.track(Event::feature_used("pos"));
    }
    client.shutdown().await;
    assert_eq!(server.fake.telemetry_bodies.lock().unwrap().len(), 1);
    assert_eq!(client.diagnostics().telemetry.rejected, 3);
}

#[tokio::test]
async fn unsent_events_are_saved_at_shutdown_and_sent_after_restart() {
    let mut down = FakeServer::start().await;
    down.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let dir = tempfile::tempdir().unwrap();
    let client = down
        .builder()
        .data_dir(dir.path())
        .startup_timeout(Duration::from_millis(200))
        .shutdown_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    client.start().await;
    let user = client.hash_user("alice@example.com");
    for i in 0..4 {
        client.track(Event::feature_used("crypto").user(&user).prop("i", i));
    }
    client.shutdown().await;
    let saved = std::fs::read_to_string(dir.path().join("telemetry-queue.json")).unwrap();
    assert!(!saved.contains("alice"), "raw user ids never stored");

    let up = FakeServer::start().await;
    let again = up.builder().data_dir(dir.path()).build().unwrap();
    assert_eq!(again.diagnostics().telemetry.queued, 4);
    again.start().await;
    again.shutdown().await;
    let ids = all_ids(&up);
    assert_eq!(ids.len(), 4);
    let saved: Vec<Value> = serde_json::from_str(&saved).unwrap();
    let saved_ids: Vec<String> = saved
        .iter()
        .map(|e| e["eventId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, saved_ids, "same eventIds: the server counts them once");
    assert!(!dir.path().join("telemetry-queue.json").exists());
}

#[tokio::test]
async fn user_ids_are_hashed_per_install() {
    let server = FakeServer::start().await;
    let a = server.builder().build().unwrap();
    let same_install = server.builder().build().unwrap();
    let other_install = server
        .builder()
        .install_id("other-install")
        .build()
        .unwrap();
    let h = a.hash_user("Alice@Example.com");
    assert_eq!(h, a.hash_user("  alice@example.com "));
    assert_eq!(
        h,
        same_install.hash_user("alice@example.com"),
        "stable across instances"
    );
    assert_ne!(h, other_install.hash_user("alice@example.com"));
    assert_ne!(h, a.hash_user("bob@example.com"));
    assert!(!h.as_str().contains("alice"));
    assert_eq!(h.as_str().len(), 2 + 32);
}
