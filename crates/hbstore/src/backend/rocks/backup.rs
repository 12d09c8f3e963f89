//! Backups: a consistent, openable copy of a store, taken while it is used.
//!
//! A store open for writing makes a RocksDB checkpoint: files hard-linked
//! where possible, instantaneous, consistent. A read-only handle cannot
//! (RocksDB's checkpoints need the writer's control over file deletion), so
//! it copies every record from one snapshot into a new database instead:
//! slower, but just as consistent, and it works while another process is
//! writing.

use std::path::Path;

use rocksdb::{IteratorMode, WriteBatch, DB};

use super::reader::{self, ReadView};
use super::RocksStore;
use crate::error::{Error, Result};

/// How a backup was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupMethod {
    /// A RocksDB checkpoint (the store was open for writing).
    Checkpoint,
    /// A record-by-record copy from one snapshot (the store was read-only).
    SnapshotCopy {
        /// The records copied.
        records: u64,
    },
}

const COPY_BATCH_BYTES: usize = 4 << 20;

impl RocksStore {
    /// Writes a consistent copy of the store to `dest`, which must not
    /// exist yet. `progress` is told the records copied so far (snapshot
    /// copies only).
    pub fn backup(
        &self,
        dest: impl AsRef<Path>,
        mut progress: impl FnMut(u64),
    ) -> Result<BackupMethod> {
        let dest = dest.as_ref();
        if dest.exists() {
            return Err(Error::Io {
                context: "backup destination already exists:".into(),
                path: dest.to_path_buf(),
                source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            });
        }
        if !self.options.read_only {
            self.checkpoint(dest)?;
            return Ok(BackupMethod::Checkpoint);
        }
        let copy = DB::open(
            &self.options.clone().read_only(false).rocksdb_options(),
            dest,
        )
        .map_err(Error::rocks_lazy(|| {
            format!("creating the backup at {dest:?}")
        }))?;
        let view = ReadView::snapshot(&self.db, reader::NOTHING);
        let mut batch = WriteBatch::default();
        let mut records = 0u64;
        for item in view.iterator(IteratorMode::Start) {
            let (key, value) = item.map_err(Error::rocks("reading the store for a backup"))?;
            batch.put(key, value);
            records += 1;
            if batch.size_in_bytes() >= COPY_BATCH_BYTES {
                flush(&copy, &mut batch, dest)?;
                progress(records);
            }
        }
        flush(&copy, &mut batch, dest)?;
        copy.flush().map_err(Error::rocks_lazy(|| {
            format!("flushing the backup at {dest:?}")
        }))?;
        progress(records);
        Ok(BackupMethod::SnapshotCopy { records })
    }
}

impl RocksStore {
    /// A consistent, openable copy of the store in `dest` (which must not
    /// exist), taken while the store stays in use. Files are hard-linked
    /// where `dest` is on the same file system.
    fn checkpoint(&self, dest: impl AsRef<Path>) -> Result<()> {
        let dest = dest.as_ref();
        let checkpoint = rocksdb::checkpoint::Checkpoint::new(&self.db)
            .map_err(Error::rocks("preparing a checkpoint"))?;
        checkpoint
            .create_checkpoint(dest)
            .map_err(Error::rocks_lazy(|| {
                format!("writing a checkpoint to {dest:?}")
            }))
    }
}

fn flush(copy: &DB, batch: &mut WriteBatch, dest: &Path) -> Result<()> {
    let full = std::mem::take(batch);
    copy.write(full).map_err(Error::rocks_lazy(|| {
        format!("writing the backup at {dest:?}")
    }))
}
