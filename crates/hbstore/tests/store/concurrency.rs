//! Threads sharing one store: the invariant holds under any interleaving,
//! and what a thread was told succeeded is there.

use std::sync::{Arc, Barrier};
use std::thread;

use hbstore::{Batch, ChildKind, EntryRead, RocksStore, Store};

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

/// How long each stress run lasts: 2 s by default, more with
/// `HBSTORE_STRESS_SECONDS`.
fn stress_time() -> std::time::Duration {
    let seconds = std::env::var("HBSTORE_STRESS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    std::time::Duration::from_secs_f64(seconds)
}

/// One stress thread: mixed operations on a tiny shared alphabet of paths
/// (errors are expected there: type clashes, loops), plus writes to a
/// namespace of its own, whose acknowledged values it returns.
fn stress_thread(
    store: &RocksStore,
    id: usize,
    until: std::time::Instant,
) -> Vec<(String, String)> {
    let mut rng = Lcg(id as u64 + 1);
    let mut acknowledged = Vec::new();
    let mut i = 0;
    while std::time::Instant::now() < until {
        i += 1;
        let (p, q) = (rng.path(), rng.path());
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
        let own = format!("own/t{id}/k{}", i % 50);
        let value = format!("{i}");
        store.write(own.as_str(), value.as_bytes()).unwrap();
        acknowledged.push((own, value));
    }
    acknowledged
}

/// After a stress run: the invariant holds, every thread's last
/// acknowledged write to each of its own paths is what is there, and what
/// the store answers from its caches (listings, values) is what a handle
/// without them reads from the database.
fn check_after_stress(
    store: &RocksStore,
    dir: &std::path::Path,
    results: Vec<Vec<(String, String)>>,
) {
    let report = store.check(|_| {}).unwrap();
    assert!(report.is_sound(), "{:?}", report.problems);
    let mut last = std::collections::HashMap::new();
    for (path, value) in results.into_iter().flatten() {
        last.insert(path, value);
    }
    assert!(!last.is_empty());
    for (path, value) in last {
        assert_eq!(
            store.read(path.as_str()).unwrap(),
            Some(value.into_bytes()),
            "{path}"
        );
    }
    let uncached = RocksStore::open_read_only(dir).unwrap();
    // Every path of the stress's alphabets is at most three deep, and a
    // link to a group lists as its target, so the walk stops at three.
    let mut groups = vec![(String::new(), 0)];
    let mut compared = 0;
    while let Some((group, depth)) = groups.pop() {
        // A value, a link loop: the same error from both.
        let sorted = |listed: hbstore::Result<Option<Vec<String>>>| {
            listed
                .map(|names| {
                    names.map(|mut names| {
                        names.sort();
                        names
                    })
                })
                .map_err(|e| e.to_string())
        };
        let listed = sorted(store.list(group.as_str()));
        let in_database = sorted(uncached.list(group.as_str()));
        assert_eq!(listed, in_database, "the listing of {group:?}");
        for name in in_database.ok().flatten().unwrap_or_default() {
            let path = if group.is_empty() {
                name
            } else {
                format!("{group}/{name}")
            };
            assert_eq!(
                store.read(path.as_str()).map_err(|e| e.to_string()),
                uncached.read(path.as_str()).map_err(|e| e.to_string()),
                "{path}"
            );
            compared += 1;
            if depth < 3 {
                groups.push((path, depth + 1));
            }
        }
    }
    assert!(compared > 0);
}

#[test]
fn threads_sharing_one_store_keep_the_invariant() {
    let t = TempRocks::new();
    let until = std::time::Instant::now() + stress_time();
    let results = thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|id| {
                let store = &t.store;
                scope.spawn(move || stress_thread(store, id, until))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    check_after_stress(&t.store, &t.db_path(), results);
}

#[test]
fn handles_shared_through_arc_keep_the_invariant() {
    let t = TempRocks::new();
    let store = Arc::new(t.store);
    let until = std::time::Instant::now() + stress_time();
    let handles: Vec<_> = (0..4)
        .map(|id| {
            let store = Arc::clone(&store);
            thread::spawn(move || stress_thread(&store, id, until))
        })
        .collect();
    let results = handles.into_iter().map(|h| h.join().unwrap()).collect();
    check_after_stress(&store, &t.dir.path().join("db"), results);
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
    // Read until the writer is done; a writer that panics is done too, and
    // `join` then fails the test instead of leaving this loop waiting for
    // children that will never come.
    while !writer.is_finished() {
        let names = store.list("g").unwrap().unwrap();
        assert_eq!(names.len() % 2, 0, "a batch is never half visible");
    }
    writer
        .join()
        .expect("the writer thread finished without panicking");
    assert_eq!(store.list("g").unwrap().map(|n| n.len()), Some(4_000));
}

#[test]
fn a_relinked_path_is_read_through_its_current_link_only() {
    // Links are cached for readers; a delete must take effect for every
    // reader at once, and a new link to another target likewise.
    let t = TempRocks::new();
    let store = &t.store;
    for i in 0..8 {
        store
            .write(format!("t/{i}"), i.to_string().as_bytes())
            .unwrap();
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    /// Stops the reader however the writer's loop ends, a failed
    /// assertion included (the scope would otherwise wait for it forever).
    struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let seen = store.read("l").unwrap();
                assert!(
                    seen.as_deref()
                        .is_none_or(|v| v.len() == 1 && v[0].is_ascii_digit()),
                    "{seen:?}"
                );
                let _ = store.read("l/x");
            }
        });
        let _stop = StopOnDrop(&done);
        for round in 0..2_000 {
            let i = round % 8;
            store.make_link(format!("t/{i}"), "l").unwrap();
            assert_eq!(
                store.read("l").unwrap(),
                Some(i.to_string().into_bytes()),
                "round {round}"
            );
            assert!(store.delete("l").unwrap());
            assert_eq!(
                store.read("l").unwrap(),
                None,
                "round {round}: the link is gone"
            );
            assert_eq!(store.resolve("l").unwrap(), "l");
        }
        let mut batch = Batch::new();
        batch
            .make_link("t/1", "l")
            .unwrap()
            .delete("l")
            .unwrap()
            .make_link("t/2", "l")
            .unwrap();
        store.apply(&batch).unwrap();
        assert_eq!(store.read("l").unwrap(), Some(b"2".to_vec()));
        store.reset().unwrap();
        assert_eq!(store.read("l").unwrap(), None, "reset forgets cached links");
    });
}

