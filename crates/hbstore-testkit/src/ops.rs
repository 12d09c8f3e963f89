//! Random operations on a store, and their answers as text, so that two
//! backends can be compared answer by answer (errors included, with the
//! paths they name).

use hbstore::{Batch, Direction, Page, Store};

/// A path, as a list of segments from a small alphabet.
pub type Segments = Vec<&'static str>;

/// One operation of the contract.
#[derive(Debug, Clone)]
pub enum Action {
    /// `write(path, value)`.
    Write(Segments, Vec<u8>),
    /// `read(path)`.
    Read(Segments),
    /// `type(path)`.
    Type(Segments),
    /// `list(path)`, with each child's kind.
    List(Segments),
    /// `resolve(path)`.
    Resolve(Segments),
    /// `make_group(path)`.
    MakeGroup(Segments),
    /// `make_link(existing, new)`.
    MakeLink(Segments, Segments),
    /// `delete(path)`, recursive when the flag is set.
    Delete(Segments, bool),
    /// `list_range(path, from, limit, direction)`.
    ListRange(Segments, Option<&'static str>, Option<usize>, Direction),
    /// `read_entry(path, inline_up_to)`.
    ReadEntry(Segments, usize),
    /// `match` of (key, target) pairs.
    Match(Vec<(&'static str, Segments)>, Option<usize>),
    /// Mutations applied together by `apply`.
    Batch(Vec<Action>),
    /// `reset()`.
    Reset,
}

impl Action {
    /// Whether the action changes the store (only those go in a batch).
    pub fn is_mutation(&self) -> bool {
        matches!(
            self,
            Action::Write(..) | Action::MakeGroup(_) | Action::MakeLink(..) | Action::Delete(..)
        )
    }
}

/// Adds a mutation to `batch`; `Err` for an invalid path (hostile segments
/// make some), `Ok(false)` for an action that is not a mutation.
pub fn add_to_batch(batch: &mut Batch, action: &Action) -> hbstore::Result<bool> {
    match action {
        Action::Write(p, v) => batch.write(p, v).map(|_| true),
        Action::MakeGroup(p) => batch.make_group(p).map(|_| true),
        Action::MakeLink(a, b) => batch.make_link(a, b).map(|_| true),
        Action::Delete(p, true) => batch.delete_recursive(p).map(|_| true),
        Action::Delete(p, false) => batch.delete(p).map(|_| true),
        _ => Ok(false),
    }
}

/// Runs `action` on `store` and returns its answer as text.
pub fn run(store: &impl Store, action: &Action) -> String {
    match action {
        Action::Write(p, v) => format!("{:?}", store.write(p, v)),
        Action::Read(p) => format!("{:?}", store.read(p)),
        Action::Type(p) => format!("{:?}", store.type_of(p)),
        Action::List(p) => format!("{:?}", store.list_children(p)),
        Action::Resolve(p) => format!("{:?}", store.resolve(p)),
        Action::ListRange(p, from, limit, direction) => {
            let page = Page {
                from: from.map(str::to_owned),
                limit: *limit,
                direction: *direction,
            };
            format!("{:?}", store.list_range(p, &page))
        }
        Action::ReadEntry(p, inline_up_to) => format!("{:?}", store.read_entry(p, *inline_up_to)),
        Action::Match(pairs, limit) => format!("{:?}", store.match_links(pairs, *limit)),
        Action::MakeGroup(p) => format!("{:?}", store.make_group(p)),
        Action::MakeLink(a, b) => format!("{:?}", store.make_link(a, b)),
        Action::Delete(p, true) => format!("{:?}", store.delete_recursive(p)),
        Action::Delete(p, false) => format!("{:?}", store.delete(p)),
        Action::Batch(actions) => {
            let mut batch = Batch::new();
            for a in actions {
                match add_to_batch(&mut batch, a) {
                    Ok(true) => {}
                    Ok(false) => return format!("not a mutation: {a:?}"),
                    Err(e) => return format!("{e:?}"),
                }
            }
            format!("{:?}", store.apply(&batch))
        }
        Action::Reset => format!("{:?}", store.reset()),
    }
}

/// Proptest strategies over a three-letter alphabet, so that paths collide
/// and links form chains and cycles often.
#[cfg(feature = "proptest")]
pub mod strategy {
    use proptest::prelude::*;

    use hbstore::Direction;

    use super::{Action, Segments};

    /// A path of 0 to 3 segments from `a`, `b`, `c`.
    pub fn path() -> impl Strategy<Value = Segments> {
        prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 0..=3)
    }

    /// One mutation.
    pub fn mutation() -> impl Strategy<Value = Action> {
        prop_oneof![
            4 => (path(), any::<u8>()).prop_map(|(p, v)| Action::Write(p, vec![v])),
            2 => path().prop_map(Action::MakeGroup),
            3 => (path(), path()).prop_map(|(a, b)| Action::MakeLink(a, b)),
            2 => (path(), any::<bool>()).prop_map(|(p, r)| Action::Delete(p, r)),
        ]
    }

    fn direction() -> impl Strategy<Value = Direction> {
        prop_oneof![Just(Direction::Ascending), Just(Direction::Descending)]
    }

    /// A `match` of one to three pairs over the same alphabet, so that
    /// links made by `MakeLink` are often found.
    fn match_pairs() -> impl Strategy<Value = Action> {
        let pair = (prop::sample::select(vec!["a", "b", "c"]), path());
        (
            prop::collection::vec(pair, 0..=3),
            prop::option::of(0..4usize),
        )
            .prop_map(|(pairs, limit)| Action::Match(pairs, limit))
    }

    /// Any action, mutations most often.
    pub fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            10 => mutation(),
            2 => path().prop_map(Action::Read),
            1 => path().prop_map(Action::Type),
            2 => path().prop_map(Action::List),
            1 => path().prop_map(Action::Resolve),
            1 => (
                path(),
                prop::option::of(prop::sample::select(vec!["", "a", "b", "bb", "c", "d"])),
                prop::option::of(0..4usize),
                direction(),
            )
                .prop_map(|(p, from, limit, d)| Action::ListRange(p, from, limit, d)),
            1 => (path(), 0..3usize).prop_map(|(p, n)| Action::ReadEntry(p, n)),
            2 => match_pairs(),
            1 => prop::collection::vec(mutation(), 1..5).prop_map(Action::Batch),
            1 => Just(Action::Reset),
        ]
    }
}

