//! Property tests: random operation sequences over a tiny alphabet of
//! segments (so collisions, links, cycles and type clashes are common) give
//! the same answers on the RocksDB backend as on the in-memory model, after
//! every step, and leave the same tree behind. The operations and their
//! generators live in `hbstore-testkit`, shared with the fuzz target.

use hbstore::{MemoryStore, Store};
use hbstore_testkit::dump;
use hbstore_testkit::ops::{run, strategy::action};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};

use crate::common::TempRocks;

#[test]
fn rocks_answers_like_the_model_on_random_operation_sequences() {
    // One database for all cases, reset between them: opening RocksDB per
    // case would dominate the run, and it exercises `reset` too.
    let rocks = TempRocks::new();
    let mut runner = TestRunner::new(Config {
        cases: 2048,
        // A shrunk failure is saved beside this file, in
        // `proptest-regressions/`, and tried first on every later run.
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(action(), 1..40), |actions| {
            rocks.store.reset().expect("reset");
            let model = MemoryStore::new();
            for (step, action) in actions.iter().enumerate() {
                let expected = run(&model, action);
                let got = run(&rocks.store, action);
                prop_assert_eq!(&got, &expected, "step {}: {:?}", step, action);
                prop_assert_eq!(dump(&rocks.store), dump(&model), "tree after step {}", step);
            }
            let report = rocks.store.check(|_| {}).expect("check");
            prop_assert!(report.is_sound(), "{:?}", report.problems);
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}
