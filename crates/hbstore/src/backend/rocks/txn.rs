//! A writer's transaction: reads through its own pending changes, collects
//! them in order, and commits them as one RocksDB write batch, so an
//! operation (or a whole [`Batch`](crate::Batch)) is atomic on disk.
//!
//! It also records which paths it read and which it changes (its
//! [`LockPlan`]); the caller checks that the locks it holds cover them
//! before committing (see `locks.rs`).

use rocksdb::{WriteBatch, WriteOptions, DB};
use smallvec::SmallVec;

use super::cache::Caches;
use super::entries::{Cached, EntryCache, Id};
use super::fresh::Children;
use super::listings;
use super::locks::LockPlan;
use super::nowait::get;
use super::resolve::{locate_last, resolve, Lookup, Probe};
use super::scan;
use super::small_map::SmallMap;
use crate::codec::{self, Entry, GROUP_BYTES};
use crate::error::{Error, Result};
use crate::path::{check_resolved_len, join_str, parent_of, prefixes, StorePath, MAX_PATH_BYTES};

pub(crate) struct Txn<'a> {
    db: &'a DB,
    caches: &'a Caches,
    /// Pending changes by path: new stored bytes, or `None` for a removal.
    pending: SmallMap<Option<Vec<u8>>>,
    /// The groups this transaction found in the database. A path found to
    /// be a group is not read again by the same transaction (making sure of
    /// a write's ancestors would otherwise read each a second time), and is
    /// remembered in the group cache once committed. Pending changes take
    /// precedence over it.
    groups_read: SmallMap<()>,
    /// Paths this transaction found absent in the database, not read
    /// again: a write's new parent is probed twice (resolving the path,
    /// then making sure of its ancestors). Pending changes take
    /// precedence over it.
    absent_read: SmallMap<()>,
    /// Links this transaction found in the database: remembered in the
    /// link cache once committed, and, where the transaction replaces or
    /// removes one, its link-index record goes with it.
    links_read: SmallMap<String>,
    /// Groups this transaction made where nothing was. Below one of them
    /// nothing exists but what this transaction put there, so a path under
    /// it is known absent without a read: a batch writing a new message's
    /// fields reads nothing after its group (every path it probes there is
    /// one it holds the lock of, so no one else can make it meanwhile).
    created: SmallMap<()>,
    /// Every path this transaction removed, to forget in the caches.
    removed: Vec<String>,
    /// What `Creations::count` said before this transaction looked at the
    /// store: at commit, a group it found absent need not be read again
    /// if no other creation began or ended since (`Creations::begin`).
    creations_since: Option<u64>,
    /// One key buffer for all the gets (see `codec::EntryKey`).
    key: codec::EntryKey,
    /// The locks that what this transaction read and changes calls for.
    pub(crate) needs: LockPlan,
}

fn probe_bytes(path: &str, bytes: &[u8]) -> Result<Probe> {
    Ok(Probe::of(&codec::decode_entry(path, bytes)?))
}

impl Lookup for Txn<'_> {
    const PROBE_WHOLE_FIRST: bool = false;

    fn probe(&mut self, path: &str) -> Result<Probe> {
        self.probe_with_cache(path, true)
    }

    fn probe_last(&mut self, path: &str) -> Result<Probe> {
        self.probe_with_cache(path, false)
    }
}

impl Txn<'_> {
    fn probe_with_cache(&mut self, path: &str, ask_cache: bool) -> Result<Probe> {
        if path.len() > MAX_PATH_BYTES {
            return Ok(Probe::Absent);
        }
        self.needs.shared(path);
        if let Some(pending) = self.pending.get(path) {
            return match pending {
                Some(bytes) => probe_bytes(path, bytes),
                None => Ok(Probe::Absent),
            };
        }
        if self.groups_read.contains_key(path) || (ask_cache && self.caches.groups.contains(path)) {
            return Ok(Probe::Group);
        }
        if self.absent_read.contains_key(path) {
            return Ok(Probe::Absent);
        }
        // The entry cache holds what the database holds now (`entries.rs`).
        let cached = self.caches.entries.get(path);
        let probe = match cached.as_ref().and_then(Cached::entry) {
            Some(entry) => Probe::of(&entry),
            None => {
                if let Some((parent, name)) = path.rsplit_once('/') {
                    if self.created.contains_key(parent) || self.caches.fresh.lacks(parent, name) {
                        return Ok(Probe::Absent);
                    }
                }
                codec::entry_key_into(&mut self.key, path);
                let stored = get(self.db, None, &self.key)
                    .map_err(Error::rocks_lazy(|| format!("reading {path:?}")))?;
                match stored {
                    None => Probe::Absent,
                    Some(bytes) => probe_bytes(path, &bytes)?,
                }
            }
        };
        match &probe {
            Probe::Group => self.groups_read.insert(path.to_owned(), ()),
            Probe::Absent => self.absent_read.insert(path.to_owned(), ()),
            Probe::Link(target) => self.links_read.insert(path.to_owned(), target.clone()),
            _ => {}
        }
        Ok(probe)
    }
}

