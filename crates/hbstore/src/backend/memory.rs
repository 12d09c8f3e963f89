//! The in-memory backend: the reference model of the contract
//! (`docs/contract.md`).
//!
//! It is written for obvious correctness, not speed, so that the RocksDB
//! backend can be checked against it on random operation sequences. It
//! deliberately shares no logic with the RocksDB backend: resolution here is
//! the contract's walk, transcribed, with none of the shortcuts the RocksDB
//! backend takes. Every operation first computes its whole effect from a
//! read-only view and only then applies it, so a failed operation changes
//! nothing; a batch works on a copy that replaces the map only on success.

use std::collections::BTreeMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::error::{Error, Result};
use crate::path::{check_resolved_len, join_str, parent_of, prefixes, StorePath};
use crate::store::{
    Batch, Child, ChildKind, ChildRead, Direction, EntryRead, EntryType, Op, Page, Store,
    MAX_LINK_HOPS,
};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Value(Vec<u8>),
    Group,
    Link(String),
}

type Map = BTreeMap<String, Node>;

/// One pending change: the new node at a path, or its removal.
type Change = (String, Option<Node>);

/// A thread-safe in-memory store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: RwLock<Map>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read_map(&self) -> RwLockReadGuard<'_, Map> {
        crate::sync::read(&self.map)
    }

    fn write_map(&self) -> RwLockWriteGuard<'_, Map> {
        crate::sync::write(&self.map)
    }

    fn mutate(&self, op: OpRef<'_>) -> Result<bool> {
        let mut map = self.write_map();
        let (changes, removed) = plan(&map, op)?;
        apply_changes(&mut map, changes);
        Ok(removed)
    }
}

#[derive(Clone, Copy)]
enum OpRef<'a> {
    Write(&'a StorePath, &'a [u8]),
    MakeGroup(&'a StorePath),
    MakeLink(&'a StorePath, &'a StorePath),
    Delete(&'a StorePath, bool),
}

impl<'a> From<&'a Op> for OpRef<'a> {
    fn from(op: &'a Op) -> Self {
        match op {
            Op::Write { path, value } => OpRef::Write(path, value),
            Op::MakeGroup { path } => OpRef::MakeGroup(path),
            Op::MakeLink { existing, new } => OpRef::MakeLink(existing, new),
            Op::Delete { path, recursive } => OpRef::Delete(path, *recursive),
        }
    }
}

/// The contract's resolution: walk the segments, following every link met.
fn resolve(map: &Map, origin: &StorePath, path: &str, hops: &mut u32) -> Result<String> {
    let mut current = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        let candidate = join_str(&current, segment);
        current = match map.get(&candidate) {
            Some(Node::Link(target)) => {
                *hops += 1;
                if *hops > MAX_LINK_HOPS {
                    return Err(Error::link_loop(origin.as_str()));
                }
                resolve(map, origin, target, hops)?
            }
            _ => candidate,
        };
    }
    Ok(current)
}

fn resolve_path(map: &Map, path: &StorePath) -> Result<String> {
    resolve(map, path, path.as_str(), &mut 0)
}

/// Where `path` itself is stored: its parent resolved, its last segment
/// not followed (where `write` and `make_link` put their entry).
fn locate(map: &Map, path: &StorePath) -> Result<String> {
    let (Some(parent), Some(name)) = (path.parent(), path.name()) else {
        return Ok(String::new());
    };
    let at = join_str(&resolve(map, path, parent.as_str(), &mut 0)?, name);
    check_resolved_len(path, &at)?;
    Ok(at)
}

fn is_group(map: &Map, path: &str) -> bool {
    path.is_empty() || matches!(map.get(path), Some(Node::Group))
}

fn children(map: &Map, group: &str) -> Vec<Child> {
    let prefix = if group.is_empty() {
        String::new()
    } else {
        format!("{group}/")
    };
    map.range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter(|(k, _)| !k[prefix.len()..].contains('/'))
        .map(|(k, node)| Child {
            name: k[prefix.len()..].to_owned(),
            kind: match node {
                Node::Value(v) => ChildKind::Value {
                    len: v.len() as u64,
                },
                Node::Group => ChildKind::Group,
                Node::Link(t) => ChildKind::Link { target: t.clone() },
            },
        })
        .collect()
}

