//! Listing and `match`, answered from the layout's ordered keys without
//! scanning the cluster: a group's names are a sorted set in its own slot
//! (`ZRANGEBYLEX` from any name, either way, a page at a time), and
//! `match` reads the link index of its first pair and checks each group it
//! names in that group's own slot.

use hbstore::{Child, ChildKind, ChildRead, Direction, EntryRead, Error, Page, Result, StorePath};

use crate::client::slot_of;
use crate::layout::Entry;
use crate::resolve::Hops;
use crate::resp::{Cmd, Reply};
use crate::steps::{PageChild, Steps};

/// Children read per step: one script call answers at most this many, so
/// no call holds a node for long, however large the group.
pub const PAGE: usize = 1000;

/// Candidates of the link index checked per round.
const MATCH_ROUND: usize = 256;

fn exclusive(name: &str) -> Vec<u8> {
    let mut bound = Vec::with_capacity(name.len() + 1);
    bound.push(b'(');
    bound.extend_from_slice(name.as_bytes());
    bound
}

fn inclusive(name: &str) -> Vec<u8> {
    let mut bound = Vec::with_capacity(name.len() + 1);
    bound.push(b'[');
    bound.extend_from_slice(name.as_bytes());
    bound
}

impl Steps {
    /// Where `origin` resolves, if a group is there: `Some(physical path)`;
    /// `None` when absent; `NotAGroup` when a value.
    fn group_at(&self, origin: &StorePath) -> Result<Option<String>> {
        let located = self.locate(origin.as_str(), &mut Hops::new(origin))?;
        match located.entry {
            Some(Entry::Value(_)) => Err(Error::NotAGroup {
                path: origin.to_string(),
                value_at: located.path,
            }),
            Some(_) => Ok(Some(located.path)),
            None => Ok(None),
        }
    }

    /// Up to `limit` children of the physical group `group` from `page`'s
    /// start, in pages; `None` when the group is not alive.
    fn children(
        &self,
        group: &str,
        page: &Page,
        inline_up_to: Option<usize>,
    ) -> Result<Option<Vec<(String, PageChild)>>> {
        let descending = page.direction == Direction::Descending;
        let (mut start, end): (Vec<u8>, &[u8]) = match (&page.from, descending) {
            (Some(from), _) => (inclusive(from), if descending { b"-" } else { b"+" }),
            (None, false) => (b"-".to_vec(), b"+"),
            (None, true) => (b"+".to_vec(), b"-"),
        };
        let wanted = page.limit.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        // At least one step, even for a page of 0: it says whether the
        // group is there.
        loop {
            let take = (wanted - out.len()).min(PAGE);
            let Some(batch) = self.page(group, (&start, end), take, descending, inline_up_to)?
            else {
                return Ok(if out.is_empty() { None } else { Some(out) });
            };
            let full = batch.len() == take;
            if let Some((last, _)) = batch.last() {
                start = exclusive(last);
            }
            out.extend(batch);
            if !full || out.len() >= wanted {
                break;
            }
        }
        Ok(Some(out))
    }

    /// `list_range` (and `list`, a page without bounds).
    pub fn list_range(&self, origin: &StorePath, page: &Page) -> Result<Option<Vec<Child>>> {
        // Tried as a physical group first: one step when it is one.
        let found = match self.children(origin.as_str(), page, None)? {
            Some(found) => Some(found),
            None => match self.group_at(origin)? {
                None => return Ok(None),
                // An alive group's pages are found above; this is one whose
                // creator has not marked it yet (so it is empty), or one
                // reached through links.
                Some(group) => Some(self.children(&group, page, None)?.unwrap_or_default()),
            },
        };
        Ok(found.map(|children| {
            children
                .into_iter()
                .map(|(name, child)| Child {
                    name,
                    kind: kind(child).0,
                })
                .collect()
        }))
    }

    /// `read_entry`.
    pub fn read_entry(&self, origin: &StorePath, inline_up_to: usize) -> Result<Option<EntryRead>> {
        let all = Page::default();
        let children = match self.children(origin.as_str(), &all, Some(inline_up_to))? {
            Some(children) => children,
            None => {
                let located = self.locate(origin.as_str(), &mut Hops::new(origin))?;
                match located.entry {
                    None => return Ok(None),
                    Some(Entry::Value(v)) => return Ok(Some(EntryRead::Value(v))),
                    Some(_) => self
                        .children(&located.path, &all, Some(inline_up_to))?
                        .unwrap_or_default(),
                }
            }
        };
        Ok(Some(EntryRead::Group(
            children
                .into_iter()
                .map(|(name, child)| {
                    let (kind, bytes) = kind(child);
                    ChildRead { name, kind, bytes }
                })
                .collect(),
        )))
    }

    /// `match`: the groups whose child `key` links to `target`, for every
    /// pair, in byte order.
    pub fn match_links(
        &self,
        pairs: &[(String, StorePath)],
        limit: Option<usize>,
    ) -> Result<Vec<String>> {
        let Some((key, target)) = pairs.first() else {
            return Ok(Vec::new());
        };
        let limit = limit.unwrap_or(usize::MAX);
        let index = self.layout.link_index(key, target.as_str());
        let slot = slot_of(&index);
        let wanted: Vec<Vec<u8>> = pairs
            .iter()
            .map(|(_, t)| Entry::Link(t.to_string()).encode())
            .collect();
        let fail = |e: crate::error::ClusterError| e.into_store_error("match");
        let mut start = b"-".to_vec();
        let mut found = Vec::new();
        while found.len() < limit {
            let cmd = Cmd::new("ZRANGEBYLEX")
                .arg(&index)
                .arg(&start)
                .arg("+")
                .arg("LIMIT")
                .arg("0")
                .arg(MATCH_ROUND.to_string());
            let reply = self.client.call(slot, &[cmd]).map_err(fail)?;
            let candidates: Vec<String> = reply
                .into_iter()
                .next()
                .map(Reply::into_items)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r.into_bytes().and_then(|b| String::from_utf8(b).ok()))
                .collect();
            let Some(last) = candidates.last() else {
                break;
            };
            start = exclusive(last);
            // Each candidate is checked in its own slot, all pairs at once:
            // the index may name groups whose link has since gone.
            let checks: Vec<(u16, Cmd)> = candidates
                .iter()
                .map(|group| {
                    let entries = self.layout.entries(group);
                    let mut cmd = Cmd::new("HMGET").arg(&entries);
                    for (key, _) in pairs {
                        cmd.push(key);
                    }
                    (slot_of(&entries), cmd)
                })
                .collect();
            let replies = self.client.call_each(checks).map_err(fail)?;
            for (group, reply) in candidates.iter().zip(replies) {
                let items = reply.items();
                let all = items.len() == wanted.len()
                    && items
                        .iter()
                        .zip(&wanted)
                        .all(|(got, want)| got.bytes() == Some(want.as_slice()));
                if all && found.len() < limit {
                    found.push(group.clone());
                }
            }
            if candidates.len() < MATCH_ROUND {
                break;
            }
        }
        Ok(found)
    }
}

fn kind(child: PageChild) -> (ChildKind, Option<Vec<u8>>) {
    match child {
        PageChild::Value { len, bytes } => (ChildKind::Value { len }, bytes),
        PageChild::Group => (ChildKind::Group, None),
        PageChild::Link(target) => (ChildKind::Link { target }, None),
    }
}
