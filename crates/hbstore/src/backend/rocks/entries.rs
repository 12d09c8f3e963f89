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
//!
//! # Listings
//!
//! The cache also keeps small groups' listings (`listings.rs`), under a
//! key of their own (the group's, salted), with the same steps: a
//! transaction begins and settles the listing of the parent of every path
//! it changes (a child added, removed, or changed in kind, length or
//! target changes the listing), of every path it removes (a listing is
//! only ever kept for a group that is there, so an empty one may be
//! kept too), and of every group it creates (whose listing starts empty);
//! and a reader fills a listing it scanned, not empty, only if its ticket
//! still holds. A reader that puts a listing together
//! with its values from the cache checks that the listing's stripe did
//! not move meanwhile ([`EntryCache::unchanged`]): no child of the group
//! changed in between, so what it answers is one state of the group.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::entry_table::{EntryTable, Weigh};

use std::hash::{BuildHasher, Hasher, RandomState};

use siphasher::sip128::{Hasher128, SipHasher13};
use smallvec::SmallVec;
use triomphe::ThinArc;

use super::{listings, nowait};
use crate::codec::{self, Entry, GROUP_BYTES};
use crate::metrics::striped::Striped;
use crate::store::Child;
use crate::sync;

/// One cached entry: its path's fingerprint and its stored bytes (the tag
/// and the payload, as the database holds them) in one allocation, so
/// that a node's millions of small entries cost little more than their
/// bytes. The cache is keyed by one hash of the path; the fingerprint,
/// another, tells a hit from another path of the same key (which is then
/// a miss). See [`Hashing`] for why the two cannot be made to collide.
/// The pointer is thin (the length lives in the allocation, beside the
/// fingerprint), so the table's slot is a key and a pointer, 16 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cached(ThinArc<u64, u8>);

/// Where a path's record lives in the cache, and its fingerprint: what a
/// writer's step 1 hands to its step 2, so that a path is hashed once.
#[derive(Clone, Copy)]
pub(crate) struct Id {
    key: u64,
    print: u64,
}

/// A 128-bit SipHash-1-3 of a path, under a key drawn at random for each
/// store: half of it places the record, the other half is its
/// fingerprint, so a false hit needs 128 bits to agree, and paths chosen
/// by the network cannot be made to agree (the key is not known outside
/// the process), unlike an unkeyed hash, where colliding paths are easily
/// found. Keeping the fingerprint instead of the path saves a record the
/// path's length (about 50 to 100 bytes on a node).
struct Hashing {
    keys: (u64, u64),
}

impl Hashing {
    fn new() -> Hashing {
        // Two words from the standard library's per-process random keys.
        let random = RandomState::new();
        Hashing {
            keys: (random.hash_one(0u8), random.hash_one(1u8)),
        }
    }

    fn id(&self, path: &str) -> Id {
        self.id_of_bytes(path.as_bytes())
    }

    fn id_of_bytes(&self, path: &[u8]) -> Id {
        let mut hasher = SipHasher13::new_with_keys(self.keys.0, self.keys.1);
        hasher.write(path);
        let hash = hasher.finish128();
        Id {
            key: hash.h1,
            print: hash.h2,
        }
    }

    /// A group's listing: its own record, apart from the group's entry.
    fn listing_id(&self, group: &str) -> Id {
        let id = self.id(group);
        Id {
            key: id.key ^ LISTING_SALT,
            print: id.print ^ LISTING_SALT,
        }
    }
}

impl Cached {
    /// The record for `entry` at the path printed `print`, if it is small
    /// enough to be worth its memory (values up to `max_value` bytes).
    fn of(print: u64, entry: &Entry<'_>, max_value: usize) -> Option<Cached> {
        match *entry {
            Entry::Value(v) if v.len() <= max_value => {
                Some(Cached::record(print, &[&[codec::TAG_VALUE], v]))
            }
            Entry::Value(_) => None,
            Entry::Group => Some(Cached::record(print, &[GROUP_BYTES])),
            Entry::Link(t) => Some(Cached::record(print, &[&[codec::TAG_LINK], t.as_bytes()])),
        }
    }

