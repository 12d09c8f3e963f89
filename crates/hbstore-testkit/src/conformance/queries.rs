//! The conformance suite, continued: the operations added for HyperBEAM's
//! current store API (`list_range`, `read_entry`, `match`), row by row of
//! `docs/contract.md`, for every backend.

use hbstore::{Batch, Child, ChildKind, ChildRead, Direction, EntryRead, Error, Page, Store};

use super::support::fails;

fn names(children: Option<Vec<Child>>) -> Vec<String> {
    children
        .expect("a group")
        .into_iter()
        .map(|c| c.name)
        .collect()
}

fn page(from: Option<&str>, limit: Option<usize>, direction: Direction) -> Page {
    Page {
        from: from.map(str::to_owned),
        limit,
        direction,
    }
}

fn abcde(s: &impl Store) {
    for n in ["a", "b", "c", "d", "e"] {
        s.write(["g", n], n.as_bytes()).unwrap();
    }
}

pub fn list_range_from_is_inclusive_going_up(s: &impl Store) {
    abcde(s);
    let up = page(Some("c"), None, Direction::Ascending);
    assert_eq!(names(s.list_range("g", &up).unwrap()), ["c", "d", "e"]);
}

pub fn list_range_from_is_inclusive_going_down(s: &impl Store) {
    abcde(s);
    let down = page(Some("c"), None, Direction::Descending);
    assert_eq!(names(s.list_range("g", &down).unwrap()), ["c", "b", "a"]);
    let all_down = page(None, None, Direction::Descending);
    assert_eq!(
        names(s.list_range("g", &all_down).unwrap()),
        ["e", "d", "c", "b", "a"]
    );
}

pub fn list_range_from_need_not_exist(s: &impl Store) {
    abcde(s);
    let up = page(Some("bb"), None, Direction::Ascending);
    assert_eq!(names(s.list_range("g", &up).unwrap()), ["c", "d", "e"]);
    let down = page(Some("bb"), None, Direction::Descending);
    assert_eq!(names(s.list_range("g", &down).unwrap()), ["b", "a"]);
    let past = page(Some("z"), None, Direction::Ascending);
    assert_eq!(
        names(s.list_range("g", &past).unwrap()),
        Vec::<String>::new()
    );
    let before = page(Some("0"), None, Direction::Descending);
    assert_eq!(
        names(s.list_range("g", &before).unwrap()),
        Vec::<String>::new()
    );
}

pub fn list_range_limit_caps_the_page(s: &impl Store) {
    abcde(s);
    let two = page(Some("b"), Some(2), Direction::Ascending);
    assert_eq!(names(s.list_range("g", &two).unwrap()), ["b", "c"]);
    let zero = page(None, Some(0), Direction::Ascending);
    assert_eq!(
        names(s.list_range("g", &zero).unwrap()),
        Vec::<String>::new()
    );
    let more = page(None, Some(99), Direction::Descending);
    assert_eq!(names(s.list_range("g", &more).unwrap()).len(), 5);
}

