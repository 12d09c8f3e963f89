//! What is written survives closing and reopening; who may open a store
//! alongside whom.

use hbstore::{Error, Options, RocksStore, Store};

use crate::common::{bytes, dump, fails, TempRocks};

#[test]
fn everything_written_is_there_after_reopening() {
    let t = TempRocks::new();
    let path = t.db_path();
    t.store.write("messages/m1/body", b"hello").unwrap();
    t.store.make_group("empty/group").unwrap();
    t.store.make_link("messages/m1", "latest").unwrap();
    t.store.make_link("no/such", "dangling").unwrap();
    t.store.write("bin", &[0, 255, 1]).unwrap();
    let before = dump(&t.store);
    drop(t.store);
    let store = RocksStore::open(&path, Options::default()).unwrap();
    assert_eq!(dump(&store), before);
    assert_eq!(store.read("latest/body").unwrap(), bytes("hello"));
    store.write("messages/m2", b"after reopen").unwrap();
    assert_eq!(store.list("messages").unwrap().unwrap(), ["m1", "m2"]);
}

#[test]
fn a_second_writer_is_refused_with_locked() {
    let t = TempRocks::new();
    let e = fails(RocksStore::open(t.db_path(), Options::default()));
    assert!(
        matches!(&e, Error::Locked { dir } if dir == &t.db_path()),
        "{e:?}"
    );
    assert!(e.to_string().contains(&t.db_path().display().to_string()));
}

#[test]
fn a_reader_opens_beside_the_writer_and_cannot_write() {
    let t = TempRocks::new();
    t.store.write("a/b", b"x").unwrap();
    let reader = RocksStore::open_read_only(t.db_path()).unwrap();
    assert_eq!(reader.read("a/b").unwrap(), bytes("x"));
    assert!(matches!(
        fails(reader.write("c", b"y")),
        Error::ReadOnly { .. }
    ));
    assert!(matches!(fails(reader.reset()), Error::ReadOnly { .. }));
    assert_eq!(t.store.read("a/b").unwrap(), bytes("x"));
}

#[test]
fn a_checkpoint_opens_with_the_same_contents() {
    let t = TempRocks::new();
    t.store.write("a/b", b"x").unwrap();
    t.store.make_link("a/b", "l").unwrap();
    let copy = t.dir.path().join("copy");
    let method = t.store.backup(&copy, |_| {}).unwrap();
    assert_eq!(method, hbstore::BackupMethod::Checkpoint);
    t.store.write("after", b"not in the copy").unwrap();
    let store = RocksStore::open(&copy, Options::default()).unwrap();
    assert_eq!(store.read("l").unwrap(), bytes("x"));
    assert_eq!(store.read("after").unwrap(), None);
}

/// A store as format 1 left it: the same entries, no link index, version 1.
fn make_format_1(path: &std::path::Path) {
    let db = rocksdb::DB::open_default(path).unwrap();
    let mut no_index = rocksdb::WriteBatch::default();
    no_index.delete_range(b"\x00\x00\x01", b"\x00\x00\x02");
    db.write(no_index).unwrap();
    db.put(b"\x00\x00hbstore-format", 1u32.to_be_bytes())
        .unwrap();
}

#[test]
fn a_format_1_store_is_upgraded_in_place_on_a_writable_open() {
    let t = TempRocks::new();
    let path = t.db_path();
    for i in 0..2_500 {
        t.store
            .make_link(format!("data/p{}", i % 3), format!("m{i:04}/process"))
            .unwrap();
    }
    t.store.write("m0000/body", b"x").unwrap();
    let expected = t
        .store
        .match_links(&[("process", "data/p0")], None)
        .unwrap();
    assert_eq!(expected.len(), 834);
    drop(t.store);
    make_format_1(&path);

    let refused = RocksStore::open_read_only(&path).unwrap_err();
    assert!(
        matches!(refused, Error::NeedsUpgrade { found: 1, .. }),
        "{refused}"
    );
    assert!(refused.to_string().contains("hbstore upgrade"), "{refused}");

    let mut reports = Vec::new();
    let store = RocksStore::open_with_progress(&path, Options::default(), &mut |n| reports.push(n))
        .unwrap();
    assert_eq!(
        reports.last(),
        Some(&5_001),
        "every entry read: {reports:?}"
    );
    assert_eq!(
        store.match_links(&[("process", "data/p0")], None).unwrap(),
        expected
    );
    assert!(store.check(|_| {}).unwrap().is_sound());
    drop(store);
    let reopened = RocksStore::open_read_only(&path).unwrap();
    assert_eq!(reopened.read("m0000/body").unwrap(), bytes("x"));
}

#[test]
fn check_reports_a_damaged_link_index_both_ways() {
    let t = TempRocks::new();
    let path = t.db_path();
    t.store.make_link("data/p1", "m1/process").unwrap();
    t.store.make_link("data/p1", "m2/process").unwrap();
    t.store.write("m3/process", b"a value").unwrap();
    assert!(t.store.check(|_| {}).unwrap().is_sound());
    drop(t.store);
    {
        let db = rocksdb::DB::open_default(&path).unwrap();
        // m1's record removed, a record for a value and one for nothing added.
        db.delete(b"\x00\x00\x01data/p1\x00process\x00m1").unwrap();
        db.put(b"\x00\x00\x01data/p1\x00process\x00m3", b"")
            .unwrap();
        db.put(b"\x00\x00\x01data/p9\x00process\x00m9", b"")
            .unwrap();
    }
    let store = RocksStore::open(&path, Options::default()).unwrap();
    let report = store.check(|_| {}).unwrap();
    let mut problems: Vec<(&str, &str)> = report
        .problems
        .iter()
        .map(|f| (f.path.as_str(), f.message.as_str()))
        .collect();
    problems.sort();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert_eq!(problems[0].0, "m1/process");
    assert!(
        problems[0].1.contains("missing from the link index"),
        "{problems:?}"
    );
    assert_eq!(problems[1].0, "m3/process");
    assert!(problems[1].1.contains("has a value"), "{problems:?}");
    assert_eq!(problems[2].0, "m9/process");
    assert!(problems[2].1.contains("has nothing"), "{problems:?}");
}