/// The groups to create so that every ancestor of `path` (not `path`
/// itself) is a group; `NotAGroup` if one of them is something else.
fn missing_ancestors(map: &Map, origin: &StorePath, path: &str) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    let Some(parent) = parent_of(path) else {
        return Ok(changes);
    };
    for prefix in prefixes(parent) {
        match map.get(prefix) {
            Some(Node::Group) => {}
            None => changes.push((prefix.to_owned(), Some(Node::Group))),
            Some(_) => {
                return Err(Error::NotAGroup {
                    path: origin.to_string(),
                    value_at: prefix.to_owned(),
                })
            }
        }
    }
    Ok(changes)
}

/// The changes one operation makes, and whether it removed something.
fn plan(map: &Map, op: OpRef<'_>) -> Result<(Vec<Change>, bool)> {
    match op {
        OpRef::Write(path, value) => {
            if path.is_root() {
                return Err(Error::root("written"));
            }
            let at = locate(map, path)?;
            if is_group(map, &at) {
                return Err(Error::IsGroup {
                    path: path.to_string(),
                });
            }
            let mut changes = missing_ancestors(map, path, &at)?;
            changes.push((at, Some(Node::Value(value.to_vec()))));
            Ok((changes, false))
        }
        OpRef::MakeGroup(path) => {
            let target = resolve_path(map, path)?;
            check_resolved_len(path, &target)?;
            match map.get(&target) {
                _ if is_group(map, &target) => Ok((Vec::new(), false)),
                Some(_) => Err(Error::NotAGroup {
                    path: path.to_string(),
                    value_at: target,
                }),
                None => {
                    let mut changes = missing_ancestors(map, path, &target)?;
                    changes.push((target, Some(Node::Group)));
                    Ok((changes, false))
                }
            }
        }
        OpRef::MakeLink(existing, new) => {
            if existing == new {
                return Ok((Vec::new(), false));
            }
            if new.is_root() {
                return Err(Error::root("a link"));
            }
            let at = locate(map, new)?;
            match map.get(&at) {
                Some(Node::Link(t)) if t == existing.as_str() => Ok((Vec::new(), false)),
                Some(Node::Group) => Err(Error::AlreadyExists {
                    path: new.to_string(),
                    existing: "a group".to_owned(),
                }),
                None | Some(Node::Value(_) | Node::Link(_)) => {
                    let mut changes = missing_ancestors(map, new, &at)?;
                    changes.push((at, Some(Node::Link(existing.to_string()))));
                    Ok((changes, false))
                }
            }
        }
        OpRef::Delete(path, recursive) => {
            let (Some(parent), Some(name)) = (path.parent(), path.name()) else {
                return Err(Error::root("deleted"));
            };
            let at = join_str(&resolve_path(map, &parent)?, name);
            match map.get(&at) {
                None => Ok((Vec::new(), false)),
                Some(Node::Group) => {
                    let below = format!("{at}/");
                    let descendants: Vec<Change> = map
                        .range(below.clone()..)
                        .take_while(|(k, _)| k.starts_with(&below))
                        .map(|(k, _)| (k.clone(), None))
                        .collect();
                    if !descendants.is_empty() && !recursive {
                        return Err(Error::NotEmpty {
                            path: path.to_string(),
                        });
                    }
                    let mut changes = descendants;
                    changes.push((at, None));
                    Ok((changes, true))
                }
                Some(_) => Ok((vec![(at, None)], true)),
            }
        }
    }
}

fn apply_changes(map: &mut Map, changes: Vec<Change>) {
    for (path, node) in changes {
        match node {
            Some(node) => map.insert(path, node),
            None => map.remove(&path),
        };
    }
}

impl Store for MemoryStore {
    fn read_at(&self, path: &StorePath) -> Result<Option<Vec<u8>>> {
        let map = self.read_map();
        let target = resolve_path(&map, path)?;
        Ok(match map.get(&target) {
            Some(Node::Value(v)) => Some(v.clone()),
            _ => None,
        })
    }

