//! The RocksDB backend: the embedded default store.
//!
//! The on-disk layout is in `codec.rs`; how writers stay out of each
//! other's way is in `locks.rs`; how reads stay consistent without locks is
//! in `reader.rs`.

mod backup;
mod cache;
mod check;
mod hash;
mod locks;
mod options;
mod reader;
mod resolve;
mod small_map;
mod txn;

use std::path::{Path, PathBuf};

use rocksdb::{WriteBatch, WriteOptions, DB};

pub use backup::BackupMethod;
pub use check::{CheckReport, Finding};
pub use options::{Compression, Options};

use self::cache::Caches;
use self::locks::{LockPlan, LockTable};
use self::txn::Txn;
use crate::codec;
use crate::error::{Error, Result};
use crate::path::{parent_of, StorePath};
use crate::store::{Batch, Child, EntryType, Op, Store};

/// How many times a writer retries with a larger lock set before it runs
/// alone. Only concurrent relinking of the paths it goes through makes it
/// retry at all.
const OPTIMISTIC_ATTEMPTS: usize = 8;

/// A store in one RocksDB database directory. Share it between threads in
/// an `Arc`; one process at a time may open a directory for writing.
pub struct RocksStore {
    db: DB,
    dir: PathBuf,
    options: Options,
    write_options: WriteOptions,
    locks: LockTable,
    caches: Caches,
}

impl std::fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksStore")
            .field("dir", &self.dir)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl RocksStore {
    /// Opens (or, by default, creates) the store in `dir`.
    ///
    /// Fails with `Locked` when another process has it open for writing,
    /// `NotAStore` when `dir` holds anything else (other files, or a RocksDB
    /// database that hbstore did not write), and `UnsupportedFormat` when it
    /// was written by a format this build does not know.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<RocksStore> {
        let dir = dir.as_ref().to_path_buf();
        refuse_foreign_directory(&dir, &options)?;
        let rocks_options = options.rocksdb_options();
        let opened = if options.read_only {
            DB::open_for_read_only(&rocks_options, &dir, false)
        } else {
            DB::open(&rocks_options, &dir)
        };
        let db = opened.map_err(|source| classify_open_error(&dir, source))?;
        check_format(&db, &dir, &options)?;
        Ok(RocksStore {
            db,
            write_options: options.write_options(),
            caches: Caches::new(options.group_cache_bytes, options.link_cache_bytes),
            locks: LockTable::new(),
            options,
            dir,
        })
    }

    /// Opens `dir` for reading only, beside a writer if there is one.
    pub fn open_read_only(dir: impl AsRef<Path>) -> Result<RocksStore> {
        Self::open(dir, Options::default().read_only(true))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    fn writable(&self, operation: &str) -> Result<()> {
        if self.options.read_only {
            return Err(Error::ReadOnly {
                dir: self.dir.clone(),
                operation: operation.to_owned(),
            });
        }
        Ok(())
    }

    /// Runs one mutation under the locks it needs. The first attempt locks
    /// the path as written (ancestors shared, the path itself exclusive),
    /// which is exactly right unless a link is on the way; then the
    /// transaction's own record of what it read and changes decides.
    fn run<T>(
        &self,
        operation: &str,
        path: &StorePath,
        op: impl Fn(&mut Txn<'_>) -> Result<T>,
    ) -> Result<T> {
        self.writable(operation)?;
        let mut plan = LockPlan::default();
        if let Some(parent) = parent_of(path.as_str()) {
            plan.shared_with_ancestors(parent);
        }
        plan.exclusive(path.as_str());
        let mut plan = plan.finish();
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            let held = self.locks.lock(&plan);
            let mut txn = Txn::new(&self.db, &self.caches);
            let result = op(&mut txn);
            let needed = std::mem::take(&mut txn.needs).finish();
            if plan.covers(&needed) {
                let answer = result?;
                txn.commit(&self.write_options)?;
                drop(held);
                return Ok(answer);
            }
            drop(held);
            plan = needed;
        }
        let _alone = self.locks.lock_all();
        let mut txn = Txn::new(&self.db, &self.caches);
        let answer = op(&mut txn)?;
        txn.commit(&self.write_options)?;
        Ok(answer)
    }

    /// Compacts the whole database (reclaims the space of deleted entries).
    pub fn compact(&self) -> Result<()> {
        self.writable("compact")?;
        self.db
            .compact_range(Option::<&[u8]>::None, Option::<&[u8]>::None);
        Ok(())
    }

    /// A consistent, openable copy of the store in `dest` (which must not
    /// exist), taken while the store stays in use. Files are hard-linked
    /// where `dest` is on the same file system.
    pub fn checkpoint(&self, dest: impl AsRef<Path>) -> Result<()> {
        let dest = dest.as_ref();
        let checkpoint = rocksdb::checkpoint::Checkpoint::new(&self.db)
            .map_err(Error::rocks("preparing a checkpoint"))?;
        checkpoint
            .create_checkpoint(dest)
            .map_err(Error::rocks_lazy(|| {
                format!("writing a checkpoint to {dest:?}")
            }))
    }

    /// The memory held now by the writers' group cache, which
    /// [`Options::group_cache_bytes`] bounds.
    pub fn group_cache_usage(&self) -> usize {
        self.caches.groups.bytes()
    }

    /// The memory held now by the link cache, which
    /// [`Options::link_cache_bytes`] bounds (plus its fixed 128 KiB filter).
    pub fn link_cache_usage(&self) -> usize {
        self.caches.links.bytes()
    }

    /// One of RocksDB's integer properties (`rocksdb.estimate-num-keys`,
    /// `rocksdb.total-sst-files-size`, ...).
    pub fn property(&self, name: &str) -> Result<Option<u64>> {
        self.db
            .property_int_value(name)
            .map_err(Error::rocks_lazy(|| format!("reading property {name}")))
    }

    /// Walks every entry and verifies the SPEC's invariant; see
    /// [`CheckReport`]. `progress` is called with the number of entries
    /// seen so far, now and then.
    pub fn check(&self, progress: impl FnMut(u64)) -> Result<CheckReport> {
        check::check(&self.db, progress)
    }
}

