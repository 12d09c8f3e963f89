//! `RocksStore::without_waiting`: what a caller that must not block (an
//! Erlang NIF on a normal scheduler) gets. It answers `WouldWait`, having
//! changed nothing, where it would have waited for a lock, for the disk or
//! to copy a large value; otherwise it answers as the store always does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hbstore::{Batch, Error, Options, RocksStore, Store};

use crate::common::{bytes, TempRocks};

fn would_wait<T: std::fmt::Debug>(result: hbstore::Result<T>) -> bool {
    match result {
        Err(Error::WouldWait { .. }) => true,
        Ok(_) => false,
        Err(other) => panic!("neither done nor refused: {other:?}"),
    }
}

#[test]
fn answers_as_usual_when_nothing_is_in_the_way() {
    let t = TempRocks::new();
    let s = &t.store;
    s.without_waiting(|s| s.write("a/b", b"1")).unwrap();
    s.without_waiting(|s| s.make_link("a/b", "l")).unwrap();
    assert_eq!(s.without_waiting(|s| s.read("l")).unwrap(), bytes("1"));
    assert_eq!(s.without_waiting(|s| s.resolve("l")).unwrap(), "a/b");
    assert!(s.without_waiting(|s| s.type_of("a")).unwrap().is_some());
    // The mode ends with the call.
    let mut batch = Batch::new();
    batch.write("x", b"1").unwrap();
    s.apply(&batch).unwrap();
}

#[test]
fn batches_and_reset_are_refused_at_once() {
    let t = TempRocks::new();
    let s = &t.store;
    s.write("kept", b"1").unwrap();
    let mut batch = Batch::new();
    batch.write("x", b"1").unwrap();
    assert!(would_wait(s.without_waiting(|s| s.apply(&batch))));
    assert!(would_wait(s.without_waiting(|s| s.reset())));
    assert_eq!(s.read("kept").unwrap(), bytes("1"));
    assert_eq!(s.read("x").unwrap(), None);
}

#[test]
fn a_read_that_would_go_to_disk_is_refused_until_the_block_is_cached() {
    let t = TempRocks::new();
    let dir = t.db_path();
    // Enough data for several files' worth of blocks, so that a new
    // handle's open cannot have read them all.
    for chunk in 0..20 {
        let mut batch = Batch::new();
        for i in 0..5_000 {
            let value = format!("{chunk}-{i}-{}", "x".repeat(200));
            batch
                .write(format!("on/{chunk}/{i}"), value.as_bytes())
                .unwrap();
        }
        t.store.apply(&batch).unwrap();
    }
    drop(t.store);
    // A clean close flushes: the value is in a file, and the new handle's
    // block cache holds only what opening read (the first block, where
    // the format record is).
    let s = RocksStore::open(&dir, Options::default()).unwrap();
    let cold = "on/10/2500";
    let value = format!("10-2500-{}", "x".repeat(200));
    assert!(would_wait(s.without_waiting(|s| s.read(cold))));
    assert!(would_wait(s.without_waiting(|s| s.type_of(cold))));
    assert_eq!(s.read(cold).unwrap(), bytes(&value));
    assert_eq!(
        s.without_waiting(|s| s.read(cold)).unwrap(),
        bytes(&value),
        "cached now"
    );
}

#[test]
fn a_large_value_is_refused_rather_than_copied() {
    let t = TempRocks::new();
    let s = &t.store;
    let large = vec![7u8; 1 << 20];
    s.write("large", &large).unwrap();
    assert!(would_wait(s.without_waiting(|s| s.read("large"))));
    assert_eq!(s.read("large").unwrap().map(|v| v.len()), Some(large.len()));
    // Its size is known without copying it: a listing answers.
    assert!(s.without_waiting(|s| s.list_children("")).is_ok());
}

#[test]
fn a_write_never_waits_for_a_batch_in_progress() {
    let t = TempRocks::new();
    let s = &t.store;
    s.write("single/seed", b"x").unwrap();
    let batching = AtomicBool::new(true);
    let (refused, done, slowest, shortest_batch) = std::thread::scope(|scope| {
        let batcher = scope.spawn(|| {
            // Batches hold every writer off for their whole transaction.
            let mut shortest = Duration::MAX;
            for round in 0..20 {
                let mut batch = Batch::new();
                for i in 0..20_000 {
                    batch.write(format!("batch/{round}/{i}"), b"v").unwrap();
                }
                let started = Instant::now();
                s.apply(&batch).unwrap();
                shortest = shortest.min(started.elapsed());
            }
            batching.store(false, Ordering::Release);
            shortest
        });
        let (mut refused, mut done, mut slowest) = (0, 0, Duration::ZERO);
        let mut i = 0;
        while batching.load(Ordering::Acquire) {
            let started = Instant::now();
            let answer = s.without_waiting(|s| s.write(format!("single/{i}"), b"v"));
            slowest = slowest.max(started.elapsed());
            if would_wait(answer) {
                refused += 1;
            } else {
                done += 1;
            }
            i += 1;
        }
        let shortest_batch = batcher.join().expect("the batcher does not panic");
        (refused, done, slowest, shortest_batch)
    });
    assert!(refused > 0, "some writes met a batch ({done} went through)");
    // Had a call waited for a batch, it would have taken as long as one.
    // (The figures under load are `./dev bench-erlang`'s, not a test's.)
    assert!(
        slowest < shortest_batch,
        "the slowest call took {slowest:?}, a batch {shortest_batch:?}"
    );
    assert!(s.check(|_| {}).unwrap().is_sound());
}

/// A small batch (a message's values or links, as HyperBEAM writes them)
/// locks only the paths it writes: writers of other paths go on beside it,
/// where a large batch holds them all off.
#[test]
fn a_small_batch_holds_off_only_the_writers_of_its_paths() {
    let t = TempRocks::new();
    let s = &t.store;
    let refused_beside = |ops: usize| {
        let batching = AtomicBool::new(true);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for round in 0..300 {
                    let mut batch = Batch::new();
                    for i in 0..ops {
                        let path = format!("messages/{ops}-{round}/field{i}");
                        batch.write(path, b"v").unwrap();
                    }
                    s.apply(&batch).unwrap();
                }
                batching.store(false, Ordering::Release);
            });
            let (mut refused, mut calls) = (0u32, 0u32);
            while batching.load(Ordering::Acquire) {
                let path = format!("single/{ops}-{calls}");
                refused += u32::from(would_wait(s.without_waiting(|s| s.write(path, b"v"))));
                calls += 1;
            }
            (refused, calls)
        })
    };
    // A message's few writes: under their paths' locks. A write of
    // another path meets one only where two paths share a lock stripe (of
    // 4,096), and then answers at once, again and again while that batch
    // lasts: a few in a hundred at most.
    let (refused, calls) = refused_beside(4);
    assert!(
        f64::from(refused) < 0.03 * f64::from(calls),
        "{refused} of {calls} writes refused beside small batches"
    );
    // 65: the store to itself, and writes meet it.
    let (refused, calls) = refused_beside(65);
    assert!(
        f64::from(refused) > 0.2 * f64::from(calls),
        "only {refused} of {calls} writes refused beside large batches"
    );
    assert!(s.check(|_| {}).unwrap().is_sound());
}
