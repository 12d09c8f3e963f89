//! Integration tests of the library, in one test binary (each binary links
//! RocksDB, so fewer binaries build faster).
//!
//! The conformance suite is written once, in `hbstore-testkit`, and runs
//! here on both embedded backends (`rocks::*`, `memory::*`); the cluster
//! backend's crate runs the same suite on a real Redis cluster.

mod bounds;
mod common;
mod concurrency;
mod crash;
mod fuzz_corpus;
mod gc;
mod hostile;
mod metrics;
mod model;
mod nowait;
mod persistence;
mod scale;

/// The conformance suite on the RocksDB backend, a new store per case.
mod rocks {
    hbstore_testkit::conformance_suite!(crate::common::TempRocks::new());

    #[test]
    fn scope_is_local() {
        let t = crate::common::TempRocks::new();
        assert_eq!(hbstore::Store::scope(&t.store), hbstore::Scope::Local);
    }
}

/// The conformance suite on the in-memory backend.
mod memory {
    hbstore_testkit::conformance_suite!(Box::new(hbstore::MemoryStore::new()));

    #[test]
    fn scope_is_local() {
        let store = hbstore::MemoryStore::new();
        assert_eq!(hbstore::Store::scope(&store), hbstore::Scope::Local);
    }
}
