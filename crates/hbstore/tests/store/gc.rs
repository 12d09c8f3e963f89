//! `RocksStore::gc`: which values it removes, which it keeps, that a value
//! linked while the sweep runs survives it, and that a value written and
//! linked afterwards (HyperBEAM's order) survives a sweep in between.
//! Stores whose values must be collectable at once are opened without a
//! grace period.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hbstore::{Batch, Error, GcReport, Options, RocksStore, Store};

use crate::common::{bytes, fails, TempRocks};

/// A store whose unreached values `gc` removes at once.
fn without_grace() -> TempRocks {
    TempRocks::with_options(Options::default().gc_grace(Duration::ZERO))
}

/// A message the HyperBEAM way: fields linked to content-addressed values.
fn message(store: &RocksStore, id: &str, fields: &[(&str, &str)]) {
    let mut batch = Batch::new();
    for (field, hash) in fields {
        let data = format!("data/{hash}");
        batch.write(data.as_str(), hash.as_bytes()).expect("write");
        batch
            .make_link(data.as_str(), format!("{id}/{field}"))
            .expect("link");
    }
    store.apply(&batch).expect("apply");
}

#[test]
fn removes_what_no_link_reaches_and_keeps_the_rest() {
    let t = without_grace();
    let s = &t.store;
    message(s, "m1", &[("a", "h1"), ("b", "h2")]);
    message(s, "m2", &[("a", "h2"), ("b", "h3")]);
    s.write("data/orphan", b"12345").unwrap();
    s.write("data/deep/x", b"xx").unwrap();
    s.write("data/kept/y", b"yy").unwrap();
    s.make_link("data/kept", "aliases/kept").unwrap(); // reaches y through its group
    s.make_link("data/via", "aliases/chain").unwrap();
    s.make_link("aliases/chain", "aliases/second").unwrap();
    s.write("data/via", b"through a chain").unwrap();
    s.write("other/orphan", b"not under the prefix").unwrap();
    // m1 goes: h1 is then unreachable, h2 still linked from m2.
    s.delete_recursive("m1").unwrap();

    let dry = s.gc("data", true, &mut |_| {}).unwrap();
    assert_eq!(
        dry,
        GcReport {
            examined: 7,
            removed: 3,
            bytes: 2 + 5 + 2
        }
    );
    assert_eq!(
        s.read("data/h1").unwrap(),
        bytes("h1"),
        "a dry run removes nothing"
    );

    let report = s.gc("data", false, &mut |_| {}).unwrap();
    assert_eq!(report, dry);
    for gone in ["data/h1", "data/orphan", "data/deep/x"] {
        assert_eq!(s.read(gone).unwrap(), None, "{gone} was swept");
    }
    for (kept, value) in [
        ("m2/a", "h2"),
        ("m2/b", "h3"),
        ("aliases/kept/y", "yy"),
        ("aliases/second", "through a chain"),
        ("other/orphan", "not under the prefix"),
    ] {
        assert_eq!(s.read(kept).unwrap(), bytes(value), "{kept} still reads");
    }
    assert!(s.list("data/deep").unwrap().is_some(), "groups stay");
    assert!(s.check(|_| {}).unwrap().is_sound());
    let again = s.gc("data", false, &mut |_| {}).unwrap();
    assert_eq!(again.removed, 0, "a second sweep finds nothing");
}

#[test]
fn refuses_the_root_a_missing_prefix_is_empty_and_read_only_may_only_count() {
    let t = without_grace();
    t.store.write("data/v", b"1").unwrap();
    assert!(matches!(
        fails(t.store.gc("", false, &mut |_| {})),
        Error::InvalidPath { .. }
    ));
    assert!(matches!(
        fails(t.store.gc("a\0b", false, &mut |_| {})),
        Error::InvalidPath { .. }
    ));
    assert_eq!(
        t.store.gc("nothing/here", false, &mut |_| {}).unwrap(),
        GcReport::default()
    );
    let dir = t.db_path();
    drop(t.store);
    let reader = RocksStore::open_read_only(&dir).unwrap();
    assert!(matches!(
        fails(reader.gc("data", false, &mut |_| {})),
        Error::ReadOnly { .. }
    ));
    assert_eq!(reader.gc("data", true, &mut |_| {}).unwrap().removed, 1);
    drop(reader);
    let store = RocksStore::open(&dir, Options::default()).unwrap();
    assert_eq!(store.read("data/v").unwrap(), bytes("1"));
}

