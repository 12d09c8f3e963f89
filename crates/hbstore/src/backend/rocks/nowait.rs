//! Calls that must not wait: an Erlang NIF on a normal scheduler must
//! return in bounded time, or every Erlang process queued behind it stalls.
//! Inside [`without_waiting`](super::RocksStore::without_waiting) the
//! store refuses, with [`Error::WouldWait`](crate::Error::WouldWait),
//! instead of waiting:
//!
//! - for a path lock another writer holds (a large batch or `reset` holds them
//!   all for its whole transaction): locks are *tried*;
//! - for disk I/O: reads are made with RocksDB's cache-only read tier
//!   (memtable and block cache), which answers `Incomplete` where it would
//!   have read a file;
//! - for a write stall: writes are made with `no_slowdown`, which answers
//!   `Incomplete` where RocksDB would have slowed or stopped the write;
//! - for copying a large value: a value over [`VALUE_BYTES`] is refused
//!   before it is copied.
//!
//! The caller then makes the same call where waiting is allowed (a dirty
//! scheduler). Nothing is half done by a refusal: every refusal comes before
//! the transaction commits, or is the commit's own refusal to write.
//!
//! The mode is a flag of the calling thread, set for the length of one call
//! by a guard (so a panic cannot leave it set), because it concerns every
//! RocksDB call the engine makes on the way, several layers down.

use std::cell::Cell;

use rocksdb::{DBPinnableSlice, ReadOptions, ReadTier, Snapshot, DB};

/// The largest value a call that must not wait copies out.
pub const VALUE_BYTES: usize = 64 << 10;

thread_local! {
    static REFUSING: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current call must not wait.
pub(crate) fn refusing() -> bool {
    REFUSING.with(Cell::get)
}

/// Sets the flag for as long as it lives, and puts back what was there.
pub(crate) struct Refusing {
    before: bool,
}

impl Refusing {
    pub(crate) fn begin() -> Self {
        Refusing {
            before: REFUSING.with(|r| r.replace(true)),
        }
    }
}

impl Drop for Refusing {
    fn drop(&mut self) {
        REFUSING.with(|r| r.set(self.before));
    }
}

/// Read options for one read: cache-only when the call must not wait.
pub(crate) fn read_options() -> ReadOptions {
    let mut options = ReadOptions::default();
    if refusing() {
        options.set_read_tier(ReadTier::BlockCache);
    }
    options
}

/// The bytes under `key`: the snapshot's when there is one, else the live
/// database's; from memory only in a call that must not wait. Every point
/// read of the backend goes through here.
pub(crate) fn get<'v>(
    db: &'v DB,
    snapshot: Option<&'v Snapshot<'v>>,
    key: &[u8],
) -> Result<Option<DBPinnableSlice<'v>>, rocksdb::Error> {
    if refusing() {
        let options = read_options();
        return match snapshot {
            Some(s) => s.get_pinned_opt(key, options),
            None => db.get_pinned_opt(key, &options),
        };
    }
    match snapshot {
        Some(s) => s.get_pinned(key),
        None => db.get_pinned(key),
    }
}

/// The bytes under each of `keys` (sorted), in one batched read of the
/// live database (from memory only, in a call that must not wait).
pub(crate) fn get_many<'v, 'k>(
    db: &'v DB,
    keys: impl Iterator<Item = &'k [u8]>,
) -> Vec<Result<Option<DBPinnableSlice<'v>>, rocksdb::Error>> {
    let keys: Vec<&[u8]> = keys.collect();
    match db.cf_handle(rocksdb::DEFAULT_COLUMN_FAMILY_NAME) {
        Some(cf) => db.batched_multi_get_cf_opt(cf, keys, true, &read_options()),
        // Every database has its default column family; were it missing,
        // one get each answers the same.
        None => keys.into_iter().map(|key| get(db, None, key)).collect(),
    }
}

/// Whether RocksDB's error is its refusal to wait (cache-only read tier,
/// `no_slowdown`), made while the call must not wait.
pub(crate) fn is_refusal(error: &rocksdb::Error) -> bool {
    refusing() && error.kind() == rocksdb::ErrorKind::Incomplete
}
