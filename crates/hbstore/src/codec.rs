//! The on-disk format of the RocksDB backend: key layout, entry tags, the
//! link index and the format version. This is the only file that knows how
//! bytes are laid out, so a format change is one diff here plus a version
//! bump. `docs/format.md` in the repository describes the same, for readers
//! who do not read Rust.
//!
//! # Format version 2
//!
//! **Entry keys.** An entry at canonical path `p` with `d` segments is stored
//! under `d as u16 big-endian ++ p`. The depth prefix is what makes the
//! hierarchy cheap: the children of `p` are exactly the keys that start with
//! `(d + 1) ++ p ++ "/"`, one contiguous range holding nothing but them, so
//! `list` costs the number of children, whatever the size of the database or
//! of the children's own subtrees. A group is one record of its own; adding a
//! child never rewrites a shared member set (the cost the Erlang module paid
//! on every write), so writing the millionth child costs what the tenth did.
//! Within the range, RocksDB's byte order of keys is the byte order of child
//! names, which is the order `list` promises.
//!
//! **Entry values.** One tag byte, as in `hb_store_rocksdb`, then the
//! payload: `1` link (payload: the target's canonical path, UTF-8), `2` value
//! (payload: the bytes), `3` group (no payload).
//!
//! **Metadata.** Depth 0 is the root, which is never stored, so keys that
//! start with `00 00` are free for metadata: `00 00 "hbstore-format"` holds
//! the format version as a `u32` big-endian. A database without it is not an
//! hbstore store.
//!
//! **The link index** (new in version 2) answers `match`: for every stored
//! link at `g/name` (`g` its parent group, empty for the root) whose target
//! is `t`, the key `00 00 01 ++ t ++ 00 ++ name ++ 00 ++ g` with an empty
//! value. Canonical paths hold no NUL, so the separators are unambiguous, and
//! the groups whose child `name` links to `t` are one contiguous range, in
//! byte order of `g`. The index record is written in the same atomic write
//! as the link it describes, and removed in the same write as the link.
//!
//! Version 1 is version 2 without the link index; a writable open upgrades
//! it in place (the index built in one pass, then the version record
//! rewritten, so an interrupted upgrade simply runs again).

use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::path::{depth_of, is_canonical};

/// The format this build writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 2;

/// The older format a writable open upgrades in place.
pub(crate) const UPGRADABLE_FORMAT: u32 = 1;

/// Depth 0 is the root, which is never stored: keys starting with it hold
/// metadata, never entries.
const METADATA_PREFIX: &[u8] = &[0, 0];

/// Where the format version is kept.
pub(crate) const FORMAT_KEY: &[u8] = b"\x00\x00hbstore-format";

/// Every link-index key starts with this; all of them lie in
/// `[LINK_INDEX_START, LINK_INDEX_END)`.
pub(crate) const LINK_INDEX_START: &[u8] = &[0, 0, 1];
pub(crate) const LINK_INDEX_END: &[u8] = &[0, 0, 2];

/// Separates the parts of a link-index key (no canonical path holds it).
const INDEX_SEPARATOR: u8 = 0;

/// Names the prefix extractor ([`children_prefix`]) the store's files are
/// written with. RocksDB records it in every table file and uses a file's
/// prefix filter only when the name it was built under is the one the
/// database is opened with: files written before the extractor (or under
/// another version of it) are read in total order, never misread. The
/// store records it too (`PREFIX_EXTRACTOR_KEY`), so tools can say what a
/// store's files were written with; a different definition must take a
/// new name.
pub(crate) const PREFIX_EXTRACTOR: &str = "hbstore.children-of.1";

/// Where a writable open records [`PREFIX_EXTRACTOR`].
pub(crate) const PREFIX_EXTRACTOR_KEY: &[u8] = b"\x00\x00hbstore-prefix-extractor";

/// The prefix RocksDB's prefix filters are built on: an entry key up to and
/// including the last `/` of its path, which is the start of the key range
/// of its parent's children (`level_range(parent, 1).0`), or the depth
/// alone for the root's children. So every child of one group shares one
/// prefix and nothing else does, and a scan of a group's children skips
/// every file whose filter lacks the group: a list or a message read of a
/// group that is not in a file reads no block of it.
///
/// RocksDB's essential property holds on the keys a store holds: an entry
/// key at depth `d` has exactly `d - 1` slashes, so any stored key between
/// two children of `g` starts with `g`'s prefix and has no further `/`.
/// Metadata keys (depth 0) are outside the domain and sort before every
/// entry key. The transform must accept any key in the domain (seek
/// targets and bounds too), and does.
pub(crate) fn children_prefix(key: &[u8]) -> &[u8] {
    let path = key.get(2..).unwrap_or_default();
    match path.iter().rposition(|&b| b == b'/') {
        Some(slash) => &key[..2 + slash + 1],
        None => &key[..key.len().min(2)],
    }
}