/// Writers race to create the same new groups (each writing a child of its
/// own), then race on one child: half make it a group, half write a value
/// there. A writer's knowledge of the groups it created (that nothing else
/// is in them) must never let both kinds succeed: whichever came second
/// must see what the first made.
#[test]
fn racing_creators_of_a_group_never_lose_a_child() {
    race_creators(|round| format!("round{round}"));
}

/// The same two levels down: each writer creates the round's group and
/// the group below it (the lower one found absent only because the upper
/// one was), which a transaction need not read again at its commit when
/// no other creation began or ended meanwhile (`Creations::begin`).
#[test]
fn racing_creators_of_nested_groups_never_lose_a_child() {
    race_creators(|round| format!("nested{round}/a/b"));
}

fn race_creators(group_of: fn(u32) -> String) {
    const WRITERS: usize = 4;
    let t = TempRocks::new();
    let store = Arc::new(t.store);
    for round in 0..300 {
        let barrier = Arc::new(Barrier::new(WRITERS));
        let group = group_of(round);
        let handles: Vec<_> = (0..WRITERS)
            .map(|j| {
                let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
                let group = group.clone();
                thread::spawn(move || {
                    barrier.wait();
                    store
                        .write(format!("{group}/own{j}").as_str(), b"mine")
                        .unwrap();
                    let contested = format!("{group}/c");
                    if j % 2 == 0 {
                        store.make_group(contested.as_str()).is_ok()
                    } else {
                        store.write(contested.as_str(), b"value").is_ok()
                    }
                })
            })
            .collect();
        let succeeded: Vec<bool> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let made_group = succeeded.iter().step_by(2).any(|&ok| ok);
        let wrote_value = succeeded.iter().skip(1).step_by(2).any(|&ok| ok);
        assert!(
            made_group ^ wrote_value,
            "{group}: a group and a value both succeeded at one path ({succeeded:?})"
        );
        let kind = store.type_of(format!("{group}/c").as_str()).unwrap();
        assert_eq!(
            kind == Some(hbstore::EntryType::Composite),
            made_group,
            "{group}"
        );
        let mut listed = store
            .list(group.as_str())
            .unwrap()
            .expect("the group is there");
        listed.sort();
        let mut expected: Vec<String> = (0..WRITERS).map(|j| format!("own{j}")).collect();
        expected.push("c".to_owned());
        expected.sort();
        assert_eq!(listed, expected, "{group}: every child listed");
        for j in 0..WRITERS {
            let own = store.read(format!("{group}/own{j}").as_str()).unwrap();
            assert_eq!(own.as_deref(), Some(&b"mine"[..]), "{group}");
        }
    }
    assert!(store.check(|_| {}).unwrap().is_sound());
}

