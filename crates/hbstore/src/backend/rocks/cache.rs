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
//! Each is a bounded [`PathCache`] (`path_cache.rs`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::entries::EntryCache;
use super::fresh::{Creations, FreshGroups};
use super::hash::{hash_path, PathHashing};
use super::options::Options;
use super::path_cache::PathCache;
use super::recent::RecentWrites;

/// Paths known to be groups.
pub(crate) type GroupCache = PathCache<()>;
/// Links, with their targets.
pub(crate) type LinkCache = PathCache<Box<str>>;

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
    filter_hashing: PathHashing,
    /// Whether any link was ever cached (since the last `clear`): a store
    /// without links skips even hashing the path.
    any: AtomicBool,
}

impl Links {
    fn filter_bit(&self, path: &str) -> (usize, u64) {
        let bit = (hash_path(&self.filter_hashing, path) % FILTER_BITS as u64) as usize;
        (bit / 64, 1 << (bit % 64))
    }

    pub(crate) fn new(capacity_bytes: usize) -> Self {
        Links {
            cache: LinkCache::new(capacity_bytes),
            filter: (0..FILTER_BITS / 64).map(|_| AtomicU64::new(0)).collect(),
            filter_hashing: PathHashing::default(),
            any: AtomicBool::new(false),
        }
    }

    /// The target of the link at `path`, if it is cached.
    pub(crate) fn get(&self, path: &str) -> Option<Box<str>> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let (word, mask) = self.filter_bit(path);
        if self.filter[word].load(Ordering::Acquire) & mask == 0 {
            return None;
        }
        self.cache.get(path)
    }

    pub(crate) fn insert(&self, path: &str, target: &str) {
        let (word, mask) = self.filter_bit(path);
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
    /// Decoded entries by path, exact (`entries.rs`); none for a
    /// read-only open.
    pub(crate) entries: EntryCache,
}

/// The share of the group cache's bytes that goes to fresh groups.
const FRESH_SHARE: usize = 4;

impl Caches {
    pub(crate) fn new(options: &Options) -> Self {
        let group_bytes = options.group_cache_bytes;
        let entry_bytes = if options.read_only {
            0
        } else {
            options.memory_budget().entry_cache
        };
        Caches {
            groups: GroupCache::new(group_bytes - group_bytes / FRESH_SHARE),
            fresh: FreshGroups::new(group_bytes / FRESH_SHARE),
            creations: Creations::default(),
            links: Links::new(options.link_cache_bytes),
            recent: RecentWrites::new(options.gc_grace),
            entries: EntryCache::new(entry_bytes, options.entry_value_bytes),
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
}
