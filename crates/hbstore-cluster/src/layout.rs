//! The key layout and the entry encoding: everything hbstore stores in a
//! cluster, in one place.
//!
//! Every key of one group shares the group's hash tag, `{NS:GROUP}`, so all
//! of them live in one slot and one server-side script can change them
//! together:
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{NS:G}e` | hash | the children of group `G`: name → entry |
//! | `{NS:G}n` | sorted set | the same names, score 0, for pages in byte order (`ZRANGEBYLEX`) |
//! | `{NS:G}m` | hash | `G`'s marker: `t` = the token of its live incarnation; `x<token>` for each dead one; `r<attempt>` for each refused deletion |
//! | `{NS#KEY\0TARGET}i` | sorted set | the link index for `match`: the groups having a child `KEY` that links to `TARGET` |
//!
//! `G` is the group's canonical path (the root is the empty string). A
//! path may contain `}`; the tag then ends there, which still gives every
//! key of one group the same slot, and the keys stay distinct because the
//! whole path is in them. `NS` (the namespace) is `[A-Za-z0-9_.-]+`, so
//! several stores share a cluster without meeting.
//!
//! An entry is one tag byte and its payload: `v` + the value's bytes, `g` +
//! the group's token, `d` + token + `:` + attempt (a group being deleted),
//! `l` + the link's canonical target. Tokens and attempts are random, 16
//! hex digits: they tell one incarnation of a group from the next.

use std::fmt::Write as _;

/// The version of this layout; a store's namespace records it under
/// `{NS:}v` (the root's slot) the first time it is opened for writing.
pub const LAYOUT_VERSION: &str = "1";

/// The keys of one store (one namespace) in a cluster.
#[derive(Debug, Clone)]
pub struct Layout {
    namespace: String,
}

/// A namespace hbstore accepts; `Err` says why not.
pub fn check_namespace(ns: &str) -> Result<(), String> {
    if ns.is_empty() || ns.len() > 64 {
        return Err("a namespace is 1 to 64 characters".into());
    }
    if let Some(c) = ns
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "{c:?} is not allowed in a namespace (letters, digits, '_', '.', '-')"
        ));
    }
    Ok(())
}

impl Layout {
    /// The layout of namespace `ns` (checked with [`check_namespace`]).
    pub fn new(ns: &str) -> Layout {
        Layout {
            namespace: ns.to_owned(),
        }
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn group_key(&self, group: &str, suffix: u8) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.namespace.len() + group.len() + 4);
        key.push(b'{');
        key.extend_from_slice(self.namespace.as_bytes());
        key.push(b':');
        key.extend_from_slice(group.as_bytes());
        key.push(b'}');
        key.push(suffix);
        key
    }

    /// The marker of `group`.
    pub fn marker(&self, group: &str) -> Vec<u8> {
        self.group_key(group, b'm')
    }

    /// The children of `group`, name → entry.
    pub fn entries(&self, group: &str) -> Vec<u8> {
        self.group_key(group, b'e')
    }

    /// The names of `group`'s children, for ordered pages.
    pub fn names(&self, group: &str) -> Vec<u8> {
        self.group_key(group, b'n')
    }

    /// The three keys of `group`, as every group script takes them.
    pub fn group_keys(&self, group: &str) -> [Vec<u8>; 3] {
        [self.marker(group), self.entries(group), self.names(group)]
    }

    /// The layout version's key, in the root's slot.
    pub fn version(&self) -> Vec<u8> {
        self.group_key("", b'v')
    }

    /// The link index of (`key`, `target`): the groups `g` where `g/key`
    /// links to `target`.
    pub fn link_index(&self, key: &str, target: &str) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.namespace.len() + key.len() + target.len() + 5);
        k.push(b'{');
        k.extend_from_slice(self.namespace.as_bytes());
        k.push(b'#');
        k.extend_from_slice(key.as_bytes());
        k.push(0);
        k.extend_from_slice(target.as_bytes());
        k.push(b'}');
        k.push(b'i');
        k
    }

    /// The `SCAN` pattern of every key of the namespace.
    pub fn pattern(&self) -> String {
        format!("{{{}[:#]*", self.namespace)
    }

    /// What a key of this namespace is, for `check`.
    pub fn parse(&self, key: &[u8]) -> Option<Key> {
        let rest = key
            .strip_prefix(b"{")?
            .strip_prefix(self.namespace.as_bytes())?;
        let (&sep, rest) = rest.split_first()?;
        let (&suffix, body) = rest.split_last()?;
        let body = body.strip_suffix(b"}")?;
        match (sep, suffix) {
            (b':', b'm' | b'e' | b'n' | b'v') => {
                let group = String::from_utf8(body.to_vec()).ok()?;
                Some(Key::Group { group, suffix })
            }
            (b'#', b'i') => {
                let at = body.iter().position(|&b| b == 0)?;
                let key = String::from_utf8(body[..at].to_vec()).ok()?;
                let target = String::from_utf8(body[at + 1..].to_vec()).ok()?;
                Some(Key::Index { key, target })
            }
            _ => None,
        }
    }
}