/// Whether [`children_prefix`] applies to `key`: entry keys, not metadata.
pub(crate) fn has_children_prefix(key: &[u8]) -> bool {
    key.len() >= 2 && key[..2] != *METADATA_PREFIX
}

/// The smallest possible entry key (depth 1, empty name) and the bound
/// above every entry key: entries live in `[ENTRIES_START, ENTRIES_END)`.
pub(crate) const ENTRIES_START: &[u8] = &[0, 1];
pub(crate) const ENTRIES_END: &[u8] = &[0xff, 0xff, 0xff];

pub(crate) const TAG_LINK: u8 = 1;
pub(crate) const TAG_VALUE: u8 = 2;
pub(crate) const TAG_GROUP: u8 = 3;

/// The stored bytes of a group.
pub(crate) const GROUP_BYTES: &[u8] = &[TAG_GROUP];

/// A decoded entry, borrowing from the stored bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry<'a> {
    Link(&'a str),
    Value(&'a [u8]),
    Group,
}

fn depth_bytes(depth: usize) -> [u8; 2] {
    let depth = u16::try_from(depth).expect("path length limit keeps depth below u16::MAX");
    depth.to_be_bytes()
}

/// An entry key, on the stack for the usual short paths: every operation
/// builds one per RocksDB get or put (a heap allocation each costs
/// `hbstore-bench --only 1`'s key write and key read rows several percent).
pub(crate) type EntryKey = SmallVec<[u8; 128]>;

/// The key of the entry at a canonical, non-root path.
pub(crate) fn entry_key(path: &str) -> EntryKey {
    let mut key = EntryKey::new();
    entry_key_into(&mut key, path);
    key
}

/// [`entry_key`] into a buffer the caller reuses.
pub(crate) fn entry_key_into(key: &mut EntryKey, path: &str) {
    key.clear();
    key.extend_from_slice(&depth_bytes(depth_of(path)));
    key.extend_from_slice(path.as_bytes());
}

/// The key range `[start, end)` holding exactly the entries `depth` levels
/// below `ancestor` (1 for its children).
pub(crate) fn level_range(ancestor: &str, levels: usize) -> (Vec<u8>, Vec<u8>) {
    let depth = depth_bytes(depth_of(ancestor) + levels);
    let mut start = Vec::with_capacity(3 + ancestor.len());
    start.extend_from_slice(&depth);
    if !ancestor.is_empty() {
        start.extend_from_slice(ancestor.as_bytes());
        start.push(b'/');
    }
    let end = if ancestor.is_empty() {
        depth_bytes(depth_of(ancestor) + levels + 1).to_vec()
    } else {
        // `'/' + 1` in place of the final `/` bounds every key that
        // continues `ancestor/`.
        let mut end = start.clone();
        if let Some(last) = end.last_mut() {
            *last = b'/' + 1;
        }
        end
    };
    (start, end)
}

/// The key range `[start, end)` of `group`'s children, as
/// [`level_range`]`(group, 1)` but bounded above inside the children's
/// prefix ([`children_prefix`]): `end` is `start ++ 0xff`, above every
/// child name (UTF-8 never holds the byte). A prefix seek needs its bounds
/// in the prefix it seeks: `seek_to_last` seeks to the upper bound.
pub(crate) fn children_range(group: &str) -> (Vec<u8>, Vec<u8>) {
    let (start, _) = level_range(group, 1);
    let mut end = start.clone();
    end.push(0xff);
    (start, end)
}

/// The canonical path stored in an entry key, checked against the key's
/// depth prefix.
pub(crate) fn decode_key(key: &[u8]) -> Result<&str> {
    let corrupt = |reason: &str| Error::Corrupt {
        key: show_key(key),
        reason: reason.to_owned(),
    };
    let [high, low, path @ ..] = key else {
        return Err(corrupt("too short for an entry key"));
    };
    let path = std::str::from_utf8(path).map_err(|_| corrupt("path is not UTF-8"))?;
    if path.is_empty() || !is_canonical(path) {
        return Err(corrupt("path is not canonical"));
    }
    if depth_of(path) != usize::from(u16::from_be_bytes([*high, *low])) {
        return Err(corrupt("depth prefix does not match the path"));
    }
    Ok(path)
}

/// Whether `key` lies in the metadata space (`00 00 ...`) rather than among
/// the entries.
pub(crate) fn is_metadata_key(key: &[u8]) -> bool {
    key.starts_with(METADATA_PREFIX)
}

/// The name of the child whose key is `key`, found in the range that
/// [`level_range`] gave for its parent (`range_start` is that range's
/// start): the key is the range's prefix followed by the name.
pub(crate) fn child_name<'k>(key: &'k [u8], range_start: &[u8]) -> Result<&'k str> {
    let name = key
        .strip_prefix(range_start)
        .filter(|name| !name.is_empty())
        .ok_or_else(|| Error::Corrupt {
            key: show_key(key),
            reason: "not a child key of the group being listed".to_owned(),
        })?;
    std::str::from_utf8(name).map_err(|_| Error::Corrupt {
        key: show_key(key),
        reason: "path is not UTF-8".to_owned(),
    })
}