impl<'a> Txn<'a> {
    pub(crate) fn new(db: &'a DB, caches: &'a Caches) -> Self {
        Txn {
            db,
            caches,
            pending: SmallMap::default(),
            groups_read: SmallMap::default(),
            absent_read: SmallMap::default(),
            links_read: SmallMap::default(),
            created: SmallMap::default(),
            removed: Vec::new(),
            creations_since: Some(caches.creations.count()),
            key: codec::EntryKey::new(),
            needs: LockPlan::default(),
        }
    }

    fn put(&mut self, path: String, bytes: Vec<u8>) {
        self.needs.exclusive(&path);
        self.pending.insert(path, Some(bytes));
    }

    fn remove(&mut self, path: &str) {
        self.needs.exclusive(path);
        self.schedule_removal(path.to_owned());
    }

    /// Records the removal of `path` from the database, and from the
    /// caches at commit (the caller has the lock it needs: its own, or an
    /// ancestor's for the descendants of a deleted group).
    fn schedule_removal(&mut self, path: String) {
        self.pending.insert(path.clone(), None);
        self.removed.push(path);
    }

    /// Makes every ancestor of `target` a group, creating the missing ones;
    /// `NotAGroup` if one is a value (or a link, which resolution would have
    /// followed, so only damage puts one there).
    fn ensure_ancestors(&mut self, origin: &StorePath, target: &str) -> Result<()> {
        let Some(parent) = parent_of(target) else {
            return Ok(());
        };
        let mut absent = false;
        for prefix in prefixes(parent) {
            if !absent {
                match self.probe(prefix)? {
                    Probe::Group => continue,
                    Probe::Absent => absent = true,
                    Probe::Value | Probe::Link(_) => {
                        return Err(Error::NotAGroup {
                            path: origin.to_string(),
                            value_at: prefix.to_owned(),
                        })
                    }
                }
            }
            // Below an absent group nothing exists, so the rest is created
            // without reading. Creating a group needs only a shared lock:
            // whoever else holds it can only be creating the same group.
            self.needs.shared(prefix);
            self.pending
                .insert(prefix.to_owned(), Some(GROUP_BYTES.to_vec()));
            self.created.insert(prefix.to_owned(), ());
        }
        Ok(())
    }

    /// `resolve(path)` and what is there, refusing a target too long to
    /// store anything at.
    fn resolve_target(&mut self, path: &StorePath) -> Result<(String, Probe)> {
        let (target, at) = resolve(self, path.as_str())?;
        check_resolved_len(path, &target)?;
        Ok((target.into_owned(), at))
    }

    /// `write`: the parent resolved, the last segment not followed, so a
    /// value or a link there is replaced (a link's index record goes with
    /// it, see `commit`).
    pub(crate) fn write(&mut self, path: &StorePath, value: &[u8]) -> Result<()> {
        if path.is_root() {
            return Err(Error::root("written"));
        }
        let (at, found) = self.locate(path)?;
        if found == Probe::Group {
            return Err(Error::IsGroup {
                path: path.to_string(),
            });
        }
        self.ensure_ancestors(path, &at)?;
        self.put(at, codec::encode_value(value));
        Ok(())
    }

    /// Where `path` itself is stored (its parent resolved, its last segment
    /// not followed) and what is there, refusing a place too long to store
    /// anything at.
    fn locate(&mut self, path: &StorePath) -> Result<(String, Probe)> {
        let (at, found) = locate_last(self, path.as_str())?;
        check_resolved_len(path, &at)?;
        Ok((at.into_owned(), found))
    }

    pub(crate) fn make_group(&mut self, path: &StorePath) -> Result<()> {
        let (target, at) = self.resolve_target(path)?;
        match at {
            Probe::Group => Ok(()),
            Probe::Absent => {
                self.ensure_ancestors(path, &target)?;
                self.created.insert(target.clone(), ());
                self.put(target, GROUP_BYTES.to_vec());
                Ok(())
            }
            Probe::Value | Probe::Link(_) => Err(Error::NotAGroup {
                path: path.to_string(),
                value_at: target,
            }),
        }
    }

