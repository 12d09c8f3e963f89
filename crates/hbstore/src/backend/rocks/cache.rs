//! Bounded caches of facts about paths, kept by writers:
//!
//! - the **group cache**: paths known to be groups, so that a writer does
//!   not read every ancestor of every path it writes (with it, the common
//!   write costs one read, of the entry itself, and one put);
//! - the **link cache**: links and their targets, so that a read through a
//!   link costs one RocksDB get (the target's) instead of two;
//! - the **fresh groups** (`fresh.rs`): groups this handle created, with
//!   every child they have, so that writing a new message's fields reads
//!   nothing.
//!
//! Both are filled only by writers, for paths they hold a lock on (a group
//! or link they created or read under that lock), and emptied of a path
//! before the transaction that removes, replaces or re-points it commits,
//! by the writer holding that path exclusively (a group is never replaced:
//! a write or a link is refused where one stands; a link may be re-pointed
//! or replaced by a value, and its new target is cached only once the
//! change has landed). So a writer holding a lock sees a cache that agrees
//! with the database; a reader uses the link cache only on
//! the live database and checks afterwards that no write landed meanwhile
//! (`reader.rs`), which covers a removal racing with its lookup.
//!
//! The bound is in bytes, since paths run up to 8 KiB. Eviction is by
//! generations, per shard: new entries go into `young`; when `young` fills
//! half the shard's share, it becomes `old` and the previous `old` is
//! dropped; a hit in `old` moves the entry back. That keeps recently used
//! entries, costs O(1) per access, and never holds more than the configured
//! bytes (plus one entry per shard).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::fresh::{Creations, FreshGroups};
use super::hash::{fnv, spread, FnvBuild, FNV_OFFSET};
use super::recent::RecentWrites;
use crate::sync;
use std::time::Duration;

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

type Generation<V> = HashMap<Box<str>, V, FnvBuild>;

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
}

/// Paths known to be groups.
pub(crate) type GroupCache = PathCache<()>;
/// Links, with their targets.
pub(crate) type LinkCache = PathCache<Box<str>>;