/// The entry cache (`entries.rs`) must never answer an entry older than
/// the last acknowledged write: readers check every answer against what
/// the writer had acknowledged before the read began, while the writer
/// rewrites, deletes, re-points and replaces the same few paths. One
/// reader asks `read_cached` first (the NIF's way), the other `read`.
#[test]
fn cached_reads_are_never_older_than_an_acknowledged_write() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let t = TempRocks::new();
    let store = &t.store;
    let acked: Vec<AtomicU64> = (0..4).map(|_| AtomicU64::new(0)).collect();
    let done = AtomicBool::new(false);
    let from_memory = AtomicU64::new(0);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for i in 1..=100_000u64 {
                let k = (i % 4) as usize;
                let path = format!("k{k}");
                match i % 5 {
                    // Through a link to a value of its own, or a value.
                    0 => {
                        store.write(format!("t/{i}"), &i.to_be_bytes()).unwrap();
                        store.make_link(format!("t/{i}"), path.as_str()).unwrap();
                    }
                    _ => store.write(path.as_str(), &i.to_be_bytes()).unwrap(),
                }
                acked[k].store(i, Ordering::Release);
            }
            done.store(true, Ordering::Release);
        });
        for in_place in [false, true] {
            let (acked, done, from_memory) = (&acked, &done, &from_memory);
            scope.spawn(move || {
                let mut reads = 0u64;
                while !done.load(Ordering::Acquire) || reads < 1_000 {
                    for (k, acked) in acked.iter().enumerate() {
                        let before = acked.load(Ordering::Acquire);
                        let path = format!("k{k}");
                        let cached = in_place
                            .then(|| store.read_cached(path.as_bytes(), <[u8]>::to_vec))
                            .flatten();
                        if cached.is_some() {
                            from_memory.fetch_add(1, Ordering::Relaxed);
                        }
                        let read = cached.map_or_else(|| store.read(path.as_str()).unwrap(), Some);
                        let Some(bytes) = read else {
                            assert_eq!(before, 0, "k{k} vanished after write {before}");
                            continue;
                        };
                        let seen = u64::from_be_bytes(bytes.try_into().expect("8 bytes"));
                        assert!(
                            seen >= before,
                            "k{k}: read {seen} after {before} was acknowledged"
                        );
                        reads += 1;
                    }
                }
            });
        }
    });
    assert!(from_memory.into_inner() > 0, "read_cached answered");
}