pub fn list_range_pages_walk_a_group_in_both_directions(s: &impl Store) {
    let all: Vec<String> = (0..1_500).map(|i| format!("k{i:05}")).collect();
    let mut batch = Batch::new();
    for name in &all {
        batch.write(["big", name.as_str()], b"v").unwrap();
    }
    s.apply(&batch).unwrap();
    for direction in [Direction::Ascending, Direction::Descending] {
        let mut seen = Vec::new();
        let mut from: Option<String> = None;
        loop {
            let next = page(from.as_deref(), Some(100), direction);
            let mut got = names(s.list_range("big", &next).unwrap());
            // `from` is inclusive: each page after the first starts with
            // the last name of the page before.
            if from.is_some() {
                assert_eq!(got.first(), seen.last(), "{direction:?}");
                got.remove(0);
            }
            if got.is_empty() {
                break;
            }
            from = got.last().cloned();
            seen.extend(got);
        }
        let mut expected = all.clone();
        if direction == Direction::Descending {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{direction:?}");
    }
}

pub fn list_range_of_an_empty_group_is_empty_and_of_nothing_is_nothing(s: &impl Store) {
    s.make_group("empty").unwrap();
    for direction in [Direction::Ascending, Direction::Descending] {
        let p = page(None, Some(10), direction);
        assert_eq!(
            names(s.list_range("empty", &p).unwrap()),
            Vec::<String>::new()
        );
        assert_eq!(s.list_range("missing", &p).unwrap(), None);
    }
}

pub fn list_range_follows_links_and_reports_link_children(s: &impl Store) {
    s.write("msg/a", b"1").unwrap();
    s.make_link("data/x", "msg/b").unwrap();
    s.make_group("msg/c").unwrap();
    s.make_link("msg", "alias").unwrap();
    let p = page(Some("b"), None, Direction::Ascending);
    let children = s.list_range("alias", &p).unwrap().unwrap();
    assert_eq!(
        children,
        [
            Child {
                name: "b".into(),
                kind: ChildKind::Link {
                    target: "data/x".into()
                }
            },
            Child {
                name: "c".into(),
                kind: ChildKind::Group
            },
        ]
    );
    let down = page(Some("b"), Some(5), Direction::Descending);
    assert_eq!(names(s.list_range("alias", &down).unwrap()), ["b", "a"]);
}

pub fn list_range_of_a_value_is_not_a_group(s: &impl Store) {
    s.write("v", b"x").unwrap();
    for direction in [Direction::Ascending, Direction::Descending] {
        let p = page(None, None, direction);
        assert!(matches!(
            fails(s.list_range("v", &p)),
            Error::NotAGroup { .. }
        ));
    }
}

pub fn read_entry_of_a_value_is_its_bytes(s: &impl Store) {
    s.write("a/v", b"bytes").unwrap();
    assert_eq!(
        s.read_entry("a/v", 0).unwrap(),
        Some(EntryRead::Value(b"bytes".to_vec())),
        "a value read directly is whole, whatever the inline size"
    );
}

pub fn read_entry_of_a_group_gives_children_with_small_values_and_link_targets(s: &impl Store) {
    s.write("m/big", &[7u8; 100]).unwrap();
    s.write("m/small", b"hi").unwrap();
    s.make_link("data/h1", "m/field").unwrap();
    s.make_group("m/sub").unwrap();
    let read = s.read_entry("m", 10).unwrap();
    assert_eq!(
        read,
        Some(EntryRead::Group(vec![
            ChildRead {
                name: "big".into(),
                kind: ChildKind::Value { len: 100 },
                bytes: None
            },
            ChildRead {
                name: "field".into(),
                kind: ChildKind::Link {
                    target: "data/h1".into()
                },
                bytes: None
            },
            ChildRead {
                name: "small".into(),
                kind: ChildKind::Value { len: 2 },
                bytes: Some(b"hi".to_vec())
            },
            ChildRead {
                name: "sub".into(),
                kind: ChildKind::Group,
                bytes: None
            },
        ]))
    );
    let Some(EntryRead::Group(all)) = s.read_entry("m", 100).unwrap() else {
        panic!("a group");
    };
    assert_eq!(all[0].bytes.as_deref(), Some(&[7u8; 100][..]), "100 <= 100");
}

pub fn read_entry_follows_links_and_of_nothing_is_nothing(s: &impl Store) {
    s.write("msg/body", b"hello").unwrap();
    s.make_link("msg", "latest").unwrap();
    s.make_link("msg/body", "body-link").unwrap();
    assert_eq!(
        s.read_entry("body-link", 0).unwrap(),
        Some(EntryRead::Value(b"hello".to_vec()))
    );
    let Some(EntryRead::Group(children)) = s.read_entry("latest", 16).unwrap() else {
        panic!("a group through a link");
    };
    assert_eq!(children[0].bytes.as_deref(), Some(&b"hello"[..]));
    assert_eq!(s.read_entry("missing", 16).unwrap(), None);
    assert_eq!(s.read_entry("msg/body/below", 16).unwrap(), None);
    s.make_link("nowhere", "dangling").unwrap();
    assert_eq!(s.read_entry("dangling", 16).unwrap(), None);
}

pub fn read_entry_of_an_empty_group_and_of_the_root(s: &impl Store) {
    s.make_group("g").unwrap();
    assert_eq!(
        s.read_entry("g", 16).unwrap(),
        Some(EntryRead::Group(vec![]))
    );
    let Some(EntryRead::Group(top)) = s.read_entry("", 16).unwrap() else {
        panic!("the root is a group");
    };
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].name, "g");
}

/// A message as HyperBEAM's cache writes it: each field a link to the
/// content-addressed value.
fn message(s: &impl Store, id: &str, fields: &[(&str, &str)]) {
    let mut batch = Batch::new();
    for (field, value) in fields {
        let data = format!("data/{value}");
        batch.write(data.as_str(), value.as_bytes()).unwrap();
        batch.make_link(data.as_str(), [id, field]).unwrap();
    }
    s.apply(&batch).unwrap();
}

fn found(s: &impl Store, pairs: &[(&str, &str)]) -> Vec<String> {
    s.match_links(pairs, None).unwrap()
}