    /// The record for an entry's stored bytes as the database holds them
    /// (a writer's pending change: no decoding and encoding again), if
    /// they are whole and small enough (see [`Cached::of`]).
    fn of_stored(print: u64, stored: &[u8], max_value: usize) -> Option<Cached> {
        match codec::decode_entry("", stored).ok()? {
            Entry::Value(v) if v.len() > max_value => None,
            _ => Some(Cached::record(print, &[stored])),
        }
    }

    /// The record of a group's listing.
    fn of_listing(print: u64, children: &[Child]) -> Option<Cached> {
        let encoded = listings::encode(children)?;
        Some(Cached::record(print, &[&[LISTING_TAG], &encoded]))
    }

    /// The record of a group's listing, encoded.
    fn of_encoded_listing(print: u64, encoded: &[u8]) -> Cached {
        Cached::record(print, &[&[LISTING_TAG], encoded])
    }

    /// Put together on the stack and copied once into its allocation:
    /// one allocation for a record of up to 256 bytes (a field, a link, a
    /// small listing), two for a larger one.
    fn record(print: u64, parts: &[&[u8]]) -> Cached {
        let mut record = SmallVec::<[u8; 256]>::new();
        for part in parts {
            record.extend_from_slice(part);
        }
        Cached(ThinArc::from_header_and_slice(print, &record))
    }

    fn is_for(&self, id: Id) -> bool {
        self.0.header.header == id.print
    }

    fn stored(&self) -> &[u8] {
        &self.0.slice
    }

    /// The children, if this is a listing.
    fn listing(&self) -> Option<Vec<Child>> {
        listings::decode(self.encoded_listing()?)
    }

    /// The children, encoded, if this is a listing.
    pub(crate) fn encoded_listing(&self) -> Option<&[u8]> {
        match self.stored().split_first() {
            Some((&LISTING_TAG, encoded)) => Some(encoded),
            _ => None,
        }
    }

    /// The entry, decoded (`None` only if the record were damaged, or a
    /// listing, which a caller takes as a miss).
    pub(crate) fn entry(&self) -> Option<Entry<'_>> {
        codec::decode_entry("", self.stored()).ok()
    }
}

/// What an entry costs besides its stored bytes: the table's slot (16
/// bytes, the table a quarter to half full: 32 to 64), the record's count,
/// fingerprint and length (24) and the allocator's header (8).
const OVERHEAD: u64 = 80;

impl Weigh for Cached {
    fn weight(&self) -> u64 {
        self.0.slice.len() as u64 + OVERHEAD
    }
}

/// Listings live under their group's hash with this mixed in, so that a
/// group's entry and its listing are two records (told apart by their
/// tag: a listing's stored bytes start with [`LISTING_TAG`]).
const LISTING_SALT: u64 = 0x9e37_79b9_7f4a_7c15;
const LISTING_TAG: u8 = 0xff;

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

/// A listing's stripe and its version when the listing was read, for
/// [`EntryCache::unchanged`].
#[derive(Clone, Copy)]
pub(crate) struct Held {
    key: u64,
    version: u64,
}

pub(crate) struct EntryCache {
    cache: Option<EntryTable<Cached>>,
    hashing: Hashing,
    stripes: Box<[Mutex<Stripe>]>,
    max_value: usize,
    /// Look-ups that found their entry, and those that did not.
    hits: Striped<AtomicU64>,
    misses: Striped<AtomicU64>,
}

impl EntryCache {
    /// A cache of about `bytes`, holding values up to `max_value` bytes;
    /// 0 bytes caches nothing.
    pub(crate) fn new(bytes: usize, max_value: usize) -> Self {
        let cache = (bytes > 0).then(|| EntryTable::new(bytes as u64));
        EntryCache {
            cache,
            hashing: Hashing::new(),
            stripes: (0..STRIPES).map(|_| Mutex::default()).collect(),
            max_value,
            hits: Striped::default(),
            misses: Striped::default(),
        }
    }

