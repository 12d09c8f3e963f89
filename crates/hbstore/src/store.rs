//! The public contract: the [`Store`] trait every backend implements, the
//! [`Batch`] of operations applied atomically, and the types they return.
//! The rules themselves are in `docs/contract.md`; each method's doc names
//! the operation of that page it implements.

use crate::error::Result;
pub use crate::limits::MAX_LINK_HOPS;
use crate::path::{IntoStorePath, StorePath};

/// What `type` answers, in hb_store's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryType {
    /// A value (bytes).
    Simple,
    /// A group (a directory of children); the root is one.
    Composite,
}

impl EntryType {
    /// hb_store's word for it: `simple` or `composite`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryType::Simple => "simple",
            EntryType::Composite => "composite",
        }
    }
}

/// Where a store keeps its data, as hb_store's `scope/1` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// On this machine (every embedded backend).
    Local,
    /// Across the network, for backends that keep their data elsewhere
    /// (the cluster backend, `hbstore-cluster`).
    Remote,
}

/// One child of a group, as [`Store::list_children`] returns it. A link is
/// reported as a link, not followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// The child's name: one segment.
    pub name: String,
    /// What the child is.
    pub kind: ChildKind,
}

/// What a child of a group is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildKind {
    /// A value of `len` bytes.
    Value {
        /// The value's size in bytes.
        len: u64,
    },
    /// A group.
    Group,
    /// A link, not followed.
    Link {
        /// Where it points, in canonical form.
        target: String,
    },
}

/// Which way [`Store::list_range`] walks a group's children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Byte order, from `from` (inclusive) up.
    #[default]
    Ascending,
    /// Reverse byte order, from `from` (inclusive) down.
    Descending,
}

/// A page of a group's children, for [`Store::list_range`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    /// The first name to include, which need not exist: names `>= from`
    /// going up, `<= from` going down; `None` starts at the first (or
    /// last) child.
    pub from: Option<String>,
    /// At most this many children; `None` for all of them.
    pub limit: Option<usize>,
    /// Which way to walk.
    pub direction: Direction,
}

impl Page {
    /// Whether `name` lies on the page's side of `from`.
    pub(crate) fn admits(&self, name: &str) -> bool {
        match (&self.from, self.direction) {
            (None, _) => true,
            (Some(from), Direction::Ascending) => name.as_bytes() >= from.as_bytes(),
            (Some(from), Direction::Descending) => name.as_bytes() <= from.as_bytes(),
        }
    }
}

/// What [`Store::read_entry`] finds at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryRead {
    /// A value, with its bytes.
    Value(Vec<u8>),
    /// A group, with its children in byte order.
    Group(Vec<ChildRead>),
}

/// One child of a group as [`Store::read_entry`] returns it: its kind (a
/// link with its target, not followed), and a value's bytes when they are
/// no larger than the size the caller gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildRead {
    /// The child's name: one segment.
    pub name: String,
    /// What the child is.
    pub kind: ChildKind,
    /// A value child's bytes, when at most the size asked for; from
    /// [`Store::read_message_at`], a link child's target's bytes too.
    pub bytes: Option<Vec<u8>>,
}

/// One mutation, as held in a [`Batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `write(path, value)`.
    Write {
        /// Where (its parent resolved when applied, its last segment not
        /// followed).
        path: StorePath,
        /// The bytes.
        value: Vec<u8>,
    },
    /// `make_group(path)`.
    MakeGroup {
        /// Where (resolved when applied).
        path: StorePath,
    },
    /// `make_link(existing, new)`.
    MakeLink {
        /// The target, stored as given.
        existing: StorePath,
        /// Where the link goes (its parent resolved when applied).
        new: StorePath,
    },
    /// `delete(path)`, recursive or not.
    Delete {
        /// What to remove (its final segment not followed).
        path: StorePath,
        /// Whether a group goes with everything below it.
        recursive: bool,
    },
}

