//! The entry cache: decoded entries by path (values up to a size, groups,
//! links with their targets), so that a read that finds its entry here
//! makes no RocksDB call at all. A read of a cached entry is a hash look-up
//! in the process, cheaper than a B+tree descent in mapped memory.
//!
//! # Why the cache is exact
//!
//! A cached entry is always the entry the database holds now, or absent;
//! never an older one. One process writes a store (RocksDB's lock), and
//! every change goes through a transaction of this handle, which, for
//! every path it changes:
//!
//! 1. before its write lands, *begins* the path: removes it from the cache
//!    and marks the path's stripe busy (a count of writers in progress and
//!    a version, both bumped, under the stripe's mutex);
//! 2. after its write lands (or fails), *settles* it: puts the new entry
//!    in the cache (or nothing), and marks the stripe one writer less and
//!    bumps its version again, under the same mutex.
//!
//! A reader that misses fills the cache with what it read from the
//! database only if the path's stripe had no writer in progress when it
//! took its *ticket* (before its database read) and still has the same
//! version when it fills, which it checks and inserts under the stripe's
//! mutex. So a fill never races a change of the same path: either it
//! happens before the writer's step 1 (and step 1 removes it), or the
//! version tells it that a writer came in between (and it does nothing).
//! Between steps 1 and 2 readers find nothing here and read the database,
//! where the write lands atomically, so what they see is linearizable
//! exactly as without the cache. `reset` begins and settles every stripe.
//!
//! Readers use the cache only on the live database (a snapshot is older),
//! and only a store opened for writing has one: a read-only open beside
//! another process's writer cannot know what that writer changes, so it
//! reads RocksDB every time.
//!
//! Writers (transactions) read it too: what it holds is the database's
//! current entry, and a writer holds the path's lock, so nobody else
//! changes it meanwhile.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use quick_cache::sync::Cache;
use quick_cache::Weighter;

use super::hash::{fnv, spread, FNV_OFFSET};
use super::nowait;
use crate::codec::Entry;
use crate::sync;

/// One cached entry, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cached {
    Value(Arc<[u8]>),
    Group,
    Link(Arc<str>),
}

impl Cached {
    /// The entry to cache for `entry`, if it is small enough to be worth
    /// its memory (values up to `max_value` bytes).
    fn of(entry: &Entry<'_>, max_value: usize) -> Option<Cached> {
        match *entry {
            Entry::Value(v) if v.len() <= max_value => Some(Cached::Value(Arc::from(v))),
            Entry::Value(_) => None,
            Entry::Group => Some(Cached::Group),
            Entry::Link(t) => Some(Cached::Link(Arc::from(t))),
        }
    }
}

/// What an entry costs: its path, its bytes, and the cache's bookkeeping
/// (the key's box, the value's `Arc`, the table slot).
#[derive(Clone)]
struct Cost;

const OVERHEAD: u64 = 96;

impl Weighter<Box<str>, Cached> for Cost {
    fn weight(&self, path: &Box<str>, entry: &Cached) -> u64 {
        let bytes = match entry {
            Cached::Value(v) => v.len(),
            Cached::Group => 0,
            Cached::Link(t) => t.len(),
        };
        (path.len() + bytes) as u64 + OVERHEAD
    }
}

/// Writers in progress on a stripe of paths, and its version.
#[derive(Default)]
struct Stripe {
    writers: u32,
    version: u64,
}

const STRIPES: usize = 1024;

/// Where a reader stands before it reads the database: the version of the
/// path's stripe, when no writer was in progress on it.
#[derive(Clone, Copy)]
pub(crate) struct Ticket(Option<u64>);

pub(crate) struct EntryCache {
    cache: Option<Cache<Box<str>, Cached, Cost>>,
    stripes: Box<[Mutex<Stripe>]>,
    max_value: usize,
    /// Look-ups that found their entry, and those that did not.
    hits: AtomicU64,
    misses: AtomicU64,
}

