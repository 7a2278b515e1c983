//! The license cache's table: entries found by install id, where the id is
//! the one the entry already holds (the cached license's own, or the
//! remembered unknown id) rather than a copy of it as a separate map key.
//!
//! Why: a `HashMap<String, _>` compares the asked id with its key's text,
//! which lives in an allocation of its own, so every verify followed one
//! more pointer into memory the CPU had not cached (10,000 installs do not
//! fit its caches). The license's id is text the verdict's claims read
//! anyway, so comparing against it costs no extra miss.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Instant;

use hashbrown::hash_table::{Entry as TableEntry, HashTable};

use super::cache::CachedLicense;

/// What the cache knows about one install id.
pub enum Slot {
    Known(Arc<CachedLicense>),
    /// No such install (or its plan is gone): remembered so probing random
    /// ids neither reaches the database nor answers faster than a wrong key.
    Missing(Box<str>),
}

pub struct Entry {
    pub slot: Slot,
    pub loaded: Instant,
}

impl Entry {
    fn install_id(&self) -> &str {
        match &self.slot {
            Slot::Known(cached) => cached.license.install_id.as_str(),
            Slot::Missing(id) => id,
        }
    }
}

/// Entries by install id.
pub struct Entries {
    table: HashTable<Entry>,
    /// SipHash with keys chosen per process, as `HashMap`'s default: the
    /// ids come from requests, so their hashes must not be predictable.
    hasher: RandomState,
}

impl Default for Entries {
    fn default() -> Self {
        Self {
            table: HashTable::new(),
            hasher: RandomState::new(),
        }
    }
}

impl Entries {
    pub fn get(&self, install_id: &str) -> Option<&Entry> {
        let hash = self.hasher.hash_one(install_id);
        self.table.find(hash, |e| e.install_id() == install_id)
    }

    /// Puts `entry` in, replacing what the table held for its install id.
    pub fn insert(&mut self, entry: Entry) {
        let hasher = &self.hasher;
        let hash = hasher.hash_one(entry.install_id());
        let found = self.table.entry(
            hash,
            |e| e.install_id() == entry.install_id(),
            |e| hasher.hash_one(e.install_id()),
        );
        match found {
            TableEntry::Occupied(mut held) => *held.get_mut() = entry,
            TableEntry::Vacant(free) => {
                free.insert(entry);
            }
        }
    }

    pub fn remove(&mut self, install_id: &str) {
        let hash = self.hasher.hash_one(install_id);
        if let Ok(held) = self
            .table
            .find_entry(hash, |e| e.install_id() == install_id)
        {
            held.remove();
        }
    }

    pub fn retain(&mut self, keep: impl FnMut(&mut Entry) -> bool) {
        self.table.retain(keep);
    }

    pub fn clear(&mut self) {
        self.table.clear();
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing(id: &str) -> Entry {
        Entry {
            slot: Slot::Missing(id.into()),
            loaded: Instant::now(),
        }
    }

    #[test]
    fn entries_are_found_replaced_and_removed_by_their_own_id() {
        let mut entries = Entries::default();
        entries.insert(missing("install-aaaaaaaa"));
        entries.insert(missing("install-bbbbbbbb"));
        assert_eq!(entries.len(), 2);
        assert!(entries.get("install-aaaaaaaa").is_some());
        assert!(entries.get("install-cccccccc").is_none());

        let first = entries.get("install-aaaaaaaa").map(|e| e.loaded);
        entries.insert(missing("install-aaaaaaaa"));
        assert_eq!(entries.len(), 2, "the same id replaces, not adds");
        assert_ne!(entries.get("install-aaaaaaaa").map(|e| e.loaded), None);
        assert!(entries.get("install-aaaaaaaa").map(|e| e.loaded) >= first);

        entries.remove("install-aaaaaaaa");
        entries.remove("install-never-there");
        assert!(entries.get("install-aaaaaaaa").is_none());
        assert_eq!(entries.len(), 1);

        entries.retain(|e| e.install_id() != "install-bbbbbbbb");
        assert_eq!(entries.len(), 0);
    }
}
