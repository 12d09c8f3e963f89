//! The cluster backend against a real Redis cluster: six `redis-server`
//! processes on 127.0.0.1 (three primaries, three replicas) started by the
//! tests themselves, shared by the tests of this binary, each test in a
//! namespace of its own. Tests that kill or move things start their own.

mod common;
mod faults;
mod model;
mod usage;

/// The conformance suite of every backend, on the cluster.
mod cluster {
    hbstore_testkit::conformance_suite!(crate::common::store());

    #[test]
    fn scope_is_remote() {
        assert_eq!(
            hbstore::Store::scope(&*crate::common::store()),
            hbstore::Scope::Remote
        );
    }
}