/// A key of the layout, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// One of a group's keys (`m`, `e`, `n`, or the root's `v`).
    Group {
        /// The group's path.
        group: String,
        /// Which key.
        suffix: u8,
    },
    /// A link index.
    Index {
        /// The child name.
        key: String,
        /// The target.
        target: String,
    },
}

/// One child as stored in its group's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A value.
    Value(Vec<u8>),
    /// A group, with the token of its incarnation.
    Group(String),
    /// A group whose deletion (attempt `attempt`) is under way.
    Deleting {
        /// The group's token.
        token: String,
        /// The deletion attempt.
        attempt: String,
    },
    /// A link, with its canonical target.
    Link(String),
}

impl Entry {
    /// The stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Entry::Value(v) => tagged(b'v', v),
            Entry::Group(t) => tagged(b'g', t.as_bytes()),
            Entry::Deleting { token, attempt } => {
                tagged(b'd', format!("{token}:{attempt}").as_bytes())
            }
            Entry::Link(t) => tagged(b'l', t.as_bytes()),
        }
    }

    /// The entry in `raw`; `Err` says what is wrong with it.
    pub fn decode(raw: &[u8]) -> Result<Entry, String> {
        let (&tag, payload) = raw.split_first().ok_or("an empty entry")?;
        let text = || {
            std::str::from_utf8(payload)
                .map(str::to_owned)
                .map_err(|_| format!("tag {:?} with a payload that is not UTF-8", tag as char))
        };
        match tag {
            b'v' => Ok(Entry::Value(payload.to_vec())),
            b'g' => Ok(Entry::Group(text()?)),
            b'd' => {
                let all = text()?;
                let (token, attempt) = all
                    .split_once(':')
                    .ok_or("a deleting group without its attempt")?;
                Ok(Entry::Deleting {
                    token: token.to_owned(),
                    attempt: attempt.to_owned(),
                })
            }
            b'l' => {
                let target = text()?;
                if !hbstore::is_canonical(&target) {
                    return Err(format!("a link to {target:?}, not a canonical path"));
                }
                Ok(Entry::Link(target))
            }
            other => Err(format!("unknown tag byte 0x{other:02x}")),
        }
    }

    /// What the entry is, in the words of `AlreadyExists`.
    pub fn describe(&self) -> String {
        match self {
            Entry::Value(_) => "a value".to_owned(),
            Entry::Group(_) | Entry::Deleting { .. } => "a group".to_owned(),
            Entry::Link(t) => format!("a link to {t:?}"),
        }
    }
}

fn tagged(tag: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 1);
    out.push(tag);
    out.extend_from_slice(payload);
    out
}

/// A fresh random token (or deletion attempt): 16 hex digits.
pub fn token() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded from the OS once per process and differs per
    // instance; hashing a counter, the time and the process id through it
    // gives tokens that do not repeat across processes and machines.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(now.as_nanos());
    }
    let mut out = String::with_capacity(16);
    let _ = write!(out, "{:016x}", hasher.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slot;

    #[test]
    fn a_groups_keys_share_one_slot_even_with_braces_in_the_path() {
        let layout = Layout::new("hb");
        for group in ["", "a", "a/b", "x}y", "{z}", "}"] {
            let [m, e, n] = layout.group_keys(group);
            assert_eq!(slot::of(&m), slot::of(&e), "{group}");
            assert_eq!(slot::of(&m), slot::of(&n), "{group}");
        }
    }

    #[test]
    fn keys_parse_back() {
        let layout = Layout::new("hb");
        for group in ["", "a/b", "x}y"] {
            assert_eq!(
                layout.parse(&layout.entries(group)),
                Some(Key::Group {
                    group: group.into(),
                    suffix: b'e'
                })
            );
        }
        assert_eq!(
            layout.parse(&layout.link_index("k", "t}/u")),
            Some(Key::Index {
                key: "k".into(),
                target: "t}/u".into()
            })
        );
        assert_eq!(Layout::new("other").parse(&layout.entries("a")), None);
    }

    #[test]
    fn entries_round_trip_and_garbage_is_an_error() {
        for entry in [
            Entry::Value(b"\x00\xffbytes".to_vec()),
            Entry::Value(Vec::new()),
            Entry::Group(token()),
            Entry::Deleting {
                token: token(),
                attempt: token(),
            },
            Entry::Link("a/b".into()),
            Entry::Link(String::new()),
        ] {
            assert_eq!(Entry::decode(&entry.encode()).unwrap(), entry);
        }
        for garbage in [&b""[..], b"q", b"l/a", b"la//b", b"g\xff", b"dnocolon"] {
            assert!(Entry::decode(garbage).is_err(), "{garbage:?}");
        }
    }

    #[test]
    fn namespaces_are_checked() {
        assert!(check_namespace("hb-node_1.test").is_ok());
        for bad in ["", "a:b", "a{b", "a}b", "a#b", "a*", "é", &"x".repeat(65)] {
            assert!(check_namespace(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tokens_differ() {
        let a: std::collections::HashSet<String> = (0..1000).map(|_| token()).collect();
        assert_eq!(a.len(), 1000);
    }
}