impl EntryCache {
    /// A cache of about `bytes`, holding values up to `max_value` bytes;
    /// 0 bytes caches nothing.
    pub(crate) fn new(bytes: usize, max_value: usize) -> Self {
        let cache = (bytes > 0).then(|| {
            let typical = 256;
            Cache::with_weighter((bytes / typical).max(16), bytes as u64, Cost)
        });
        EntryCache {
            cache,
            stripes: (0..STRIPES).map(|_| Mutex::default()).collect(),
            max_value,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn stripe(&self, path: &str) -> &Mutex<Stripe> {
        let i = (spread(fnv(path.as_bytes(), FNV_OFFSET)) % STRIPES as u64) as usize;
        &self.stripes[i]
    }

    /// The entry at `path`, if it is cached. In a call that must not wait,
    /// a shard another thread holds counts as a miss.
    pub(crate) fn get(&self, path: &str) -> Option<Cached> {
        let cache = self.cache.as_ref()?;
        let found = if nowait::refusing() {
            cache.try_get(path).ok().flatten()
        } else {
            cache.get(path)
        };
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Look-ups so far that found their entry, and those that did not.
    pub(crate) fn hits_and_misses(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// A reader's ticket for `path`, taken before it reads the database.
    pub(crate) fn ticket(&self, path: &str) -> Ticket {
        if self.cache.is_none() {
            return Ticket(None);
        }
        let stripe = sync::lock(self.stripe(path));
        Ticket((stripe.writers == 0).then_some(stripe.version))
    }

    /// Puts what a reader read from the database at `path` in the cache,
    /// unless a writer changed the path's stripe since its ticket.
    pub(crate) fn fill(&self, path: &str, ticket: Ticket, entry: &Entry<'_>) {
        let (Some(cache), Ticket(Some(version))) = (&self.cache, ticket) else {
            return;
        };
        let Some(cached) = Cached::of(entry, self.max_value) else {
            return;
        };
        let stripe = sync::lock(self.stripe(path));
        if stripe.writers == 0 && stripe.version == version {
            cache.insert(path.into(), cached);
        }
    }

    /// A writer's step 1 for `path`: before its change lands.
    pub(crate) fn begin(&self, path: &str) {
        let Some(cache) = &self.cache else { return };
        let mut stripe = sync::lock(self.stripe(path));
        stripe.writers += 1;
        stripe.version += 1;
        cache.remove(path);
    }

    /// A writer's step 2 for `path`: after its change landed (`now` is
    /// what the path holds then, `None` when removed), or failed (`None`).
    pub(crate) fn settle(&self, path: &str, now: Option<&Entry<'_>>) {
        let Some(cache) = &self.cache else { return };
        let mut stripe = sync::lock(self.stripe(path));
        if let Some(cached) = now.and_then(|e| Cached::of(e, self.max_value)) {
            cache.insert(path.into(), cached);
        }
        stripe.writers -= 1;
        stripe.version += 1;
    }

    /// Every stripe begun and the cache emptied (`reset`, which removes
    /// every entry); [`EntryCache::settle_all`] once its removal landed.
    pub(crate) fn begin_all(&self) {
        let Some(cache) = &self.cache else { return };
        for stripe in self.stripes.iter() {
            let mut stripe = sync::lock(stripe);
            stripe.writers += 1;
            stripe.version += 1;
        }
        cache.clear();
    }

    pub(crate) fn settle_all(&self) {
        if self.cache.is_none() {
            return;
        }
        for stripe in self.stripes.iter() {
            let mut stripe = sync::lock(stripe);
            stripe.writers -= 1;
            stripe.version += 1;
        }
    }

    /// The bytes held now, as the budget counts them.
    pub(crate) fn bytes(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| c.weight() as usize)
    }

    /// How many entries are held now.
    pub(crate) fn len(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| c.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fill_after_a_change_began_is_dropped() {
        let cache = EntryCache::new(1 << 20, 4096);
        let ticket = cache.ticket("a");
        cache.begin("a");
        cache.settle("a", Some(&Entry::Value(b"new")));
        // The reader read before the change: its fill must not land.
        cache.fill("a", ticket, &Entry::Value(b"old"));
        assert_eq!(cache.get("a"), Some(Cached::Value(Arc::from(&b"new"[..]))));
        let during = {
            cache.begin("a");
            let t = cache.ticket("a");
            cache.settle("a", None);
            t
        };
        cache.fill("a", during, &Entry::Value(b"stale"));
        assert_eq!(
            cache.get("a"),
            None,
            "no fill from a ticket taken mid-change"
        );
        let fresh = cache.ticket("a");
        cache.fill("a", fresh, &Entry::Group);
        assert_eq!(cache.get("a"), Some(Cached::Group));
    }

    #[test]
    fn large_values_are_not_cached_and_the_budget_holds() {
        let cache = EntryCache::new(64 << 10, 100);
        let t = cache.ticket("big");
        cache.fill("big", t, &Entry::Value(&[0; 101]));
        assert_eq!(cache.get("big"), None);
        for i in 0..10_000 {
            let path = format!("p{i}");
            let t = cache.ticket(&path);
            cache.fill(&path, t, &Entry::Value(&[1; 100]));
        }
        assert!(cache.bytes() <= 64 << 10, "{}", cache.bytes());
        assert!(cache.len() > 100, "it does cache: {}", cache.len());
    }

    #[test]
    fn reset_empties_it_and_stops_fills_in_between() {
        let cache = EntryCache::new(1 << 20, 4096);
        let t = cache.ticket("a");
        cache.fill("a", t, &Entry::Group);
        let before = cache.ticket("b");
        cache.begin_all();
        assert_eq!(cache.get("a"), None);
        cache.fill("b", before, &Entry::Group);
        cache.settle_all();
        assert_eq!(cache.get("b"), None);
    }
}
