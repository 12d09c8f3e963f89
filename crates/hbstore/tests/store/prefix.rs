//! The children-prefix filter: a scan of one group's children reads only
//! the files that may hold them, every other scan still reads the whole
//! store in order, and a store written before the filter opens and reads
//! the same.
//!
//! Each store here is spread over three table files (flushed in turn, one
//! fewer than RocksDB's level-0 compaction trigger, so they stay three),
//! with the entry cache off so that every list and message read scans.

use hbstore::{ChildKind, Direction, EntryRead, Options, Page, RocksStore, Store};
use rocksdb::{IteratorMode, DB};

use crate::common::TempRocks;

const FILES: usize = 3;
const MESSAGES: usize = 20;

fn uncached() -> Options {
    Options::default().entry_cache_bytes(0)
}

/// `f{file}/m{i}/field{j}` for each file, each file's messages flushed
/// into a table file of their own.
fn write_in_files(store: &RocksStore) {
    for file in 0..FILES {
        for i in 0..MESSAGES {
            for j in 0..3 {
                store
                    .write(
                        format!("f{file}/m{i}/field{j}"),
                        format!("{file}.{i}.{j}").as_bytes(),
                    )
                    .unwrap();
            }
        }
        store.flush().unwrap();
    }
}

fn scan_files(store: &RocksStore, filter: &str) -> f64 {
    store
        .metrics()
        .unwrap()
        .value("hbstore_scan_files_total", &[("filter", filter)])
        .expect("the scan counter")
}

fn names(children: Option<Vec<String>>) -> Vec<String> {
    children.expect("a group")
}

fn page_names(children: Option<Vec<hbstore::Child>>) -> Vec<String> {
    names(children.map(|c| c.into_iter().map(|c| c.name).collect()))
}

#[test]
fn a_scan_of_a_groups_children_reads_only_the_files_that_may_hold_them() {
    let s = TempRocks::with_options(uncached());
    write_in_files(&s);
    assert_eq!(
        s.property("rocksdb.num-files-at-level0").unwrap(),
        Some(FILES as u64)
    );

    let (skipped, searched) = (scan_files(&s, "skipped"), scan_files(&s, "searched"));
    assert_eq!(
        names(s.list("f1/m7").unwrap()),
        ["field0", "field1", "field2"]
    );
    assert_eq!(
        scan_files(&s, "skipped") - skipped,
        (FILES - 1) as f64,
        "the files without f1/m7's children are not read"
    );
    assert!(scan_files(&s, "searched") > searched);

    let skipped = scan_files(&s, "skipped");
    assert_eq!(s.list("f1/absent").unwrap(), None);
    assert!(
        scan_files(&s, "skipped") - skipped >= FILES as f64,
        "a group in no file: no file's blocks read for its children"
    );

    // Both ends of a page within the prefix: from the last child down, and
    // from a name down.
    let down = |from: Option<&str>| Page {
        from: from.map(str::to_owned),
        limit: None,
        direction: Direction::Descending,
    };
    assert_eq!(
        page_names(s.list_range("f2/m3", &down(None)).unwrap()),
        ["field2", "field1", "field0"]
    );
    assert_eq!(
        page_names(s.list_range("f2/m3", &down(Some("field1"))).unwrap()),
        ["field1", "field0"]
    );
    assert_eq!(names(s.list("").unwrap()), ["f0", "f1", "f2"]);
    let Some(EntryRead::Group(fields)) = s.read_entry("f0/m19", 1024).unwrap() else {
        panic!("a message");
    };
    let fields: Vec<_> = fields
        .into_iter()
        .map(|f| (f.name, f.kind, f.bytes))
        .collect();
    assert_eq!(
        fields,
        (0..3)
            .map(|j| {
                let bytes = format!("0.19.{j}").into_bytes();
                let len = bytes.len() as u64;
                (format!("field{j}"), ChildKind::Value { len }, Some(bytes))
            })
            .collect::<Vec<_>>()
    );
}

#[test]
fn scans_across_groups_still_read_every_file_in_order() {
    let s = TempRocks::with_options(uncached());
    write_in_files(&s);
    let report = s.check(|_| {}).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.values, (FILES * MESSAGES * 3) as u64);
    assert_eq!(report.groups, (FILES + FILES * MESSAGES) as u64);

    // A recursive delete and gc walk ranges that cross every group.
    s.make_link("f2/m0/field0", "keep/it").unwrap();
    assert!(s.delete_recursive("f1").unwrap());
    assert_eq!(names(s.list("").unwrap()), ["f0", "f2", "keep"]);
    for i in 0..MESSAGES {
        assert_eq!(s.list(format!("f1/m{i}")).unwrap(), None);
        assert_eq!(names(s.list(format!("f0/m{i}")).unwrap()).len(), 3);
    }
    let report = s.check(|_| {}).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.values, (2 * MESSAGES * 3) as u64);
    assert_eq!(report.links, 1);
}

/// A store as a build before the prefix filter left it: format 2, table
/// files without the filter (RocksDB's default options), and no record of
/// an extractor.
fn store_from_before_the_filter(dir: &std::path::Path) {
    let mut options = rocksdb::Options::default();
    options.create_if_missing(true);
    let db = DB::open(&options, dir).unwrap();
    db.put(b"\x00\x00hbstore-format", 2u32.to_be_bytes())
        .unwrap();
    db.put(b"\x00\x01old", [3]).unwrap();
    for i in 0..50 {
        db.put(
            format!("\x00\x02old/k{i:02}"),
            [&[2u8][..], format!("v{i}").as_bytes()].concat(),
        )
        .unwrap();
    }
    db.flush().unwrap();
}

#[test]
fn a_store_written_before_the_filter_opens_and_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    store_from_before_the_filter(&path);

    let store = RocksStore::open(&path, uncached()).unwrap();
    let old = names(store.list("old").unwrap());
    assert_eq!(old.len(), 50);
    assert_eq!(old[0], "k00");
    assert_eq!(store.read("old/k07").unwrap(), Some(b"v7".to_vec()));
    // New files beside the old one, with filters: a group across both.
    store.write("old/new", b"n").unwrap();
    store.write("other/x", b"y").unwrap();
    store.flush().unwrap();
    assert_eq!(names(store.list("old").unwrap()).len(), 51);
    assert_eq!(names(store.list("other").unwrap()), ["x"]);
    assert_eq!(store.list("absent").unwrap(), None);
    let report = store.check(|_| {}).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    drop(store);

    let db = DB::open_for_read_only(&rocksdb::Options::default(), &path, false).unwrap();
    assert_eq!(
        db.get(b"\x00\x00hbstore-prefix-extractor")
            .unwrap()
            .as_deref(),
        Some(&b"hbstore.children-of.1"[..]),
        "a writable open records the extractor"
    );
    assert!(db.iterator(IteratorMode::Start).count() > 50);
}
