//! Shared helpers: temporary stores and assertions on errors.

use std::fmt::Debug;

use hbstore::{Error, Options, RocksStore};

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

/// The error of a call that must fail.
pub fn fails<T: Debug>(result: hbstore::Result<T>) -> Error {
    match result {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e,
    }
}

pub fn bytes(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}

pub fn names(list: &[&str]) -> Option<Vec<String>> {
    Some(list.iter().map(|s| s.to_string()).collect())
}

pub use hbstore_testkit::dump;

/// Instantiates every listed case for each backend, as `#[test]` functions
/// in `rocks` and `memory` submodules of the calling module.
#[macro_export]
macro_rules! for_every_backend {
    ($($case:ident),* $(,)?) => {
        mod rocks {
            $(
                #[test]
                fn $case() {
                    let t = $crate::common::TempRocks::new();
                    super::$case(&t.store);
                }
            )*
        }
        mod memory {
            $(
                #[test]
                fn $case() {
                    super::$case(&hbstore::MemoryStore::new());
                }
            )*
        }
    };
}