/// Mutations applied all together or not at all by [`Store::apply`]. Each
/// operation sees the effects of the ones before it, so a batch can make a
/// group, link to it and write through the link. Paths are validated as
/// they are added, so a batch that was built holds only valid paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a `write`; fails only for an invalid path.
    pub fn write(&mut self, path: impl IntoStorePath, value: &[u8]) -> Result<&mut Self> {
        let path = path.into_store_path()?;
        self.ops.push(Op::Write {
            path,
            value: value.to_vec(),
        });
        Ok(self)
    }

    /// Adds a `make_group`; fails only for an invalid path.
    pub fn make_group(&mut self, path: impl IntoStorePath) -> Result<&mut Self> {
        let path = path.into_store_path()?;
        self.ops.push(Op::MakeGroup { path });
        Ok(self)
    }

    /// Adds a `make_link`; fails only for an invalid path.
    pub fn make_link(
        &mut self,
        existing: impl IntoStorePath,
        new: impl IntoStorePath,
    ) -> Result<&mut Self> {
        let existing = existing.into_store_path()?;
        let new = new.into_store_path()?;
        self.ops.push(Op::MakeLink { existing, new });
        Ok(self)
    }

    /// Adds a non-recursive `delete`; fails only for an invalid path.
    pub fn delete(&mut self, path: impl IntoStorePath) -> Result<&mut Self> {
        self.push_delete(path, false)
    }

    /// Adds a recursive `delete`; fails only for an invalid path.
    pub fn delete_recursive(&mut self, path: impl IntoStorePath) -> Result<&mut Self> {
        self.push_delete(path, true)
    }

    fn push_delete(&mut self, path: impl IntoStorePath, recursive: bool) -> Result<&mut Self> {
        let path = path.into_store_path()?;
        self.ops.push(Op::Delete { path, recursive });
        Ok(self)
    }

    /// Adds an operation that was built elsewhere.
    pub fn push(&mut self, op: Op) -> &mut Self {
        self.ops.push(op);
        self
    }

    /// The operations, in the order they apply.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// How many operations the batch holds.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// The `hb_store` contract. Backends implement the `*_at` methods on
/// canonical paths; callers use the provided methods, which accept paths in
/// any form ([`IntoStorePath`]) and normalise them first.
///
/// Every operation is atomic and linearizable, and a store is meant to be
/// shared between threads (in an `Arc`).
pub trait Store: Send + Sync {
    /// The bytes at `resolve(path)` if it is a value.
    fn read_at(&self, path: &StorePath) -> Result<Option<Vec<u8>>>;
    /// The type of `resolve(path)`; the root is `Composite`.
    fn type_at(&self, path: &StorePath) -> Result<Option<EntryType>>;
    /// The children of `resolve(path)`, sorted by name in byte order.
    fn list_at(&self, path: &StorePath) -> Result<Option<Vec<Child>>>;
    /// The physical path of `path`: every link on the way followed.
    fn resolve_at(&self, path: &StorePath) -> Result<StorePath>;
    /// `list_range`: see [`Store::list_range`].
    fn list_range_at(&self, path: &StorePath, page: &Page) -> Result<Option<Vec<Child>>>;
    /// `read_entry`: see [`Store::read_entry`].
    fn read_entry_at(&self, path: &StorePath, inline_up_to: usize) -> Result<Option<EntryRead>>;
    /// `match`: see [`Store::match_links`]; `pairs` are (child name, the
    /// canonical target its link must have).
    fn match_at(&self, pairs: &[(String, StorePath)], limit: Option<usize>) -> Result<Vec<String>>;
    /// `write`: see [`Store::write`].
    fn write_at(&self, path: &StorePath, value: &[u8]) -> Result<()>;
    /// `make_group`: see [`Store::make_group`].
    fn make_group_at(&self, path: &StorePath) -> Result<()>;
    /// `make_link`: see [`Store::make_link`].
    fn make_link_at(&self, existing: &StorePath, new: &StorePath) -> Result<()>;
    /// Removes the entry at `path` (its final segment not followed); says
    /// whether anything was removed.
    fn delete_at(&self, path: &StorePath, recursive: bool) -> Result<bool>;
    /// Applies every operation of `batch`, or none of them.
    fn apply(&self, batch: &Batch) -> Result<()>;
    /// Removes every entry; the store stays open and usable.
    fn reset(&self) -> Result<()>;
    /// `scope`: where the store keeps its data.
    fn scope(&self) -> Scope {
        Scope::Local
    }

