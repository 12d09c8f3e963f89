//! The RocksDB backend: the embedded default store.
//!
//! Where each concern lives: the on-disk layout in `codec.rs` (crate root);
//! opening a directory and its format checks in `open.rs`; how writers stay
//! out of each other's way in `locks.rs`, with their transaction in
//! `txn.rs`; how reads stay consistent without locks in `reader.rs`; the
//! link resolution both share in `resolve.rs`; the caches writers keep in
//! `cache.rs`; `check.rs` and `backup.rs` for maintenance. This file holds
//! the handle and the `Store` implementation that ties them together.

mod backup;
mod cache;
mod check;
mod entries;
mod entry_table;
mod estimate;
mod failure;
mod flusher;
mod fresh;
mod gc;
mod hash;
mod listings;
mod locks;
mod matching;
mod metrics;
mod nowait;
mod open;
mod options;
mod path_cache;
mod reader;
mod recent;
mod resolve;
mod scan;
mod small_map;
mod txn;
mod upgrade;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rocksdb::{WriteBatch, WriteOptions, DB};

pub use backup::BackupMethod;
pub use check::{CheckReport, Finding};
pub use estimate::Estimate;
pub use gc::GcReport;
pub use options::{Compression, Durability, MemoryBudget, Options};

use self::cache::Caches;
use self::locks::{LockPlan, LockTable};
use self::txn::Txn;
use crate::codec;
use crate::error::{Error, Result};
use crate::metrics::{Operation, OperationMetrics};
use crate::path::StorePath;

use crate::store::{Batch, Child, EntryRead, EntryType, Op, Page, Store};

/// How many times a writer retries with a larger lock set before it runs
/// alone. Only concurrent relinking of the paths it goes through makes it
/// retry at all.
const OPTIMISTIC_ATTEMPTS: usize = 8;

/// A batch of at most this many operations runs under its paths' locks,
/// beside the writers of other paths (HyperBEAM writes a message as one
/// request of its values and one of its links, from many processes at
/// once); a larger one takes the store to itself, which costs less than
/// locking thousands of stripes.
const PLANNED_BATCH_OPS: usize = 64;

