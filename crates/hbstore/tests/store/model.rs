//! Property tests: random operation sequences over a tiny alphabet of
//! segments (so collisions, links, cycles and type clashes are common) give
//! the same answers on the RocksDB backend as on the in-memory model, after
//! every step, and leave the same tree behind.

use hbstore::{Batch, MemoryStore, Store};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::{dump, TempRocks};

#[derive(Debug, Clone)]
enum Action {
    Write(Vec<&'static str>, u8),
    Read(Vec<&'static str>),
    Type(Vec<&'static str>),
    List(Vec<&'static str>),
    Resolve(Vec<&'static str>),
    MakeGroup(Vec<&'static str>),
    MakeLink(Vec<&'static str>, Vec<&'static str>),
    Delete(Vec<&'static str>, bool),
    Batch(Vec<Action>),
    Reset,
}

fn path() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 0..=3)
}

fn mutation() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (path(), any::<u8>()).prop_map(|(p, v)| Action::Write(p, v)),
        2 => path().prop_map(Action::MakeGroup),
        3 => (path(), path()).prop_map(|(a, b)| Action::MakeLink(a, b)),
        2 => (path(), any::<bool>()).prop_map(|(p, r)| Action::Delete(p, r)),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        10 => mutation(),
        2 => path().prop_map(Action::Read),
        1 => path().prop_map(Action::Type),
        2 => path().prop_map(Action::List),
        1 => path().prop_map(Action::Resolve),
        1 => prop::collection::vec(mutation(), 1..5).prop_map(Action::Batch),
        1 => Just(Action::Reset),
    ]
}

fn add_to_batch(batch: &mut Batch, action: &Action) -> hbstore::Result<()> {
    match action {
        Action::Write(p, v) => batch.write(p, &[*v]).map(drop),
        Action::MakeGroup(p) => batch.make_group(p).map(drop),
        Action::MakeLink(a, b) => batch.make_link(a, b).map(drop),
        Action::Delete(p, true) => batch.delete_recursive(p).map(drop),
        Action::Delete(p, false) => batch.delete(p).map(drop),
        other => unreachable!("batches hold mutations only: {other:?}"),
    }
}

/// The answer of one action, as text, so that answers compare across
/// backends (errors included, with their paths).
fn run(store: &impl Store, action: &Action) -> String {
    match action {
        Action::Write(p, v) => format!("{:?}", store.write(p, &[*v])),
        Action::Read(p) => format!("{:?}", store.read(p)),
        Action::Type(p) => format!("{:?}", store.type_of(p)),
        Action::List(p) => format!("{:?}", store.list_children(p)),
        Action::Resolve(p) => format!("{:?}", store.resolve(p)),
        Action::MakeGroup(p) => format!("{:?}", store.make_group(p)),
        Action::MakeLink(a, b) => format!("{:?}", store.make_link(a, b)),
        Action::Delete(p, true) => format!("{:?}", store.delete_recursive(p)),
        Action::Delete(p, false) => format!("{:?}", store.delete(p)),
        Action::Batch(actions) => {
            let mut batch = Batch::new();
            for a in actions {
                add_to_batch(&mut batch, a).expect("alphabet paths are valid");
            }
            format!("{:?}", store.apply(&batch))
        }
        Action::Reset => format!("{:?}", store.reset()),
    }
}

#[test]
fn rocks_answers_like_the_model_on_random_operation_sequences() {
    // One database for all cases, reset between them: opening RocksDB per
    // case would dominate the run, and it exercises `reset` too.
    let rocks = TempRocks::new();
    let mut runner = TestRunner::new(Config {
        cases: 2048,
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
