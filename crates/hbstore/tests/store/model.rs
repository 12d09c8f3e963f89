//! Property tests: random operation sequences over a tiny alphabet of
//! segments (so collisions, links, cycles and type clashes are common) give
//! the same answers on the RocksDB backend as on the in-memory model, after
//! every step, and leave the same tree behind. The operations, their
//! generators and the runner live in `hbstore-testkit`, shared with the
//! fuzz target and the cluster backend's suite.

use hbstore_testkit::ops::model::answers_like_the_model;

use crate::common::TempRocks;

#[test]
fn rocks_answers_like_the_model_on_random_operation_sequences() {
    // One database for all cases, reset between them: opening RocksDB per
    // case would dominate the run.
    let rocks = TempRocks::new();
    answers_like_the_model(&rocks.store, 2048, file!(), |store| {
        let report = store.check(|_| {}).map_err(|e| e.to_string())?;
        if report.is_sound() {
            Ok(())
        } else {
            Err(format!("{:?}", report.problems))
        }
    });
}