fn refuse_foreign_directory(dir: &Path, options: &Options) -> Result<()> {
    let not_a_store = |reason: &str| Error::NotAStore {
        dir: dir.to_path_buf(),
        reason: reason.to_owned(),
    };
    if dir.join("CURRENT").is_file() {
        return Ok(());
    }
    if dir.exists() && !dir.is_dir() {
        return Err(not_a_store("it is not a directory"));
    }
    if options.read_only || !options.create_if_missing {
        return Err(not_a_store("no database here"));
    }
    let io = |source| Error::Io {
        context: "reading directory".into(),
        path: dir.to_path_buf(),
        source,
    };
    if dir.exists() && std::fs::read_dir(dir).map_err(io)?.next().is_some() {
        return Err(not_a_store(
            "the directory holds other files; a new store needs an empty or new directory",
        ));
    }
    Ok(())
}

fn classify_open_error(dir: &Path, source: rocksdb::Error) -> Error {
    let message = source.to_string();
    if message.contains("LOCK") || message.contains("lock hold") {
        Error::Locked {
            dir: dir.to_path_buf(),
        }
    } else {
        Error::RocksDb {
            context: format!("opening {dir:?}"),
            source,
        }
    }
}

fn check_format(db: &DB, dir: &Path, options: &Options) -> Result<()> {
    let stored = db
        .get(codec::FORMAT_KEY)
        .map_err(Error::rocks("reading the format record"))?;
    match stored {
        Some(bytes) => match codec::decode_format_version(&bytes) {
            Ok(codec::FORMAT_VERSION) => Ok(()),
            found => Err(Error::UnsupportedFormat {
                dir: dir.to_path_buf(),
                found: match found {
                    Ok(v) => v.to_string(),
                    Err(what) => what,
                },
                supported: codec::FORMAT_VERSION,
            }),
        },
        None => {
            let mut any = db.iterator(rocksdb::IteratorMode::Start);
            if any
                .next()
                .transpose()
                .map_err(Error::rocks("scanning"))?
                .is_some()
            {
                return Err(Error::NotAStore {
                    dir: dir.to_path_buf(),
                    reason: "a RocksDB database without hbstore's format record (a HyperBEAM \
                             hb_store_rocksdb cache is imported with `hbstore import`)"
                        .to_owned(),
                });
            }
            if !options.read_only {
                let mut w = WriteOptions::default();
                w.set_sync(true);
                db.put_opt(codec::FORMAT_KEY, codec::encode_format_version(), &w)
                    .map_err(Error::rocks("writing the format record"))?;
            }
            Ok(())
        }
    }
}

impl Store for RocksStore {
    fn read_at(&self, path: &StorePath) -> Result<Option<Vec<u8>>> {
        reader::read(&self.db, &self.caches.links, path)
    }

    fn type_at(&self, path: &StorePath) -> Result<Option<EntryType>> {
        reader::type_of(&self.db, &self.caches.links, path)
    }

    fn list_at(&self, path: &StorePath) -> Result<Option<Vec<Child>>> {
        reader::list(&self.db, &self.caches.links, path)
    }

    fn resolve_at(&self, path: &StorePath) -> Result<StorePath> {
        reader::resolve_path(&self.db, &self.caches.links, path)
    }

    fn write_at(&self, path: &StorePath, value: &[u8]) -> Result<()> {
        self.run("write", path, |txn| txn.write(path, value))
    }

    fn make_group_at(&self, path: &StorePath) -> Result<()> {
        self.run("make a group", path, |txn| txn.make_group(path))
    }

    fn make_link_at(&self, existing: &StorePath, new: &StorePath) -> Result<()> {
        self.run("make a link", new, |txn| txn.make_link(existing, new))
    }

    fn delete_at(&self, path: &StorePath, recursive: bool) -> Result<bool> {
        self.run("delete", path, |txn| txn.delete(path, recursive))
    }

    fn apply(&self, batch: &Batch) -> Result<()> {
        self.writable("apply a batch")?;
        let _alone = self.locks.lock_all();
        let mut txn = Txn::new(&self.db, &self.caches);
        for op in batch.ops() {
            match op {
                Op::Write { path, value } => txn.write(path, value)?,
                Op::MakeGroup { path } => txn.make_group(path)?,
                Op::MakeLink { existing, new } => txn.make_link(existing, new)?,
                Op::Delete { path, recursive } => {
                    txn.delete(path, *recursive)?;
                }
            }
        }
        txn.commit(&self.write_options)
    }

    fn reset(&self) -> Result<()> {
        self.writable("reset")?;
        let _alone = self.locks.lock_all();
        // Forgotten before the removal lands, as for any delete (cache.rs).
        self.caches.clear();
        let mut batch = WriteBatch::default();
        batch.delete_range(codec::ENTRIES_START, codec::ENTRIES_END);
        self.db
            .write_opt(batch, &self.write_options)
            .map_err(Error::rocks("resetting the store"))?;
        Ok(())
    }
}