impl<V: Cached> PathCache<V> {
    /// A cache of about `capacity_bytes`; 0 caches nothing.
    pub(crate) fn new(capacity_bytes: usize) -> Self {
        PathCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            generation_size: capacity_bytes / SHARDS / 2,
        }
    }

    fn shard(&self, path: &str) -> MutexGuard<'_, Shard<V>> {
        let i = (spread(fnv(path.as_bytes(), FNV_OFFSET)) % SHARDS as u64) as usize;
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
    /// returns whether to keep it.
    pub(crate) fn update(&self, path: &str, change: impl FnOnce(&mut V) -> bool) {
        if self.generation_size == 0 {
            return;
        }
        let mut shard = self.shard(path);
        let value = match shard.young.remove_entry(path) {
            Some((path, value)) => {
                shard.young_bytes -= cost(&path, &value);
                Some((path, value))
            }
            None => shard.old.remove_entry(path),
        };
        if let Some((path, mut value)) = value {
            if change(&mut value) {
                self.insert_young(&mut shard, path, value);
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

impl GroupCache {
    pub(crate) fn contains(&self, path: &str) -> bool {
        self.get(path).is_some()
    }
}

/// Bits of the link cache's filter (128 KiB).
const FILTER_BITS: usize = 1 << 20;

/// The link cache, behind a filter: every read asks it about the path it
/// reads, and nearly all of those paths are not links, so a lock-free bit
/// test answers them before any lock is taken. A bit is set for every
/// path ever inserted and cleared only by `clear`; a set bit for a path
/// that is not cached only costs the lookup it would have cost anyway.
pub(crate) struct Links {
    cache: LinkCache,
    filter: Box<[AtomicU64]>,
    /// Whether any link was ever cached (since the last `clear`): a store
    /// without links skips even hashing the path.
    any: AtomicBool,
}

fn filter_bit(path: &str) -> (usize, u64) {
    let bit = (spread(fnv(path.as_bytes(), FNV_OFFSET)) % FILTER_BITS as u64) as usize;
    (bit / 64, 1 << (bit % 64))
}

impl Links {
    pub(crate) fn new(capacity_bytes: usize) -> Self {
        Links {
            cache: LinkCache::new(capacity_bytes),
            filter: (0..FILTER_BITS / 64).map(|_| AtomicU64::new(0)).collect(),
            any: AtomicBool::new(false),
        }
    }

    /// The target of the link at `path`, if it is cached.
    pub(crate) fn get(&self, path: &str) -> Option<Box<str>> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let (word, mask) = filter_bit(path);
        if self.filter[word].load(Ordering::Acquire) & mask == 0 {
            return None;
        }
        self.cache.get(path)
    }

    pub(crate) fn insert(&self, path: &str, target: &str) {
        let (word, mask) = filter_bit(path);
        self.filter[word].fetch_or(mask, Ordering::AcqRel);
        self.any.store(true, Ordering::Release);
        self.cache.insert(path, target.into());
    }

    pub(crate) fn remove(&self, path: &str) {
        self.cache.remove(path);
    }

    pub(crate) fn clear(&self) {
        self.cache.clear();
        self.any.store(false, Ordering::Release);
        for word in self.filter.iter() {
            word.store(0, Ordering::Release);
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.cache.bytes() + self.filter.len() * 8
    }
}

/// The writers' caches, kept together because they are kept the same way.
pub(crate) struct Caches {
    pub(crate) groups: GroupCache,
    pub(crate) links: Links,
    /// The groups this handle created, with their children (`fresh.rs`).
    pub(crate) fresh: FreshGroups,
    pub(crate) creations: Creations,
    /// The values written lately, which `gc` leaves alone (`recent.rs`).
    pub(crate) recent: RecentWrites,
}

/// The share of the group cache's bytes that goes to fresh groups.
const FRESH_SHARE: usize = 4;

impl Caches {
    pub(crate) fn new(group_bytes: usize, link_bytes: usize, gc_grace: Duration) -> Self {
        Caches {
            groups: GroupCache::new(group_bytes - group_bytes / FRESH_SHARE),
            fresh: FreshGroups::new(group_bytes / FRESH_SHARE),
            creations: Creations::default(),
            links: Links::new(link_bytes),
            recent: RecentWrites::new(gc_grace),
        }
    }

    /// Forgets a path about to be removed (before the removal commits).
    pub(crate) fn forget(&self, path: &str) {
        self.groups.remove(path);
        self.fresh.remove(path);
        self.links.remove(path);
    }

    pub(crate) fn clear(&self) {
        self.groups.clear();
        self.fresh.clear();
        self.links.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_was_inserted_until_removed() {
        let cache = GroupCache::new(10_000);
        cache.insert("a/b", ());
        assert!(cache.contains("a/b"));
        assert!(!cache.contains("a"));
        cache.remove("a/b");
        assert!(!cache.contains("a/b"));
        let links = Links::new(10_000);
        links.insert("l", "t");
        links.insert("l", "u");
        assert_eq!(links.get("l").as_deref(), Some("u"));
        assert_eq!(links.get("m"), None);
        links.remove("l");
        assert_eq!(links.get("l"), None);
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let cache = GroupCache::new(64 << 10);
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
        assert!(cache.contains("g99999"), "the newest survives");
        let long = "x".repeat(8 << 10);
        for i in 0..1_000 {
            cache.insert(&format!("{long}/{i}"), ());
        }
        let slack = SHARDS * cost(&long, &()) * 2;
        assert!(cache.bytes() <= (64 << 10) + slack, "{}", cache.bytes());
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let cache = GroupCache::new(0);
        cache.insert("a", ());
        assert!(!cache.contains("a"));
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn clear_empties_every_shard() {
        let cache = GroupCache::new(10_000);
        for i in 0..100 {
            cache.insert(&format!("g{i}"), ());
        }
        cache.clear();
        assert_eq!(cache.bytes(), 0);
    }
}
