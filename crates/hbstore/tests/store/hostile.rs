//! Hostile directories and damaged bytes: clear errors, nothing lost.

use hbstore::{Error, Options, RocksStore, Store};

use crate::common::{bytes, fails, TempRocks};

#[test]
fn a_directory_with_other_files_is_not_a_store_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
    let e = fails(RocksStore::open(dir.path(), Options::default()));
    assert!(matches!(e, Error::NotAStore { .. }), "{e:?}");
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "nothing was created");
}

#[test]
fn a_file_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(
        fails(RocksStore::open(&file, Options::default())),
        Error::NotAStore { .. }
    ));
}

#[test]
fn a_missing_directory_opened_read_only_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let e = fails(RocksStore::open_read_only(dir.path().join("nope")));
    assert!(matches!(e, Error::NotAStore { .. }), "{e:?}");
}

#[test]
fn a_rocksdb_database_without_the_format_record_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = rocksdb::DB::open_default(dir.path()).unwrap();
        db.put(b"messages/key1", b"\x02legacy").unwrap();
    }
    let e = fails(RocksStore::open(dir.path(), Options::default()));
    assert!(matches!(e, Error::NotAStore { .. }), "{e:?}");
    assert!(e.to_string().contains("import"), "{e}");
}

#[test]
fn an_unknown_format_version_is_refused() {
    let t = TempRocks::new();
    let path = t.db_path();
    drop(t.store);
    {
        let db = rocksdb::DB::open_default(&path).unwrap();
        db.put(b"\x00\x00hbstore-format", 99u32.to_be_bytes())
            .unwrap();
    }
    let e = fails(RocksStore::open(&path, Options::default()));
    assert!(
        matches!(&e, Error::UnsupportedFormat { found, .. } if found == "99"),
        "{e:?}"
    );
}

#[test]
fn a_damaged_entry_is_corrupt_and_the_rest_stays_readable() {
    let t = TempRocks::new();
    let path = t.db_path();
    t.store.write("g/good", b"fine").unwrap();
    t.store.write("g/bad", b"soon damaged").unwrap();
    drop(t.store);
    {
        let db = rocksdb::DB::open_default(&path).unwrap();
        db.put(b"\x00\x02g/bad", b"\x09???").unwrap();
    }
    let store = RocksStore::open(&path, Options::default()).unwrap();
    let e = fails(store.read("g/bad"));
    assert!(
        matches!(&e, Error::Corrupt { key, .. } if key.contains("g/bad")),
        "{e:?}"
    );
    assert!(e.to_string().contains("unknown tag 9"), "{e}");
    assert_eq!(store.read("g/good").unwrap(), bytes("fine"));
    let report = store.check(|_| {}).unwrap();
    assert!(!report.is_sound());
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(report.problems[0].path.contains("g/bad"));
    assert!(
        store.delete("g/bad").unwrap(),
        "a damaged entry can be removed"
    );
    assert!(store.check(|_| {}).unwrap().is_sound());
}

#[test]
fn check_finds_orphans_and_dangling_links() {
    let t = TempRocks::new();
    let path = t.db_path();
    t.store.write("v", b"x").unwrap();
    t.store.make_link("no/such", "dangling").unwrap();
    t.store.make_link("loop2", "loop1").unwrap();
    t.store.make_link("loop1", "loop2").unwrap();
    drop(t.store);
    {
        let db = rocksdb::DB::open_default(&path).unwrap();
        db.put(b"\x00\x02v/child", b"\x02orphan under a value")
            .unwrap();
        db.put(b"\x00\x03x/y/z", b"\x02orphan without parents")
            .unwrap();
    }
    let store = RocksStore::open(&path, Options::default()).unwrap();
    let report = store.check(|_| {}).unwrap();
    let problems: Vec<&str> = report.problems.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(problems, ["v/child", "x/y/z"], "{:?}", report.problems);
    let warnings: Vec<&str> = report.warnings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        warnings,
        ["dangling", "loop1", "loop2"],
        "{:?}",
        report.warnings
    );
    assert_eq!((report.values, report.links, report.groups), (3, 3, 0));
}

#[test]
fn check_reports_a_key_whose_path_holds_a_nul() {
    let t = TempRocks::new();
    let path = t.db_path();
    t.store.make_group("a").unwrap();
    drop(t.store);
    {
        let db = rocksdb::DB::open_default(&path).unwrap();
        // `a/b<NUL>c`: a path no operation can write, whatever its parent.
        db.put(b"\x00\x02a/b\x00c", b"\x02damaged").unwrap();
    }
    let store = RocksStore::open(&path, Options::default()).unwrap();
    let report = store.check(|_| {}).unwrap();
    assert!(!report.is_sound(), "a NUL in a stored path is damage");
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    let finding = &report.problems[0];
    assert!(
        finding.message.contains("not canonical") && finding.path.contains("a/b"),
        "{finding:?}"
    );
    assert!(
        matches!(store.list("a"), Err(hbstore::Error::Corrupt { .. })),
        "listing its group names the damaged key"
    );
}

#[test]
fn a_64_mib_value_round_trips() {
    let t = TempRocks::new();
    let big: Vec<u8> = (0..64usize << 20).map(|i| (i % 251) as u8).collect();
    t.store.write("big", &big).unwrap();
    assert_eq!(t.store.read("big").unwrap().as_deref(), Some(&big[..]));
    t.store.write("big", b"").unwrap();
    assert_eq!(t.store.read("big").unwrap(), Some(Vec::new()));
}

#[test]
fn a_link_with_an_invalid_target_on_disk_is_corrupt_not_followed() {
    let t = TempRocks::new();
    let path = t.db_path();
    t.store.write("ok", b"fine").unwrap();
    drop(t.store);
    {
        let db = rocksdb::DB::open_default(&path).unwrap();
        db.put(b"\x00\x01l", b"\x01a/../b").unwrap();
        db.put(b"\x00\x01m", b"\x01a//b").unwrap();
    }
    let store = RocksStore::open(&path, Options::default()).unwrap();
    for p in ["l", "l/x", "m"] {
        let e = fails(store.read(p));
        assert!(matches!(&e, Error::Corrupt { .. }), "{p}: {e:?}");
    }
    assert_eq!(store.read("ok").unwrap(), bytes("fine"));
    assert!(store.delete("l").unwrap());
}

#[test]
fn every_operation_after_reset_works() {
    let t = TempRocks::new();
    let s = &t.store;
    s.write("a/b", b"x").unwrap();
    s.make_link("a", "l").unwrap();
    s.reset().unwrap();
    s.reset().unwrap();
    assert_eq!(s.read("a/b").unwrap(), None);
    assert_eq!(s.type_of("a").unwrap(), None);
    assert_eq!(s.list("").unwrap(), Some(vec![]));
    assert_eq!(s.resolve("l/b").unwrap(), "l/b");
    s.make_group("a").unwrap();
    s.make_link("a", "l").unwrap();
    s.write("l/b", b"y").unwrap();
    assert_eq!(s.read("a/b").unwrap(), bytes("y"));
    assert!(s.delete_recursive("a").unwrap());
    assert!(s.check(|_| {}).unwrap().is_sound());
}
