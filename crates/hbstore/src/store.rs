//! The public contract: the [`Store`] trait every backend implements, the
//! [`Batch`] of operations applied atomically, and the types they return.
//! The rules themselves are in the repository's SPEC.md; each method's doc
//! says which row it implements.

use crate::error::Result;
use crate::path::{IntoStorePath, StorePath};

/// Resolution gives up after this many link hops with
/// [`Error::LinkLoop`](crate::Error::LinkLoop), so a cycle never hangs.
pub const MAX_LINK_HOPS: u32 = 40;

/// What `type` answers, in hb_store's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryType {
    /// A value (bytes).
    Simple,
    /// A group (a directory of children); the root is one.
    Composite,
}

impl EntryType {
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
    /// Across the network (a later backend).
    Remote,
}

/// One child of a group, as [`Store::list_children`] returns it. A link is
/// reported as a link, not followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    pub name: String,
    pub kind: ChildKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildKind {
    Value { len: u64 },
    Group,
    Link { target: String },
}

/// One mutation, as held in a [`Batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Write { path: StorePath, value: Vec<u8> },
    MakeGroup { path: StorePath },
    MakeLink { existing: StorePath, new: StorePath },
    Delete { path: StorePath, recursive: bool },
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
    pub fn new() -> Self {
        Self::default()
    }

    pub fn write(&mut self, path: impl IntoStorePath, value: &[u8]) -> Result<&mut Self> {
        let path = path.into_store_path()?;
        self.ops.push(Op::Write {
            path,
            value: value.to_vec(),
        });
        Ok(self)
    }

    pub fn make_group(&mut self, path: impl IntoStorePath) -> Result<&mut Self> {
        let path = path.into_store_path()?;
        self.ops.push(Op::MakeGroup { path });
        Ok(self)
    }

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

    pub fn delete(&mut self, path: impl IntoStorePath) -> Result<&mut Self> {
        self.push_delete(path, false)
    }

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

    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

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
    fn write_at(&self, path: &StorePath, value: &[u8]) -> Result<()>;
    fn make_group_at(&self, path: &StorePath) -> Result<()>;
    fn make_link_at(&self, existing: &StorePath, new: &StorePath) -> Result<()>;
    /// Removes the entry at `path` (its final segment not followed); says
    /// whether anything was removed.
    fn delete_at(&self, path: &StorePath, recursive: bool) -> Result<bool>;
    /// Applies every operation of `batch`, or none of them.
    fn apply(&self, batch: &Batch) -> Result<()>;
    /// Removes every entry; the store stays open and usable.
    fn reset(&self) -> Result<()>;
    fn scope(&self) -> Scope {
        Scope::Local
    }

    /// `read`: the bytes if `resolve(path)` is a value; `None` if it is
    /// absent or a group.
    fn read(&self, path: impl IntoStorePath) -> Result<Option<Vec<u8>>>
    where
        Self: Sized,
    {
        self.read_at(&path.into_store_path()?)
    }

    /// `write`: stores `value` at `resolve(path)`, creating missing
    /// ancestors as groups. `IsGroup` if a group is there, `NotAGroup` if an
    /// ancestor is a value.
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

    /// `make_group`: `mkdir -p`; succeeds if a group is already there.
    fn make_group(&self, path: impl IntoStorePath) -> Result<()>
    where
        Self: Sized,
    {
        self.make_group_at(&path.into_store_path()?)
    }

    /// `make_link`: a link at `new` pointing at `existing` (which need not
    /// exist). Idempotent for the same target; `AlreadyExists` otherwise.
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