    /// A whole message in one call: [`Store::read_entry`], and for each
    /// link child whose target (followed as `read` follows it) is a value
    /// of at most `inline_up_to` bytes, that value's bytes in its
    /// [`ChildRead::bytes`] too (HyperBEAM's message fields link to
    /// `data/<hash>` values). The default reads each target on its own; a
    /// backend may read them together (the RocksDB backend: the entry
    /// cache, then one batched read).
    fn read_message_at(&self, path: &StorePath, inline_up_to: usize) -> Result<Option<EntryRead>> {
        let Some(entry) = self.read_entry_at(path, inline_up_to)? else {
            return Ok(None);
        };
        let EntryRead::Group(mut children) = entry else {
            return Ok(Some(entry));
        };
        for child in &mut children {
            if let ChildKind::Link { target } = &child.kind {
                child.bytes = self.read_up_to_at(&StorePath::parse(target)?, inline_up_to)?;
            }
        }
        Ok(Some(EntryRead::Group(children)))
    }

    /// `read` of a value no larger than `max` bytes: `None` for a larger
    /// one too, which a backend need not copy (a message read inlines its
    /// small linked values and leaves the large ones to be read on their
    /// own).
    fn read_up_to_at(&self, path: &StorePath, max: usize) -> Result<Option<Vec<u8>>> {
        Ok(self.read_at(path)?.filter(|bytes| bytes.len() <= max))
    }

    /// `read`: the bytes if `resolve(path)` is a value; `None` if it is
    /// absent or a group.
    fn read(&self, path: impl IntoStorePath) -> Result<Option<Vec<u8>>>
    where
        Self: Sized,
    {
        self.read_at(&path.into_store_path()?)
    }

    /// `write`: stores `value` at `path`, its parent resolved and its last
    /// segment not followed (a value or a link there is replaced), creating
    /// missing ancestors as groups. `IsGroup` if a group is there,
    /// `NotAGroup` if an ancestor is a value.
    fn write(&self, path: impl IntoStorePath, value: &[u8]) -> Result<()>
    where
        Self: Sized,
    {
        self.write_at(&path.into_store_path()?, value)
    }

    /// `type`: `Simple`, `Composite`, or `None` when absent.
    fn type_of(&self, path: impl IntoStorePath) -> Result<Option<EntryType>>
    where
        Self: Sized,
    {
        self.type_at(&path.into_store_path()?)
    }

    /// `list`: the names of the children, sorted by byte order; `None` when
    /// absent; `NotAGroup` when a value.
    fn list(&self, path: impl IntoStorePath) -> Result<Option<Vec<String>>>
    where
        Self: Sized,
    {
        let children = self.list_at(&path.into_store_path()?)?;
        Ok(children.map(|c| c.into_iter().map(|c| c.name).collect()))
    }

    /// `list` with each child's kind: a value's size, a link's target.
    fn list_children(&self, path: impl IntoStorePath) -> Result<Option<Vec<Child>>>
    where
        Self: Sized,
    {
        self.list_at(&path.into_store_path()?)
    }

    /// `list_range`: a page of the children of `resolve(path)`, each with
    /// its kind: from `page.from` (inclusive, need not exist) in
    /// `page.direction`, at most `page.limit` of them. `None` when absent;
    /// `NotAGroup` when a value. Costs the size of the page, not of the
    /// group.
    fn list_range(&self, path: impl IntoStorePath, page: &Page) -> Result<Option<Vec<Child>>>
    where
        Self: Sized,
    {
        self.list_range_at(&path.into_store_path()?, page)
    }

