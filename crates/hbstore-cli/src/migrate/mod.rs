//! Moving data between hbstore and the stores HyperBEAM already has:
//! `import` from an `hb_store_fs` tree or an `hb_store_rocksdb` database,
//! `export` to an `hb_store_fs` tree.
//!
//! Imports apply their operations in batches, each atomic. Every operation
//! is idempotent (writing the same bytes, making a group that exists,
//! linking to the same target), so an interrupted import is simply run
//! again, and importing the same source twice gives the same store.

mod erlang_sets;
mod fs_export;
mod fs_import;
mod legacy_rocks;

use std::io::Write;
use std::path::Path;

use hbstore::{Batch, Op, RocksStore, Store, StorePath};
use serde::Serialize;

use crate::error::CliResult;

/// Operations per atomic batch.
const BATCH_OPS: usize = 1_000;
/// Bytes of values per atomic batch.
const BATCH_BYTES: usize = 8 << 20;

/// What an import or export did.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub values: u64,
    pub groups: u64,
    pub links: u64,
    pub warnings: Vec<String>,
}

impl Summary {
    fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    fn print(&self, what: &str, json: bool) -> CliResult {
        if json {
            return crate::commands::print_json(self);
        }
        let mut out = std::io::stdout().lock();
        for w in &self.warnings {
            writeln!(out, "warning: {w}")?;
        }
        writeln!(
            out,
            "{what}: {} values, {} groups, {} links, {} warnings",
            self.values,
            self.groups,
            self.links,
            self.warnings.len()
        )?;
        Ok(())
    }
}

/// Applies operations to the store in atomic batches. A batch that fails
/// (one operation clashes with what the store holds) is applied again one
/// operation at a time, so that the others land and the clash is reported.
struct Importer<'s> {
    store: &'s RocksStore,
    batch: Batch,
    bytes: usize,
    summary: Summary,
    progress: indicatif::ProgressBar,
}

impl<'s> Importer<'s> {
    fn new(store: &'s RocksStore, progress: indicatif::ProgressBar) -> Self {
        Importer {
            store,
            batch: Batch::new(),
            bytes: 0,
            summary: Summary::default(),
            progress,
        }
    }

    fn push(&mut self, op: Op) -> CliResult {
        match &op {
            Op::Write { value, .. } => {
                self.summary.values += 1;
                self.bytes += value.len();
            }
            Op::MakeGroup { .. } => self.summary.groups += 1,
            Op::MakeLink { .. } => self.summary.links += 1,
            Op::Delete { .. } => {}
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
        self.progress.inc(batch.len() as u64);
        if batch.is_empty() || self.store.apply(&batch).is_ok() {
            return Ok(());
        }
        for op in batch.ops() {
            let mut one = Batch::new();
            one.push(op.clone());
            if let Err(e) = self.store.apply(&one) {
                match e {
                    hbstore::Error::RocksDb { .. } | hbstore::Error::Io { .. } => {
                        return Err(e.into())
                    }
                    clash => self.summary.warn(format!("not imported: {clash}")),
                }
            }
        }
        Ok(())
    }

    fn finish(mut self) -> CliResult<Summary> {
        self.flush()?;
        self.progress.finish_and_clear();
        Ok(self.summary)
    }
}

/// Where `import` reads from.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Source {
    /// A directory tree written by `hb_store_fs`.
    Fs,
    /// A RocksDB database written by `hb_store_rocksdb`.
    HbRocksdb,
}

/// Where `export` writes to.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Target {
    /// A directory tree that `hb_store_fs` reads.
    Fs,
}

pub fn import(store: &RocksStore, from: Source, dir: &Path, json: bool) -> CliResult {
    let progress = crate::progress::bar("importing", None);
    let mut importer = Importer::new(store, progress);
    match from {
        Source::Fs => fs_import::import(dir, &mut importer)?,
        Source::HbRocksdb => legacy_rocks::import(dir, &mut importer)?,
    }
    importer.finish()?.print("imported", json)
}

pub fn export(store: &RocksStore, to: Target, dir: &Path, json: bool) -> CliResult {
    match to {
        Target::Fs => fs_export::export(store, &StorePath::root(), dir)?.print("exported", json),
    }
}

/// A path from another store, checked against hbstore's rules.
fn store_path(raw: &str) -> Result<StorePath, String> {
    StorePath::parse(raw).map_err(|e| e.to_string())
}
