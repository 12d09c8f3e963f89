//! What a writer knows of the groups it created itself: every child they
//! have. HyperBEAM writes a message as a new group and then its fields;
//! each field's write must know that nothing stands at its path (a group
//! there would refuse it, a link would redirect it), and on a store of
//! millions of entries that look-up consults the bloom filter of every
//! level. For a group this handle created and has watched since, the
//! answer is known without it.
//!
//! Why the knowledge is sound: one process writes a store (RocksDB's lock),
//! every change goes through a transaction of this handle, and a
//! transaction records here each child it adds to a fresh group, before
//! its write lands and while it holds the child's lock exclusively, so a
//! writer that asks about a child (under that child's lock) learns of every
//! earlier addition. (A record made by a write that then fails only costs
//! a read.) Intermediate groups are created under a *shared* lock, so a
//! second writer may ask about such a group while its creator's write has
//! landed and is not yet recorded in the group's parent; it then finds the
//! group absent and writes it again, with the same bytes, plus only paths
//! below it that it holds exclusively: harmless. The one subtle case
//! is the group's creation: two writers may both find it absent and both
//! create it (creating a group takes only a shared lock), and then neither
//! alone knows all its children; and once the group is in the database,
//! other writers add children to it. [`Creations`] orders this: at commit
//! a creator registers, checks that the group is still absent in the
//! database, marks it fresh *before* its write lands (so whoever finds the
//! group there finds it fresh and records its child), and on finishing
//! undoes the mark if another creator registered meanwhile (or the write
//! failed). Forgetting is always safe (the next write reads the
//! database), so the knowledge lives in a bounded cache, and a removed
//! group is forgotten before its removal commits.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::path_cache::{Cached, PathCache};
use crate::sync;

/// The children of a fresh group, by name: the names one after another,
/// each ended by a `/` (which no name holds), so that a group's entry is
/// one allocation however many children it has (every new message makes
/// one, and the cache's turnover frees it).
#[derive(Clone, Default)]
pub(crate) struct Children {
    names: String,
    count: usize,
}

impl Cached for Children {
    fn bytes(&self) -> usize {
        self.names.capacity() + 16
    }
}

impl Children {
    pub(crate) fn new<'n>(names: impl IntoIterator<Item = &'n str>) -> Self {
        let mut children = Children::default();
        for name in names {
            children.add(name);
        }
        children
    }

    fn has(&self, name: &str) -> bool {
        self.names.split_terminator('/').any(|n| n == name)
    }

    /// Adds `name`; false when that makes too many to keep.
    fn add(&mut self, name: &str) -> bool {
        if !self.has(name) {
            self.names.push_str(name);
            self.names.push('/');
            self.count += 1;
        }
        self.count <= MOST_CHILDREN
    }
}

/// A fresh group is forgotten once it has more children than this: the
/// knowledge pays for a message being written field by field, and a list
/// searched by every write must stay short (and an entry of the bounded
/// cache small).
const MOST_CHILDREN: usize = 32;

/// Groups this handle created, with every child they have.
pub(crate) struct FreshGroups {
    cache: PathCache<Children>,
}

impl FreshGroups {
    pub(crate) fn new(capacity_bytes: usize) -> Self {
        FreshGroups {
            cache: PathCache::new(capacity_bytes),
        }
    }

    /// Whether `group` is known to have no child `name`.
    pub(crate) fn lacks(&self, group: &str, name: &str) -> bool {
        self.cache
            .peek(group, |children| !children.has(name))
            .unwrap_or(false)
    }

    /// Records `group`, just created where nothing was, with its children.
    pub(crate) fn insert(&self, group: &str, children: Children) {
        if children.count <= MOST_CHILDREN {
            self.cache.insert(group, children);
        }
    }

    /// Records a child added to `group`, if `group` is fresh.
    pub(crate) fn add_child(&self, group: &str, name: &str) {
        self.cache.update(group, |children| children.add(name));
    }

    pub(crate) fn remove(&self, group: &str) {
        self.cache.remove(group);
    }

    pub(crate) fn clear(&self) {
        self.cache.clear();
    }

    pub(crate) fn bytes(&self) -> usize {
        self.cache.bytes()
    }
}

/// The groups being created right now, and whether two creators met.
#[derive(Default)]
pub(crate) struct Creations {
    active: Mutex<HashMap<Box<str>, Creation>>,
    /// Registrations and finishes so far, changed under `active`'s lock:
    /// a transaction that sees it unchanged between its start and its own
    /// registration knows no group was created meanwhile (see
    /// [`Creations::begin`]).
    changes: AtomicU64,
}

#[derive(Default)]
struct Creation {
    creators: u32,
    /// Another creator registered while this group had one: none of them
    /// may call it fresh, and what one did is undone.
    met: bool,
}

