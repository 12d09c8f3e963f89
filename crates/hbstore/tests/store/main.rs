//! Integration tests of the library, in one test binary (each binary links
//! RocksDB, so fewer binaries build faster).
//!
//! The conformance suite is written once, in `hbstore-testkit`, and runs
//! here on both embedded backends (`rocks::*`, `memory::*`); the cluster
//! backend's crate runs the same suite on a real Redis cluster.

mod bounds;
mod cached_reads;
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
mod prefix;
mod scale;

/// The conformance suite on the RocksDB backend, a new store per case.
mod rocks {
    hbstore_testkit::conformance_suite!(crate::common::TempRocks::new());

    #[test]
    fn scope_is_local() {
        let t = crate::common::TempRocks::new();
        assert_eq!(hbstore::Store::scope(&t.store), hbstore::Scope::Local);
    }

    /// Listings in the entry cache (`listings.rs`) follow their group: an
    /// empty group's listing is kept from its creation and goes with it,
    /// so what is listed after a removal or a replacement is never the
    /// group that was there.
    #[test]
    fn a_groups_cached_listing_goes_with_the_group() {
        use hbstore::Store;
        let t = crate::common::TempRocks::new();
        let s = &t.store;
        s.make_group("g").unwrap();
        assert_eq!(s.list("g").unwrap(), Some(vec![]));
        s.write("g/a", b"1").unwrap();
        assert_eq!(s.list("g").unwrap(), Some(vec!["a".to_owned()]));
        s.delete("g/a").unwrap();
        assert_eq!(s.list("g").unwrap(), Some(vec![]));
        s.delete("g").unwrap();
        assert_eq!(s.list("g").unwrap(), None);
        s.write("other/x", b"2").unwrap();
        s.make_link("other", "g").unwrap();
        assert_eq!(s.list("g").unwrap(), Some(vec!["x".to_owned()]));
        s.write("g2/y", b"3").unwrap();
        s.delete_recursive("g2").unwrap();
        assert_eq!(s.list("g2").unwrap(), None);
        s.write("g2", b"a value now").unwrap();
        assert!(s.list("g2").is_err(), "a value is not a group");
        // Removed and replaced in one batch: pending holds the
        // replacement, and the group's listing still goes.
        for replace_with_a_link in [true, false] {
            s.make_group("g3").unwrap();
            s.write("g3/c", b"4").unwrap();
            assert_eq!(s.list("g3").unwrap(), Some(vec!["c".to_owned()]));
            let mut batch = hbstore::Batch::new();
            batch.delete_recursive("g3").unwrap();
            if replace_with_a_link {
                batch.make_link("g2", "g3").unwrap();
            } else {
                batch.write("g3", b"5").unwrap();
            }
            s.apply(&batch).unwrap();
            assert!(s.list("g3").is_err(), "g3 is a value, or links to one");
            s.delete("g3").unwrap();
            s.make_group("g3").unwrap();
            let mut batch = hbstore::Batch::new();
            batch.delete("g3").unwrap();
            batch.write("g3", b"6").unwrap();
            s.apply(&batch).unwrap();
            assert!(s.list("g3").is_err(), "an empty group replaced by a value");
            s.delete("g3").unwrap();
        }
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