    /// `read_entry`: `resolve(path)` in one call: a value's bytes, or a
    /// group's children with their kinds, each value child's bytes included
    /// when at most `inline_up_to` bytes long, each link child's target.
    /// One ordered scan of the group, no read per child. `None` when absent.
    fn read_entry(&self, path: impl IntoStorePath, inline_up_to: usize) -> Result<Option<EntryRead>>
    where
        Self: Sized,
    {
        self.read_entry_at(&path.into_store_path()?, inline_up_to)
    }

    /// A whole message: see [`Store::read_message_at`].
    fn read_message(
        &self,
        path: impl IntoStorePath,
        inline_up_to: usize,
    ) -> Result<Option<EntryRead>>
    where
        Self: Sized,
    {
        self.read_message_at(&path.into_store_path()?, inline_up_to)
    }

    /// hb_store's `match`: the groups `g` (physical paths, in byte order)
    /// such that, for every pair `(key, target)`, `g/key` is a link whose
    /// target is `target` (in canonical form). At most `limit` of them.
    /// Answered from an index of links, so it costs the size of the answer,
    /// not of the store. No pair matches nothing. A key must be one segment
    /// (`InvalidPath` otherwise).
    fn match_links<K, T>(&self, pairs: &[(K, T)], limit: Option<usize>) -> Result<Vec<String>>
    where
        Self: Sized,
        K: AsRef<str>,
        T: IntoStorePath + Clone,
    {
        let pairs = pairs
            .iter()
            .map(|(key, target)| {
                let key = crate::path::segment(key.as_ref())?;
                Ok((key, target.clone().into_store_path()?))
            })
            .collect::<Result<Vec<_>>>()?;
        self.match_at(&pairs, limit)
    }

    /// `make_group`: `mkdir -p`; succeeds if a group is already there.
    fn make_group(&self, path: impl IntoStorePath) -> Result<()>
    where
        Self: Sized,
    {
        self.make_group_at(&path.into_store_path()?)
    }

    /// `make_link`: a link at `new` (its parent resolved, its last segment
    /// not followed) pointing at `existing`, which need not exist. A link
    /// there is re-pointed and a value replaced, atomically; a group there
    /// is `AlreadyExists`.
    fn make_link(&self, existing: impl IntoStorePath, new: impl IntoStorePath) -> Result<()>
    where
        Self: Sized,
    {
        self.make_link_at(&existing.into_store_path()?, &new.into_store_path()?)
    }

    /// `resolve`: the physical path, as a canonical string.
    fn resolve(&self, path: impl IntoStorePath) -> Result<String>
    where
        Self: Sized,
    {
        Ok(self.resolve_at(&path.into_store_path()?)?.into_string())
    }

    /// Removes a value, a link or an empty group; `NotEmpty` for a group
    /// with children.
    fn delete(&self, path: impl IntoStorePath) -> Result<bool>
    where
        Self: Sized,
    {
        self.delete_at(&path.into_store_path()?, false)
    }

    /// Removes an entry and, for a group, everything below it.
    fn delete_recursive(&self, path: impl IntoStorePath) -> Result<bool>
    where
        Self: Sized,
    {
        self.delete_at(&path.into_store_path()?, true)
    }

    /// `path`: the canonical form, without touching the store.
    fn path(&self, parts: impl IntoStorePath) -> Result<String>
    where
        Self: Sized,
    {
        crate::path::path(parts)
    }

    /// `add_path`: `b` appended to `a`, without touching the store.
    fn add_path(&self, a: impl IntoStorePath, b: impl IntoStorePath) -> Result<String>
    where
        Self: Sized,
    {
        crate::path::add_path(a, b)
    }
}
