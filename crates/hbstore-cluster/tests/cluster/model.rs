//! The model-based property test of the embedded backends, on the
//! cluster: random operation sequences over a tiny alphabet (so links,
//! cycles and type clashes are common) answer exactly as the in-memory
//! model does, after every step, and leave the same tree; `check` finds
//! the layout sound after each sequence.

use hbstore::{MemoryStore, Store};
use hbstore_testkit::dump;
use hbstore_testkit::ops::{run, strategy::action};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};

#[test]
fn the_cluster_answers_like_the_model_on_random_operation_sequences() {
    let cluster = crate::common::store();
    let mut runner = TestRunner::new(Config {
        // Every step is a few network round trips and the tree is dumped
        // after each one: fewer cases than the RocksDB run, same generator.
        cases: 1024,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(action(), 1..40), |actions| {
            cluster.reset().expect("reset");
            let model = MemoryStore::new();
            for (step, action) in actions.iter().enumerate() {
                let expected = run(&model, action);
                let got = run(&*cluster, action);
                prop_assert_eq!(&got, &expected, "step {}: {:?}", step, action);
                prop_assert_eq!(dump(&*cluster), dump(&model), "tree after step {}", step);
            }
            let report = cluster.check().expect("check");
            prop_assert!(report.is_sound(), "{:?}", report.problems);
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}