/// Decodes the stored bytes of the entry at `path`.
pub(crate) fn decode_entry<'a>(path: &str, bytes: &'a [u8]) -> Result<Entry<'a>> {
    let corrupt = |reason: String| Error::Corrupt {
        key: format!("{path:?}"),
        reason,
    };
    match bytes.split_first() {
        Some((&TAG_VALUE, payload)) => Ok(Entry::Value(payload)),
        Some((&TAG_GROUP, [])) => Ok(Entry::Group),
        Some((&TAG_GROUP, _)) => Err(corrupt("group entry with a payload".into())),
        Some((&TAG_LINK, payload)) => {
            let target = std::str::from_utf8(payload)
                .map_err(|_| corrupt("link target is not UTF-8".into()))?;
            if is_canonical(target) {
                Ok(Entry::Link(target))
            } else {
                Err(corrupt(format!("link target {target:?} is not canonical")))
            }
        }
        Some((tag, _)) => Err(corrupt(format!("unknown tag {tag}"))),
        None => Err(corrupt("empty entry (no tag byte)".into())),
    }
}

/// The link-index key of the link stored at the canonical, non-root `path`
/// with target `target`.
pub(crate) fn link_index_key(path: &str, target: &str) -> Vec<u8> {
    let (group, name) = match path.rfind('/') {
        Some(cut) => (&path[..cut], &path[cut + 1..]),
        None => ("", path),
    };
    let mut key = link_index_range(target, name).0;
    key.extend_from_slice(group.as_bytes());
    key
}

/// The key range `[start, end)` of the groups whose child `name` links to
/// `target`: `start` is also the prefix the group follows in each key.
pub(crate) fn link_index_range(target: &str, name: &str) -> (Vec<u8>, Vec<u8>) {
    let mut start = Vec::with_capacity(LINK_INDEX_START.len() + target.len() + name.len() + 2);
    start.extend_from_slice(LINK_INDEX_START);
    start.extend_from_slice(target.as_bytes());
    start.push(INDEX_SEPARATOR);
    start.extend_from_slice(name.as_bytes());
    start.push(INDEX_SEPARATOR);
    let end = separator_range_end(&start);
    (start, end)
}

/// The key range `[start, end)` of every link to `target`, whatever its
/// name and group.
pub(crate) fn link_index_target_range(target: &str) -> (Vec<u8>, Vec<u8>) {
    let mut start = Vec::with_capacity(LINK_INDEX_START.len() + target.len() + 1);
    start.extend_from_slice(LINK_INDEX_START);
    start.extend_from_slice(target.as_bytes());
    start.push(INDEX_SEPARATOR);
    let end = separator_range_end(&start);
    (start, end)
}

/// The end of the range of keys that continue `start`, which ends in the
/// separator: the separator's successor in its place.
fn separator_range_end(start: &[u8]) -> Vec<u8> {
    let mut end = start.to_vec();
    if let Some(last) = end.last_mut() {
        *last = INDEX_SEPARATOR + 1;
    }
    end
}

/// Whether `key` is a link-index key.
pub(crate) fn is_link_index_key(key: &[u8]) -> bool {
    key.starts_with(LINK_INDEX_START)
}

