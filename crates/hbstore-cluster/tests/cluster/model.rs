//! The model-based property test of the embedded backends, on the
//! cluster: random operation sequences over a tiny alphabet (so links,
//! cycles and type clashes are common) answer exactly as the in-memory
//! model does, after every step, and leave the same tree; `check` finds
//! the layout sound after each sequence.

use hbstore_testkit::ops::model::answers_like_the_model;

#[test]
fn the_cluster_answers_like_the_model_on_random_operation_sequences() {
    let cluster = crate::common::store();
    // Every step is a few network round trips and the tree is dumped after
    // each one: fewer cases than the RocksDB run, same generator.
    answers_like_the_model(&*cluster, 1024, file!(), |store| {
        let report = store.check().map_err(|e| e.to_string())?;
        if report.is_sound() {
            Ok(())
        } else {
            Err(format!("{:?}", report.problems))
        }
    });
}
