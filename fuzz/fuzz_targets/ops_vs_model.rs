//! Random operation sequences: RocksDB answers like the in-memory model.
#![no_main]

use std::sync::OnceLock;

use hbstore::{Options, RocksStore};
use libfuzzer_sys::fuzz_target;

fn store() -> &'static RocksStore {
    static STORE: OnceLock<(tempfile::TempDir, RocksStore)> = OnceLock::new();
    let (_, store) = STORE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = RocksStore::open(dir.path().join("db"), Options::default()).expect("open");
        (dir, store)
    });
    store
}

fuzz_target!(|data: &[u8]| {
    hbstore_testkit::fuzz::run_differential(data, store());
});
