//! The conformance suite: `docs/contract.md`, row by row, for every backend.

use hbstore::{Batch, ChildKind, EntryType, Error, Store, MAX_LINK_HOPS, MAX_PATH_BYTES};

use super::support::{bytes, fails, names};

pub fn string_and_list_forms_name_the_same_entry(s: &impl Store) {
    s.write(["a", "b", "c"], b"v").unwrap();
    assert_eq!(s.read("a/b/c").unwrap(), bytes("v"));
    assert_eq!(s.read(vec!["a", "b/c"]).unwrap(), bytes("v"));
    assert_eq!(s.read(&b"a/b/c"[..]).unwrap(), bytes("v"));
    assert_eq!(s.list(["a"]).unwrap(), names(&["b"]));
}

pub fn empty_segments_are_dropped(s: &impl Store) {
    s.write("/a//b/", b"v").unwrap();
    assert_eq!(s.read("a/b").unwrap(), bytes("v"));
    assert_eq!(s.list("/").unwrap(), names(&["a"]));
    assert_eq!(s.resolve("//a///b//").unwrap(), "a/b");
}

pub fn invalid_segments_are_rejected_by_every_operation(s: &impl Store) {
    s.write("ok", b"v").unwrap();
    for bad in ["a/./b", "a/../b", "..", ".", "a/b\0c"] {
        let invalid = |e: Error| matches!(e, Error::InvalidPath { .. });
        assert!(invalid(fails(s.read(bad))), "{bad:?}");
        assert!(invalid(fails(s.write(bad, b"x"))), "{bad:?}");
        assert!(invalid(fails(s.type_of(bad))), "{bad:?}");
        assert!(invalid(fails(s.list(bad))), "{bad:?}");
        assert!(invalid(fails(s.make_group(bad))), "{bad:?}");
        assert!(invalid(fails(s.make_link(bad, "l"))), "{bad:?}");
        assert!(invalid(fails(s.make_link("ok", bad))), "{bad:?}");
        assert!(invalid(fails(s.resolve(bad))), "{bad:?}");
        assert!(invalid(fails(s.delete(bad))), "{bad:?}");
        assert!(
            invalid(fails(Batch::new().write(bad, b"x").map(drop))),
            "{bad:?}"
        );
    }
    assert!(matches!(
        fails(s.read(&b"a/\xff"[..])),
        Error::InvalidPath { .. }
    ));
    assert_eq!(
        s.list("").unwrap(),
        names(&["ok"]),
        "nothing else was stored"
    );
}

pub fn a_path_of_8_kib_is_accepted_and_one_byte_more_is_not(s: &impl Store) {
    let segment = "s".repeat(255);
    let mut path = vec![segment.clone(); MAX_PATH_BYTES / 256];
    let used: usize = path.iter().map(|p| p.len() + 1).sum::<usize>() - 1;
    path.push("t".repeat(MAX_PATH_BYTES - used - 1));
    let max = path.join("/");
    assert_eq!(max.len(), MAX_PATH_BYTES);
    s.write(max.as_str(), b"deep").unwrap();
    assert_eq!(s.read(max.as_str()).unwrap(), bytes("deep"));
    let over = format!("{max}x");
    assert!(matches!(
        fails(s.write(over.as_str(), b"x")),
        Error::InvalidPath { .. }
    ));
    assert!(matches!(
        fails(s.read(over.as_str())),
        Error::InvalidPath { .. }
    ));
}

pub fn the_root_is_an_implicit_group(s: &impl Store) {
    assert_eq!(s.type_of("").unwrap(), Some(EntryType::Composite));
    assert_eq!(s.type_of("/").unwrap(), Some(EntryType::Composite));
    assert_eq!(s.list("").unwrap(), names(&[]));
    assert_eq!(s.read("").unwrap(), None);
    assert_eq!(s.resolve("").unwrap(), "");
    s.make_group("").unwrap();
    s.make_group("/").unwrap();
    assert_eq!(
        s.list("").unwrap(),
        names(&[]),
        "make_group of the root stores nothing"
    );
}

