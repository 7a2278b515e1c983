//! The instances of one install, by key (see `installs::instance_key`): the
//! first one held inline, any others in a table of their own.
//!
//! Why: nearly every install runs one deployment, and its record is read on
//! every verify. Held inline, that instance sits in the record's own memory,
//! so a verify follows no pointer to a separate table (with 10,000 installs,
//! one more line the CPU has not cached). The keys are already keyed SipHash
//! outputs, unpredictable from outside and uniform, so the table uses them as
//! their own hashes instead of hashing them again.

use hashbrown::HashTable;

#[derive(Debug)]
pub struct InstanceTable<T> {
    first: Option<(u64, T)>,
    more: HashTable<(u64, T)>,
}

impl<T> Default for InstanceTable<T> {
    fn default() -> Self {
        Self {
            first: None,
            more: HashTable::new(),
        }
    }
}

impl<T> InstanceTable<T> {
    pub fn get_mut(&mut self, key: u64) -> Option<&mut T> {
        match &mut self.first {
            Some((k, value)) if *k == key => Some(value),
            _ => self
                .more
                .find_mut(key, |(k, _)| *k == key)
                .map(|(_, value)| value),
        }
    }

    /// Puts `value` under `key`, which the table does not hold (the
    /// caller has just asked [`Self::get_mut`]), and returns it: inline when
    /// that slot is free, else in the table.
    pub fn insert_new(&mut self, key: u64, value: T) -> &mut T {
        match &mut self.first {
            slot @ None => &mut slot.insert((key, value)).1,
            Some(_) => {
                &mut self
                    .more
                    .insert_unique(key, (key, value), |(k, _)| *k)
                    .into_mut()
                    .1
            }
        }
    }

    /// Keeps the values `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        if self.first.as_ref().is_some_and(|(_, value)| !keep(value)) {
            self.first = None;
        }
        self.more.retain(|(_, value)| keep(value));
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.first
            .iter()
            .chain(self.more.iter())
            .map(|(_, value)| value)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.more.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_inserts_inline_first_then_in_the_table() {
        let mut table = InstanceTable::default();
        assert_eq!(table.get_mut(1), None);
        assert_eq!(*table.insert_new(1, "a"), "a");
        assert_eq!(*table.insert_new(2, "b"), "b");
        assert_eq!(*table.insert_new(3, "c"), "c");
        assert_eq!(table.get_mut(1), Some(&mut "a"), "inline");
        assert_eq!(table.get_mut(2), Some(&mut "b"), "in the table");
        assert_eq!(table.get_mut(4), None);
        assert_eq!(table.len(), 3);
        *table.get_mut(3).unwrap() = "C";
        let mut values: Vec<&str> = table.values().copied().collect();
        values.sort();
        assert_eq!(values, ["C", "a", "b"]);
    }

    #[test]
    fn retain_drops_inline_and_table_values_and_the_slot_is_reused() {
        let mut table = InstanceTable::default();
        for (key, value) in [(10, 1), (20, 2), (30, 3), (40, 4)] {
            table.insert_new(key, value);
        }
        table.retain(|v| v % 2 == 0);
        assert_eq!(table.len(), 2);
        assert_eq!(table.get_mut(10), None, "the inline one went");
        assert_eq!(table.get_mut(20), Some(&mut 2));
        assert_eq!(table.get_mut(40), Some(&mut 4));
        // The free inline slot takes the next new key.
        assert_eq!(*table.insert_new(50, 5), 5);
        assert_eq!(table.len(), 3);
        assert_eq!(table.get_mut(50), Some(&mut 5));
        table.retain(|_| false);
        assert_eq!(table.len(), 0);
        assert_eq!(table.values().count(), 0);
    }
}
