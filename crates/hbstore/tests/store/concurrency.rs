//! Threads sharing one store: the invariant holds under any interleaving,
//! and what a thread was told succeeded is there.

use std::sync::{Arc, Barrier};
use std::thread;

use hbstore::{Batch, RocksStore, Store};

use crate::common::TempRocks;

#[test]
fn store_is_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<RocksStore>();
    shareable::<hbstore::MemoryStore>();
}

#[test]
fn a_value_and_a_child_of_it_never_both_succeed() {
    let t = TempRocks::new();
    let store = Arc::new(t.store);
    for round in 0..300 {
        store.reset().unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let spawn = |path: &'static str| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                store.write(path, b"x").is_ok()
            })
        };
        let parent = spawn("a");
        let child = spawn("a/x");
        let (parent, child) = (parent.join().unwrap(), child.join().unwrap());
        assert!(
            parent ^ child,
            "round {round}: exactly one succeeds ({parent}, {child})"
        );
        assert!(store.check(|_| {}).unwrap().is_sound(), "round {round}");
    }
}

/// A small deterministic generator, so that a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }

    fn path(&mut self) -> String {
        let depth = 1 + self.next(3);
        (0..depth)
            .map(|_| ["a", "b", "c"][self.next(3)])
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[test]
fn mixed_operations_on_overlapping_paths_keep_the_invariant() {
    let t = TempRocks::new();
    let store = Arc::new(t.store);
    let threads = 4;
    let handles: Vec<_> = (0..threads)
        .map(|id| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                let mut rng = Lcg(id as u64 + 1);
                let mut acknowledged = Vec::new();
                for i in 0..3_000 {
                    let (p, q) = (rng.path(), rng.path());
                    // Errors are expected (type clashes, loops): only the
                    // invariant and acknowledged writes are checked.
                    let _ = match rng.next(8) {
                        0 | 1 => store.write(&p, format!("{id}-{i}").as_bytes()),
                        2 => store.make_group(&p),
                        3 => store.make_link(&p, &q),
                        4 => store.delete(&p).map(drop),
                        5 => store.delete_recursive(&p).map(drop),
                        6 => {
                            let mut batch = Batch::new();
                            batch
                                .make_group(&p)
                                .and_then(|b| b.write(&q, b"batch"))
                                .map(drop)
                                .unwrap();
                            store.apply(&batch)
                        }
                        _ => store.read(&p).map(drop),
                    };
                    // Each thread also owns a namespace no one else touches.
                    let own = format!("own/t{id}/k{}", i % 50);
                    let value = format!("{i}");
                    store.write(own.as_str(), value.as_bytes()).unwrap();
                    acknowledged.push((own, value));
                }
                acknowledged
            })
        })
        .collect();
    let mut last = std::collections::HashMap::new();
    for h in handles {
        for (path, value) in h.join().unwrap() {
            last.insert(path, value);
        }
    }
    let report = store.check(|_| {}).unwrap();
    assert!(report.is_sound(), "{:?}", report.problems);
    for (path, value) in last {
        assert_eq!(
            store.read(path.as_str()).unwrap(),
            Some(value.into_bytes()),
            "{path}"
        );
    }
}

#[test]
fn readers_see_whole_operations_while_writers_run() {
    let t = TempRocks::new();
    let store = Arc::new(t.store);
    store.make_group("g").unwrap();
    let writer = {
        let store = Arc::clone(&store);
        thread::spawn(move || {
            for i in 0..2_000 {
                let mut batch = Batch::new();
                let (a, b) = (format!("g/a{i}"), format!("g/b{i}"));
                batch
                    .write(a.as_str(), b"1")
                    .unwrap()
                    .write(b.as_str(), b"2")
                    .unwrap();
                store.apply(&batch).unwrap();
            }
        })
    };
    let mut seen = 0;
    while !writer.is_finished() || seen < 4_000 {
        let names = store.list("g").unwrap().unwrap();
        assert_eq!(names.len() % 2, 0, "a batch is never half visible");
        seen = names.len();
    }
    writer.join().unwrap();
}