pub fn the_root_is_never_written_linked_or_deleted(s: &impl Store) {
    s.write("a", b"v").unwrap();
    assert!(matches!(
        fails(s.write("", b"x")),
        Error::InvalidPath { .. }
    ));
    assert!(matches!(
        fails(s.make_link("a", "")),
        Error::InvalidPath { .. }
    ));
    assert!(matches!(fails(s.delete("")), Error::InvalidPath { .. }));
    assert!(matches!(
        fails(s.delete_recursive("/")),
        Error::InvalidPath { .. }
    ));
    assert_eq!(s.read("a").unwrap(), bytes("v"), "nothing was lost");
}

pub fn write_then_read(s: &impl Store) {
    s.write("key", b"value").unwrap();
    assert_eq!(s.read("key").unwrap(), bytes("value"));
}

pub fn write_replaces_a_value(s: &impl Store) {
    s.write("key", b"one").unwrap();
    s.write("key", b"two").unwrap();
    assert_eq!(s.read("key").unwrap(), bytes("two"));
    assert_eq!(s.list("").unwrap(), names(&["key"]));
}

pub fn read_of_a_missing_path_is_nothing(s: &impl Store) {
    assert_eq!(s.read("missing").unwrap(), None);
    assert_eq!(s.read("missing/deeper/still").unwrap(), None);
    s.write("v", b"x").unwrap();
    assert_eq!(s.read("v/under/a/value").unwrap(), None);
}

pub fn read_of_a_group_is_nothing(s: &impl Store) {
    s.make_group("g").unwrap();
    assert_eq!(s.read("g").unwrap(), None);
}

pub fn write_creates_missing_ancestors_as_groups(s: &impl Store) {
    s.write("a/b/c/d", b"v").unwrap();
    for group in ["a", "a/b", "a/b/c"] {
        assert_eq!(
            s.type_of(group).unwrap(),
            Some(EntryType::Composite),
            "{group}"
        );
    }
    assert_eq!(s.list("a/b").unwrap(), names(&["c"]));
}

pub fn write_on_a_group_is_is_group(s: &impl Store) {
    s.write("g/child", b"v").unwrap();
    assert!(matches!(fails(s.write("g", b"x")), Error::IsGroup { path } if path == "g"));
    assert_eq!(
        s.list("g").unwrap(),
        names(&["child"]),
        "the group is untouched"
    );
}

pub fn write_under_a_value_is_not_a_group(s: &impl Store) {
    s.write("v", b"x").unwrap();
    let e = fails(s.write("v/a/b", b"y"));
    assert!(
        matches!(&e, Error::NotAGroup { path, value_at } if path == "v/a/b" && value_at == "v"),
        "{e:?}"
    );
    assert_eq!(s.read("v").unwrap(), bytes("x"));
    assert_eq!(s.list("").unwrap(), names(&["v"]));
}

pub fn values_may_be_empty_or_binary(s: &impl Store) {
    s.write("empty", b"").unwrap();
    assert_eq!(s.read("empty").unwrap(), Some(Vec::new()));
    assert_eq!(s.type_of("empty").unwrap(), Some(EntryType::Simple));
    let binary: Vec<u8> = (0..=255).collect();
    s.write("bin", &binary).unwrap();
    assert_eq!(s.read("bin").unwrap(), Some(binary));
}

pub fn type_tells_simple_composite_or_nothing(s: &impl Store) {
    s.write("g/v", b"x").unwrap();
    assert_eq!(s.type_of("g/v").unwrap(), Some(EntryType::Simple));
    assert_eq!(s.type_of("g").unwrap(), Some(EntryType::Composite));
    assert_eq!(s.type_of("nothing").unwrap(), None);
    assert_eq!(s.type_of("g/v/under").unwrap(), None);
}