pub fn match_finds_groups_whose_child_links_to_the_target(s: &impl Store) {
    message(s, "m1", &[("process", "p1"), ("slot", "s1")]);
    message(s, "m2", &[("process", "p1"), ("slot", "s2")]);
    message(s, "m3", &[("process", "p2"), ("slot", "s1")]);
    assert_eq!(found(s, &[("process", "data/p1")]), ["m1", "m2"]);
    assert_eq!(found(s, &[("slot", "data/s1")]), ["m1", "m3"]);
    assert_eq!(
        found(s, &[("process", "/data//p2/")]),
        ["m3"],
        "targets normalised"
    );
}

pub fn match_with_two_pairs_intersects(s: &impl Store) {
    message(s, "m1", &[("process", "p1"), ("slot", "s1")]);
    message(s, "m2", &[("process", "p1"), ("slot", "s2")]);
    message(s, "m3", &[("process", "p2"), ("slot", "s1")]);
    assert_eq!(
        found(s, &[("process", "data/p1"), ("slot", "data/s1")]),
        ["m1"]
    );
    assert_eq!(
        found(s, &[("process", "data/p2"), ("slot", "data/s2")]),
        Vec::<String>::new()
    );
}

pub fn match_with_no_pair_matches_nothing(s: &impl Store) {
    message(s, "m1", &[("process", "p1")]);
    assert_eq!(found(s, &[]), Vec::<String>::new());
}

pub fn match_with_a_pair_nobody_has_matches_nothing(s: &impl Store) {
    message(s, "m1", &[("process", "p1")]);
    assert_eq!(
        found(s, &[("process", "data/nobody")]),
        Vec::<String>::new()
    );
    assert_eq!(found(s, &[("nobody", "data/p1")]), Vec::<String>::new());
}

pub fn match_follows_relinking(s: &impl Store) {
    message(s, "m1", &[("process", "p1")]);
    s.delete("m1/process").unwrap();
    s.make_link("data/p2", "m1/process").unwrap();
    assert_eq!(found(s, &[("process", "data/p1")]), Vec::<String>::new());
    assert_eq!(found(s, &[("process", "data/p2")]), ["m1"]);
    // Relinked inside one batch, and back to the first target.
    let mut batch = Batch::new();
    batch
        .delete("m1/process")
        .unwrap()
        .make_link("data/p1", "m1/process")
        .unwrap();
    s.apply(&batch).unwrap();
    assert_eq!(found(s, &[("process", "data/p1")]), ["m1"]);
    assert_eq!(found(s, &[("process", "data/p2")]), Vec::<String>::new());
    // Removed and made again to the same target in one batch.
    let mut same = Batch::new();
    same.delete("m1/process")
        .unwrap()
        .make_link("data/p1", "m1/process")
        .unwrap();
    s.apply(&same).unwrap();
    assert_eq!(found(s, &[("process", "data/p1")]), ["m1"]);
}

pub fn match_forgets_deleted_messages(s: &impl Store) {
    message(s, "m1", &[("process", "p1")]);
    message(s, "m2", &[("process", "p1")]);
    message(s, "deep/m3", &[("process", "p1")]);
    s.delete_recursive("m1").unwrap();
    assert_eq!(found(s, &[("process", "data/p1")]), ["deep/m3", "m2"]);
    s.delete_recursive("deep").unwrap();
    s.delete("m2/process").unwrap();
    assert_eq!(found(s, &[("process", "data/p1")]), Vec::<String>::new());
    // A value written where the link was is not a link.
    message(s, "m4", &[("process", "p1")]);
    let mut batch = Batch::new();
    batch
        .delete("m4/process")
        .unwrap()
        .write("m4/process", b"plain")
        .unwrap();
    s.apply(&batch).unwrap();
    assert_eq!(found(s, &[("process", "data/p1")]), Vec::<String>::new());
}

pub fn match_forgets_everything_after_reset(s: &impl Store) {
    message(s, "m1", &[("process", "p1")]);
    s.reset().unwrap();
    assert_eq!(found(s, &[("process", "data/p1")]), Vec::<String>::new());
    message(s, "m2", &[("process", "p1")]);
    assert_eq!(found(s, &[("process", "data/p1")]), ["m2"]);
}

pub fn match_sees_links_made_in_batches_and_through_links(s: &impl Store) {
    s.make_group("real").unwrap();
    s.make_link("real", "alias").unwrap();
    s.make_link("data/p1", "alias/process").unwrap();
    assert_eq!(
        found(s, &[("process", "data/p1")]),
        ["real"],
        "the group is the physical path"
    );
    s.make_link("data/top", "process").unwrap();
    assert_eq!(
        found(s, &[("process", "data/top")]),
        [""],
        "the root is a group"
    );
}

