//! A group's children as the entry cache keeps them (names, kinds, a
//! value's length, a link's target), so that listing a small group, or
//! reading a whole message, is a look-up in the process instead of an
//! iterator over every level of RocksDB. The values themselves stay in
//! their own records of the entry cache: a message's fields are read one
//! by one too, and keeping them twice would halve what the cache holds.

use std::borrow::Cow;

use smallvec::SmallVec;

use crate::codec::{self, Entry};
use crate::store::{Child, ChildKind, Direction, Page};

/// Groups with more children are not kept: a listing is meant for a
/// message's fields, and a large group's pages are better read in place.
pub(crate) const MAX_CHILDREN: usize = 64;
/// Nor listings larger than this, encoded.
pub(crate) const MAX_BYTES: usize = 8 << 10;

const VALUE: u8 = 0;
const GROUP: u8 = 1;
const LINK: u8 = 2;

/// `children` encoded, or `None` when there are too many of them.
pub(crate) fn encode(children: &[Child]) -> Option<Vec<u8>> {
    if children.len() > MAX_CHILDREN {
        return None;
    }
    let mut out = Vec::with_capacity(children.len() * 16);
    for child in children {
        push_text(&mut out, &child.name)?;
        match &child.kind {
            ChildKind::Value { len } => {
                out.push(VALUE);
                push_varint(&mut out, *len);
            }
            ChildKind::Group => out.push(GROUP),
            ChildKind::Link { target } => {
                out.push(LINK);
                push_text(&mut out, target)?;
            }
        }
    }
    (out.len() <= MAX_BYTES).then_some(out)
}

/// The children `bytes` encodes (`None` if they are not a listing, which
/// a caller takes as a miss).
pub(crate) fn decode(mut bytes: &[u8]) -> Option<Vec<Child>> {
    let mut children = Vec::new();
    while !bytes.is_empty() {
        let name = take_text(&mut bytes)?;
        let (&tag, rest) = bytes.split_first()?;
        bytes = rest;
        let kind = match tag {
            VALUE => ChildKind::Value {
                len: take_varint(&mut bytes)?,
            },
            GROUP => ChildKind::Group,
            LINK => ChildKind::Link {
                target: take_text(&mut bytes)?,
            },
            _ => return None,
        };
        children.push(Child { name, kind });
    }
    Some(children)
}

/// What a listing says of a child.
pub(crate) fn child(name: &str, entry: &Entry<'_>) -> Child {
    let kind = match *entry {
        Entry::Value(v) => ChildKind::Value {
            len: v.len() as u64,
        },
        Entry::Group => ChildKind::Group,
        Entry::Link(t) => ChildKind::Link {
            target: t.to_owned(),
        },
    };
    Child {
        name: name.to_owned(),
        kind,
    }
}

/// A child's change, by name: its new stored bytes, or `None` when it is
/// removed.
pub(crate) type Change<'a> = (&'a str, Option<&'a [u8]>);

/// A child as its name and its whole encoding: a slice of the listing
/// being changed, or the encoding of a change.
type Encoded<'a> = (&'a str, Cow<'a, [u8]>);