pub fn list_is_sorted_by_byte_order(s: &impl Store) {
    for name in ["b", "a", "B", "ä", "a0", "a-", "_", "10", "9"] {
        s.write(["g", name], b"x").unwrap();
    }
    let mut expected = vec!["b", "a", "B", "ä", "a0", "a-", "_", "10", "9"];
    expected.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    assert_eq!(s.list("g").unwrap(), names(&expected));
}

pub fn list_names_values_groups_and_links_alike(s: &impl Store) {
    s.write("g/value", b"abc").unwrap();
    s.make_group("g/group").unwrap();
    s.make_link("elsewhere/x", "g/link").unwrap();
    let children = s.list_children("g").unwrap().unwrap();
    let kinds: Vec<(&str, &ChildKind)> = children
        .iter()
        .map(|c| (c.name.as_str(), &c.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("group", &ChildKind::Group),
            (
                "link",
                &ChildKind::Link {
                    target: "elsewhere/x".into()
                }
            ),
            ("value", &ChildKind::Value { len: 3 }),
        ]
    );
}

pub fn list_holds_children_not_grandchildren(s: &impl Store) {
    s.write("a/b/c/d", b"x").unwrap();
    s.write("a/e", b"x").unwrap();
    s.write("ab/f", b"x").unwrap();
    s.write("a0", b"x").unwrap();
    assert_eq!(s.list("a").unwrap(), names(&["b", "e"]));
    assert_eq!(s.list("a/b").unwrap(), names(&["c"]));
}

pub fn list_of_a_missing_path_is_nothing(s: &impl Store) {
    assert_eq!(s.list("missing").unwrap(), None);
    assert_eq!(s.list("missing/deeper").unwrap(), None);
}

pub fn list_of_a_value_is_not_a_group(s: &impl Store) {
    s.write("v", b"x").unwrap();
    let e = fails(s.list("v"));
    assert!(
        matches!(&e, Error::NotAGroup { value_at, .. } if value_at == "v"),
        "{e:?}"
    );
}

pub fn list_of_the_root_lists_the_top_level(s: &impl Store) {
    s.write("z/deep", b"x").unwrap();
    s.write("a", b"x").unwrap();
    s.make_link("a", "m").unwrap();
    assert_eq!(s.list("").unwrap(), names(&["a", "m", "z"]));
    assert_eq!(
        s.list(Vec::<String>::new()).unwrap(),
        names(&["a", "m", "z"])
    );
}

pub fn make_group_creates_every_level(s: &impl Store) {
    s.make_group("messages/ids/items").unwrap();
    assert_eq!(s.list("messages").unwrap(), names(&["ids"]));
    assert_eq!(s.list("messages/ids").unwrap(), names(&["items"]));
    assert_eq!(s.list("messages/ids/items").unwrap(), names(&[]));
    assert_eq!(
        s.type_of("messages/ids/items").unwrap(),
        Some(EntryType::Composite)
    );
}

pub fn make_group_on_a_group_keeps_its_contents(s: &impl Store) {
    s.write("g/a", b"1").unwrap();
    s.make_group("g").unwrap();
    assert_eq!(s.list("g").unwrap(), names(&["a"]));
    assert_eq!(s.read("g/a").unwrap(), bytes("1"));
}

pub fn make_group_on_a_value_is_not_a_group(s: &impl Store) {
    s.write("v", b"x").unwrap();
    assert!(matches!(fails(s.make_group("v")), Error::NotAGroup { .. }));
    assert_eq!(s.read("v").unwrap(), bytes("x"));
}

pub fn make_group_under_a_value_is_not_a_group(s: &impl Store) {
    s.write("v", b"x").unwrap();
    assert!(
        matches!(fails(s.make_group("v/g")), Error::NotAGroup { value_at, .. } if value_at == "v")
    );
}

pub fn make_link_reads_through_to_the_target(s: &impl Store) {
    s.write("data/x", b"payload").unwrap();
    s.make_link("data/x", "alias").unwrap();
    assert_eq!(s.read("alias").unwrap(), bytes("payload"));
    assert_eq!(s.type_of("alias").unwrap(), Some(EntryType::Simple));
}

