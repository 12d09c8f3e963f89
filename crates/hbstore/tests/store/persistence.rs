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
    t.store.checkpoint(&copy).unwrap();
    t.store.write("after", b"not in the copy").unwrap();
    let store = RocksStore::open(&copy, Options::default()).unwrap();
    assert_eq!(store.read("l").unwrap(), bytes("x"));
    assert_eq!(store.read("after").unwrap(), None);
}
