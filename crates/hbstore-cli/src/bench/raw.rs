//! The baseline: raw RocksDB with exactly the options hbstore uses.

use std::path::Path;

use hbstore::Options;
use rocksdb::{ReadOptions, WriteOptions, DB};

use crate::error::{CliError, CliResult};

pub struct Raw {
    pub db: DB,
    pub write: WriteOptions,
}

fn failed(e: rocksdb::Error) -> CliError {
    CliError::Failed(format!("raw RocksDB baseline: {e}"))
}

impl Raw {
    pub fn open(dir: &Path, options: &Options) -> CliResult<Raw> {
        Ok(Raw {
            db: DB::open(&options.rocksdb_options(), dir).map_err(failed)?,
            write: options.write_options(),
        })
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

    /// The keys under `prefix`: what a plain key-value store does for a
    /// `list`.
    pub fn scan(&self, prefix: &[u8]) -> CliResult<Vec<Box<[u8]>>> {
        let mut end = prefix.to_vec();
        if let Some(last) = end.last_mut() {
            *last += 1;
        }
        let mut opts = ReadOptions::default();
        opts.set_iterate_upper_bound(end);
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