pub fn match_ignores_values_and_groups_named_like_the_key(s: &impl Store) {
    s.write("m1/process", b"data/p1").unwrap();
    s.make_group("m2/process").unwrap();
    assert_eq!(found(s, &[("process", "data/p1")]), Vec::<String>::new());
}

pub fn match_limit_caps_the_answer(s: &impl Store) {
    for i in 0..10 {
        message(s, &format!("m{i}"), &[("process", "p1")]);
    }
    assert_eq!(
        s.match_links(&[("process", "data/p1")], Some(3)).unwrap(),
        ["m0", "m1", "m2"]
    );
    assert_eq!(
        s.match_links(&[("process", "data/p1")], Some(0)).unwrap(),
        Vec::<String>::new()
    );
}

pub fn match_keys_must_be_one_segment(s: &impl Store) {
    for key in ["", "a/b", "..", "x\0y"] {
        let e = fails(s.match_links(&[(key, "data/p1")], None));
        assert!(matches!(e, Error::InvalidPath { .. }), "{key:?}: {e:?}");
    }
    assert!(matches!(
        fails(s.match_links(&[("k", "a/../b")], None)),
        Error::InvalidPath { .. }
    ));
}

pub fn match_follows_a_re_pointed_link(s: &impl Store) {
    message(s, "m1", &[("process", "p1")]);
    message(s, "m2", &[("process", "p1")]);
    s.make_link("data/p2", "m1/process").unwrap();
    assert_eq!(found(s, &[("process", "data/p1")]), ["m2"]);
    assert_eq!(found(s, &[("process", "data/p2")]), ["m1"]);
    // Re-pointed in a batch, twice, ending on the first target.
    let mut batch = Batch::new();
    batch
        .make_link("data/p3", "m2/process")
        .unwrap()
        .make_link("data/p1", "m1/process")
        .unwrap();
    s.apply(&batch).unwrap();
    assert_eq!(found(s, &[("process", "data/p1")]), ["m1"]);
    assert_eq!(found(s, &[("process", "data/p2")]), Vec::<String>::new());
    assert_eq!(found(s, &[("process", "data/p3")]), ["m2"]);
}

pub fn match_forgets_a_link_replaced_by_a_value(s: &impl Store) {
    message(s, "m1", &[("process", "p1"), ("slot", "s1")]);
    s.write("m1/process", b"inline now").unwrap();
    assert_eq!(found(s, &[("process", "data/p1")]), Vec::<String>::new());
    assert_eq!(found(s, &[("slot", "data/s1")]), ["m1"]);
    s.make_link("data/p1", "m1/process").unwrap();
    assert_eq!(found(s, &[("process", "data/p1")]), ["m1"]);
}

pub fn read_message_inlines_the_small_values_its_links_point_at(s: &impl Store) {
    s.write("data/a", b"A").unwrap();
    s.write("data/big", b"too big").unwrap();
    s.write("data/g/x", b"X").unwrap();
    s.make_link("data", "alias").unwrap();
    let mut batch = Batch::new();
    batch
        .write("m/own", b"own")
        .unwrap()
        .make_link("data/a", "m/a")
        .unwrap()
        .make_link("data/big", "m/big")
        .unwrap()
        .make_link("data/g", "m/group")
        .unwrap()
        .make_link("alias/g/x", "m/through")
        .unwrap()
        .make_link("m/a", "m/chain")
        .unwrap()
        .make_link("nowhere", "m/dangling")
        .unwrap();
    s.apply(&batch).unwrap();
    let Some(EntryRead::Group(children)) = s.read_message("m", 4).unwrap() else {
        panic!("m is a group");
    };
    let bytes: Vec<(&str, Option<&[u8]>)> = children
        .iter()
        .map(|c| (c.name.as_str(), c.bytes.as_deref()))
        .collect();
    assert_eq!(
        bytes,
        [
            ("a", Some(&b"A"[..])),
            ("big", None),
            ("chain", Some(&b"A"[..])),
            ("dangling", None),
            ("group", None),
            ("own", Some(&b"own"[..])),
            ("through", Some(&b"X"[..])),
        ]
    );
    assert!(matches!(
        &children[0].kind,
        ChildKind::Link { target } if target == "data/a"
    ));
    // A value reads as itself; nothing as nothing; a loop as an error.
    assert_eq!(
        s.read_message("data/a", 4).unwrap(),
        Some(EntryRead::Value(b"A".to_vec()))
    );
    assert_eq!(s.read_message("absent", 4).unwrap(), None);
    s.make_link("loop2", "loop1").unwrap();
    s.make_link("loop1", "loop2").unwrap();
    s.make_link("loop1", "m/looping").unwrap();
    assert!(matches!(
        fails(s.read_message("m", 4)),
        Error::LinkLoop { .. }
    ));
}