pub fn make_link_stores_the_target_in_canonical_form(s: &impl Store) {
    s.make_link("/data//x/", "l").unwrap();
    let children = s.list_children("").unwrap().unwrap();
    assert_eq!(
        children[0].kind,
        ChildKind::Link {
            target: "data/x".into()
        }
    );
}

pub fn make_link_to_a_missing_target_is_allowed(s: &impl Store) {
    s.make_link("no/such/target", "dangling").unwrap();
    assert_eq!(s.read("dangling").unwrap(), None);
    assert_eq!(s.type_of("dangling").unwrap(), None);
    assert_eq!(s.list("dangling").unwrap(), None);
    assert_eq!(s.resolve("dangling").unwrap(), "no/such/target");
    assert_eq!(s.list("").unwrap(), names(&["dangling"]));
}

pub fn make_link_with_the_same_path_on_both_sides_stores_nothing(s: &impl Store) {
    s.make_link("a/b", "/a//b").unwrap();
    assert_eq!(s.list("").unwrap(), names(&[]));
}

pub fn make_link_again_to_the_same_target_succeeds(s: &impl Store) {
    s.make_link("t", "l").unwrap();
    s.make_link("/t/", "l").unwrap();
    assert_eq!(s.resolve("l").unwrap(), "t");
}

pub fn make_link_over_a_group_is_already_exists_and_changes_nothing(s: &impl Store) {
    s.write("g/child", b"x").unwrap();
    s.make_group("empty").unwrap();
    for new in ["g", "empty"] {
        let e = fails(s.make_link("t2", new));
        assert!(
            matches!(&e, Error::AlreadyExists { path, existing } if path == new && existing == "a group"),
            "{e:?}"
        );
        assert_eq!(s.type_of(new).unwrap(), Some(EntryType::Composite));
    }
    assert_eq!(s.read("g/child").unwrap(), bytes("x"));
}

pub fn make_link_over_a_link_re_points_it(s: &impl Store) {
    s.write("t1", b"one").unwrap();
    s.write("t2", b"two").unwrap();
    s.make_link("t1", "l").unwrap();
    s.make_link("t2", "l").unwrap();
    assert_eq!(s.read("l").unwrap(), bytes("two"));
    assert_eq!(s.resolve("l").unwrap(), "t2");
    assert_eq!(s.read("t1").unwrap(), bytes("one"), "the old target stays");
    // Re-pointed to a missing target, and back.
    s.make_link("nowhere", "l").unwrap();
    assert_eq!(s.read("l").unwrap(), None);
    s.make_link("t1", "l").unwrap();
    assert_eq!(s.read("l").unwrap(), bytes("one"));
    assert_eq!(s.list("").unwrap(), names(&["l", "t1", "t2"]));
}

pub fn make_link_over_a_value_replaces_it(s: &impl Store) {
    s.write("g/v", b"x").unwrap();
    s.write("t", b"target").unwrap();
    s.make_link("t", "g/v").unwrap();
    assert_eq!(s.read("g/v").unwrap(), bytes("target"));
    assert_eq!(s.resolve("g/v").unwrap(), "t");
    let children = s.list_children("g").unwrap().unwrap();
    assert_eq!(children[0].kind, ChildKind::Link { target: "t".into() });
}

pub fn make_link_creates_the_parent_groups(s: &impl Store) {
    s.make_link("t", "a/b/l").unwrap();
    assert_eq!(s.type_of("a/b").unwrap(), Some(EntryType::Composite));
    assert_eq!(s.list("a/b").unwrap(), names(&["l"]));
}

