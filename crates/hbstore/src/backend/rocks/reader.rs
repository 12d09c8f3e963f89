//! Reads: `read`, `type`, `list` and `resolve`, without locks.
//!
//! Each read sees one consistent state. The common case is a single RocksDB
//! operation, which is atomic by itself: a `get` of the path (no link on the
//! way) or one iterator (an implicit snapshot) for `list`. When a link or an
//! absent segment sends resolution through several reads, they are all made
//! on one explicit snapshot.

use rocksdb::{DBRawIterator, ReadOptions, Snapshot, DB};

use super::resolve::{resolve, Lookup, Probe};
use crate::codec::{self, Entry};
use crate::error::{Error, Result};
use crate::path::{StorePath, MAX_PATH_BYTES};
use crate::store::{Child, ChildKind, EntryType};

/// One snapshot of the database, for reads that need several gets.
pub(crate) struct SnapshotView<'a> {
    snapshot: Snapshot<'a>,
}

impl Lookup for SnapshotView<'_> {
    const PROBE_WHOLE_FIRST: bool = true;

    fn probe(&mut self, path: &str) -> Result<Probe> {
        self.with_entry(path, |entry| match entry {
            None => Probe::Absent,
            Some(Entry::Value(_)) => Probe::Value,
            Some(Entry::Group) => Probe::Group,
            Some(Entry::Link(t)) => Probe::Link(t.to_owned()),
        })
    }
}

impl<'a> SnapshotView<'a> {
    pub(crate) fn new(db: &'a DB) -> Self {
        SnapshotView {
            snapshot: db.snapshot(),
        }
    }

    fn with_entry<T>(&self, path: &str, f: impl FnOnce(Option<Entry<'_>>) -> T) -> Result<T> {
        if path.is_empty() || path.len() > MAX_PATH_BYTES {
            return Ok(f(None));
        }
        let stored = self
            .snapshot
            .get_pinned(codec::entry_key(path))
            .map_err(Error::rocks(format!("reading {path:?}")))?;
        match stored {
            None => Ok(f(None)),
            Some(bytes) => Ok(f(Some(codec::decode_entry(path, &bytes)?))),
        }
    }

    /// Every key of the database, as of the snapshot.
    pub(crate) fn iterator(
        &self,
        mode: rocksdb::IteratorMode<'_>,
    ) -> rocksdb::DBIteratorWithThreadMode<'a, DB> {
        self.snapshot.iterator(mode)
    }

    fn read_options(&self) -> ReadOptions {
        let mut opts = ReadOptions::default();
        opts.set_snapshot(&self.snapshot);
        opts
    }
}

