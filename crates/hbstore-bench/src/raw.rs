//! The baseline: raw RocksDB with exactly the options hbstore uses, and
//! the same memory: raw RocksDB has no entry cache, so its block cache
//! gets that share of the budget too.

use std::path::{Path, PathBuf};

use hbstore::Options;
use rocksdb::{ReadOptions, WriteOptions, DB};

use crate::error::{CliError, CliResult};
use crate::hb_lmdb::MatchScan;

pub struct Raw {
    pub db: DB,
    pub write: WriteOptions,
    dir: PathBuf,
}

fn failed(e: rocksdb::Error) -> CliError {
    CliError::Failed(format!("raw RocksDB baseline: {e}"))
}

impl Raw {
    pub fn open(dir: &Path, options: &Options) -> CliResult<Raw> {
        let budget = options.memory_budget();
        let options = options
            .clone()
            .block_cache_bytes(budget.block_cache + budget.entry_cache);
        Ok(Raw {
            db: DB::open(&options.rocksdb_options(), dir).map_err(failed)?,
            write: options.write_options(),
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Compacts everything, the way `RocksStore::compact` does.
    pub fn compact(&self) {
        let mut options = rocksdb::CompactOptions::default();
        options.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
        self.db
            .compact_range_opt(Option::<&[u8]>::None, Option::<&[u8]>::None, &options);
    }

    /// Writes the memtable out (before its bytes on disk are counted).
    pub fn flush(&self) -> CliResult {
        self.db.flush().map_err(failed)
    }

    /// One of RocksDB's integer properties.
    pub fn property(&self, name: &str) -> CliResult<Option<u64>> {
        self.db.property_int_value(name).map_err(failed)
    }

    pub fn put(&self, key: &[u8], value: &[u8]) -> CliResult {
        self.db.put_opt(key, value, &self.write).map_err(failed)
    }

    pub fn get(&self, key: &[u8]) -> CliResult<Option<Vec<u8>>> {
        self.db.get(key).map_err(failed)
    }

    /// Gets every one of `keys` (a read workload's baseline).
    pub fn get_each<K: AsRef<[u8]>>(&self, keys: &[K]) -> CliResult {
        keys.iter().try_for_each(|k| self.get(k.as_ref()).map(drop))
    }

    /// Writes every record in one atomic write batch.
    pub fn write_all<K: AsRef<[u8]>, V: AsRef<[u8]>>(&self, records: &[(K, V)]) -> CliResult {
        let mut batch = rocksdb::WriteBatch::default();
        for (key, value) in records {
            batch.put(key, value);
        }
        self.db.write_opt(batch, &self.write).map_err(failed)
    }

    /// Up to `limit` keys under `prefix` from `prefix ++ from` on: a page
    /// of a group, the plain way.
    pub fn scan_page(&self, prefix: &[u8], from: &[u8], limit: usize) -> CliResult<usize> {
        let start = [prefix, from].concat();
        let mut opts = ReadOptions::default();
        opts.set_iterate_upper_bound(prefix_end(prefix));
        let mut iter = self.db.raw_iterator_opt(opts);
        iter.seek(&start);
        let mut n = 0;
        while n < limit && iter.valid() {
            n += 1;
            iter.next();
        }
        iter.status().map_err(failed)?;
        Ok(n)
    }

    /// `match` the way a store without an index answers it (LMDB's): a scan
    /// of every record. Returns how many groups matched.
    pub fn scan_match(&self, pairs: &[(&str, String)]) -> CliResult<usize> {
        let mut counter = MatchScan::new(pairs);
        let mut iter = self.db.raw_iterator();
        iter.seek_to_first();
        while let (Some(key), Some(value)) = (iter.key(), iter.value()) {
            counter.visit(key, value);
            iter.next();
        }
        iter.status().map_err(failed)?;
        Ok(counter.matches())
    }

    /// Reads every value under `prefix` (a whole message, the plain way);
    /// returns how many.
    pub fn scan_values(&self, prefix: &[u8]) -> CliResult<usize> {
        let mut opts = ReadOptions::default();
        opts.set_iterate_upper_bound(prefix_end(prefix));
        let mut iter = self.db.raw_iterator_opt(opts);
        iter.seek(prefix);
        let mut n = 0;
        while let Some(value) = iter.value() {
            n += usize::from(!value.is_empty());
            iter.next();
        }
        iter.status().map_err(failed)?;
        Ok(n)
    }

    /// The keys under `prefix`: what a plain key-value store does for a
    /// `list`.
    pub fn scan(&self, prefix: &[u8]) -> CliResult<Vec<Box<[u8]>>> {
        let mut opts = ReadOptions::default();
        opts.set_iterate_upper_bound(prefix_end(prefix));
        let mut keys = Vec::new();
        for item in self.db.iterator_opt(
            rocksdb::IteratorMode::From(prefix, rocksdb::Direction::Forward),
            opts,
        ) {
            keys.push(item.map_err(failed)?.0);
        }
        Ok(keys)
    }
}

/// The smallest key above every key that starts with `prefix` (which ends
/// in `/`, so its last byte can be incremented).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    end
}