pub fn make_link_resolves_the_parent_but_not_the_final_segment(s: &impl Store) {
    s.make_group("g").unwrap();
    s.make_link("g", "lg").unwrap();
    s.make_link("target", "lg/new").unwrap();
    assert_eq!(
        s.list("g").unwrap(),
        names(&["new"]),
        "stored under the parent's target"
    );
    assert_eq!(s.resolve("g/new").unwrap(), "target");
    // The final segment is not followed: an existing link there is
    // re-pointed, not written through.
    s.make_group("somewhere").unwrap();
    s.make_link("somewhere", "l2").unwrap();
    s.make_link("other", "l2").unwrap();
    assert_eq!(s.resolve("l2").unwrap(), "other");
    assert_eq!(s.list("somewhere").unwrap(), names(&[]));
}

pub fn make_link_under_a_value_is_not_a_group(s: &impl Store) {
    s.write("v", b"x").unwrap();
    assert!(matches!(
        fails(s.make_link("t", "v/l")),
        Error::NotAGroup { .. }
    ));
}

pub fn resolve_follows_links_in_the_middle_of_a_path(s: &impl Store) {
    s.write("real/b/c", b"x").unwrap();
    s.make_link("real", "a").unwrap();
    assert_eq!(s.resolve("a/b/c").unwrap(), "real/b/c");
    s.make_link("real/b", "x/y").unwrap();
    assert_eq!(s.resolve("x/y/c").unwrap(), "real/b/c");
    assert_eq!(s.read("x/y/c").unwrap(), bytes("x"));
}

pub fn resolve_follows_the_final_segment(s: &impl Store) {
    s.write("t", b"x").unwrap();
    s.make_link("t", "l").unwrap();
    assert_eq!(s.resolve("l").unwrap(), "t");
}

pub fn resolve_keeps_absent_segments(s: &impl Store) {
    s.make_link("g", "l").unwrap();
    assert_eq!(s.resolve("l/no/such").unwrap(), "g/no/such");
    assert_eq!(s.resolve("not/there").unwrap(), "not/there");
}

pub fn resolve_follows_chains_of_links(s: &impl Store) {
    s.write("msg/slot", b"7").unwrap();
    s.make_link("msg", "chain1").unwrap();
    s.make_link("chain1", "chain2").unwrap();
    assert_eq!(s.resolve("chain2/slot").unwrap(), "msg/slot");
    assert_eq!(s.read("chain2/slot").unwrap(), bytes("7"));
    s.make_link("chain2/slot", "c3").unwrap();
    assert_eq!(s.read("c3").unwrap(), bytes("7"));
}

pub fn a_link_to_the_root_resolves_to_the_root(s: &impl Store) {
    s.write("a", b"x").unwrap();
    s.make_link("", "top").unwrap();
    assert_eq!(s.resolve("top").unwrap(), "");
    assert_eq!(s.resolve("top/a").unwrap(), "a");
    assert_eq!(s.type_of("top").unwrap(), Some(EntryType::Composite));
    assert_eq!(s.list("top").unwrap(), names(&["a", "top"]));
    // A write at the link replaces the link, not the root behind it.
    s.write("top", b"y").unwrap();
    assert_eq!(s.read("top").unwrap(), bytes("y"));
    assert_eq!(s.read("a").unwrap(), bytes("x"));
}

pub fn link_loops_fail_with_link_loop_and_never_hang(s: &impl Store) {
    // A loop of length 1: the parent of `lg/self` resolves to `g`, so the
    // link lands at `g/self` and points at itself.
    s.make_group("g").unwrap();
    s.make_link("g", "lg").unwrap();
    s.make_link("g/self", "lg/self").unwrap();
    assert!(matches!(fails(s.read("g/self")), Error::LinkLoop { .. }));
    s.make_link("b", "a").unwrap();
    s.make_link("a", "b").unwrap();
    s.make_link("s1", "s1x").unwrap();
    s.make_link("s1x", "s1").unwrap();
    let is_loop = |e: Error| matches!(e, Error::LinkLoop { .. });
    for p in ["a", "b", "a/x/y", "s1"] {
        assert!(is_loop(fails(s.read(p))), "read {p}");
        assert!(is_loop(fails(s.type_of(p))), "type {p}");
        assert!(is_loop(fails(s.list(p))), "list {p}");
        assert!(is_loop(fails(s.resolve(p))), "resolve {p}");
        assert!(is_loop(fails(s.make_group(p))), "make_group {p}");
    }
    assert!(is_loop(fails(s.write("a/x/y", b"x"))), "write under a loop");
    assert!(
        is_loop(fails(s.make_link("t", "a/x"))),
        "make_link under a loop"
    );
    // The last segment is not followed, so writing over one of its links
    // breaks a loop.
    s.write("s1", b"broken").unwrap();
    assert_eq!(s.read("s1x").unwrap(), bytes("broken"));
    assert!(
        s.delete("a").unwrap(),
        "a link in a loop can still be deleted"
    );
    assert_eq!(s.read("b").unwrap(), None, "b now dangles");
}

