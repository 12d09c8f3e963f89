//! Shared helpers: temporary stores and assertions on errors.

use hbstore::{Options, RocksStore};

/// A RocksDB store in a temporary directory, removed on drop.
pub struct TempRocks {
    pub store: RocksStore,
    pub dir: tempfile::TempDir,
}

impl TempRocks {
    pub fn new() -> Self {
        Self::with_options(Options::default())
    }

    pub fn with_options(options: Options) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = RocksStore::open(dir.path().join("db"), options).expect("open a new store");
        TempRocks { store, dir }
    }

    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("db")
    }
}

pub use hbstore_testkit::conformance::support::{bytes, fails};
pub use hbstore_testkit::dump;

impl std::ops::Deref for TempRocks {
    type Target = RocksStore;

    fn deref(&self) -> &RocksStore {
        &self.store
    }
}
