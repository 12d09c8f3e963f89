//! `RocksStore::read_cached`, the NIF's hot path: a value the entry cache
//! holds is answered in place; anything else is left to `read`, which
//! answers it. What it answers is always what `read` would.

use hbstore::{Options, RocksStore, Store};

use crate::common::TempRocks;
use crate::metrics::operations;

fn cached(store: &RocksStore, path: &[u8]) -> Option<Vec<u8>> {
    store.read_cached(path, <[u8]>::to_vec)
}

#[test]
fn a_cached_value_is_what_read_answers_and_nothing_else_is_answered() {
    let s = TempRocks::with_options(Options::default().entry_value_bytes(64));
    s.write("m/field", b"first").unwrap();
    assert_eq!(cached(&s, b"m/field").as_deref(), Some(&b"first"[..]));
    s.write("m/field", b"second").unwrap();
    assert_eq!(
        cached(&s, b"m/field"),
        s.read("m/field").unwrap(),
        "a write replaces the cached value at once"
    );
    assert_eq!(cached(&s, b"m/field").as_deref(), Some(&b"second"[..]));

    // A group, a link and nothing at all are `read`'s to answer.
    s.make_link("m/field", "alias").unwrap();
    assert_eq!(cached(&s, b"m"), None);
    assert_eq!(cached(&s, b"alias"), None);
    assert_eq!(s.read("alias").unwrap().as_deref(), Some(&b"second"[..]));
    assert_eq!(cached(&s, b"nothing/here"), None);

    // A value larger than the cache keeps is read from RocksDB.
    s.write("m/large", &[7u8; 65]).unwrap();
    assert_eq!(cached(&s, b"m/large"), None);
    assert_eq!(s.read("m/large").unwrap(), Some(vec![7u8; 65]));

    // Gone once deleted.
    assert!(s.delete("m/field").unwrap());
    assert_eq!(cached(&s, b"m/field"), None);
    assert_eq!(s.read("m/field").unwrap(), None);
}

/// Bytes as a caller sends them: the spellings `read` would normalize, and
/// what it would refuse, are never found here, so `read` decides them.
#[test]
fn paths_that_are_not_canonical_are_left_to_read() {
    let s = TempRocks::new();
    s.write("a/b", b"v").unwrap();
    for hostile in [
        &b"/a/b"[..],
        b"a/b/",
        b"a//b",
        b"a/./b",
        b"",
        b"/",
        b"a/b\0",
        b"\xff\xfe",
        &[b'a'; 70_000][..],
    ] {
        assert_eq!(
            cached(&s, hostile),
            None,
            "{:?}",
            String::from_utf8_lossy(hostile)
        );
    }
    assert_eq!(s.read("/a/b").unwrap().as_deref(), Some(&b"v"[..]));
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..10_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let bytes = seed.to_le_bytes();
        let path = &bytes[..(seed % 9) as usize];
        assert_eq!(cached(&s, path), None);
    }
}

/// A read-only open beside another process's writer cannot know what it
/// changes, so it keeps no entry cache and answers nothing here.
#[test]
fn a_read_only_store_answers_nothing_from_memory() {
    let t = TempRocks::new();
    t.store.write("a", b"v").unwrap();
    let dir = t.db_path();
    drop(t.store);
    let read_only = RocksStore::open_read_only(&dir).unwrap();
    assert_eq!(read_only.read("a").unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(cached(&read_only, b"a"), None);
}

/// Every answer is counted as a read found; one in 16 is timed and stands
/// for 16 in the latency histogram.
#[test]
fn answers_are_counted_as_reads_and_sampled_into_the_histogram() {
    let s = TempRocks::new();
    s.write("a", b"v").unwrap();
    for _ in 0..1_000 {
        assert!(cached(&s, b"a").is_some());
    }
    assert_eq!(cached(&s, b"b"), None);
    let report = s.metrics().unwrap();
    assert_eq!(
        operations(&report, "read", "found"),
        1_000.0,
        "each answer counted, a miss not"
    );
    let timed = report
        .value(
            "hbstore_operation_duration_seconds_count",
            &[("operation", "read")],
        )
        .unwrap();
    assert!(
        (1_000.0 - 16.0..=1_000.0 + 16.0).contains(&timed),
        "the histogram stands for every answer: {timed}"
    );
    let seconds = report
        .value(
            "hbstore_operation_duration_seconds_sum",
            &[("operation", "read")],
        )
        .unwrap();
    assert!(seconds > 0.0);
}

/// `read_message_cached`, the NIF's read of a message: what
/// `read_message_at` answers, for a group whose listing the entry cache
/// holds; nothing for anything else, which `read_message_at` answers.
#[test]
fn a_cached_message_is_what_read_message_answers() {
    use hbstore::{EntryRead, StorePath};
    let s = TempRocks::new();
    s.write("data/a", b"first field").unwrap();
    s.write("data/b", b"second").unwrap();
    s.make_link("data/a", "m/one").unwrap();
    s.make_link("data/b", "m/two").unwrap();
    s.write("m/three", b"a value of its own").unwrap();
    for i in 0..100 {
        s.write(format!("big/f{i}").as_str(), b"x").unwrap();
    }
    let path = |p: &str| StorePath::parse(p).unwrap();
    // A listing is cached once read (or made by the writes above).
    s.read_message_at(&path("m"), 4096).unwrap();
    let cached = s.read_message_cached(&path("m"), 4096).unwrap();
    let Some(EntryRead::Group(children)) = &cached else {
        panic!("the message's listing is cached: {cached:?}");
    };
    assert_eq!(cached, s.read_message_at(&path("m"), 4096).unwrap());
    assert_eq!(children.len(), 3);
    assert!(children.iter().all(|c| c.bytes.is_some()));
    // Values up to a size only, as read_message_at.
    assert_eq!(
        s.read_message_cached(&path("m"), 6).unwrap(),
        s.read_message_at(&path("m"), 6).unwrap()
    );
    for other in ["m/three", "m/one", "nothing", "big"] {
        assert_eq!(
            s.read_message_cached(&path(other), 4096).unwrap(),
            None,
            "{other}"
        );
    }
    s.delete("m/three").unwrap();
    let after = s.read_message_cached(&path("m"), 4096).unwrap();
    assert!(
        after.is_none() || after == s.read_message_at(&path("m"), 4096).unwrap(),
        "a change to the group is never answered stale: {after:?}"
    );
}