    /// `make_link`: a link at `new` (its parent resolved, its last segment
    /// not followed). A link there is re-pointed and a value replaced, in
    /// this one transaction; a group is in the way.
    pub(crate) fn make_link(&mut self, existing: &StorePath, new: &StorePath) -> Result<()> {
        if existing == new {
            return Ok(());
        }
        if new.is_root() {
            return Err(Error::root("a link"));
        }
        let (at, found) = self.locate(new)?;
        match found {
            Probe::Link(target) if target == existing.as_str() => Ok(()),
            Probe::Group => Err(Error::AlreadyExists {
                path: new.to_string(),
                existing: "a group".to_owned(),
            }),
            Probe::Absent | Probe::Value | Probe::Link(_) => {
                self.ensure_ancestors(new, &at)?;
                self.put(at, codec::encode_link(existing.as_str()));
                Ok(())
            }
        }
    }

    pub(crate) fn delete(&mut self, path: &StorePath, recursive: bool) -> Result<bool> {
        let (Some(parent), Some(name)) = (path.parent(), path.name()) else {
            return Err(Error::root("deleted"));
        };
        let (parent, _) = resolve(self, parent.as_str())?;
        let at = join_str(&parent, name);
        let is_leaf = match self.probe(&at) {
            Ok(Probe::Absent) => return Ok(false),
            Ok(Probe::Value | Probe::Link(_)) => true,
            Ok(Probe::Group) => false,
            // A damaged entry can still be removed (that is how it is
            // repaired); it is treated as a group in case it has children.
            Err(Error::Corrupt { .. }) => false,
            Err(e) => return Err(e),
        };
        if !is_leaf {
            let descendants = self.descendants(&at, !recursive)?;
            if !descendants.is_empty() && !recursive {
                return Err(Error::NotEmpty {
                    path: path.to_string(),
                });
            }
            for d in descendants {
                self.schedule_removal(d);
            }
        }
        self.remove(&at);
        Ok(true)
    }

    /// Everything below `group`, pending changes included; only the first
    /// one found when `first_only`. The caller holds `group` exclusively, so
    /// nothing below it changes meanwhile.
    fn descendants(&mut self, group: &str, first_only: bool) -> Result<Vec<String>> {
        let mut found = Vec::new();
        let below = format!("{group}/");
        for (path, change) in self.pending.with_prefix(&below) {
            if change.is_some() {
                found.push(path.to_owned());
                if first_only {
                    return Ok(found);
                }
            }
        }
        // The invariant holds in the database: a level with no entries
        // means nothing deeper either.
        for level in 1.. {
            let (start, end) = codec::level_range(group, level);
            let mut any = false;
            scan::each_in_range(self.db, &start, end, |key, bytes| {
                any = true;
                let path = codec::decode_key(key)?;
                if !self.pending.contains_key(path) {
                    found.push(path.to_owned());
                    // A link removed with its group takes its index record
                    // along (see `commit`). Damaged bytes are removed too.
                    if let Ok(Entry::Link(target)) = codec::decode_entry(path, bytes) {
                        self.links_read.insert(path.to_owned(), target.to_owned());
                    }
                }
                // Go on unless one is all that was asked for and found.
                Ok(!first_only || found.is_empty())
            })?;
            if !any || (first_only && !found.is_empty()) {
                break;
            }
        }
        Ok(found)
    }

