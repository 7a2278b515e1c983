//! The audit log's hash chain: each record stores the hash of the record
//! before it (`prev_hash`) and its own `hash` = SHA-256 over that previous
//! hash and the record's canonical JSON. Changing, removing, inserting or
//! reordering a past record breaks every link after it, which
//! [`ChainVerifier`] finds. (Cutting records off the end leaves a shorter
//! valid chain: keep the reported head hash elsewhere to detect that.)

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::AuditEntry;

/// The `prev_hash` of the first chained record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A stored audit record with its chain links, oldest first when walking.
/// Records written before the chain existed have neither link.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainedRecord {
    pub id: i64,
    pub entry: AuditEntry,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// The record's fields as JSON with object keys sorted at every level and the
/// time as integer microseconds (what both stores keep), so the same record
/// read back from either backend hashes the same.
pub fn canonical_json(entry: &AuditEntry) -> String {
    let value = json!({
        "at": entry.at.timestamp_micros(),
        "actor": entry.actor,
        "action": entry.action,
        "targetType": entry.target_type,
        "targetId": entry.target_id,
        "before": entry.before,
        "after": entry.after,
        "ip": entry.ip,
    });
    let mut out = String::new();
    write_sorted(&value, &mut out);
    out
}

fn write_sorted(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_sorted(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(item, out);
            }
            out.push(']');
        }
        scalar => {
            let _ = write!(out, "{scalar}");
        }
    }
}

/// The hash of `entry` appended after a record whose hash is `prev_hash`
/// (lower-case hex, 64 characters).
pub fn link_hash(prev_hash: &str, entry: &AuditEntry) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_json(entry).as_bytes());
    hex::encode(hasher.finalize())
}

/// Where and why the chain is broken.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainBreak {
    pub id: i64,
    pub reason: String,
}

/// What a walk over an intact chain found.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainReport {
    /// Records whose links were checked.
    pub checked: u64,
    /// Records from before the chain existed (only ever before the first chained one).
    pub unchained: u64,
    /// The last record's hash: keep it to detect records cut off the end later.
    pub head: Option<String>,
}

/// Checks records one by one, oldest first.
#[derive(Debug, Default)]
pub struct ChainVerifier {
    report: ChainReport,
}

impl ChainVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next record; the first broken one is an error.
    pub fn push(&mut self, record: &ChainedRecord) -> Result<(), ChainBreak> {
        let broken = |reason: &str| ChainBreak {
            id: record.id,
            reason: reason.to_owned(),
        };
        let Some(hash) = &record.hash else {
            if self.report.head.is_some() {
                return Err(broken("record has no hash after the chain began"));
            }
            self.report.unchained += 1;
            return Ok(());
        };
        let expected_prev = self.report.head.as_deref().unwrap_or(GENESIS);
        if record.prev_hash.as_deref() != Some(expected_prev) {
            return Err(broken(
                "prev_hash does not match the previous record's hash \
                 (a record was removed, inserted or reordered)",
            ));
        }
        if link_hash(expected_prev, &record.entry) != *hash {
            return Err(broken(
                "contents do not match the record's hash (the record was changed)",
            ));
        }
        self.report.checked += 1;
        self.report.head = Some(hash.clone());
        Ok(())
    }

    pub fn finish(self) -> ChainReport {
        self.report
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::audit::Actor;

    fn entry(action: &str) -> AuditEntry {
        AuditEntry {
            at: Utc.timestamp_micros(1_700_000_000_123_456).unwrap(),
            actor: Actor::Admin {
                id: 1,
                username: "alice".into(),
            },
            action: action.into(),
            target_type: "license".into(),
            target_id: "inst-1".into(),
            before: Some(json!({ "b": 1, "a": { "z": true, "y": [2, 1] } })),
            after: None,
            ip: Some("10.0.0.1".into()),
        }
    }

    fn chain(actions: &[&str]) -> Vec<ChainedRecord> {
        let mut prev = GENESIS.to_owned();
        actions
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let e = entry(a);
                let hash = link_hash(&prev, &e);
                let rec = ChainedRecord {
                    id: i as i64 + 1,
                    entry: e,
                    prev_hash: Some(prev.clone()),
                    hash: Some(hash.clone()),
                };
                prev = hash;
                rec
            })
            .collect()
    }

    fn verify(records: &[ChainedRecord]) -> Result<ChainReport, ChainBreak> {
        let mut v = ChainVerifier::new();
        for r in records {
            v.push(r)?;
        }
        Ok(v.finish())
    }

    #[test]
    fn canonical_json_sorts_keys_and_keeps_microseconds() {
        let c = canonical_json(&entry("x"));
        assert!(c.starts_with(r#"{"action":"x","actor":{"id":1,"kind":"admin","username":"alice"},"after":null,"at":1700000000123456,"before":{"a":{"y":[2,1],"z":true},"b":1}"#), "{c}");
        let mut nanos = entry("x");
        nanos.at += chrono::Duration::nanoseconds(999);
        assert_eq!(canonical_json(&nanos), c);
    }

    #[test]
    fn an_intact_chain_verifies() {
        let report = verify(&chain(&["a", "b", "c"])).unwrap();
        assert_eq!(report.checked, 3);
        assert_eq!(report.head.as_deref().map(str::len), Some(64));
    }

    #[test]
    fn a_changed_record_is_found() {
        let mut records = chain(&["a", "b", "c"]);
        records[1].entry.target_id = "inst-2".into();
        let broken = verify(&records).unwrap_err();
        assert_eq!(broken.id, 2);
        assert!(broken.reason.contains("changed"), "{}", broken.reason);
    }

    #[test]
    fn a_removed_record_is_found() {
        let mut records = chain(&["a", "b", "c"]);
        records.remove(1);
        assert_eq!(verify(&records).unwrap_err().id, 3);
    }

    #[test]
    fn legacy_records_only_before_the_chain() {
        let mut records = chain(&["a", "b"]);
        let legacy = ChainedRecord {
            id: 0,
            entry: entry("old"),
            prev_hash: None,
            hash: None,
        };
        records.insert(0, legacy.clone());
        assert_eq!(verify(&records).unwrap().unchained, 1);
        records.push(ChainedRecord { id: 9, ..legacy });
        assert_eq!(verify(&records).unwrap_err().id, 9);
    }

    #[test]
    fn a_stripped_prefix_is_found() {
        let mut records = chain(&["a", "b"]);
        records[0].prev_hash = None;
        records[0].hash = None;
        assert_eq!(verify(&records).unwrap_err().id, 2);
    }
}