/// The model-based property test every backend runs: random operation
/// sequences answer on the backend exactly as on the in-memory model, after
/// every step, and leave the same tree; the backend's own check finds it
/// sound after each sequence.
#[cfg(feature = "proptest")]
pub mod model {
    use hbstore::{MemoryStore, Store};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};

    use super::{run, strategy::action};
    use crate::dump;

    /// Runs `cases` sequences of 1 to 39 actions on `store` (reset before
    /// each, which exercises `reset` too) and on a fresh model. A shrunk
    /// failure is saved beside `source_file` (the caller's `file!()`), in
    /// `proptest-regressions/`, and tried first on every later run.
    /// `sound` is the backend's check, `Err` listing its problems.
    pub fn answers_like_the_model<S: Store>(
        store: &S,
        cases: u32,
        source_file: &'static str,
        sound: impl Fn(&S) -> Result<(), String>,
    ) {
        let mut runner = TestRunner::new(Config {
            cases,
            source_file: Some(source_file),
            failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
                "proptest-regressions",
            ))),
            ..Config::default()
        });
        runner
            .run(&prop::collection::vec(action(), 1..40), |actions| {
                store.reset().expect("reset");
                let model = MemoryStore::new();
                for (step, action) in actions.iter().enumerate() {
                    let expected = run(&model, action);
                    let got = run(store, action);
                    prop_assert_eq!(&got, &expected, "step {}: {:?}", step, action);
                    prop_assert_eq!(dump(store), dump(&model), "tree after step {}", step);
                }
                let checked = sound(store);
                prop_assert!(checked.is_ok(), "{:?}", checked);
                Ok(())
            })
            .unwrap_or_else(|failure| panic!("{failure}"));
    }
}