/// The link a link-index key stands for: its physical path and target.
pub(crate) fn decode_link_index_key(key: &[u8]) -> Result<(String, &str)> {
    let corrupt = |reason: &str| Error::Corrupt {
        key: hex(key),
        reason: reason.to_owned(),
    };
    let rest = key
        .strip_prefix(LINK_INDEX_START)
        .ok_or_else(|| corrupt("not a link-index key"))?;
    let mut parts = rest.splitn(3, |&b| b == INDEX_SEPARATOR);
    let (Some(target), Some(name), Some(group)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(corrupt("a link-index key has three parts"));
    };
    let text = |bytes| std::str::from_utf8(bytes).map_err(|_| corrupt("not UTF-8"));
    let (target, name, group) = (text(target)?, text(name)?, text(group)?);
    if name.is_empty() || name.contains('/') || !is_canonical(name) || !is_canonical(group) {
        return Err(corrupt("the link's path is not canonical"));
    }
    if !is_canonical(target) {
        return Err(corrupt("the link's target is not canonical"));
    }
    Ok((crate::path::join_str(group, name), target))
}

pub(crate) fn encode_value(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + bytes.len());
    out.push(TAG_VALUE);
    out.extend_from_slice(bytes);
    out
}

pub(crate) fn encode_link(target: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + target.len());
    out.push(TAG_LINK);
    out.extend_from_slice(target.as_bytes());
    out
}

pub(crate) fn encode_format_version() -> [u8; 4] {
    FORMAT_VERSION.to_be_bytes()
}

/// The version stored in a format record, or what was found instead.
pub(crate) fn decode_format_version(bytes: &[u8]) -> Result<u32, String> {
    match <[u8; 4]>::try_from(bytes) {
        Ok(b) => Ok(u32::from_be_bytes(b)),
        Err(_) => Err(format!("unreadable record {}", hex(bytes))),
    }
}

/// A key as a person can read it: the path when it decodes, else hex.
pub(crate) fn show_key(key: &[u8]) -> String {
    match key {
        [a, b, rest @ ..] => match std::str::from_utf8(rest) {
            Ok(p) => format!("{:?} (depth {})", p, u16::from_be_bytes([*a, *b])),
            Err(_) => hex(key),
        },
        _ => hex(key),
    }
}

