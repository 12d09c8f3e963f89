//! Shared helpers: temporary stores and assertions on errors.

use std::fmt::Debug;

use hbstore::{Error, Options, RocksStore, Store};

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

/// Every path in the store with what is there, walking from the root
/// without following links: the full observable state, for comparisons.
pub fn dump<S: Store>(store: &S) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(group) = stack.pop() {
        let children = store
            .list_children(group.as_str())
            .expect("list a group")
            .expect("a listed group exists");
        for child in children {
            let path = hbstore::add_path(group.as_str(), child.name.as_str()).expect("valid");
            let what = match child.kind {
                hbstore::ChildKind::Group => {
                    stack.push(path.clone());
                    "group".to_owned()
                }
                hbstore::ChildKind::Value { .. } => {
                    // Read through the parent's physical path: `path` has no
                    // link on the way, so this is the value itself.
                    let v = store.read(path.as_str()).expect("read a value");
                    format!("value {v:?}")
                }
                hbstore::ChildKind::Link { target } => format!("link {target}"),
            };
            out.push((path, what));
        }
    }
    out.sort();
    out
}

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
