//! What HyperBEAM's own store tests rely on, for every backend.

use hbstore::{EntryType, Store};

use super::support::{bytes, names};

pub fn a_written_key_reads_back(s: &impl Store) {
    s.write("test-key", b"test-value").unwrap();
    assert_eq!(s.read("test-key").unwrap(), bytes("test-value"));
}

pub fn a_missing_key_reads_as_nothing(s: &impl Store) {
    assert_eq!(s.read("non-existent-key").unwrap(), None);
}

pub fn reads_follow_a_link(s: &impl Store) {
    s.write("original", b"data").unwrap();
    s.make_link("original", "link").unwrap();
    assert_eq!(s.read("link").unwrap(), bytes("data"));
}

pub fn reads_follow_a_chain_of_two_links(s: &impl Store) {
    s.write("base", b"chained").unwrap();
    s.make_link("base", "link1").unwrap();
    s.make_link("link1", "link2").unwrap();
    assert_eq!(s.read("link2").unwrap(), bytes("chained"));
}

pub fn a_file_reads_through_a_link_to_its_group(s: &impl Store) {
    s.make_group("dir").unwrap();
    s.write("dir/file", b"inside").unwrap();
    s.make_link("dir", "dir-link").unwrap();
    assert_eq!(s.read("dir-link/file").unwrap(), bytes("inside"));
    assert_eq!(s.read(["dir-link", "file"]).unwrap(), bytes("inside"));
}

pub fn writing_a_message_key_creates_its_group(s: &impl Store) {
    s.write("messages/key1", b"m1").unwrap();
    assert_eq!(s.type_of("messages").unwrap(), Some(EntryType::Composite));
    assert_eq!(s.list("messages").unwrap(), names(&["key1"]));
}

pub fn make_group_creates_each_level_and_each_lists_its_child(s: &impl Store) {
    s.make_group("messages/ids/items").unwrap();
    assert_eq!(s.list("messages").unwrap(), names(&["ids"]));
    assert_eq!(s.list("messages/ids").unwrap(), names(&["items"]));
    s.write("messages/ids/items/one", b"1").unwrap();
    assert_eq!(s.list("messages/ids/items").unwrap(), names(&["one"]));
}

pub fn make_group_on_a_non_empty_group_keeps_it(s: &impl Store) {
    s.write("group/a", b"1").unwrap();
    s.write("group/b", b"2").unwrap();
    s.make_group("group").unwrap();
    assert_eq!(s.list("group").unwrap(), names(&["a", "b"]));
}

pub fn type_through_links_is_the_target_type(s: &impl Store) {
    s.make_group("g").unwrap();
    s.write("v", b"x").unwrap();
    s.make_link("g", "to-group").unwrap();
    s.make_link("v", "to-value").unwrap();
    assert_eq!(s.type_of("to-group").unwrap(), Some(EntryType::Composite));
    assert_eq!(s.type_of("to-value").unwrap(), Some(EntryType::Simple));
}

pub fn resolve_of_a_path_written_under_a_link_is_physical(s: &impl Store) {
    s.make_group("real").unwrap();
    s.make_link("real", "alias").unwrap();
    s.write("alias/key", b"v").unwrap();
    assert_eq!(s.resolve("alias/key").unwrap(), "real/key");
    assert_eq!(s.read("real/key").unwrap(), bytes("v"));
}

pub fn reset_empties_the_store(s: &impl Store) {
    s.write("a", b"1").unwrap();
    s.write("b/c", b"2").unwrap();
    s.reset().unwrap();
    assert_eq!(s.read("a").unwrap(), None);
    assert_eq!(s.list("").unwrap(), names(&[]));
}

/// HyperBEAM's location cache links a scheduler's
/// latest location again whenever it moves (`ok = hb_store:link(...)`).
pub fn a_link_made_again_points_at_the_new_target(s: &impl Store) {
    s.write("location/v1", b"node-a").unwrap();
    s.write("location/v2", b"node-b").unwrap();
    s.make_link("location/v1", "scheduler/latest").unwrap();
    s.make_link("location/v2", "scheduler/latest").unwrap();
    assert_eq!(s.read("scheduler/latest").unwrap(), bytes("node-b"));
}