/// Listings in the entry cache (`listings.rs`): a message read or a list
/// put together from the cache must be one state of the group. The writer
/// rewrites all of a message's fields in one batch each time (each field
/// the same number, of a length that changes with it), adds and removes
/// a field, and re-points a link field; readers check that every answer
/// shows one batch, whole, and never one older than acknowledged.
#[test]
fn cached_listings_show_one_state_of_the_group_never_an_older_one() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let t = TempRocks::new();
    let store = &t.store;
    let acked = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let write = |i: u64| {
        let value = format!("{i}:{}", "x".repeat((i % 3) as usize));
        let mut batch = Batch::new();
        for field in ["a", "b", "c"] {
            batch.write(format!("m/{field}"), value.as_bytes()).unwrap();
        }
        batch.write(format!("data/{i}"), value.as_bytes()).unwrap();
        batch.make_link(format!("data/{i}"), "m/link").unwrap();
        if i.is_multiple_of(2) {
            batch.write("m/extra", value.as_bytes()).unwrap();
        } else {
            batch.delete("m/extra").unwrap();
        }
        store.apply(&batch).unwrap();
    };
    write(1);
    acked.store(1, Ordering::Release);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for i in 2..=20_000u64 {
                write(i);
                acked.store(i, Ordering::Release);
            }
            done.store(true, Ordering::Release);
        });
        for reader in 0..2 {
            let (acked, done) = (&acked, &done);
            scope.spawn(move || {
                let mut reads = 0u64;
                while !done.load(Ordering::Acquire) || reads < 1_000 {
                    let before = acked.load(Ordering::Acquire);
                    if reader == 0 {
                        // Every other read the NIF's way: from the cached
                        // listing only, or nothing.
                        let cached = (reads % 2 == 1)
                            .then(|| {
                                let m = hbstore::StorePath::parse("m").unwrap();
                                store.read_message_cached(&m, 4096).unwrap()
                            })
                            .flatten();
                        let read = cached.or_else(|| store.read_message("m", 4096).unwrap());
                        let Some(EntryRead::Group(children)) = read else {
                            panic!("m is a group");
                        };
                        let values: Vec<&[u8]> = children
                            .iter()
                            .map(|c| c.bytes.as_deref().expect("every field inlined"))
                            .collect();
                        assert!(
                            values.windows(2).all(|w| w[0] == w[1]),
                            "one batch: {children:?}"
                        );
                        let i = batch_number(std::str::from_utf8(values[0]).unwrap());
                        assert!(
                            i >= before,
                            "read batch {i} after {before} was acknowledged"
                        );
                        let has_extra = children.iter().any(|c| c.name == "extra");
                        assert_eq!(has_extra, i.is_multiple_of(2), "batch {i}: {children:?}");
                        let link = children.iter().find(|c| c.name == "link").unwrap();
                        assert_eq!(
                            link.kind,
                            ChildKind::Link {
                                target: format!("data/{i}")
                            }
                        );
                    } else {
                        let names = store.list("m").unwrap().unwrap();
                        let expected = if names.len() == 5 { 5 } else { 4 };
                        assert_eq!(names.len(), expected, "{names:?}");
                        let children = store.list_children("m").unwrap().unwrap();
                        let lens: Vec<u64> = children
                            .iter()
                            .filter_map(|c| match c.kind {
                                ChildKind::Value { len } => Some(len),
                                _ => None,
                            })
                            .collect();
                        assert!(
                            lens.windows(2).all(|w| w[0] == w[1]),
                            "one batch: {children:?}"
                        );
                    }
                    reads += 1;
                }
            });
        }
    });
}

/// The batch number a field holds (`N:` and padding).
fn batch_number(text: &str) -> u64 {
    let (number, padding) = text.split_once(':').expect("a field value");
    let n: u64 = number.parse().expect("a batch number");
    assert_eq!(padding.len() as u64, n % 3, "{text:?}");
    n
}
