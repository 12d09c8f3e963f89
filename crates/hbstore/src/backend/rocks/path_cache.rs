//! A bounded cache of facts about paths, the building block of the
//! writers' caches (`cache.rs`) and of the fresh groups (`fresh.rs`).
//!
//! The bound is in bytes, since paths run up to 8 KiB. Eviction is by
//! generations, per shard: new entries go into `young`; when `young` fills
//! half the shard's share, it becomes `old` and the previous `old` is
//! dropped; a hit in `old` moves the entry back. That keeps recently used
//! entries, costs O(1) per access, and never holds more than the configured
//! bytes (plus one entry per shard).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::hash::{hash_path, PathHashing};
use crate::sync;

const SHARDS: usize = 64;

/// What a cached value adds to its entry's cost.
pub(crate) trait Cached: Clone {
    fn bytes(&self) -> usize;
}

impl Cached for () {
    fn bytes(&self) -> usize {
        0
    }
}

impl Cached for Box<str> {
    fn bytes(&self) -> usize {
        self.len()
    }
}

type Generation<V> = HashMap<Box<str>, V, PathHashing>;

struct Shard<V> {
    young: Generation<V>,
    young_bytes: usize,
    old: Generation<V>,
}

impl<V> Default for Shard<V> {
    fn default() -> Self {
        Shard {
            young: Generation::default(),
            young_bytes: 0,
            old: Generation::default(),
        }
    }
}

/// What one entry costs: its bytes and the map's own bookkeeping.
fn cost<V: Cached>(path: &str, value: &V) -> usize {
    path.len() + value.bytes() + 32
}

pub(crate) struct PathCache<V> {
    shards: Box<[Mutex<Shard<V>>]>,
    generation_size: usize,
    /// Picks a path's shard; its own key, so that the maps inside a shard
    /// (keyed otherwise) see hashes unrelated to the choice.
    sharding: PathHashing,
}

impl<V: Cached> PathCache<V> {
    /// A cache of about `capacity_bytes`; 0 caches nothing.
    pub(crate) fn new(capacity_bytes: usize) -> Self {
        PathCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            generation_size: capacity_bytes / SHARDS / 2,
            sharding: PathHashing::default(),
        }
    }

    fn shard(&self, path: &str) -> MutexGuard<'_, Shard<V>> {
        let i = (hash_path(&self.sharding, path) % SHARDS as u64) as usize;
        sync::lock(&self.shards[i])
    }

    pub(crate) fn get(&self, path: &str) -> Option<V> {
        if self.generation_size == 0 {
            return None;
        }
        let mut shard = self.shard(path);
        if let Some(value) = shard.young.get(path) {
            return Some(value.clone());
        }
        let (entry, value) = shard.old.remove_entry(path)?;
        self.insert_young(&mut shard, entry, value.clone());
        Some(value)
    }

    pub(crate) fn insert(&self, path: &str, value: V) {
        if self.generation_size == 0 {
            return;
        }
        let mut shard = self.shard(path);
        Self::take(&mut shard, path);
        self.insert_young(&mut shard, path.into(), value);
    }

    /// Removes `path` from both generations, keeping the byte count.
    fn take(shard: &mut Shard<V>, path: &str) {
        if let Some(old) = shard.young.remove(path) {
            shard.young_bytes -= cost(path, &old);
        }
        shard.old.remove(path);
    }

    fn insert_young(&self, shard: &mut Shard<V>, path: Box<str>, value: V) {
        let added = cost(&path, &value);
        if shard.young_bytes + added > self.generation_size {
            shard.old = std::mem::take(&mut shard.young);
            shard.young_bytes = 0;
        }
        shard.young_bytes += added;
        shard.young.insert(path, value);
    }

    /// `look` at the value cached for `path`, without copying it.
    pub(crate) fn peek<R>(&self, path: &str, look: impl FnOnce(&V) -> R) -> Option<R> {
        if self.generation_size == 0 {
            return None;
        }
        let shard = self.shard(path);
        shard
            .young
            .get(path)
            .or_else(|| shard.old.get(path))
            .map(look)
    }

    /// Changes the value cached for `path`, if there is one; the change
    /// returns whether to keep it. A young entry is changed in place (a
    /// fresh group gains a child this way on every write of a message).
    pub(crate) fn update(&self, path: &str, change: impl FnOnce(&mut V) -> bool) {
        if self.generation_size == 0 {
            return;
        }
        let mut shard = self.shard(path);
        let shard = &mut *shard;
        if let Some(value) = shard.young.get_mut(path) {
            let before = cost(path, value);
            let keep = change(value);
            let after = cost(path, value);
            shard.young_bytes -= before;
            if !keep {
                shard.young.remove(path);
            } else if shard.young_bytes + after > self.generation_size {
                // Grown past the generation's share: turn over, as an
                // insertion would.
                shard.old = std::mem::take(&mut shard.young);
                shard.young_bytes = 0;
            } else {
                shard.young_bytes += after;
            }
            return;
        }
        if let Some((path, mut value)) = shard.old.remove_entry(path) {
            if change(&mut value) {
                self.insert_young(shard, path, value);
            }
        }
    }

    pub(crate) fn remove(&self, path: &str) {
        if self.generation_size == 0 {
            return;
        }
        Self::take(&mut self.shard(path), path);
    }

    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            *sync::lock(shard) = Shard::default();
        }
    }

    /// The bytes held now, as the bound counts them.
    pub(crate) fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let s = sync::lock(s);
                s.young
                    .iter()
                    .chain(s.old.iter())
                    .map(|(p, v)| cost(p, v))
                    .sum::<usize>()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_holds_more_than_its_capacity() {
        let cache = PathCache::<()>::new(64 << 10);
        for i in 0..100_000 {
            cache.insert(&format!("g{i}"), ());
        }
        let slack = SHARDS * cost("g99999", &());
        assert!(cache.bytes() <= (64 << 10) + slack, "{}", cache.bytes());
        assert!(
            cache.bytes() >= (16 << 10),
            "it does cache: {}",
            cache.bytes()
        );
        assert!(cache.get("g99999").is_some(), "the newest survives");
        let long = "x".repeat(8 << 10);
        for i in 0..1_000 {
            cache.insert(&format!("{long}/{i}"), ());
        }
        let slack = SHARDS * cost(&long, &()) * 2;
        assert!(cache.bytes() <= (64 << 10) + slack, "{}", cache.bytes());
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let cache = PathCache::<()>::new(0);
        cache.insert("a", ());
        assert!(cache.get("a").is_none());
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn clear_empties_every_shard() {
        let cache = PathCache::<()>::new(10_000);
        for i in 0..100 {
            cache.insert(&format!("g{i}"), ());
        }
        cache.clear();
        assert_eq!(cache.bytes(), 0);
    }
}