fn hex(bytes: &[u8]) -> String {
    let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{digits}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_depth_then_path() {
        assert_eq!(entry_key("a").as_slice(), b"\x00\x01a");
        assert_eq!(entry_key("a/bc").as_slice(), b"\x00\x02a/bc");
        assert_eq!(decode_key(b"\x00\x02a/bc").expect("valid"), "a/bc");
    }

    #[test]
    fn children_range_holds_children_only() {
        let (start, end) = level_range("a", 1);
        let inside = |k: &[u8]| k >= &start[..] && k < &end[..];
        assert!(inside(&entry_key("a/b")));
        assert!(inside(&entry_key("a/\u{10ffff}")));
        assert!(!inside(&entry_key("a/b/c")), "grandchild");
        assert!(!inside(&entry_key("ab/c")), "sibling with a longer name");
        assert!(!inside(&entry_key("a")), "the group itself");
        assert!(!inside(&entry_key("a0/c")));
        let (start, end) = level_range("", 1);
        assert_eq!(
            (start.as_slice(), end.as_slice()),
            (&[0, 1][..], &[0, 2][..])
        );
        let (start, _) = level_range("a", 2);
        assert_eq!(start, b"\x00\x03a/");
    }

    #[test]
    fn a_groups_children_share_one_prefix_and_nothing_else_does() {
        for group in ["", "a", "a/b", "msgs/m1"] {
            let (start, end) = children_range(group);
            assert_eq!(
                (start.as_slice(), level_range(group, 1).0.as_slice()),
                (children_prefix(&end), start.as_slice()),
                "both bounds in the prefix, the start as level_range's"
            );
            let inside = |k: &[u8]| k >= &start[..] && k < &end[..];
            let prefix = children_prefix(&start);
            assert_eq!(prefix, start.as_slice(), "the range starts at the prefix");
            assert_eq!(children_prefix(prefix), prefix, "idempotent");
            let child = |name: &str| entry_key(&join(group, name));
            for name in ["x", "body", "\u{10ffff}"] {
                assert!(has_children_prefix(&child(name)));
                assert_eq!(children_prefix(&child(name)), prefix, "{group:?} {name:?}");
                assert!(inside(&child(name)));
            }
            assert!(!inside(&child("x/y")));
            assert_ne!(children_prefix(&child("x/y")), prefix, "grandchild");
            assert!(has_children_prefix(&end), "bounds are in the domain too");
        }
        assert_eq!(children_prefix(&entry_key("a")), b"\x00\x01");
        // Depth 47 is the byte `/`: the depth is never searched.
        let deep = vec!["s"; 47].join("/");
        assert_eq!(children_prefix(&entry_key(&deep)).len(), 2 + deep.len() - 1);
        for metadata in [
            FORMAT_KEY,
            PREFIX_EXTRACTOR_KEY,
            LINK_INDEX_START,
            &[0][..],
            &[],
        ] {
            assert!(!has_children_prefix(metadata), "{metadata:?}");
        }
    }

    fn join(group: &str, name: &str) -> String {
        if group.is_empty() {
            name.to_owned()
        } else {
            format!("{group}/{name}")
        }
    }

    #[test]
    fn depth_mismatch_and_bad_paths_are_corrupt() {
        for key in [
            &b"\x00\x01a/b"[..],
            b"\x00\x02a//b",
            b"\x00\x01",
            b"\x00\x01\xff",
            b"\x00\x02a/b\x00c",
            b"\x00\x00",
        ] {
            assert!(
                matches!(decode_key(key), Err(Error::Corrupt { .. })),
                "{key:?}"
            );
        }
    }

    #[test]
    fn child_names_are_what_follows_the_range_start() {
        let (start, _) = level_range("a", 1);
        assert_eq!(child_name(&entry_key("a/bc"), &start).expect("child"), "bc");
        assert!(child_name(&entry_key("b/c"), &start).is_err());
        assert!(is_metadata_key(FORMAT_KEY));
        assert!(!is_metadata_key(&entry_key("a")));
    }

    #[test]
    fn link_index_keys_group_the_links_to_one_target_by_name() {
        let key = link_index_key("msgs/m1/body", "data/h1");
        assert_eq!(key, b"\x00\x00\x01data/h1\x00body\x00msgs/m1");
        let (start, end) = link_index_range("data/h1", "body");
        assert!(key.as_slice() >= start.as_slice() && key.as_slice() < end.as_slice());
        assert!(key.starts_with(&start));
        let other = link_index_key("msgs/m1/bodyx", "data/h1");
        assert!(
            other.as_slice() >= end.as_slice(),
            "another name is outside the range"
        );
        let (path, target) = decode_link_index_key(&key).expect("decodes");
        assert_eq!((path.as_str(), target), ("msgs/m1/body", "data/h1"));
        let top = link_index_key("latest", "msgs/m1");
        assert_eq!(decode_link_index_key(&top).expect("root").0, "latest");
        assert!(is_link_index_key(&top) && is_metadata_key(&top));
        assert!(top.as_slice() < LINK_INDEX_END);
        for bad in [
            &b"\x00\x00\x01t\x00name"[..],
            b"\x00\x00\x01t\x00a/b\x00g",
            b"\x00\x00\x01\xff\x00n\x00g",
        ] {
            assert!(decode_link_index_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tags_round_trip() {
        assert_eq!(
            decode_entry("k", &encode_value(b"xy")).expect("v"),
            Entry::Value(b"xy")
        );
        assert_eq!(
            decode_entry("k", &encode_link("a/b")).expect("l"),
            Entry::Link("a/b")
        );
        assert_eq!(decode_entry("k", GROUP_BYTES).expect("g"), Entry::Group);
        assert_eq!(
            decode_entry("k", &encode_value(b"")).expect("v"),
            Entry::Value(b"")
        );
    }

    #[test]
    fn unknown_tags_and_bad_links_are_corrupt() {
        for bytes in [
            &b""[..],
            b"\x07abc",
            b"\x03x",
            b"\x01a//b",
            b"\x01\xff",
            b"\x01a\x00b",
        ] {
            let err = decode_entry("k/x", bytes).expect_err("corrupt");
            assert!(
                matches!(err, Error::Corrupt { ref key, .. } if key.contains("k/x")),
                "{err}"
            );
        }
    }

    #[test]
    fn format_version_round_trips() {
        assert_eq!(
            decode_format_version(&encode_format_version()),
            Ok(FORMAT_VERSION)
        );
        assert!(decode_format_version(b"xyz").is_err());
    }
}