impl Creations {
    /// Where [`Creations::begin`]'s `since` starts: call before looking
    /// at the store.
    pub(crate) fn count(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// Registers a creator of `group`; call before checking that it is
    /// absent, and [`Creations::finish`] after writing.
    ///
    /// `since` is what [`Creations::count`] answered before the caller
    /// first looked at the store, moved on by each of its own
    /// registrations; it stays `Some` only while no one else has
    /// registered or finished since and no one else is creating `group`.
    /// Then a group the caller found absent is absent still, and the check
    /// can be skipped: every group is created by a transaction that
    /// registers first and finishes only after its write landed, so one
    /// that landed after the caller looked finished after `since` was
    /// taken (or is still registered), and one that landed before was
    /// there to be seen.
    pub(crate) fn begin(&self, group: &str, since: &mut Option<u64>) {
        let mut active = sync::lock(&self.active);
        let creation = active.entry(group.into()).or_default();
        creation.creators += 1;
        if creation.creators > 1 {
            creation.met = true;
        }
        let before = self.changes.load(Ordering::Relaxed);
        self.changes.store(before + 1, Ordering::Release);
        let alone = creation.creators == 1;
        *since = since.filter(|&s| s == before && alone).map(|_| before + 1);
    }

    /// Whether another creator of `group` has met this one (a registered
    /// creator asks).
    pub(crate) fn met(&self, group: &str) -> bool {
        sync::lock(&self.active).get(group).is_some_and(|c| c.met)
    }

    /// Marks `group` fresh with `children`, unless another creator has
    /// met this one; call after finding it absent and before the write
    /// that creates it lands, so that a writer who finds the group in the
    /// database finds it fresh too, and records its child.
    pub(crate) fn mark_fresh(&self, group: &str, children: Children, fresh: &FreshGroups) {
        let active = sync::lock(&self.active);
        if active.get(group).is_some_and(|c| !c.met) {
            fresh.insert(group, children);
        }
    }

    /// Unregisters a creator of `group` once its write landed (or failed:
    /// `failed`). A group whose creators met, or whose creation failed, is
    /// not fresh.
    pub(crate) fn finish(&self, group: &str, failed: bool, fresh: &FreshGroups) {
        let mut active = sync::lock(&self.active);
        let Some(creation) = active.get_mut(group) else {
            return;
        };
        if creation.met || failed {
            fresh.remove(group);
        }
        creation.creators -= 1;
        if creation.creators == 0 {
            active.remove(group);
        }
        let before = self.changes.load(Ordering::Relaxed);
        self.changes.store(before + 1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_group_lacks_what_it_was_not_told_of() {
        let fresh = FreshGroups::new(10_000);
        assert!(!fresh.lacks("g", "a"), "an unknown group lacks nothing");
        fresh.insert("g", Children::new(["a"]));
        assert!(!fresh.lacks("g", "a"));
        assert!(fresh.lacks("g", "b"));
        fresh.add_child("g", "b");
        assert!(!fresh.lacks("g", "b"));
        fresh.add_child("h", "x");
        assert!(
            !fresh.lacks("h", "y"),
            "adding to an unknown group records nothing"
        );
        fresh.remove("g");
        assert!(!fresh.lacks("g", "c"));
        fresh.insert("big", Children::default());
        for i in 0..MOST_CHILDREN {
            fresh.add_child("big", &format!("c{i}"));
        }
        assert!(fresh.lacks("big", "other"));
        fresh.add_child("big", "one more");
        assert!(!fresh.lacks("big", "other"), "too many children: forgotten");
    }

    #[test]
    fn creators_that_meet_leave_the_group_unknown() {
        let (creations, fresh) = (Creations::default(), FreshGroups::new(10_000));
        creations.begin("g", &mut None);
        creations.mark_fresh("g", Children::default(), &fresh);
        creations.finish("g", false, &fresh);
        assert!(fresh.lacks("g", "x"), "alone: fresh");

        creations.begin("h", &mut None);
        creations.begin("h", &mut None);
        creations.mark_fresh("h", Children::default(), &fresh);
        assert!(!fresh.lacks("h", "x"), "met before marking");
        creations.finish("h", false, &fresh);
        creations.finish("h", false, &fresh);

        creations.begin("i", &mut None);
        creations.mark_fresh("i", Children::default(), &fresh);
        creations.begin("i", &mut None);
        creations.finish("i", false, &fresh);
        assert!(!fresh.lacks("i", "x"), "met after marking: undone");
        creations.finish("i", false, &fresh);

        creations.begin("j", &mut None);
        creations.mark_fresh("j", Children::default(), &fresh);
        creations.finish("j", true, &fresh);
        assert!(!fresh.lacks("j", "x"), "a failed creation is undone");
    }

    #[test]
    fn a_creator_knows_when_nothing_was_created_since_it_looked() {
        let creations = Creations::default();
        let fresh = FreshGroups::new(10_000);
        let mut since = Some(creations.count());
        creations.begin("a", &mut since);
        creations.begin("b", &mut since);
        assert!(since.is_some(), "its own registrations do not count");

        let mut late = Some(creations.count());
        let mut other = Some(creations.count());
        creations.begin("c", &mut other);
        creations.finish("c", false, &fresh);
        creations.begin("d", &mut late);
        assert_eq!(late, None, "another creation finished since it looked");

        let mut looked = Some(creations.count());
        creations.begin("a", &mut looked);
        assert_eq!(looked, None, "another creator of the same group");
        creations.finish("a", false, &fresh);
        creations.finish("a", false, &fresh);

        let mut earlier = Some(creations.count());
        creations.begin("e", &mut None);
        creations.begin("f", &mut earlier);
        assert_eq!(earlier, None, "another registration since it looked");
    }
}