fn get_entry<T>(db: &DB, path: &str, f: impl FnOnce(Option<Entry<'_>>) -> T) -> Result<T> {
    let stored = db
        .get_pinned(codec::entry_key(path))
        .map_err(Error::rocks(format!("reading {path:?}")))?;
    match stored {
        None => Ok(f(None)),
        Some(bytes) => Ok(f(Some(codec::decode_entry(path, &bytes)?))),
    }
}

/// The answer of a one-get fast path, or `None` when resolution is needed.
enum Fast<T> {
    Done(T),
    Resolve,
}

pub(crate) fn read(db: &DB, path: &StorePath) -> Result<Option<Vec<u8>>> {
    if path.is_root() {
        return Ok(None);
    }
    let fast = get_entry(db, path.as_str(), |entry| match entry {
        Some(Entry::Value(v)) => Fast::Done(Some(v.to_vec())),
        Some(Entry::Group) => Fast::Done(None),
        Some(Entry::Link(_)) | None => Fast::Resolve,
    })?;
    if let Fast::Done(answer) = fast {
        return Ok(answer);
    }
    let mut view = SnapshotView::new(db);
    let target = resolve(&mut view, path.as_str())?;
    view.with_entry(&target, |entry| match entry {
        Some(Entry::Value(v)) => Some(v.to_vec()),
        _ => None,
    })
}

fn type_of_entry(entry: Option<Entry<'_>>) -> Option<EntryType> {
    match entry {
        Some(Entry::Value(_)) => Some(EntryType::Simple),
        Some(Entry::Group) => Some(EntryType::Composite),
        Some(Entry::Link(_)) | None => None,
    }
}

pub(crate) fn type_of(db: &DB, path: &StorePath) -> Result<Option<EntryType>> {
    if path.is_root() {
        return Ok(Some(EntryType::Composite));
    }
    let fast = get_entry(db, path.as_str(), |entry| match entry {
        Some(Entry::Link(_)) | None => Fast::Resolve,
        other => Fast::Done(type_of_entry(other)),
    })?;
    if let Fast::Done(answer) = fast {
        return Ok(answer);
    }
    let mut view = SnapshotView::new(db);
    let target = resolve(&mut view, path.as_str())?;
    if target.is_empty() {
        return Ok(Some(EntryType::Composite));
    }
    view.with_entry(&target, type_of_entry)
}

pub(crate) fn resolve_path(db: &DB, path: &StorePath) -> Result<StorePath> {
    let mut view = SnapshotView::new(db);
    resolve(&mut view, path.as_str()).map(StorePath::from_canonical)
}

pub(crate) fn list(db: &DB, path: &StorePath) -> Result<Option<Vec<Child>>> {
    let (start, end) = codec::level_range(path.as_str(), 1);
    // One iterator is one consistent view: it checks that `path` is a group
    // (its key sorts before its children's range) and then scans them.
    let mut opts = ReadOptions::default();
    opts.set_iterate_upper_bound(end.clone());
    let mut iter = db.raw_iterator_opt(opts);
    if !path.is_root() {
        let key = codec::entry_key(path.as_str());
        iter.seek(&key);
        let found = match iter.key() {
            Some(k) if k == key.as_slice() => iter.value(),
            _ => None,
        };
        match found.map(|bytes| codec::decode_entry(path.as_str(), bytes)) {
            Some(Ok(Entry::Group)) => {}
            Some(Ok(Entry::Value(_))) => {
                return Err(Error::NotAGroup {
                    path: path.to_string(),
                    value_at: path.to_string(),
                })
            }
            Some(Err(e)) => return Err(e),
            Some(Ok(Entry::Link(_))) | None => {
                iter.status()
                    .map_err(Error::rocks(format!("listing {path}")))?;
                drop(iter);
                return list_resolved(db, path);
            }
        }
    }
    scan_children(iter, &start, path.as_str()).map(Some)
}

/// `list` of a path that goes through a link or does not exist.
fn list_resolved(db: &DB, path: &StorePath) -> Result<Option<Vec<Child>>> {
    let mut view = SnapshotView::new(db);
    let target = resolve(&mut view, path.as_str())?;
    if !target.is_empty() {
        let kind = view.with_entry(&target, |e| e.map(|e| matches!(e, Entry::Group)))?;
        match kind {
            None => return Ok(None),
            Some(false) => {
                return Err(Error::NotAGroup {
                    path: path.to_string(),
                    value_at: target,
                })
            }
            Some(true) => {}
        }
    }
    let (start, end) = codec::level_range(&target, 1);
    let mut opts = view.read_options();
    opts.set_iterate_upper_bound(end);
    let iter = db.raw_iterator_opt(opts);
    scan_children(iter, &start, &target).map(Some)
}

fn scan_children(mut iter: DBRawIterator<'_>, start: &[u8], group: &str) -> Result<Vec<Child>> {
    let mut children = Vec::new();
    iter.seek(start);
    while let (Some(key), Some(bytes)) = (iter.key(), iter.value()) {
        let path = codec::decode_key(key)?;
        let name = &path[path.len() - (key.len() - start.len())..];
        let kind = match codec::decode_entry(path, bytes)? {
            Entry::Value(v) => ChildKind::Value {
                len: v.len() as u64,
            },
            Entry::Group => ChildKind::Group,
            Entry::Link(t) => ChildKind::Link {
                target: t.to_owned(),
            },
        };
        children.push(Child {
            name: name.to_owned(),
            kind,
        });
        iter.next();
    }
    iter.status()
        .map_err(Error::rocks(format!("listing {group:?}")))?;
    Ok(children)
}
