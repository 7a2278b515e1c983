//! The disk-full tests' common course (`faults_disk_full` on SQLite,
//! `faults_pg_disk_full` on PostgreSQL): store a few batches, fill the
//! volume, post batches until one is refused with 507, and later, once space
//! is back, see ingest resume. Each test adds its own backend's checks
//! between those steps.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::faults_support::{
    assert_rollups_equal_raw, fill, flood_batch, log_tail, post_telemetry, stored_ids, until,
    Creds, Volume,
};

/// Events per batch.
const BATCH: usize = 40;

/// A flood that has run the volume full.
pub struct Filled {
    /// Every event a 2xx acknowledged so far.
    pub acked: BTreeSet<String>,
    /// Bytes the filler file took.
    pub filler_bytes: u64,
    pub filler: PathBuf,
    /// The slowest answer while filling.
    pub slowest: Duration,
    /// Batches posted (numbers the next one).
    sent: usize,
}

/// Stores three batches, fills `volume`, then posts batches (at most
/// `max_batches`) until one is refused with 507. Any other answer fails the
/// test, with the server's log and `context()` (e.g. the database's log).
pub async fn ingest_until_full(
    base: &str,
    creds: &Creds,
    volume: &Volume,
    server_dir: &Path,
    max_batches: usize,
    context: impl Fn() -> String,
) -> Filled {
    let mut acked = BTreeSet::new();
    let mut sent = 0;
    for _ in 0..3 {
        let (ids, batch) = flood_batch(creds, 0, sent, BATCH);
        sent += 1;
        let (status, body, _) = post_telemetry(base, &batch).await;
        assert_eq!(status, 200, "{body}");
        acked.extend(ids);
    }
    let filler = volume.path.join("filler");
    let filler_bytes = fill(&filler);
    assert!(filler_bytes > 0);

    // The pages the database had already allocated take some batches first.
    let mut slowest = Duration::ZERO;
    for _ in 0..max_batches {
        let (ids, batch) = flood_batch(creds, 0, sent, BATCH);
        sent += 1;
        let (status, body, took) = post_telemetry(base, &batch).await;
        slowest = slowest.max(took);
        match status {
            200 => acked.extend(ids),
            507 => {
                assert_eq!(body["error"]["code"], "storage_full", "{body}");
                assert!(body["error"]["message"].is_string(), "{body}");
                return Filled {
                    acked,
                    filler_bytes,
                    filler,
                    slowest,
                    sent,
                };
            }
            other => panic!(
                "disk full answered {other}: {body}\n{}\n{}",
                log_tail(server_dir),
                context()
            ),
        }
    }
    panic!("never ran out of space\n{}", log_tail(server_dir));
}

impl Filled {
    /// Posts one more batch, which must be refused (507, promptly); returns
    /// its event ids and the batch for [`Self::recover`].
    pub async fn refused_again(&self, base: &str, creds: &Creds) -> (Vec<String>, Value) {
        let (ids, batch) = flood_batch(creds, 1, 0, BATCH);
        let (status, body, took) = post_telemetry(base, &batch).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (507, &Value::from("storage_full")),
            "{body}"
        );
        assert!(took < Duration::from_secs(5), "refused in {took:?}");
        (ids, batch)
    }

    /// Deletes the filler; the refused batch is then accepted (within 15 s,
    /// same server) and three more batches are stored.
    pub async fn recover(
        &mut self,
        base: &str,
        creds: &Creds,
        (refused_ids, refused): (Vec<String>, Value),
        server_dir: &Path,
    ) {
        std::fs::remove_file(&self.filler).unwrap();
        until("ingest works again", Duration::from_secs(15), || async {
            let (status, _, _) = post_telemetry(base, &refused).await;
            (status == 200).then_some(())
        })
        .await;
        self.acked.extend(refused_ids);
        for _ in 0..3 {
            let (ids, batch) = flood_batch(creds, 0, self.sent, BATCH);
            self.sent += 1;
            let (status, body, _) = post_telemetry(base, &batch).await;
            assert_eq!(status, 200, "{body}\n{}", log_tail(server_dir));
            self.acked.extend(ids);
        }
    }

    /// Once the server has stopped: exactly the acknowledged events are
    /// stored (nothing refused, nothing lost), and rollups equal the raw events.
    pub async fn assert_stored(&self, database_url: &str, creds: &Creds) {
        let store = calos_server::store::open_store(database_url).await.unwrap();
        let stored = stored_ids(store.as_ref(), &creds.id).await;
        assert_eq!(
            stored, self.acked,
            "exactly the acknowledged events are stored"
        );
        assert_rollups_equal_raw(store.as_ref(), &creds.id).await;
    }
}