/// A store in one RocksDB database directory. Share it between threads in
/// an `Arc`; one process at a time may open a directory for writing.
pub struct RocksStore {
    /// Shared with the log's flusher, when the store has one.
    db: Arc<DB>,
    /// Hands the log to the operating system now and then
    /// ([`Durability::Buffered`]); stopped before the store closes.
    flusher: Option<Box<flusher::Flusher>>,
    dir: PathBuf,
    options: Options,
    write_options: WriteOptions,
    /// The same, failing instead of waiting out a write stall (for
    /// [`RocksStore::without_waiting`]).
    write_options_no_wait: WriteOptions,
    locks: LockTable,
    /// Boxed: several hundred bytes of tables' heads, which would make
    /// every value holding a store as large (the NIF's store of either
    /// kind).
    caches: Box<Caches>,
    /// The options RocksDB was opened with, for its statistics.
    rocks_options: Box<rocksdb::Options>,
    /// Boxed: a few kilobytes of counters on cache lines of their own.
    operations: Box<OperationMetrics>,
    gc_totals: Box<metrics::GcTotals>,
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
        Self::open_with_progress(dir, options, &mut |_| {})
    }

    /// [`RocksStore::open`], telling `progress` how many entries an
    /// in-place upgrade of an older format has read so far (a store of
    /// format 1 gains its link index on its first writable open; read-only,
    /// it is refused with `NeedsUpgrade`).
    pub fn open_with_progress(
        dir: impl AsRef<Path>,
        options: Options,
        progress: &mut dyn FnMut(u64),
    ) -> Result<RocksStore> {
        let dir = dir.as_ref().to_path_buf();
        let (db, rocks_options) = open::open_database(&dir, &options, progress)?;
        let db = Arc::new(db);
        let flusher = match options.durability {
            Durability::Buffered { flush_every } if !options.read_only => Some(Box::new(
                flusher::Flusher::start(Arc::clone(&db), flush_every, &dir)?,
            )),
            _ => None,
        };
        Ok(RocksStore {
            db,
            flusher,
            rocks_options: Box::new(rocks_options),
            operations: Box::default(),
            gc_totals: Box::default(),
            write_options: options.write_options(),
            write_options_no_wait: {
                let mut no_wait = options.write_options();
                no_wait.set_no_slowdown(true);
                no_wait
            },
            caches: Box::new(Caches::new(&options)),
            locks: LockTable::new(),
            options,
            dir,
        })
    }

    /// Whether `dir` holds an hbstore store (of any format version), asked
    /// without opening it for writing: tools that import other databases
    /// use it to refuse a store that is already hbstore's.
    pub fn holds_store(dir: impl AsRef<Path>) -> Result<bool> {
        open::holds_store(dir.as_ref())
    }

    /// Opens `dir` for reading only, beside a writer if there is one.
    pub fn open_read_only(dir: impl AsRef<Path>) -> Result<RocksStore> {
        Self::open(dir, Options::default().read_only(true))
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What an acknowledged write survives, as the store was opened.
    pub fn durability(&self) -> Durability {
        self.options.durability
    }

    /// Hands the write-ahead log's buffered records to the operating
    /// system now, so that they survive a process kill: with
    /// [`Durability::Buffered`], what a caller does before an exit it
    /// cannot make clean; with the other durabilities there is nothing
    /// buffered and it returns at once.
    pub fn flush_log(&self) -> Result<()> {
        if self.flusher.is_none() {
            return Ok(());
        }
        self.db.flush_wal(false).map_err(Error::rocks(
            "handing the write-ahead log to the operating system",
        ))
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

    /// Runs one mutation in a transaction, under the path locks it needs.
    /// The first attempt locks the path as written (ancestors shared, the
    /// path itself exclusive), which is exactly right unless a link is on
    /// the way; then the transaction's own record of what it read and
    /// changes decides, and the next attempt takes that.
    fn with_write_locks<T>(
        &self,
        operation: &str,
        path: &StorePath,
        op: impl Fn(&mut Txn<'_>) -> Result<T>,
    ) -> Result<T> {
        self.writable(operation)?;
        let mut plan = LockPlan::default();
        plan.writing(path.as_str());
        self.with_planned_locks(|| format!("{operation} {path}"), plan.finish(), op)
    }

    /// Runs a transaction under `plan`'s locks, then under the locks it
    /// turned out to need (see [`Self::with_write_locks`]), then alone.
    fn with_planned_locks<T>(
        &self,
        what: impl Fn() -> String,
        mut plan: LockPlan,
        op: impl Fn(&mut Txn<'_>) -> Result<T>,
    ) -> Result<T> {
        let refusing = nowait::refusing();
        let write_options = if refusing {
            &self.write_options_no_wait
        } else {
            &self.write_options
        };
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            let held = if refusing {
                self.locks
                    .try_lock(&plan)
                    .ok_or_else(|| Error::would_wait(what()))?
            } else {
                self.locks.lock(&plan)
            };
            let mut txn = Txn::new(&self.db, &self.caches);
            let result = op(&mut txn);
            let needed = std::mem::take(&mut txn.needs).finish();
            if plan.covers(&needed) {
                let answer = result?;
                txn.commit(write_options)?;
                drop(held);
                return Ok(answer);
            }
            drop(held);
            plan = needed;
        }
        if refusing {
            return Err(Error::would_wait(what()));
        }
        let _alone = self.locks.lock_all();
        let mut txn = Txn::new(&self.db, &self.caches);
        let answer = op(&mut txn)?;
        txn.commit(write_options)?;
        Ok(answer)
    }

    /// Runs `call` on this store so that it never waits: a lock another
    /// writer holds, a read that would go to disk, a RocksDB write stall or
    /// a value over 64 KiB to copy make it fail with
    /// [`Error::WouldWait`], having changed nothing, instead. For callers
    /// that must return in bounded time (an Erlang NIF on a normal
    /// scheduler), which then make the same call where waiting is allowed.
    /// Batches and `reset` are refused at once (they may wait for other
    /// writers), as are scans other than a group's listing and reading.
    pub fn without_waiting<T, E>(
        &self,
        call: impl FnOnce(&Self) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let _refusing = nowait::Refusing::begin();
        call(self)
    }

    /// The value at `path` when the entry cache holds it, handed to `read`
    /// where it lies: no RocksDB call, no copy, no wait (a writer holding
    /// the cache's shard makes it answer `None`). `None` for anything
    /// else, and then [`Store::read_at`] answers. `path` is the bytes as a
    /// caller received them: what is not a canonical path is never
    /// cached, so it is not found here, and `read_at` parses (or refuses)
    /// it. For a caller whose every read costs (an Erlang NIF), the hot
    /// path of a node's reads: the answer is `read_at`'s, counted as one.
    pub fn read_cached<T>(&self, path: &[u8], read: impl FnOnce(&[u8]) -> T) -> Option<T> {
        self.operations.observe_sampled(Operation::Read, || {
            self.caches
                .entries
                .with_value(path, nowait::VALUE_BYTES, read)
        })
    }

    /// [`Store::read_message_at`] of a group whose listing the entry cache
    /// holds (at most 64 children, so bounded work: a caller on a normal
    /// Erlang scheduler), read without first asking whether `path` is a
    /// value and how many children it has; `None`, having read nothing,
    /// for anything else (then `read_message_at` answers).
    pub fn read_message_cached(
        &self,
        path: &StorePath,
        inline_up_to: usize,
    ) -> Result<Option<EntryRead>> {
        self.operations
            .observe_answered(Operation::ReadEntry, || {
                reader::read_message_cached(&self.db, &self.caches, path, inline_up_to)
                    .transpose()
                    .map(|read| read.map(Some))
            })
            .unwrap_or(Ok(None))
    }

    /// Compacts the whole database: every file is rewritten once, so the
    /// space of deleted entries is reclaimed and the last level's
    /// compression applies to all that reaches it.
    pub fn compact(&self) -> Result<()> {
        self.writable("compact")?;
        let mut options = rocksdb::CompactOptions::default();
        // Without this, files already on the last level would be left as
        // they are (or moved without a rewrite).
        options.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
        self.db
            .compact_range_opt(Option::<&[u8]>::None, Option::<&[u8]>::None, &options);
        Ok(())
    }

    /// Writes what RocksDB holds in memory (its memtable) to the store's
    /// files, so that the write-ahead log has nothing left to replay and
    /// the files' sizes count every entry.
    pub fn flush(&self) -> Result<()> {
        self.writable("flush")?;
        self.db
            .flush()
            .map_err(Error::rocks("flushing the memtable"))
    }

    /// The memory held now by the writers' group cache, which
    /// [`Options::group_cache_bytes`] bounds.
    pub fn group_cache_usage(&self) -> usize {
        self.caches.groups.bytes() + self.caches.fresh.bytes()
    }

    /// The memory held now by the entry cache, which
    /// [`Options::memory_budget`] bounds.
    pub fn entry_cache_usage(&self) -> usize {
        self.caches.entries.bytes()
    }

    /// How many entries the entry cache holds now.
    pub fn entry_cache_len(&self) -> usize {
        self.caches.entries.len()
    }

    /// Look-ups of the entry cache since the store opened that found their
    /// entry, and those that did not (readers' and writers' alike).
    pub fn entry_cache_hits_and_misses(&self) -> (u64, u64) {
        self.caches.entries.hits_and_misses()
    }

    /// How this store spends its memory budget (see
    /// [`Options::memory_budget`]).
    pub fn memory_budget(&self) -> MemoryBudget {
        let mut budget = self.options.memory_budget();
        if self.options.read_only {
            budget.entry_cache = 0;
        }
        budget
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

    /// How many values, groups and links the store holds, about, and their
    /// bytes, at once whatever its size: from RocksDB's record of its
    /// files and a sample of their entries (see [`Estimate`]).
    /// [`RocksStore::check`] counts exactly, walking every entry.
    pub fn estimate(&self) -> Result<Estimate> {
        estimate::estimate(&self.db)
    }

    /// Walks every entry and verifies the contract's invariant; see
    /// [`CheckReport`]. `progress` is called with the number of entries
    /// seen so far, now and then.
    pub fn check(&self, progress: impl FnMut(u64)) -> Result<CheckReport> {
        check::check(&self.db, progress)
    }
}

impl Drop for RocksStore {
    /// A clean close leaves nothing to replay: what the memtable holds is
    /// written to the store's files, so the next open (a command-line `get`
    /// on a node's cache among them) does not read the write-ahead log
    /// back. Should the flush fail, the log still holds everything and the
    /// next open replays it, as after a crash.
    fn drop(&mut self) {
        if self.options.read_only {
            return;
        }
        // The flusher first, so that nothing flushes beside the close;
        // then what it would have flushed next.
        drop(self.flusher.take());
        let _ = self.flush_log();
        // Unknown counts to be safe: a flush of nothing costs little.
        let unflushed = estimate::memtable_entries(&self.db).unwrap_or(1);
        if unflushed > 0 {
            let _ = self.db.flush();
        }
    }
}

impl Store for RocksStore {
    fn read_at(&self, path: &StorePath) -> Result<Option<Vec<u8>>> {
        // A value the entry cache holds: no view, no resolution (timed
        // every call, unlike `read_cached`'s).
        let cached = self.operations.observe_answered(Operation::Read, || {
            let bytes = path.as_str().as_bytes();
            let value =
                self.caches
                    .entries
                    .with_value(bytes, nowait::VALUE_BYTES, <[u8]>::to_vec)?;
            Some(Ok(Some(value)))
        });
        if let Some(answer) = cached {
            return answer;
        }
        self.operations.observe(Operation::Read, || {
            reader::read(&self.db, &self.caches, path)
        })
    }

    fn read_message_at(&self, path: &StorePath, inline_up_to: usize) -> Result<Option<EntryRead>> {
        self.operations.observe(Operation::ReadEntry, || {
            reader::read_message(&self.db, &self.caches, path, inline_up_to)
        })
    }

    fn read_up_to_at(&self, path: &StorePath, max: usize) -> Result<Option<Vec<u8>>> {
        self.operations.observe(Operation::Read, || {
            reader::read_up_to(&self.db, &self.caches, path, max)
        })
    }

    fn type_at(&self, path: &StorePath) -> Result<Option<EntryType>> {
        self.operations.observe(Operation::Type, || {
            reader::type_of(&self.db, &self.caches, path)
        })
    }

    fn list_at(&self, path: &StorePath) -> Result<Option<Vec<Child>>> {
        self.operations.observe(Operation::List, || {
            reader::list(&self.db, &self.caches, path, &Page::default())
        })
    }

    fn list_range_at(&self, path: &StorePath, page: &Page) -> Result<Option<Vec<Child>>> {
        self.operations.observe(Operation::List, || {
            reader::list(&self.db, &self.caches, path, page)
        })
    }

    fn read_entry_at(&self, path: &StorePath, inline_up_to: usize) -> Result<Option<EntryRead>> {
        self.operations.observe(Operation::ReadEntry, || {
            reader::read_entry(&self.db, &self.caches, path, inline_up_to)
        })
    }

    fn match_at(&self, pairs: &[(String, StorePath)], limit: Option<usize>) -> Result<Vec<String>> {
        self.operations.observe(Operation::Match, || {
            matching::match_links(&self.db, pairs, limit)
        })
    }

    fn resolve_at(&self, path: &StorePath) -> Result<StorePath> {
        self.operations.observe(Operation::Resolve, || {
            reader::resolve_path(&self.db, &self.caches, path)
        })
    }

    fn write_at(&self, path: &StorePath, value: &[u8]) -> Result<()> {
        self.operations.observe(Operation::Write, || {
            self.with_write_locks("write", path, |txn| txn.write(path, value))
        })
    }

    fn make_group_at(&self, path: &StorePath) -> Result<()> {
        self.operations.observe(Operation::Group, || {
            self.with_write_locks("make a group", path, |txn| txn.make_group(path))
        })
    }

    fn make_link_at(&self, existing: &StorePath, new: &StorePath) -> Result<()> {
        self.operations.observe(Operation::Link, || {
            self.with_write_locks("make a link", new, |txn| txn.make_link(existing, new))
        })
    }

    fn delete_at(&self, path: &StorePath, recursive: bool) -> Result<bool> {
        self.operations.observe(Operation::Delete, || {
            self.with_write_locks("delete", path, |txn| txn.delete(path, recursive))
        })
    }

    fn apply(&self, batch: &Batch) -> Result<()> {
        self.operations
            .observe(Operation::Batch, || self.apply_batch(batch))
    }

    fn reset(&self) -> Result<()> {
        self.operations
            .observe(Operation::Reset, || self.reset_alone())
    }
}

impl RocksStore {
    /// [`Store::apply`]: every op in one transaction; a small batch under
    /// the locks of the paths it writes (like a single write: it retries
    /// with the locks it turned out to need, a link on the way), a large
    /// one with the store to itself.
    fn apply_batch(&self, batch: &Batch) -> Result<()> {
        self.writable("apply a batch")?;
        if nowait::refusing() {
            return Err(Error::would_wait("a batch"));
        }
        let run = |txn: &mut Txn<'_>| {
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
            Ok(())
        };
        if batch.len() <= PLANNED_BATCH_OPS {
            let mut plan = LockPlan::default();
            for op in batch.ops() {
                match op {
                    Op::Write { path, .. } | Op::MakeGroup { path } | Op::Delete { path, .. } => {
                        plan.writing(path.as_str())
                    }
                    Op::MakeLink { new, .. } => plan.writing(new.as_str()),
                }
            }
            return self.with_planned_locks(|| "a batch".to_owned(), plan.finish(), run);
        }
        let _alone = self.locks.lock_all();
        let mut txn = Txn::new(&self.db, &self.caches);
        run(&mut txn)?;
        txn.commit(&self.write_options)
    }

    /// [`Store::reset`], with the store to itself.
    fn reset_alone(&self) -> Result<()> {
        self.writable("reset")?;
        if nowait::refusing() {
            return Err(Error::would_wait("reset"));
        }
        let _alone = self.locks.lock_all();
        // The caches must never name an entry the database no longer has,
        // so they are emptied before the removal lands (see cache.rs and
        // entries.rs).
        self.caches.clear();
        self.caches.entries.begin_all();
        let mut batch = WriteBatch::default();
        batch.delete_range(codec::ENTRIES_START, codec::ENTRIES_END);
        batch.delete_range(codec::LINK_INDEX_START, codec::LINK_INDEX_END);
        let reset = self
            .db
            .write_opt(batch, &self.write_options)
            .map_err(Error::rocks("resetting the store"));
        self.caches.entries.settle_all();
        reset
    }
}
