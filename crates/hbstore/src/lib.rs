//! hbstore: a hierarchical key-value store (paths, groups and links) on
//! RocksDB, implementing the contract of HyperBEAM's `hb_store`.
//!
//! A store is a tree of paths: a *value* holds bytes, a *group* holds named
//! children, a *link* points at another path and is followed wherever it
//! appears in a path. The [`Store`] trait is the contract, written out in
//! `docs/contract.md` in the repository; [`RocksStore`] is the embedded
//! default and [`MemoryStore`] the in-memory reference. The on-disk format is
//! described in `docs/format.md` and implemented in one module.
//!
//! A glossary of the types that say "what is at a path", since several do:
//! [`EntryType`] is what `type` answers (`simple` or `composite`);
//! [`ChildKind`] is what a listing says of each child (a value with its
//! size, a group, or a link with its target). Inside the crate, the codec
//! decodes stored bytes into an entry, and resolution works with a probe of
//! one physical path; neither is public.
//!
//! ```
//! use hbstore::{EntryType, Options, RocksStore, Store};
//!
//! # fn main() -> hbstore::Result<()> {
//! let dir = tempfile::tempdir().expect("temporary directory");
//! let store = RocksStore::open(dir.path().join("db"), Options::default())?;
//!
//! store.write("messages/id1/body", b"hello")?; // creates the groups on the way
//! store.make_link("messages/id1", "latest")?;
//! assert_eq!(store.read("latest/body")?, Some(b"hello".to_vec()));
//! assert_eq!(store.type_of(["latest"])?, Some(EntryType::Composite));
//! assert_eq!(store.list("messages/id1")?, Some(vec!["body".to_owned()]));
//! assert_eq!(store.resolve("latest/body")?, "messages/id1/body");
//!
//! let mut batch = hbstore::Batch::new();
//! batch.make_group("a")?.make_link("a", "b")?.write("b/x", b"1")?;
//! store.apply(&batch)?; // all or nothing
//! assert_eq!(store.read("a/x")?, Some(b"1".to_vec()));
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Modules are private: what is public is exactly the list below, so files
// can move without breaking anyone.
mod backend;
mod codec;
mod error;
mod limits;
pub mod metrics;
pub use metrics::MetricsReport;
mod path;
mod store;
mod sync;
mod walk;

pub use backend::memory::MemoryStore;
pub use backend::rocks::{
    BackupMethod, CheckReport, Compression, Durability, Estimate, Finding, GcReport, MemoryBudget,
    Options, RocksStore,
};
pub use error::{Error, Result};
pub use path::{
    add_path, check_resolved_len, is_canonical, path, IntoStorePath, StorePath, MAX_PATH_BYTES,
};
pub use store::{
    Batch, Child, ChildKind, ChildRead, Direction, EntryRead, EntryType, Op, Page, Scope, Store,
    MAX_LINK_HOPS,
};
pub use walk::walk;
