//! `import` and `export`, end to end: the shared fixture written by the
//! original Erlang module, legacy databases built here byte by byte, and
//! round trips through `hb_store_fs` trees.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use eetf::{Atom, Binary, FixInteger, List, Map, Term, Tuple};
use hbstore::{ChildKind, EntryType, RocksStore, Store, StorePath};
use hbstore_testkit::Dumped;

mod support;

#[path = "migrate/lmdb.rs"]
mod lmdb;

fn hbstore(db: &Path, args: &[&str]) -> (i32, String, String) {
    let run = support::run(db, args, None);
    (run.code, run.text(), run.stderr)
}

fn import(db: &Path, from: &str, dir: &Path) -> serde_json::Value {
    let (code, out, err) = hbstore(
        db,
        &["import", "--json", "--from", from, dir.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// Every entry of a store, links not followed: path -> kind and content.
fn dump(store: &RocksStore) -> BTreeMap<String, String> {
    hbstore_testkit::dump(store)
        .into_iter()
        .map(|(path, entry)| {
            let what = match entry {
                Dumped::Group => "group".to_owned(),
                Dumped::Value(bytes) => format!("value {}", hex(&bytes)),
                Dumped::Link(target) => format!("link {target}"),
            };
            (path, what)
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The fixtures written by the original system, kept in the repository
/// (`tests/fixtures/README.md` says how they were made).
use support::{fixture, fixture_copy};

#[test]
fn the_fixture_imports_entry_for_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture_copy("hb-rocksdb-small", tmp.path());
    let db = tmp.path().join("db");
    let summary = import(&db, "hb-rocksdb", &dir);
    assert_eq!(
        summary["warnings"].as_array().unwrap().len(),
        0,
        "{summary}"
    );
    let store = RocksStore::open_read_only(&db).unwrap();
    let entries = std::fs::read_to_string(fixture("hb-rocksdb-small.entries.tsv")).unwrap();
    let mut checked = 0;
    for line in entries.lines().filter(|l| !l.starts_with('#')) {
        let mut fields = line.split('\t');
        let (key, kind, payload) = (
            fields.next().unwrap(),
            fields.next().unwrap(),
            fields.next().unwrap_or(""),
        );
        let parent = StorePath::parse(key).unwrap().parent().unwrap();
        let name = StorePath::parse(key).unwrap().name().unwrap().to_owned();
        let child = store
            .list_children(&parent)
            .unwrap()
            .unwrap()
            .into_iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{key} was not imported"));
        match kind {
            "raw" => {
                assert!(matches!(child.kind, ChildKind::Value { .. }), "{key}");
                assert_eq!(hex(&store.read(key).unwrap().unwrap()), payload, "{key}");
            }
            "link" => assert_eq!(
                child.kind,
                ChildKind::Link {
                    target: payload.to_owned()
                },
                "{key}"
            ),
            "group" => {
                assert_eq!(child.kind, ChildKind::Group, "{key}");
                let members: Vec<&str> = payload.split(',').filter(|m| !m.is_empty()).collect();
                assert_eq!(store.list(key).unwrap().unwrap(), members, "{key}");
            }
            other => panic!("unknown kind {other}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 190);
    assert_eq!(store.check(|_| {}).unwrap().entries(), 190);
}

/// Where hbstore answers differently from the Erlang module, it is because
/// The contract (`docs/contract.md`) resolves links in the middle of a path (`chain2/slot`, a link to
/// a message followed by `/body`), which the module did not.
#[test]
fn the_fixture_answers_like_the_original_except_through_links() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture_copy("hb-rocksdb-small", tmp.path());
    let db = tmp.path().join("db");
    import(&db, "hb-rocksdb", &dir);
    let store = RocksStore::open_read_only(&db).unwrap();
    let view = std::fs::read_to_string(fixture("hb-rocksdb-small.view.tsv")).unwrap();
    let mut differences = Vec::new();
    for line in view.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let (path, kind, read, list) = (f[0], f[1], f[2], f[3]);
        let ours_kind = match store.type_of(path).unwrap() {
            Some(EntryType::Simple) => "simple",
            Some(EntryType::Composite) => "composite",
            None => "not_found",
        };
        let ours_read = store
            .read(path)
            .unwrap()
            .map_or("-".to_owned(), |v| hex(&v));
        let ours_list = match store.type_of(path).unwrap() {
            Some(EntryType::Composite) => store.list(path).unwrap().unwrap().join(","),
            _ => "-".to_owned(),
        };
        if (ours_kind, ours_read.as_str(), ours_list.as_str()) != (kind, read, list) {
            differences.push(path.to_owned());
        }
    }
    assert_eq!(
        differences.len(),
        11,
        "the module's link gap, as the fixture shows it: {differences:?}"
    );
    for path in &differences {
        let p = StorePath::parse(path.as_str()).unwrap();
        let parent = p.parent().unwrap();
        // The parent goes through a link; with it resolved, the path exists.
        assert_ne!(store.resolve(&parent).unwrap(), parent.as_str(), "{path}");
        assert!(store.type_of(path.as_str()).unwrap().is_some(), "{path}");
    }
    assert_eq!(
        store.read("chain2/slot").unwrap(),
        store
            .read(format!("{}/slot", store.resolve("chain1").unwrap()))
            .unwrap()
    );
}

fn set_classic(members: &[&str]) -> Vec<u8> {
    let buckets: Vec<Term> = (0..16)
        .map(|i| {
            let bucket: Vec<Term> = members
                .iter()
                .enumerate()
                .filter(|(j, _)| j % 16 == i)
                .map(|(_, m)| Term::from(Binary::from(m.as_bytes())))
                .collect();
            Term::from(List::from(bucket))
        })
        .collect();
    let int = |n: i32| Term::from(FixInteger::from(n));
    let record = Tuple::from(vec![
        Term::from(Atom::from("set")),
        int(members.len() as i32),
        int(16),
        int(16),
        int(8),
        int(80),
        int(48),
        Term::from(Tuple::from(vec![Term::from(List::nil()); 16])),
        Term::from(Tuple::from(vec![Term::from(Tuple::from(buckets))])),
    ]);
    encode(Term::from(record))
}

fn set_map(members: &[&str]) -> Vec<u8> {
    let map: HashMap<Term, Term> = members
        .iter()
        .map(|m| {
            (
                Term::from(Binary::from(m.as_bytes())),
                Term::from(List::nil()),
            )
        })
        .collect();
    encode(Term::from(Map::from(map)))
}

fn encode(term: Term) -> Vec<u8> {
    let mut out = Vec::new();
    term.encode(&mut out).unwrap();
    out
}

fn tagged(tag: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend_from_slice(payload);
    v
}

#[test]
fn a_legacy_database_imports_with_its_inconsistencies_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let legacy = tmp.path().join("legacy");
    {
        let db = rocksdb::DB::open_default(&legacy).unwrap();
        db.put(b"msg", tagged(3, &set_classic(&["body", "slot", "gone"])))
            .unwrap();
        db.put(b"msg/body", tagged(2, b"hello")).unwrap();
        db.put(b"msg/slot", tagged(2, b"1")).unwrap();
        db.put(b"msg/extra", tagged(2, b"unlisted")).unwrap();
        db.put(b"new", tagged(3, &set_map(&["a"]))).unwrap();
        db.put(b"new/a", tagged(2, b"")).unwrap();
        db.put(b"latest", tagged(1, b"msg")).unwrap();
        db.put(b"dangling", tagged(1, b"no/such")).unwrap();
        db.put(b"weird", tagged(9, b"?")).unwrap();
        db.put(b"bad/../key", tagged(2, b"x")).unwrap();
        db.put(b"broken", tagged(3, b"\x83not a term")).unwrap();
    }
    let db = tmp.path().join("db");
    let summary = import(&db, "hb-rocksdb", &legacy);
    let warnings: Vec<String> = serde_json::from_value(summary["warnings"].clone()).unwrap();
    let has = |needle: &str| warnings.iter().any(|w| w.contains(needle));
    assert!(
        has("msg/extra: imported, but its parent group does not list it"),
        "{warnings:?}"
    );
    assert!(
        has("msg/gone: listed by its group, but no entry exists"),
        "{warnings:?}"
    );
    assert!(has("weird: skipped, unknown tag 9"), "{warnings:?}");
    assert!(has("\"bad/../key\" skipped"), "{warnings:?}");
    assert!(
        has("broken: group imported, but its member set is unreadable"),
        "{warnings:?}"
    );
    assert_eq!(warnings.len(), 5, "{warnings:?}");
    assert_eq!(
        (
            summary["values"].as_u64(),
            summary["groups"].as_u64(),
            summary["links"].as_u64()
        ),
        (Some(4), Some(3), Some(2))
    );

    let first = dump(&RocksStore::open_read_only(&db).unwrap());
    assert_eq!(first["msg/extra"], format!("value {}", hex(b"unlisted")));
    assert_eq!(first["latest"], "link msg");
    assert_eq!(first["dangling"], "link no/such");
    assert_eq!(first["new/a"], "value ");
    assert_eq!(first["broken"], "group");

    // Importing the same source again changes nothing.
    let again = import(&db, "hb-rocksdb", &legacy);
    assert_eq!(again["warnings"], summary["warnings"]);
    assert_eq!(dump(&RocksStore::open_read_only(&db).unwrap()), first);
}

#[test]
fn an_hbstore_store_is_not_imported_as_a_legacy_one() {
    let tmp = tempfile::tempdir().unwrap();
    let other = tmp.path().join("other");
    hbstore(&other, &["put", "a", "b"]);
    let (code, _, err) = hbstore(
        &tmp.path().join("db"),
        &["import", "--from", "hb-rocksdb", other.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is an hbstore store"), "{err}");
    let (code, _, err) = hbstore(
        &tmp.path().join("db"),
        &["import", "--from", "hb-rocksdb", "/nonexistent"],
    );
    assert_eq!(code, 2, "{err}");
}

/// A tree as `hb_store_fs` writes it, in `root` (the store directory).
fn write_fs_tree(root: &Path) {
    use std::os::unix::fs::symlink;
    std::fs::create_dir_all(root.join("messages/m1")).unwrap();
    std::fs::create_dir_all(root.join("empty-group")).unwrap();
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::write(root.join("messages/m1/body"), b"hello").unwrap();
    std::fs::write(root.join("messages/m1/bin"), [0u8, 255, 10, 13]).unwrap();
    std::fs::write(root.join("data/x"), b"x").unwrap();
    // hb_store_fs style: relative to the node's directory, with the store's
    // own directory name in front.
    let store_name = root.file_name().unwrap().to_str().unwrap();
    symlink(format!("{store_name}/messages/m1"), root.join("latest")).unwrap();
    // Absolute, into the tree.
    symlink(root.join("data/x"), root.join("messages/abs")).unwrap();
    // Relative to the link, as a file system reads it.
    symlink("../../data/x", root.join("messages/m1/rel")).unwrap();
    // Dangling, inside the tree: kept.
    symlink(format!("{store_name}/no/such"), root.join("dangling")).unwrap();
}

#[test]
fn an_fs_tree_imports_and_exports_back_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("cache-mainnet");
    write_fs_tree(&source);
    std::os::unix::fs::symlink("/etc", source.join("outside")).unwrap();
    let db = tmp.path().join("db");
    let summary = import(&db, "fs", &source);
    let warnings = summary["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{summary}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("outside: link to /etc skipped"),
        "{summary}"
    );
    let store = RocksStore::open_read_only(&db).unwrap();
    let imported = dump(&store);
    assert_eq!(imported["latest"], "link messages/m1");
    assert_eq!(imported["messages/abs"], "link data/x");
    assert_eq!(imported["messages/m1/rel"], "link data/x");
    assert_eq!(imported["dangling"], "link no/such");
    assert_eq!(imported["empty-group"], "group");
    assert_eq!(
        store.read("latest/bin").unwrap().unwrap(),
        [0u8, 255, 10, 13]
    );
    drop(store);

    // Export, import the export into a second store: the same entries.
    let exported = tmp.path().join("exported");
    let (code, _, err) = hbstore(&db, &["export", "--to", "fs", exported.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read(exported.join("messages/m1/bin")).unwrap(),
        [0u8, 255, 10, 13]
    );
    assert_eq!(
        std::fs::read(exported.join("latest/body")).unwrap(),
        b"hello",
        "links resolve on disk"
    );
    let db2 = tmp.path().join("db2");
    let again = import(&db2, "fs", &exported);
    assert_eq!(again["warnings"].as_array().unwrap().len(), 0, "{again}");
    assert_eq!(dump(&RocksStore::open_read_only(&db2).unwrap()), imported);

    // Importing the same tree twice gives the same store.
    import(&db, "fs", &source);
    assert_eq!(dump(&RocksStore::open_read_only(&db).unwrap()), imported);
    // Export never writes into a directory that holds something.
    let (code, _, _) = hbstore(&db, &["export", "--to", "fs", exported.to_str().unwrap()]);
    assert_eq!(code, 2);
}

#[test]
fn an_fs_tree_deeper_than_the_system_allows_imports_all_it_can_read() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("tree");
    std::fs::create_dir(&source).unwrap();
    std::fs::write(source.join("ok"), b"fine").unwrap();
    // 25 levels of 200-byte names: deeper than PATH_MAX (4096 bytes) from
    // the root, which only relative steps can build (bash's `cd -P` steps
    // down even where it can no longer name the directory it is in).
    let name = "d".repeat(200);
    let script = format!(
        "cd '{}' && for i in $(seq 25); do mkdir {name} && cd -P {name} 2>/dev/null; done; echo deep > leaf",
        source.display()
    );
    std::process::Command::new("bash")
        .args(["-c", &script])
        .status()
        .unwrap();
    let found = std::process::Command::new("find")
        .arg(&source)
        .args(["-name", "leaf"])
        .output()
        .unwrap();
    assert!(
        found.stdout.len() > 4096,
        "the leaf lies deeper than PATH_MAX: {} bytes",
        found.stdout.len()
    );
    let db = tmp.path().join("db");
    let (code, out, err) = hbstore(
        &db,
        &["import", "--json", "--from", "fs", source.to_str().unwrap()],
    );
    assert_eq!(code, 0, "the rest is imported: {err}");
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    let warnings = summary["warnings"].as_array().unwrap();
    assert!(!warnings.is_empty(), "the unreadable part is reported");
    for w in warnings {
        let w = w.as_str().unwrap();
        assert!(w.len() < 400, "the path is shortened in the message: {w}");
        assert!(w.contains("bytes)"), "{w}");
    }
    let store = RocksStore::open_read_only(&db).unwrap();
    assert_eq!(store.read("ok").unwrap(), Some(b"fine".to_vec()));
    assert!(summary["groups"].as_u64().unwrap() >= 15, "{summary}");
    assert!(store.check(|_| {}).unwrap().is_sound());
}