#[test]
fn a_value_linked_while_the_sweep_runs_survives_it() {
    const VALUES: usize = 20_000;
    let t = without_grace();
    let s = &t.store;
    for chunk in (0..VALUES).collect::<Vec<_>>().chunks(1_000) {
        let mut batch = Batch::new();
        for i in chunk {
            batch.write(format!("data/v{i}"), b"payload").unwrap();
        }
        s.apply(&batch).unwrap();
    }
    let sweeping = AtomicBool::new(true);
    // Values the linker linked and then read back through the link: a
    // committed link to a value that was there.
    let linked = Mutex::new(Vec::new());
    let report = std::thread::scope(|scope| {
        let linker = scope.spawn(|| {
            let mut rng = hbstore_testkit::Rng::new(7);
            let mut made = 0;
            while sweeping.load(Ordering::Relaxed) || made < 200 {
                let i = rng.below(VALUES);
                s.make_link(format!("data/v{i}"), format!("m/{i}")).unwrap();
                if s.read(format!("m/{i}")).unwrap().is_some() {
                    linked.lock().unwrap().push(i);
                }
                made += 1;
            }
        });
        let report = s.gc("data", false, &mut |_| {});
        sweeping.store(false, Ordering::Relaxed);
        linker.join().expect("the linker does not panic");
        report.unwrap()
    });
    let linked = linked.into_inner().unwrap();
    assert!(!linked.is_empty(), "the linker raced the sweep");
    for i in &linked {
        assert_eq!(
            s.read(format!("data/v{i}")).unwrap(),
            bytes("payload"),
            "data/v{i} was linked during the sweep and must survive it"
        );
    }
    let remaining = s.list("data").unwrap().map_or(0, |c| c.len());
    assert_eq!(remaining as u64, VALUES as u64 - report.removed);
    assert!(
        remaining >= {
            let mut distinct = linked.clone();
            distinct.sort_unstable();
            distinct.dedup();
            distinct.len()
        }
    );
    assert!(s.check(|_| {}).unwrap().is_sound());
}

#[test]
fn a_value_written_then_linked_survives_a_sweep_in_between() {
    let t = TempRocks::new();
    let s = &t.store;
    // HyperBEAM's cache: the value first, then (a moment later) the link.
    s.write("data/hash", b"body").unwrap();
    let report = s.gc("data", false, &mut |_| {}).unwrap();
    assert_eq!(report.removed, 0, "written within the grace period");
    s.make_link("data/hash", "msg/body").unwrap();
    assert_eq!(s.read("msg/body").unwrap(), bytes("body"));
    // The same with no grace period: the sweep takes it, as it takes any
    // value no link reaches.
    let bare = without_grace();
    bare.write("data/hash", b"body").unwrap();
    assert_eq!(bare.gc("data", false, &mut |_| {}).unwrap().removed, 1);
}

#[test]
fn values_written_then_linked_while_sweeps_run_all_survive() {
    const MESSAGES: usize = 3_000;
    let t = TempRocks::new();
    let s = &t.store;
    let dir = t.db_path();
    let written = AtomicUsize::new(0);
    let writing = AtomicBool::new(true);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for i in 0..MESSAGES {
                let data = format!("data/h{i}");
                s.write(data.as_str(), b"payload").unwrap();
                if i % 50 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
                s.make_link(data.as_str(), format!("m{i}/body")).unwrap();
                written.store(i + 1, Ordering::Release);
            }
            writing.store(false, Ordering::Release);
        });
        let mut sweeps = 0;
        while writing.load(Ordering::Acquire) || sweeps < 3 {
            s.gc("data", false, &mut |_| {}).unwrap();
            sweeps += 1;
        }
        writer.join().expect("the writer does not panic");
    });
    assert_eq!(written.load(Ordering::Acquire), MESSAGES);
    for i in 0..MESSAGES {
        assert_eq!(
            s.read(format!("m{i}/body")).unwrap(),
            bytes("payload"),
            "m{i}/body lost its value to a sweep (dir {dir:?})"
        );
    }
    assert!(s.check(|_| {}).unwrap().is_sound());
}

#[test]
fn a_link_to_the_root_reaches_every_value() {
    let t = without_grace();
    let s = &t.store;
    s.write("data/a", b"1").unwrap();
    s.make_link("", "everything").unwrap();
    assert_eq!(s.gc("data", false, &mut |_| {}).unwrap().removed, 0);
    assert_eq!(s.read("everything/data/a").unwrap(), bytes("1"));
}