/// An encoded listing (its children in ascending order) with a
/// transaction's changes to its children applied, encoded. It works on
/// the encoding itself: a writer keeps its group's listing on every
/// write, and decoding it into `Child`ren and encoding them again cost an
/// allocation per child each time. `None` if `old` is not a listing, a
/// change does not decode, or the result is too large to keep (the
/// caller then keeps no listing).
pub(crate) fn apply(old: &[u8], changes: &[Change<'_>]) -> Option<Vec<u8>> {
    let mut children: SmallVec<[Encoded<'_>; 16]> = SmallVec::new();
    let mut rest = old;
    while !rest.is_empty() {
        let start = rest;
        let name = take_str(&mut rest)?;
        skip_kind(&mut rest)?;
        children.push((name, Cow::Borrowed(&start[..start.len() - rest.len()])));
    }
    for &(name, change) in changes {
        let at = children.binary_search_by(|(n, _)| n.as_bytes().cmp(name.as_bytes()));
        match (change, at) {
            (None, Ok(i)) => {
                children.remove(i);
            }
            (None, Err(_)) => {}
            (Some(stored), at) => {
                let mut encoded = Vec::with_capacity(name.len() + 8);
                push_entry(&mut encoded, name, &codec::decode_entry(name, stored).ok()?)?;
                let new = (name, Cow::Owned(encoded));
                match at {
                    Ok(i) => children[i] = new,
                    Err(i) => children.insert(i, new),
                }
            }
        }
    }
    if children.len() > MAX_CHILDREN {
        return None;
    }
    let mut out = Vec::with_capacity(children.iter().map(|(_, e)| e.len()).sum());
    for (_, encoded) in &children {
        out.extend_from_slice(encoded);
    }
    (out.len() <= MAX_BYTES).then_some(out)
}

/// Appends one child's encoding, from its stored entry.
fn push_entry(out: &mut Vec<u8>, name: &str, entry: &Entry<'_>) -> Option<()> {
    push_text(out, name)?;
    match *entry {
        Entry::Value(v) => {
            out.push(VALUE);
            push_varint(out, v.len() as u64);
        }
        Entry::Group => out.push(GROUP),
        Entry::Link(target) => {
            out.push(LINK);
            push_text(out, target)?;
        }
    }
    Some(())
}

/// Steps over a child's kind (and its length or target) in an encoding.
fn skip_kind(bytes: &mut &[u8]) -> Option<()> {
    let (&tag, rest) = bytes.split_first()?;
    *bytes = rest;
    match tag {
        VALUE => take_varint(bytes).map(drop),
        GROUP => Some(()),
        LINK => take_str(bytes).map(drop),
        _ => None,
    }
}

/// The children of a whole listing (in ascending order) that `page` asks
/// for, in its order.
pub(crate) fn page_of(children: Vec<Child>, page: &Page) -> Vec<Child> {
    let limit = page.limit.unwrap_or(usize::MAX);
    let admitted = |child: &Child| page.admits(&child.name);
    match page.direction {
        Direction::Ascending => children.into_iter().filter(admitted).take(limit).collect(),
        Direction::Descending => children
            .into_iter()
            .rev()
            .filter(admitted)
            .take(limit)
            .collect(),
    }
}

fn push_text(out: &mut Vec<u8>, text: &str) -> Option<()> {
    out.extend_from_slice(&u16::try_from(text.len()).ok()?.to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    Some(())
}

fn take_text(bytes: &mut &[u8]) -> Option<String> {
    take_str(bytes).map(str::to_owned)
}

fn take_str<'b>(bytes: &mut &'b [u8]) -> Option<&'b str> {
    let len = usize::from(u16::from_le_bytes([*bytes.first()?, *bytes.get(1)?]));
    let text = bytes.get(2..2 + len)?;
    *bytes = &bytes[2 + len..];
    std::str::from_utf8(text).ok()
}

fn push_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn take_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        n |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(n);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn children() -> Vec<Child> {
        vec![
            Child {
                name: "a".into(),
                kind: ChildKind::Value { len: 0 },
            },
            Child {
                name: "b".into(),
                kind: ChildKind::Value { len: 300_000 },
            },
            Child {
                name: "c".into(),
                kind: ChildKind::Group,
            },
            Child {
                name: "d é".into(),
                kind: ChildKind::Link {
                    target: "data/x".into(),
                },
            },
        ]
    }

    #[test]
    fn a_listing_reads_back_as_written() {
        let encoded = encode(&children()).unwrap();
        assert_eq!(decode(&encoded), Some(children()));
        assert_eq!(decode(&[]), Some(Vec::new()));
        assert_eq!(decode(&encoded[..encoded.len() - 1]), None, "cut short");
        assert_eq!(decode(&[1, 0, b'x', 9]), None, "an unknown kind");
    }

    #[test]
    fn changes_apply_to_the_encoding_as_to_the_children() {
        let encoded = encode(&children()).unwrap();
        let value = codec::encode_value(b"12345");
        let link = codec::encode_link("data/y");
        let changes: [Change<'_>; 5] = [
            ("b", None),
            ("bb", Some(&value)),
            ("d é", Some(&link)),
            ("0", Some(codec::GROUP_BYTES)),
            ("zz", None),
        ];
        let mut expected = children();
        expected.remove(1);
        expected.insert(
            1,
            Child {
                name: "bb".into(),
                kind: ChildKind::Value { len: 5 },
            },
        );
        expected[3].kind = ChildKind::Link {
            target: "data/y".into(),
        };
        expected.insert(
            0,
            Child {
                name: "0".into(),
                kind: ChildKind::Group,
            },
        );
        let applied = apply(&encoded, &changes).unwrap();
        assert_eq!(decode(&applied), Some(expected));
        assert_eq!(
            apply(&[], &[("x", Some(codec::GROUP_BYTES))]).and_then(|e| decode(&e)),
            Some(vec![Child {
                name: "x".into(),
                kind: ChildKind::Group
            }])
        );
        assert_eq!(apply(&encoded[..encoded.len() - 1], &[]), None, "cut short");
        assert_eq!(apply(&[1, 0, b'x', 9], &[]), None, "an unknown kind");
        assert_eq!(apply(&encoded, &[("e", Some(&[0xee]))]), None, "damaged");
        let full = encode(&[]).unwrap();
        let names: Vec<String> = (0..=MAX_CHILDREN).map(|i| format!("{i:03}")).collect();
        let many: Vec<Change<'_>> = names
            .iter()
            .map(|n| (n.as_str(), Some(codec::GROUP_BYTES)))
            .collect();
        assert_eq!(apply(&full, &many), None, "too many children");
        assert!(apply(&full, &many[1..]).is_some());
    }

    #[test]
    fn large_groups_are_not_kept() {
        let many: Vec<Child> = (0..=MAX_CHILDREN)
            .map(|i| Child {
                name: format!("{i}"),
                kind: ChildKind::Group,
            })
            .collect();
        assert_eq!(encode(&many), None);
    }

    #[test]
    fn pages_come_from_a_whole_listing_as_a_scan_gives_them() {
        let names = |page: &Page| -> Vec<String> {
            page_of(children(), page)
                .into_iter()
                .map(|c| c.name)
                .collect()
        };
        let up = Page {
            from: Some("b".into()),
            limit: Some(2),
            direction: Direction::Ascending,
        };
        assert_eq!(names(&up), ["b", "c"]);
        let down = Page {
            from: Some("c".into()),
            limit: None,
            direction: Direction::Descending,
        };
        assert_eq!(names(&down), ["c", "b", "a"]);
        let between = Page {
            from: Some("bb".into()),
            limit: Some(0),
            direction: Direction::Ascending,
        };
        assert!(names(&between).is_empty());
        assert_eq!(names(&Page::default()), ["a", "b", "c", "d é"]);
    }
}
