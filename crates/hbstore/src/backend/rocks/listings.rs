//! A group's children as the entry cache keeps them (names, kinds, a
//! value's length, a link's target), so that listing a small group, or
//! reading a whole message, is a look-up in the process instead of an
//! iterator over every level of RocksDB. The values themselves stay in
//! their own records of the entry cache: a message's fields are read one
//! by one too, and keeping them twice would halve what the cache holds.

use crate::codec::{self, Entry};
use crate::path::join_str;
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

/// `listing` (of `group`, in ascending order) with a transaction's
/// changes to its children applied. `None` if a change does not decode
/// (the caller then keeps no listing).
pub(crate) fn apply(
    mut listing: Vec<Child>,
    group: &str,
    changes: &[Change<'_>],
) -> Option<Vec<Child>> {
    for &(name, change) in changes {
        let at = listing.binary_search_by(|c| c.name.as_bytes().cmp(name.as_bytes()));
        match (change, at) {
            (None, Ok(i)) => {
                listing.remove(i);
            }
            (None, Err(_)) => {}
            (Some(stored), at) => {
                let path = join_str(group, name);
                let new = child(name, &codec::decode_entry(&path, stored).ok()?);
                match at {
                    Ok(i) => listing[i] = new,
                    Err(i) => listing.insert(i, new),
                }
            }
        }
    }
    Some(listing)
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
    let len = usize::from(u16::from_le_bytes([*bytes.first()?, *bytes.get(1)?]));
    let text = bytes.get(2..2 + len)?;
    *bytes = &bytes[2 + len..];
    String::from_utf8(text.to_vec()).ok()
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