    fn stripe_of(&self, key: u64) -> &Mutex<Stripe> {
        &self.stripes[(key % STRIPES as u64) as usize]
    }

    /// The entry at `path`, if it is cached. In a call that must not wait,
    /// a shard another thread holds counts as a miss.
    pub(crate) fn get(&self, path: &str) -> Option<Cached> {
        self.lookup(self.hashing.id(path))
    }

    /// `read` of the value cached at `path` (bytes: a path that is not
    /// canonical UTF-8 is never cached, so it is simply not found), in
    /// place: no reference taken, no copy (see [`EntryTable::try_with`]),
    /// counted as a hit. `None` for anything else (nothing cached, a
    /// group, a link, a value over `up_to` bytes, a writer holding the
    /// shard), counting nothing: the caller then reads the usual way,
    /// which counts.
    pub(crate) fn with_value<T>(
        &self,
        path: &[u8],
        up_to: usize,
        read: impl FnOnce(&[u8]) -> T,
    ) -> Option<T> {
        let cache = self.cache.as_ref()?;
        let id = self.hashing.id_of_bytes(path);
        let answer = cache.try_with(id.key, |cached| {
            if !cached.is_for(id) {
                return None;
            }
            match cached.stored().split_first() {
                Some((&codec::TAG_VALUE, value)) if value.len() <= up_to => Some(read(value)),
                _ => None,
            }
        })??;
        self.hits.local().fetch_add(1, Ordering::Relaxed);
        Some(answer)
    }