    /// Registers the groups this transaction creates (see `fresh.rs`),
    /// and marks fresh those still absent in the database, with the
    /// children this transaction gives them; the guard finishes the
    /// registrations once the write landed or failed.
    fn register_creations(&self) -> Result<CreationGuard<'a>> {
        let mut guard = CreationGuard {
            caches: self.caches,
            groups: Vec::new(),
            new: Vec::new(),
            landed: false,
        };
        let mut since = self.creations_since;
        for (group, ()) in self.created.iter() {
            if !matches!(self.pending.get(group), Some(Some(bytes)) if bytes.as_slice() == GROUP_BYTES)
            {
                continue;
            }
            self.caches.creations.begin(group, &mut since);
            guard.groups.push(group.to_owned());
            // This transaction created the group because it found it
            // absent (or below an absent one), after `creations_since`.
            let absent = since.is_some()
                || get(self.db, None, &codec::entry_key(group))
                    .map_err(Error::rocks_lazy(|| format!("reading {group:?}")))?
                    .is_none();
            if absent {
                guard.new.push(group.to_owned());
                let children = self.children_pending(group);
                self.caches
                    .creations
                    .mark_fresh(group, children, &self.caches.fresh);
            }
        }
        Ok(guard)
    }

    /// The children this transaction writes directly under `group`.
    fn children_pending(&self, group: &str) -> Children {
        let below = format!("{group}/");
        Children::new(
            self.pending
                .with_prefix(&below)
                .filter(|(_, change)| change.is_some())
                .filter_map(|(path, _)| path.strip_prefix(&below))
                .filter(|name| !name.contains('/')),
        )
    }

    /// Writes every pending change in one atomic RocksDB write, bringing the
    /// caches up to date around it (the caller still holds the locks): what
    /// it removes is forgotten before the write lands, so that no reader
    /// finds it cached afterwards; what it leaves is remembered after. The
    /// link index changes in the same write: a link replaced or removed
    /// loses its record, a link written gains one.
    pub(crate) fn commit(mut self, write_options: &WriteOptions) -> Result<()> {
        for path in &self.removed {
            self.caches.forget(path);
        }
        // A link this transaction re-points or replaces is forgotten before
        // the change lands too; its new target is remembered after.
        for (path, _) in self.links_read.iter() {
            if self.pending.contains_key(path) {
                self.caches.links.remove(path);
            }
        }
        let mut index_removed = Vec::new();
        let mut index_added = Vec::new();
        for (path, change) in self.pending.iter() {
            if let Some(old_target) = self.links_read.get(path) {
                index_removed.push(codec::link_index_key(path, old_target));
            }
            match change
                .as_deref()
                .map(|bytes| codec::decode_entry(path, bytes))
            {
                Some(Ok(Entry::Link(target))) => {
                    index_added.push(codec::link_index_key(path, target));
                }
                // Before it lands, so that a sweep that can see the value
                // sees the record too (`recent.rs`).
                Some(Ok(Entry::Value(_))) => self.caches.recent.record(path),
                _ => {}
            }
        }
        let mut creations = self.register_creations()?;
        // Children are recorded in their fresh groups before the write
        // lands: should it fail (or a panic cut in between), a child is
        // believed present that is not, which only costs a read later; the
        // other way round, a child that is there could be believed absent.
        for (path, change) in self.pending.iter() {
            if change.is_some() {
                if let Some((parent, name)) = path.rsplit_once('/') {
                    self.caches.fresh.add_child(parent, name);
                }
            }
        }
        // The entry cache forgets every changed path, and the listing of
        // each one's parent, until the change has landed (or failed):
        // `entries.rs` has the argument.
        let mut settling = Settling {
            entries: &self.caches.entries,
            pending: &self.pending,
            ids: SmallVec::new(),
            listings: SmallVec::new(),
            landed: false,
        };
        for (path, _) in settling.pending.iter() {
            let id = settling.entries.begin(path);
            settling.ids.push(id);
        }
        // The listings the commit changes: each changed path's parent's,
        // each removed path's own (a listing exists only for a group that
        // is there; a group removed and replaced by a value or a link in
        // the same batch is pending as the replacement, so the removals
        // are read from `removed`), each created group's own (empty, and
        // its children).
        let mut touched: SmallVec<[(&str, Touch<'_>); 8]> = SmallVec::new();
        for (path, change) in self.pending.iter() {
            if let Some(parent) = parent_of(path) {
                let name = path
                    .get(parent.len()..)
                    .unwrap_or(path)
                    .trim_start_matches('/');
                touched.push((parent, Touch::Child(name, change.as_deref())));
            }
        }
        for path in &self.removed {
            touched.push((path, Touch::Removed));
        }
        for group in &creations.new {
            touched.push((group, Touch::Created));
        }
        touched.sort_by(|a, b| a.0.cmp(b.0));
        for group in touched.chunk_by(|a, b| a.0 == b.0) {
            let name = group[0].0;
            let (old, begun, id) = settling.entries.begin_listing(name);
            let removed = group.iter().any(|(_, t)| matches!(t, Touch::Removed));
            // A group this transaction created starts from an empty
            // listing, unless another creator of it met this one: that
            // one's write may have landed since this transaction found the
            // group absent, with children this one does not know of (and
            // its listing not kept, if a third writer was in the stripe).
            // Anyone whose write landed before this `begin_listing` had
            // registered before it, so asking now is late enough.
            let created = group.iter().any(|(_, t)| matches!(t, Touch::Created))
                && !self.caches.creations.met(name);
            let changes: SmallVec<[listings::Change<'_>; 8]> = group
                .iter()
                .filter_map(|(_, t)| match *t {
                    Touch::Child(child, change) => Some((child, change)),
                    _ => None,
                })
                .collect();
            let old = old.as_ref().and_then(Cached::encoded_listing);
            let now = if removed {
                None
            } else {
                old.or_else(|| created.then_some(&[][..]))
                    .and_then(|old| listings::apply(old, &changes))
            };
            settling.listings.push((id, now, begun));
        }
        let committed = match self.pending.len() {
            0 => Ok(()),
            // The common write (parent already there, no link involved) is
            // one change: a plain put skips building a batch object.
            1 if index_removed.is_empty() && index_added.is_empty() => {
                let (path, change) = self.pending.iter().next().expect("one pending change");
                codec::entry_key_into(&mut self.key, path);
                match change {
                    Some(bytes) => self.db.put_opt(&self.key, bytes, write_options),
                    None => self.db.delete_opt(&self.key, write_options),
                }
            }
            _ => {
                let mut batch = WriteBatch::default();
                for (path, change) in self.pending.iter() {
                    let key = codec::entry_key(path);
                    match change {
                        Some(bytes) => batch.put(key, bytes),
                        None => batch.delete(key),
                    }
                }
                // Removals first: a link removed and made again to the same
                // target in one batch keeps its record.
                for key in index_removed {
                    batch.delete(key);
                }
                for key in index_added {
                    batch.put(key, []);
                }
                self.db.write_opt(batch, write_options)
            }
        };
        committed.map_err(Error::rocks("committing a write"))?;
        creations.landed = true;
        settling.landed = true;
        for (path, change) in self.pending.iter() {
            match change
                .as_deref()
                .map(|bytes| codec::decode_entry(path, bytes))
            {
                Some(Ok(Entry::Group)) => self.caches.groups.insert(path, ()),
                Some(Ok(Entry::Link(target))) => self.caches.links.insert(path, target),
                _ => {}
            }
        }
        drop(settling);
        for (path, ()) in self.groups_read.iter() {
            if !self.pending.contains_key(path) {
                self.caches.groups.insert(path, ());
            }
        }
        for (path, target) in self.links_read.iter() {
            if !self.pending.contains_key(path) {
                self.caches.links.insert(path, target);
            }
        }
        Ok(())
    }
}

/// A listing begun by a commit: its id, the listing after the change when
/// known, and the version step 1 left.
type ListingSettled = (Id, Option<Vec<u8>>, u64);

/// How a commit touches a group's listing.
enum Touch<'p> {
    /// A child, by name, gets these stored bytes (`None`: removed).
    Child(&'p str, Option<&'p [u8]>),
    /// The group itself is removed: no listing.
    Removed,
    /// The group is created: its listing starts empty.
    Created,
}

/// The paths a committing transaction changes, begun in the entry cache
/// with their parents' listings; settled when dropped, with their new
/// entries and listings if the write landed and as absent otherwise (a
/// failed write, or a panic in between).
struct Settling<'a> {
    entries: &'a EntryCache,
    pending: &'a SmallMap<Option<Vec<u8>>>,
    /// The changed paths' ids, in `pending`'s order.
    ids: SmallVec<[Id; 4]>,
    /// Each listing the commit changes, once: its listing after the
    /// change when known, and the version its step 1 left.
    listings: SmallVec<[ListingSettled; 4]>,
    landed: bool,
}

impl Drop for Settling<'_> {
    fn drop(&mut self) {
        for ((_, change), id) in self.pending.iter().zip(&self.ids) {
            let now = change.as_deref().filter(|_| self.landed);
            self.entries.settle(*id, now);
        }
        for (id, now, begun) in &self.listings {
            let now = now.as_deref().filter(|_| self.landed);
            self.entries.settle_listing(*id, now, *begun);
        }
    }
}

/// The groups a committing transaction creates, registered with
/// `Creations` until the write has landed (or failed).
struct CreationGuard<'a> {
    caches: &'a Caches,
    groups: Vec<String>,
    /// Those the database did not hold before: their listing is what this
    /// transaction writes under them.
    new: Vec<String>,
    landed: bool,
}

impl Drop for CreationGuard<'_> {
    fn drop(&mut self) {
        for group in &self.groups {
            self.caches
                .creations
                .finish(group, !self.landed, &self.caches.fresh);
        }
    }
}
