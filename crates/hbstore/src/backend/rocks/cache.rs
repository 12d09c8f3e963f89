//! A bounded cache of paths known to be groups, so that a writer does not
//! read every ancestor of every path it writes. Without it, a write at depth
//! `d` costs `d` reads before its one put; with it, the common write (parent
//! already seen) costs one read (the entry itself) and one put.
//!
//! Correctness rests on the path locks (`locks.rs`): an entry is added only
//! for a group read or created under a lock on its path, and removed by the
//! delete that holds that path exclusively, so whoever holds a lock on a
//! path sees a cache that agrees with the database about it. Readers never
//! consult it.
//!
//! The bound is in bytes, not entries, since paths run up to 8 KiB. Eviction
//! is by generations, per shard: new entries go into `young`; when `young`
//! fills half the shard's share, it becomes `old` and the previous `old` is
//! dropped; a hit in `old` moves the entry back to `young`. That keeps
//! recently used groups, costs O(1) per access, and never holds more than
//! the configured bytes (plus one entry per shard).

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

use super::hash::{fnv, FnvBuild, FNV_OFFSET};

type PathSet = HashSet<Box<str>, FnvBuild>;

const SHARDS: usize = 64;

#[derive(Default)]
struct Shard {
    young: PathSet,
    young_bytes: usize,
    old: PathSet,
}

/// What one cached path costs: its bytes and the set's own bookkeeping.
fn cost(path: &str) -> usize {
    path.len() + 32
}

pub(crate) struct GroupCache {
    shards: Box<[Mutex<Shard>]>,
    generation_size: usize,
}

impl GroupCache {
    /// A cache of about `capacity_bytes`; 0 caches nothing.
    pub(crate) fn new(capacity_bytes: usize) -> Self {
        GroupCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            generation_size: capacity_bytes / SHARDS / 2,
        }
    }

    fn shard(&self, path: &str) -> MutexGuard<'_, Shard> {
        let i = (fnv(path.as_bytes(), FNV_OFFSET) % SHARDS as u64) as usize;
        // A shard holds only hints that are re-checked under the path locks'
        // discipline; a panic mid-update leaves, at worst, a missing entry.
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn contains(&self, path: &str) -> bool {
        if self.generation_size == 0 {
            return false;
        }
        let mut shard = self.shard(path);
        if shard.young.contains(path) {
            return true;
        }
        match shard.old.take(path) {
            Some(entry) => {
                self.insert_young(&mut shard, entry);
                true
            }
            None => false,
        }
    }

    pub(crate) fn insert(&self, path: &str) {
        if self.generation_size == 0 {
            return;
        }
        let mut shard = self.shard(path);
        if !shard.young.contains(path) {
            shard.old.remove(path);
            self.insert_young(&mut shard, path.into());
        }
    }

    fn insert_young(&self, shard: &mut Shard, entry: Box<str>) {
        if shard.young_bytes + cost(&entry) > self.generation_size {
            shard.old = std::mem::take(&mut shard.young);
            shard.young_bytes = 0;
        }
        shard.young_bytes += cost(&entry);
        shard.young.insert(entry);
    }

    pub(crate) fn remove(&self, path: &str) {
        if self.generation_size == 0 {
            return;
        }
        let mut shard = self.shard(path);
        if shard.young.remove(path) {
            shard.young_bytes -= cost(path);
        }
        shard.old.remove(path);
    }

    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            *shard.lock().unwrap_or_else(|e| e.into_inner()) = Shard::default();
        }
    }

    /// The bytes held now, as the bound counts them.
    pub(crate) fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let s = s.lock().unwrap_or_else(|e| e.into_inner());
                s.young
                    .iter()
                    .chain(s.old.iter())
                    .map(|p| cost(p))
                    .sum::<usize>()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_was_inserted_until_removed() {
        let cache = GroupCache::new(10_000);
        cache.insert("a/b");
        assert!(cache.contains("a/b"));
        assert!(!cache.contains("a"));
        cache.remove("a/b");
        assert!(!cache.contains("a/b"));
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let cache = GroupCache::new(64 << 10);
        for i in 0..100_000 {
            cache.insert(&format!("g{i}"));
        }
        let slack = SHARDS * cost("g99999");
        assert!(cache.bytes() <= (64 << 10) + slack, "{}", cache.bytes());
        assert!(
            cache.bytes() >= (16 << 10),
            "it does cache: {}",
            cache.bytes()
        );
        assert!(cache.contains("g99999"), "the newest survives");
        let long = "x".repeat(8 << 10);
        for i in 0..1_000 {
            cache.insert(&format!("{long}/{i}"));
        }
        assert!(
            cache.bytes() <= (64 << 10) + SHARDS * cost(&long) * 2,
            "{}",
            cache.bytes()
        );
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let cache = GroupCache::new(0);
        cache.insert("a");
        assert!(!cache.contains("a"));
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn clear_empties_every_shard() {
        let cache = GroupCache::new(10_000);
        for i in 0..100 {
            cache.insert(&format!("g{i}"));
        }
        cache.clear();
        assert_eq!(cache.bytes(), 0);
    }
}