pub fn forty_hops_resolve_and_forty_one_do_not(s: &impl Store) {
    s.write("end", b"x").unwrap();
    let hops = MAX_LINK_HOPS as usize;
    s.make_link("end", "l1").unwrap();
    for i in 2..=hops + 1 {
        s.make_link(format!("l{}", i - 1), format!("l{i}")).unwrap();
    }
    assert_eq!(
        s.read(format!("l{hops}")).unwrap(),
        bytes("x"),
        "{hops} hops"
    );
    let e = fails(s.read(format!("l{}", hops + 1)));
    assert!(matches!(e, Error::LinkLoop { .. }), "{e:?}");
}

pub fn write_through_a_link_to_a_group_lands_in_the_group(s: &impl Store) {
    s.make_group("g").unwrap();
    s.make_link("g", "l").unwrap();
    s.write("l/x", b"v").unwrap();
    assert_eq!(s.list("g").unwrap(), names(&["x"]));
    assert_eq!(s.resolve("l/x").unwrap(), "g/x");
    assert_eq!(s.list("").unwrap(), names(&["g", "l"]));
}

/// HyperBEAM's content-addressed area: many messages link to one
/// `data/<hash>`, which a write at one message's field must not change.
pub fn write_over_a_link_to_a_value_replaces_the_link_not_the_target(s: &impl Store) {
    s.write("data/h", b"shared").unwrap();
    s.make_link("data/h", "m1/body").unwrap();
    s.make_link("data/h", "m2/body").unwrap();
    s.write("m1/body", b"own").unwrap();
    assert_eq!(s.read("m1/body").unwrap(), bytes("own"));
    assert_eq!(s.read("data/h").unwrap(), bytes("shared"));
    assert_eq!(s.read("m2/body").unwrap(), bytes("shared"));
    assert_eq!(s.resolve("m1/body").unwrap(), "m1/body", "a value now");
}

pub fn write_over_a_dangling_link_replaces_the_link(s: &impl Store) {
    s.make_link("no/such", "l").unwrap();
    s.write("l", b"v").unwrap();
    assert_eq!(s.read("l").unwrap(), bytes("v"));
    assert_eq!(s.type_of("no").unwrap(), None, "nothing made at the target");
}

pub fn write_over_a_link_to_a_group_replaces_the_link(s: &impl Store) {
    s.write("g/x", b"1").unwrap();
    s.make_link("g", "l").unwrap();
    s.write("l", b"v").unwrap();
    assert_eq!(s.read("l").unwrap(), bytes("v"));
    assert_eq!(s.list("g").unwrap(), names(&["x"]));
}

pub fn a_batch_can_re_point_and_replace_links(s: &impl Store) {
    s.make_link("t1", "l").unwrap();
    s.make_link("t1", "k").unwrap();
    let mut batch = Batch::new();
    batch
        .make_link("t2", "l")
        .unwrap()
        .make_link("t3", "l")
        .unwrap()
        .write("k", b"value")
        .unwrap()
        .make_link("t4", "k")
        .unwrap();
    s.apply(&batch).unwrap();
    assert_eq!(s.resolve("l").unwrap(), "t3");
    assert_eq!(s.resolve("k").unwrap(), "t4");
    // A failing batch re-points nothing.
    let mut failing = Batch::new();
    failing.make_link("t9", "l").unwrap();
    failing
        .make_group("g")
        .unwrap()
        .make_link("t9", "g")
        .unwrap();
    assert!(matches!(
        fails(s.apply(&failing)),
        Error::AlreadyExists { .. }
    ));
    assert_eq!(s.resolve("l").unwrap(), "t3");
    assert_eq!(s.type_of("g").unwrap(), None);
}

