//! A map from paths, for a transaction's reads and pending changes: most
//! operations touch a handful of paths, for which a short inline list beats
//! a tree's allocations (without it `hbstore-bench --only 1,3`'s write rows
//! lose several percent); a large batch touches many, and the map moves to a
//! `BTreeMap`.

use std::collections::BTreeMap;
use std::ops::Bound;

use smallvec::SmallVec;

const FEW: usize = 8;

pub(crate) struct SmallMap<V> {
    /// Inline up to `FEW` entries, so that a map of that size never
    /// allocates for its list.
    few: SmallVec<[(String, V); FEW]>,
    many: BTreeMap<String, V>,
}

impl<V> Default for SmallMap<V> {
    fn default() -> Self {
        SmallMap {
            few: SmallVec::new(),
            many: BTreeMap::new(),
        }
    }
}

impl<V> SmallMap<V> {
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        if self.many.is_empty() {
            self.few.iter().find(|(k, _)| k == key).map(|(_, v)| v)
        } else {
            self.many.get(key)
        }
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`, replacing what it held.
    pub(crate) fn insert(&mut self, key: String, value: V) {
        if self.many.is_empty() {
            if let Some(slot) = self.few.iter_mut().find(|(k, _)| *k == key) {
                slot.1 = value;
                return;
            }
            if self.few.len() < FEW {
                self.few.push((key, value));
                return;
            }
            self.many.extend(self.few.drain(..));
        }
        self.many.insert(key, value);
    }

    pub(crate) fn len(&self) -> usize {
        self.few.len() + self.many.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.few
            .iter()
            .map(|(k, v)| (k.as_str(), v))
            .chain(self.many.iter().map(|(k, v)| (k.as_str(), v)))
    }

    /// The entries whose key starts with `prefix`.
    pub(crate) fn with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a V)> {
        let few = self.few.iter().filter(move |(k, _)| k.starts_with(prefix));
        let many = self
            .many
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(move |(k, _)| k.starts_with(prefix));
        few.map(|(k, v)| (k.as_str(), v))
            .chain(many.map(|(k, v)| (k.as_str(), v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_map_below_and_above_the_inline_size() {
        let mut map = SmallMap::default();
        for i in 0..20 {
            map.insert(format!("g/{i:02}"), i);
            map.insert(format!("g/{i:02}"), i * 10);
            assert_eq!(map.len(), i + 1);
            assert_eq!(map.get(&format!("g/{i:02}")), Some(&(i * 10)));
            assert_eq!(map.with_prefix("g/").count(), i + 1);
        }
        map.insert("h".into(), 1);
        assert_eq!(map.with_prefix("g/1").count(), 10);
        assert!(map.contains_key("h") && !map.contains_key("g"));
        assert_eq!(map.iter().count(), 21);
    }
}