    /// [`EntryCache::get`] of several paths, in their order, looked up
    /// together (see [`EntryTable::get_many`]): a message's fields wait
    /// for memory at once, not one after another.
    pub(crate) fn get_many<'p>(
        &self,
        paths: impl IntoIterator<Item = &'p str>,
    ) -> SmallVec<[Option<Cached>; 8]> {
        let ids: SmallVec<[Id; 8]> = paths.into_iter().map(|p| self.hashing.id(p)).collect();
        let Some(cache) = &self.cache else {
            return ids.iter().map(|_| None).collect();
        };
        let keys: SmallVec<[u64; 8]> = ids.iter().map(|id| id.key).collect();
        // A load of the record's fingerprint and of its last byte (its
        // first and last lines), which nothing waits for yet.
        let records = cache.get_many(&keys, !nowait::refusing(), |cached| {
            std::hint::black_box((cached.0.header.header, cached.0.slice.last().copied()));
        });
        let found: SmallVec<[Option<Cached>; 8]> = records
            .into_iter()
            .zip(&ids)
            .map(|(record, &id)| record.filter(|cached| cached.is_for(id)))
            .collect();
        let hits = found.iter().flatten().count() as u64;
        self.hits.local().fetch_add(hits, Ordering::Relaxed);
        self.misses
            .local()
            .fetch_add(found.len() as u64 - hits, Ordering::Relaxed);
        found
    }

    /// The record of `id`, counted as a hit or a miss.
    fn lookup(&self, id: Id) -> Option<Cached> {
        let cache = self.cache.as_ref()?;
        let found = if nowait::refusing() {
            cache.try_get(id.key)
        } else {
            cache.get(id.key)
        }
        .filter(|cached| cached.is_for(id));
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.local().fetch_add(1, Ordering::Relaxed);
        found
    }

    /// `group`'s listing, if it is cached, with what tells whether any
    /// child of the group changed since ([`EntryCache::unchanged`]);
    /// `None` while a writer changes one.
    pub(crate) fn listing(&self, group: &str) -> Option<(Vec<Child>, Held)> {
        self.cache.as_ref()?;
        let id = self.hashing.listing_id(group);
        let Ticket(Some(version)) = self.ticket_of(id.key) else {
            return None;
        };
        let children = self.lookup(id)?.listing()?;
        Some((
            children,
            Held {
                key: id.key,
                version,
            },
        ))
    }

    /// Whether no child of the group whose listing was read under `held`
    /// changed since.
    pub(crate) fn unchanged(&self, held: Held) -> bool {
        let stripe = sync::lock(self.stripe_of(held.key));
        stripe.writers == 0 && stripe.version == held.version
    }

    /// Puts `cached` at `id` if the stripe is still where a reader's
    /// ticket found it (no writer in progress or finished since).
    fn fill_record(&self, id: Id, ticket: Ticket, cached: Option<Cached>) {
        let (Some(cache), Ticket(Some(version)), Some(cached)) = (&self.cache, ticket, cached)
        else {
            return;
        };
        let stripe = sync::lock(self.stripe_of(id.key));
        if stripe.writers == 0 && stripe.version == version {
            cache.insert(id.key, cached);
        }
    }

    /// A reader's ticket for `group`'s listing, taken before it scans.
    pub(crate) fn listing_ticket(&self, group: &str) -> Ticket {
        if self.cache.is_none() {
            return Ticket(None);
        }
        self.ticket_of(self.hashing.listing_id(group).key)
    }

    /// Puts the listing a reader scanned in the cache, unless a child of
    /// the group changed since its ticket (or the group is too large). An
    /// empty scan is not kept: children prove that the group is there
    /// (the invariant), nothing does for an empty one, which may have been
    /// removed since the reader resolved it.
    pub(crate) fn fill_listing(&self, group: &str, ticket: Ticket, children: &[Child]) {
        if self.cache.is_none() || children.is_empty() {
            return;
        }
        let id = self.hashing.listing_id(group);
        self.fill_record(id, ticket, Cached::of_listing(id.print, children));
    }

    /// A writer's step 1 for the listing of `group`, one of whose
    /// children it changes: the listing as it was (exact: no writer of
    /// the group's children was in progress, or it would have been
    /// removed), and the version this step left, for step 2.
    pub(crate) fn begin_listing(&self, group: &str) -> (Option<Cached>, u64, Id) {
        let id = self.hashing.listing_id(group);
        let Some(cache) = &self.cache else {
            return (None, 0, id);
        };
        let mut stripe = sync::lock(self.stripe_of(id.key));
        stripe.writers += 1;
        stripe.version += 1;
        let old = cache
            .get(id.key)
            .filter(|cached| cached.is_for(id) && cached.encoded_listing().is_some());
        cache.remove(id.key);
        (old, stripe.version, id)
    }

    /// A writer's step 2 for the listing of `group`: `now` is the listing
    /// after its change landed, when it knows it (the listing it began
    /// with, or an empty one for a group it created, with its changes
    /// applied). It goes in only if nothing else moved the group's
    /// stripe since step 1 (`begun`); otherwise the next reader that
    /// scans the group fills it.
    pub(crate) fn settle_listing(&self, id: Id, now: Option<&[u8]>, begun: u64) {
        let Some(cache) = &self.cache else { return };
        let mut stripe = sync::lock(self.stripe_of(id.key));
        if stripe.writers == 1 && stripe.version == begun {
            if let Some(encoded) = now {
                cache.insert(id.key, Cached::of_encoded_listing(id.print, encoded));
            }
        }
        stripe.writers -= 1;
        stripe.version += 1;
    }

    fn ticket_of(&self, key: u64) -> Ticket {
        let stripe = sync::lock(self.stripe_of(key));
        Ticket((stripe.writers == 0).then_some(stripe.version))
    }

    /// Look-ups so far that found their entry, and those that did not.
    pub(crate) fn hits_and_misses(&self) -> (u64, u64) {
        (self.hits.total(|c| c), self.misses.total(|c| c))
    }

    /// A reader's ticket for `path`, taken before it reads the database.
    pub(crate) fn ticket(&self, path: &str) -> Ticket {
        if self.cache.is_none() {
            return Ticket(None);
        }
        self.ticket_of(self.hashing.id(path).key)
    }

    /// Puts what a reader read from the database at `path` in the cache,
    /// unless a writer changed the path's stripe since its ticket.
    pub(crate) fn fill(&self, path: &str, ticket: Ticket, entry: &Entry<'_>) {
        if self.cache.is_none() || ticket.0.is_none() {
            return;
        }
        let id = self.hashing.id(path);
        self.fill_record(id, ticket, Cached::of(id.print, entry, self.max_value));
    }

    /// A writer's step 1 for `path`: before its change lands. Answers
    /// the path's id, for step 2.
    pub(crate) fn begin(&self, path: &str) -> Id {
        let id = self.hashing.id(path);
        let Some(cache) = &self.cache else { return id };
        let mut stripe = sync::lock(self.stripe_of(id.key));
        stripe.writers += 1;
        stripe.version += 1;
        // Whatever has this key goes: this path's entry, or another's,
        // which only costs that one a miss.
        cache.remove(id.key);
        id
    }

    /// A writer's step 2 for `path`: after its change landed (`now` is
    /// what the path holds then, as stored, `None` when removed), or
    /// failed (`None`).
    pub(crate) fn settle(&self, id: Id, now: Option<&[u8]>) {
        let Some(cache) = &self.cache else { return };
        // Put together before the stripe is taken: a reader's fill or
        // another writer's step of the same stripe waits less.
        let cached = now.and_then(|stored| Cached::of_stored(id.print, stored, self.max_value));
        let mut stripe = sync::lock(self.stripe_of(id.key));
        if let Some(cached) = cached {
            cache.insert(id.key, cached);
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

    /// What the cache holds at `path`, written out (so that it outlives
    /// the record it was read from).
    fn entry_of(cache: &EntryCache, path: &str) -> Option<String> {
        let cached = cache.get(path)?;
        Some(format!("{:?}", cached.entry()?))
    }

    /// A slot is a key and a thin pointer: what a node's millions of
    /// cached entries pay for the table.
    #[test]
    fn a_slot_is_sixteen_bytes() {
        assert_eq!(super::super::entry_table::slot_bytes::<Cached>(), 16);
    }

    fn shown(entry: Entry<'_>) -> Option<String> {
        Some(format!("{entry:?}"))
    }

    #[test]
    fn a_record_keeps_its_path_and_entry() {
        let cache = EntryCache::new(1 << 20, 4096);
        for (path, entry) in [
            ("a/value", Entry::Value(b"bytes")),
            ("a/empty", Entry::Value(b"")),
            ("a/group", Entry::Group),
            ("a/link", Entry::Link("some/target")),
        ] {
            let t = cache.ticket(path);
            cache.fill(path, t, &entry);
            assert_eq!(entry_of(&cache, path), shown(entry), "{path}");
        }
        assert_eq!(cache.get("a/other"), None);
    }

    #[test]
    fn a_record_answers_only_for_its_own_fingerprint() {
        let cache = EntryCache::new(1 << 20, 4096);
        let id = cache.hashing.id("a/b");
        let record = Cached::of(id.print, &Entry::Value(b"v"), 4096).unwrap();
        assert!(record.is_for(id));
        let other = Id {
            key: id.key,
            print: id.print ^ 1,
        };
        assert!(!record.is_for(other), "same key, another path: a miss");
        // A group's entry and its listing are two records.
        let listing = cache.hashing.listing_id("a/b");
        assert_ne!(listing.key, id.key);
        assert!(!record.is_for(listing));
        // Two stores key the same path differently (their keys are drawn
        // at random), so no path is known to collide with another.
        let elsewhere = EntryCache::new(1 << 20, 4096).hashing.id("a/b");
        assert_ne!((elsewhere.key, elsewhere.print), (id.key, id.print));
    }

    #[test]
    fn a_fill_after_a_change_began_is_dropped() {
        let cache = EntryCache::new(1 << 20, 4096);
        let ticket = cache.ticket("a");
        let id = cache.begin("a");
        cache.settle(id, Some(&codec::encode_value(b"new")));
        // The reader read before the change: its fill must not land.
        cache.fill("a", ticket, &Entry::Value(b"old"));
        assert_eq!(entry_of(&cache, "a"), shown(Entry::Value(b"new")));
        let during = {
            let id = cache.begin("a");
            let t = cache.ticket("a");
            cache.settle(id, None);
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
        assert_eq!(entry_of(&cache, "a"), shown(Entry::Group));
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