pub fn type_and_list_follow_links(s: &impl Store) {
    s.write("g/v", b"x").unwrap();
    s.make_link("g", "lg").unwrap();
    s.make_link("g/v", "lv").unwrap();
    assert_eq!(s.type_of("lg").unwrap(), Some(EntryType::Composite));
    assert_eq!(s.type_of("lv").unwrap(), Some(EntryType::Simple));
    assert_eq!(s.list("lg").unwrap(), names(&["v"]));
    assert!(matches!(fails(s.list("lv")), Error::NotAGroup { value_at, .. } if value_at == "g/v"));
}

pub fn delete_removes_a_value_and_says_so(s: &impl Store) {
    s.write("g/v", b"x").unwrap();
    assert!(s.delete("g/v").unwrap());
    assert_eq!(s.read("g/v").unwrap(), None);
    assert_eq!(s.list("g").unwrap(), names(&[]), "the parent group stays");
}

pub fn delete_of_a_missing_path_removes_nothing(s: &impl Store) {
    assert!(!s.delete("missing").unwrap());
    assert!(!s.delete_recursive("missing/deeper").unwrap());
    s.write("v", b"x").unwrap();
    assert!(!s.delete("v/under").unwrap());
}

pub fn delete_of_a_link_removes_the_link_not_the_target(s: &impl Store) {
    s.write("t", b"x").unwrap();
    s.make_group("g").unwrap();
    s.make_link("t", "l").unwrap();
    s.make_link("g", "lg").unwrap();
    assert!(s.delete("l").unwrap());
    assert!(s.delete("lg").unwrap());
    assert_eq!(s.read("t").unwrap(), bytes("x"));
    assert_eq!(s.type_of("g").unwrap(), Some(EntryType::Composite));
    assert_eq!(s.list("").unwrap(), names(&["g", "t"]));
}

pub fn delete_of_a_non_empty_group_is_not_empty_unless_recursive(s: &impl Store) {
    s.write("g/a/b", b"x").unwrap();
    let e = fails(s.delete("g"));
    assert!(
        matches!(&e, Error::NotEmpty { path } if path == "g"),
        "{e:?}"
    );
    assert_eq!(s.read("g/a/b").unwrap(), bytes("x"));
    s.make_group("empty").unwrap();
    assert!(s.delete("empty").unwrap());
    assert_eq!(s.type_of("empty").unwrap(), None);
}

pub fn delete_recursive_removes_the_whole_subtree(s: &impl Store) {
    s.write("g/a/b/c", b"x").unwrap();
    s.write("g/d", b"x").unwrap();
    s.make_link("g/d", "g/a/l").unwrap();
    s.write("g0/keep", b"x").unwrap();
    s.write("keep", b"x").unwrap();
    assert!(s.delete_recursive("g").unwrap());
    assert_eq!(s.list("").unwrap(), names(&["g0", "keep"]));
    assert_eq!(s.type_of("g/a").unwrap(), None);
    s.write("g/a", b"again").unwrap();
    assert_eq!(
        s.list("g").unwrap(),
        names(&["a"]),
        "nothing of the old subtree comes back"
    );
}

pub fn delete_resolves_the_parent(s: &impl Store) {
    s.write("g/x", b"v").unwrap();
    s.make_link("g", "l").unwrap();
    assert!(s.delete("l/x").unwrap());
    assert_eq!(s.list("g").unwrap(), names(&[]));
}

