//! Moving data between hbstore and the stores HyperBEAM already has:
//! `import` from an `hb_store_fs` tree, an `hb_store_rocksdb` database or
//! an `hb_store_lmdb` environment, `export` to an `hb_store_fs` tree; and
//! between two hbstore stores both ways (embedded, or on a cluster).
//!
//! Imports apply their operations in batches, each atomic. Every operation
//! is idempotent (writing the same bytes, making a group that exists,
//! linking to the same target), so an interrupted import is simply run
//! again, and importing the same source twice gives the same store.

mod erlang_sets;
mod fs_export;
mod fs_import;
mod legacy_rocks;
mod lmdb_import;
mod store_copy;

use std::path::Path;

use hbstore::{Batch, Op, Store, StorePath};
use serde::Serialize;

use crate::error::CliResult;

/// Operations per atomic batch.
const BATCH_OPS: usize = 1_000;
/// Bytes of values per atomic batch.
const BATCH_BYTES: usize = 8 << 20;

/// What an import or export did: the entries that landed, and what was
/// reported and left out.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Values written.
    pub values: u64,
    /// Groups made (or found already there).
    pub groups: u64,
    /// Links made (re-pointed, or found already there to the same target).
    pub links: u64,
    /// Entries reported and not imported or exported, one line each.
    pub warnings: Vec<String>,
}

impl Summary {
    fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// Counts one operation that landed.
    fn count(&mut self, op: &Op) {
        match op {
            Op::Write { .. } => self.values += 1,
            Op::MakeGroup { .. } => self.groups += 1,
            Op::MakeLink { .. } => self.links += 1,
            Op::Delete { .. } => {}
        }
    }
}

/// Applies operations to the store in atomic batches. A batch that fails
/// (one operation clashes with what the store holds) is applied again one
/// operation at a time, so that the others land and the clash is reported.
/// Only what landed is counted.
struct Importer<'s> {
    store: &'s dyn Store,
    batch: Batch,
    bytes: usize,
    summary: Summary,
    /// Told how many operations were handled so far, after every batch.
    progress: &'s mut dyn FnMut(u64),
    handled: u64,
}

impl<'s> Importer<'s> {
    fn new(store: &'s dyn Store, progress: &'s mut dyn FnMut(u64)) -> Self {
        Importer {
            store,
            batch: Batch::new(),
            bytes: 0,
            summary: Summary::default(),
            progress,
            handled: 0,
        }
    }

    fn push(&mut self, op: Op) -> CliResult {
        if let Op::Write { value, .. } = &op {
            self.bytes += value.len();
        }
        self.batch.push(op);
        if self.batch.len() >= BATCH_OPS || self.bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> CliResult {
        let batch = std::mem::take(&mut self.batch);
        self.bytes = 0;
        self.handled += batch.len() as u64;
        (self.progress)(self.handled);
        if batch.is_empty() {
            return Ok(());
        }
        if self.store.apply(&batch).is_ok() {
            batch.ops().iter().for_each(|op| self.summary.count(op));
            return Ok(());
        }
        for op in batch.ops() {
            let mut one = Batch::new();
            one.push(op.clone());
            match self.store.apply(&one) {
                Ok(()) => self.summary.count(op),
                Err(
                    e @ (hbstore::Error::RocksDb { .. }
                    | hbstore::Error::Io { .. }
                    | hbstore::Error::Remote { .. }),
                ) => return Err(e.into()),
                Err(clash) => self.summary.warn(format!("not imported: {clash}")),
            }
        }
        Ok(())
    }

    fn finish(mut self) -> CliResult<Summary> {
        self.flush()?;
        Ok(self.summary)
    }
}

/// Where `import` reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A directory tree written by `hb_store_fs`.
    Fs,
    /// A RocksDB database written by `hb_store_rocksdb`.
    HbRocksdb,
    /// An LMDB environment written by `hb_store_lmdb`.
    HbLmdb,
    /// An embedded hbstore store.
    Hbstore,
    /// An hbstore store on a Redis cluster.
    Cluster,
}

/// Where `export` writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A directory tree that `hb_store_fs` reads.
    Fs,
    /// An embedded hbstore store.
    Hbstore,
    /// An hbstore store on a Redis cluster.
    Cluster,
}

/// Imports everything `dir` holds into `store`; `progress` is told the
/// operations handled so far.
pub fn import(
    store: &impl Store,
    from: Source,
    dir: &Path,
    progress: &mut dyn FnMut(u64),
) -> CliResult<Summary> {
    let mut importer = Importer::new(store, progress);
    match from {
        Source::Fs => fs_import::import(dir, &mut importer)?,
        Source::HbRocksdb => legacy_rocks::import(dir, &mut importer)?,
        Source::HbLmdb => lmdb_import::import(dir, &mut importer)?,
        Source::Hbstore => {
            let source = hbstore::RocksStore::open_read_only(dir)?;
            store_copy::copy(&source, &mut importer)?
        }
        Source::Cluster => {
            let source = open_cluster(dir, ClusterAccess::default())?;
            store_copy::copy(&source, &mut importer)?
        }
    }
    importer.finish()
}

/// Exports the whole store to `dir`; `progress` is told the entries
/// written so far.
pub fn export(
    store: &impl Store,
    to: Target,
    dir: &Path,
    progress: &mut dyn FnMut(u64),
) -> CliResult<Summary> {
    match to {
        Target::Fs => fs_export::export(store, &StorePath::root(), dir, progress),
        Target::Hbstore => {
            let dest = hbstore::RocksStore::open(dir, hbstore::Options::default())?;
            let mut importer = Importer::new(&dest, progress);
            store_copy::copy(store, &mut importer)?;
            importer.finish()
        }
        Target::Cluster => {
            let dest = open_cluster(dir, ClusterAccess::default())?;
            let mut importer = Importer::new(&dest, progress);
            store_copy::copy(store, &mut importer)?;
            importer.finish()
        }
    }
}

/// How `--cluster` and the cluster sources and targets connect.
#[derive(Debug, Clone, Copy)]
pub struct ClusterAccess {
    /// Replicas each write waits for.
    pub replicas: u32,
    /// Seconds before a silent cluster is an error.
    pub deadline: u64,
}

impl Default for ClusterAccess {
    fn default() -> Self {
        ClusterAccess {
            replicas: 0,
            deadline: 20,
        }
    }
}

/// Opens the cluster store at `address` (a `redis://` address, given where
/// a directory goes for the other sources and targets). A malformed
/// address is invalid input; a cluster that does not answer, a failure.
pub fn open_cluster(
    address: &Path,
    access: ClusterAccess,
) -> CliResult<hbstore_cluster::ClusterStore> {
    let invalid = |reason: String| crate::error::CliError::Invalid(reason);
    let address = address
        .to_str()
        .ok_or_else(|| invalid("the cluster address is not valid UTF-8".to_owned()))?;
    hbstore_cluster::Address::parse(address).map_err(|e| invalid(e.to_string()))?;
    let options = hbstore_cluster::Options::default()
        .replicas(access.replicas)
        .deadline(std::time::Duration::from_secs(access.deadline));
    Ok(hbstore_cluster::ClusterStore::open(address, options)?)
}

/// A path from another store, checked against hbstore's rules.
fn store_path(raw: &str) -> Result<StorePath, String> {
    StorePath::parse(raw).map_err(|e| e.to_string())
}