    fn type_at(&self, path: &StorePath) -> Result<Option<EntryType>> {
        let map = self.read_map();
        let target = resolve_path(&map, path)?;
        Ok(match map.get(&target) {
            _ if target.is_empty() => Some(EntryType::Composite),
            Some(Node::Value(_)) => Some(EntryType::Simple),
            Some(Node::Group) => Some(EntryType::Composite),
            _ => None,
        })
    }

    fn list_at(&self, path: &StorePath) -> Result<Option<Vec<Child>>> {
        let map = self.read_map();
        let target = resolve_path(&map, path)?;
        if is_group(&map, &target) {
            return Ok(Some(children(&map, &target)));
        }
        match map.get(&target) {
            Some(Node::Value(_)) => Err(Error::NotAGroup {
                path: path.to_string(),
                value_at: target,
            }),
            _ => Ok(None),
        }
    }

    fn resolve_at(&self, path: &StorePath) -> Result<StorePath> {
        let map = self.read_map();
        resolve_path(&map, path).map(StorePath::from_canonical)
    }

    fn list_range_at(&self, path: &StorePath, page: &Page) -> Result<Option<Vec<Child>>> {
        let Some(mut children) = self.list_at(path)? else {
            return Ok(None);
        };
        children.retain(|c| page.admits(&c.name));
        if page.direction == Direction::Descending {
            children.reverse();
        }
        children.truncate(page.limit.unwrap_or(usize::MAX));
        Ok(Some(children))
    }

    fn read_entry_at(&self, path: &StorePath, inline_up_to: usize) -> Result<Option<EntryRead>> {
        let map = self.read_map();
        let target = resolve_path(&map, path)?;
        if is_group(&map, &target) {
            let read = children(&map, &target)
                .into_iter()
                .map(|Child { name, kind }| {
                    let bytes = match map.get(&join_str(&target, &name)) {
                        Some(Node::Value(v)) if v.len() <= inline_up_to => Some(v.clone()),
                        _ => None,
                    };
                    ChildRead { name, kind, bytes }
                })
                .collect();
            return Ok(Some(EntryRead::Group(read)));
        }
        Ok(match map.get(&target) {
            Some(Node::Value(v)) => Some(EntryRead::Value(v.clone())),
            _ => None,
        })
    }

    /// By brute force: every link in the store is looked at, which is what
    /// the RocksDB backend's index must agree with.
    fn match_at(&self, pairs: &[(String, StorePath)], limit: Option<usize>) -> Result<Vec<String>> {
        let map = self.read_map();
        let mut answer: Option<std::collections::BTreeSet<String>> = None;
        for (key, target) in pairs {
            let groups = map
                .iter()
                .filter_map(|(path, node)| match node {
                    Node::Link(t) if t == target.as_str() => {
                        let parent = parent_of(path).unwrap_or("");
                        let name = path.rsplit('/').next().unwrap_or(path);
                        (name == key).then(|| parent.to_owned())
                    }
                    _ => None,
                })
                .collect();
            answer = Some(match answer {
                None => groups,
                Some(so_far) => so_far.intersection(&groups).cloned().collect(),
            });
        }
        let mut found: Vec<String> = answer.unwrap_or_default().into_iter().collect();
        found.truncate(limit.unwrap_or(usize::MAX));
        Ok(found)
    }

    fn write_at(&self, path: &StorePath, value: &[u8]) -> Result<()> {
        self.mutate(OpRef::Write(path, value)).map(drop)
    }

    fn make_group_at(&self, path: &StorePath) -> Result<()> {
        self.mutate(OpRef::MakeGroup(path)).map(drop)
    }

    fn make_link_at(&self, existing: &StorePath, new: &StorePath) -> Result<()> {
        self.mutate(OpRef::MakeLink(existing, new)).map(drop)
    }

    fn delete_at(&self, path: &StorePath, recursive: bool) -> Result<bool> {
        self.mutate(OpRef::Delete(path, recursive))
    }

    fn apply(&self, batch: &Batch) -> Result<()> {
        let mut map = self.write_map();
        let mut scratch = map.clone();
        for op in batch.ops() {
            let (changes, _) = plan(&scratch, op.into())?;
            apply_changes(&mut scratch, changes);
        }
        *map = scratch;
        Ok(())
    }

    fn reset(&self) -> Result<()> {
        self.write_map().clear();
        Ok(())
    }
}