pub fn reset_empties_the_store_and_it_stays_usable(s: &impl Store) {
    s.write("a/b", b"x").unwrap();
    s.make_link("a", "l").unwrap();
    s.reset().unwrap();
    assert_eq!(s.list("").unwrap(), names(&[]));
    assert_eq!(s.read("a/b").unwrap(), None);
    s.write("a", b"value now").unwrap();
    assert_eq!(s.read("a").unwrap(), bytes("value now"));
    s.write("n/m", b"y").unwrap();
    assert_eq!(s.list("n").unwrap(), names(&["m"]));
}

pub fn path_and_add_path_join_without_the_store(s: &impl Store) {
    assert_eq!(s.path(["a", "b"]).unwrap(), "a/b");
    assert_eq!(s.path("/a//b").unwrap(), "a/b");
    assert_eq!(s.add_path("a/b", ["c", "d"]).unwrap(), "a/b/c/d");
    assert_eq!(s.list("").unwrap(), names(&[]));
}

pub fn a_batch_is_all_or_nothing(s: &impl Store) {
    s.write("v", b"x").unwrap();
    let mut batch = Batch::new();
    batch.write("a/1", b"1").unwrap();
    batch.make_group("b").unwrap();
    batch.write("v/under", b"fails").unwrap();
    assert!(matches!(fails(s.apply(&batch)), Error::NotAGroup { .. }));
    assert_eq!(
        s.list("").unwrap(),
        names(&["v"]),
        "nothing of the batch is there"
    );
}

pub fn a_batch_sees_its_earlier_operations(s: &impl Store) {
    let mut batch = Batch::new();
    batch
        .make_group("g")
        .unwrap()
        .make_link("g", "l")
        .unwrap()
        .write("l/x", b"through the link")
        .unwrap()
        .make_link("l/x", "alias")
        .unwrap();
    s.apply(&batch).unwrap();
    assert_eq!(s.read("g/x").unwrap(), bytes("through the link"));
    assert_eq!(s.read("alias").unwrap(), bytes("through the link"));
}

pub fn a_batch_can_delete_and_recreate(s: &impl Store) {
    s.write("g/old", b"x").unwrap();
    let mut batch = Batch::new();
    batch.delete_recursive("g").unwrap();
    batch.write("g", b"now a value").unwrap();
    batch.write("h/x", b"1").unwrap();
    batch.delete("h/x").unwrap();
    batch.delete("h").unwrap();
    s.apply(&batch).unwrap();
    assert_eq!(s.read("g").unwrap(), bytes("now a value"));
    assert_eq!(s.list("").unwrap(), names(&["g"]));
}

pub fn a_group_replaced_by_a_value_in_a_batch_is_a_value_afterwards(s: &impl Store) {
    s.write("c/a", b"x").unwrap();
    let mut batch = Batch::new();
    batch
        .delete_recursive("c")
        .unwrap()
        .write("c", b"value")
        .unwrap();
    s.apply(&batch).unwrap();
    assert_eq!(s.type_of("c").unwrap(), Some(EntryType::Simple));
    assert!(matches!(
        fails(s.write("c/x", b"y")),
        Error::NotAGroup { .. }
    ));
    assert!(matches!(fails(s.make_group("c")), Error::NotAGroup { .. }));
}

pub fn an_empty_batch_does_nothing(s: &impl Store) {
    s.apply(&Batch::new()).unwrap();
    assert_eq!(s.list("").unwrap(), names(&[]));
}

pub fn errors_name_the_path(s: &impl Store) {
    s.write("some/value", b"x").unwrap();
    let messages = [
        fails(s.write("some/value/below", b"x")).to_string(),
        fails(s.write("some", b"x")).to_string(),
        fails(s.list("some/value")).to_string(),
        fails(s.read("bad/../path")).to_string(),
        fails(s.delete("some")).to_string(),
        fails(s.make_link("t", "some")).to_string(),
    ];
    for (message, path) in messages.iter().zip([
        "some/value/below",
        "some",
        "some/value",
        "bad/../path",
        "some",
        "some",
    ]) {
        assert!(message.contains(path), "{message:?} names {path:?}");
    }
}
