//! The stores a name can stand for: an embedded store in a directory, or a
//! store on a Redis cluster. Both answer the same contract, so every NIF
//! works on either; only the scheduler differs (a cluster call waits on the
//! network, so it never runs on a normal scheduler: see `lib.rs`).

use hbstore::{
    Batch, Child, EntryRead, EntryType, Page, Result, RocksStore, Scope, Store, StorePath,
};
use hbstore_cluster::ClusterStore;

/// An open store of either kind.
pub enum AnyStore {
    /// In a directory on this machine.
    Embedded(RocksStore),
    /// On a Redis cluster.
    Cluster(ClusterStore),
}

macro_rules! delegate {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnyStore::Embedded($store) => $call,
            AnyStore::Cluster($store) => $call,
        }
    };
}

impl AnyStore {
    /// The store's metrics (see `RocksStore::metrics`).
    pub fn metrics(&self) -> Result<hbstore::MetricsReport> {
        match self {
            AnyStore::Embedded(store) => store.metrics(),
            AnyStore::Cluster(store) => Ok(store.metrics()),
        }
    }
}

impl Store for AnyStore {
    fn read_at(&self, path: &StorePath) -> Result<Option<Vec<u8>>> {
        delegate!(self, s => s.read_at(path))
    }

    fn read_message_at(&self, path: &StorePath, inline_up_to: usize) -> Result<Option<EntryRead>> {
        delegate!(self, s => s.read_message_at(path, inline_up_to))
    }

    fn read_up_to_at(&self, path: &StorePath, max: usize) -> Result<Option<Vec<u8>>> {
        delegate!(self, s => s.read_up_to_at(path, max))
    }

    fn type_at(&self, path: &StorePath) -> Result<Option<EntryType>> {
        delegate!(self, s => s.type_at(path))
    }

    fn list_at(&self, path: &StorePath) -> Result<Option<Vec<Child>>> {
        delegate!(self, s => s.list_at(path))
    }

    fn resolve_at(&self, path: &StorePath) -> Result<StorePath> {
        delegate!(self, s => s.resolve_at(path))
    }

    fn list_range_at(&self, path: &StorePath, page: &Page) -> Result<Option<Vec<Child>>> {
        delegate!(self, s => s.list_range_at(path, page))
    }

    fn read_entry_at(&self, path: &StorePath, inline_up_to: usize) -> Result<Option<EntryRead>> {
        delegate!(self, s => s.read_entry_at(path, inline_up_to))
    }

    fn match_at(&self, pairs: &[(String, StorePath)], limit: Option<usize>) -> Result<Vec<String>> {
        delegate!(self, s => s.match_at(pairs, limit))
    }

    fn write_at(&self, path: &StorePath, value: &[u8]) -> Result<()> {
        delegate!(self, s => s.write_at(path, value))
    }

    fn make_group_at(&self, path: &StorePath) -> Result<()> {
        delegate!(self, s => s.make_group_at(path))
    }

    fn make_link_at(&self, existing: &StorePath, new: &StorePath) -> Result<()> {
        delegate!(self, s => s.make_link_at(existing, new))
    }

    fn delete_at(&self, path: &StorePath, recursive: bool) -> Result<bool> {
        delegate!(self, s => s.delete_at(path, recursive))
    }

    fn apply(&self, batch: &Batch) -> Result<()> {
        delegate!(self, s => s.apply(batch))
    }

    fn reset(&self) -> Result<()> {
        delegate!(self, s => s.reset())
    }

    fn scope(&self) -> Scope {
        delegate!(self, s => s.scope())
    }
}
