//! Reads: `read`, `type`, `list` and `resolve`, without locks.
//!
//! Every read answers from one consistent state, cheaply:
//! - a read that needs one RocksDB get (the path exists, no link on the
//!   way) is atomic by itself;
//! - a read that needs several gets (a link to follow, an absent segment to
//!   walk) makes them directly on the live database, noting RocksDB's last
//!   sequence number before; if it is unchanged afterwards, no write landed
//!   in between and the gets saw one state. Otherwise (a writer was busy)
//!   the read is done again on an explicit snapshot;
//! - `list` scans with one iterator, which is an implicit snapshot.

use rocksdb::{DBRawIterator, ReadOptions, Snapshot, DB};

use super::cache::Links;
use super::resolve::{resolve, Lookup, Probe};
use crate::codec::{self, Entry};
use crate::error::{Error, Result};
use crate::path::{StorePath, MAX_PATH_BYTES};
use crate::store::{Child, ChildKind, EntryType};

/// The entries one read looks at: the live database (checked afterwards)
/// or a snapshot.
pub(crate) struct ReadView<'a> {
    db: &'a DB,
    /// The link cache, on the live database only (a snapshot is older).
    links: Option<&'a Links>,
    snapshot: Option<Snapshot<'a>>,
    sequence: u64,
    gets: u32,
    /// The bytes of the last value probed, when asked for: resolution ends
    /// at the first value it meets, so at a value it is the target's.
    last_value: Option<Vec<u8>>,
    keep_values: bool,
    key: codec::EntryKey,
}

impl Lookup for ReadView<'_> {
    const PROBE_WHOLE_FIRST: bool = true;

    fn probe(&mut self, path: &str) -> Result<Probe> {
        if path.len() > MAX_PATH_BYTES {
            return Ok(Probe::Absent);
        }
        self.gets += 1;
        if let Some(target) = self.links.and_then(|l| l.get(path)) {
            return Ok(Probe::Link(target.into()));
        }
        codec::entry_key_into(&mut self.key, path);
        let stored = match &self.snapshot {
            Some(s) => s.get_pinned(&self.key),
            None => self.db.get_pinned(&self.key),
        }
        .map_err(Error::rocks_lazy(|| format!("reading {path:?}")))?;
        self.last_value = None;
        let probe = match stored {
            None => Probe::Absent,
            Some(bytes) => match codec::decode_entry(path, &bytes)? {
                Entry::Value(v) => {
                    if self.keep_values {
                        self.last_value = Some(v.to_vec());
                    }
                    Probe::Value
                }
                Entry::Group => Probe::Group,
                Entry::Link(t) => Probe::Link(t.to_owned()),
            },
        };
        Ok(probe)
    }
}

impl<'a> ReadView<'a> {
    fn live(db: &'a DB, links: &'a Links, keep_values: bool) -> Self {
        Self::new(db, Some(links), None, keep_values)
    }

    pub(crate) fn snapshot(db: &'a DB, keep_values: bool) -> Self {
        Self::new(db, None, Some(db.snapshot()), keep_values)
    }

    fn new(
        db: &'a DB,
        links: Option<&'a Links>,
        snapshot: Option<Snapshot<'a>>,
        keep_values: bool,
    ) -> Self {
        ReadView {
            db,
            links,
            sequence: db.latest_sequence_number(),
            snapshot,
            gets: 0,
            last_value: None,
            keep_values,
            key: codec::EntryKey::new(),
        }
    }

    /// Whether everything read so far comes from one state.
    fn consistent(&self) -> bool {
        self.snapshot.is_some()
            || self.gets <= 1
            || self.db.latest_sequence_number() == self.sequence
    }

    /// Runs `read` on the live database and, if a writer interfered, again
    /// on a snapshot.
    fn answer<T>(
        db: &'a DB,
        links: &'a Links,
        keep_values: bool,
        read: impl Fn(&mut ReadView<'a>) -> Result<T>,
    ) -> Result<T> {
        let mut live = ReadView::live(db, links, keep_values);
        let answer = read(&mut live);
        if live.consistent() {
            return answer;
        }
        read(&mut ReadView::snapshot(db, keep_values))
    }

    /// Every key of the database, as of the snapshot.
    pub(crate) fn iterator(
        &self,
        mode: rocksdb::IteratorMode<'_>,
    ) -> rocksdb::DBIteratorWithThreadMode<'a, DB> {
        match &self.snapshot {
            Some(s) => s.iterator(mode),
            None => self.db.iterator(mode),
        }
    }

    fn read_options(&self) -> ReadOptions {
        let mut opts = ReadOptions::default();
        if let Some(s) = &self.snapshot {
            opts.set_snapshot(s);
        }
        opts
    }
}

pub(crate) fn read(db: &DB, links: &Links, path: &StorePath) -> Result<Option<Vec<u8>>> {
    ReadView::answer(db, links, true, |view| {
        Ok(match resolve(view, path.as_str())? {
            (_, Probe::Value) => view.last_value.take(),
            _ => None,
        })
    })
}

pub(crate) fn type_of(db: &DB, links: &Links, path: &StorePath) -> Result<Option<EntryType>> {
    ReadView::answer(db, links, false, |view| {
        Ok(match resolve(view, path.as_str())?.1 {
            Probe::Value => Some(EntryType::Simple),
            Probe::Group => Some(EntryType::Composite),
            Probe::Absent | Probe::Link(_) => None,
        })
    })
}

pub(crate) fn resolve_path(db: &DB, links: &Links, path: &StorePath) -> Result<StorePath> {
    ReadView::answer(db, links, false, |view| {
        let (target, _) = resolve(view, path.as_str())?;
        Ok(StorePath::from_canonical(target.into_owned()))
    })
}

pub(crate) fn list(db: &DB, links: &Links, path: &StorePath) -> Result<Option<Vec<Child>>> {
    // Children exist only under a group (the invariant), so when the scan
    // finds any, `path` is a group with no link on the way: one iterator,
    // one consistent view, done. Only an empty range needs a closer look.
    let (start, end) = codec::level_range(path.as_str(), 1);
    let mut opts = ReadOptions::default();
    opts.set_iterate_upper_bound(end);
    let iter = db.raw_iterator_opt(opts);
    let (children, mut iter) = scan_children(iter, &start, path.as_str())?;
    if !children.is_empty() || path.is_root() {
        return Ok(Some(children));
    }
    let key = codec::entry_key(path.as_str());
    iter.seek(&key);
    let found = match iter.key() {
        Some(k) if k == key.as_slice() => {
            iter.value().map(|b| codec::decode_entry(path.as_str(), b))
        }
        _ => None,
    };
    match found {
        Some(Ok(Entry::Group)) => Ok(Some(children)),
        Some(Ok(Entry::Value(_))) => Err(Error::NotAGroup {
            path: path.to_string(),
            value_at: path.to_string(),
        }),
        Some(Err(e)) => Err(e),
        Some(Ok(Entry::Link(_))) | None => {
            iter.status()
                .map_err(Error::rocks_lazy(|| format!("listing {path}")))?;
            drop(iter);
            ReadView::answer(db, links, false, |view| list_resolved(view, path))
        }
    }
}

/// `list` of a path that goes through a link or does not exist.
fn list_resolved(view: &mut ReadView<'_>, path: &StorePath) -> Result<Option<Vec<Child>>> {
    let (target, at) = resolve(view, path.as_str())?;
    match at {
        Probe::Group => {}
        Probe::Value => {
            return Err(Error::NotAGroup {
                path: path.to_string(),
                value_at: target.into_owned(),
            })
        }
        Probe::Absent | Probe::Link(_) => return Ok(None),
    }
    let (start, end) = codec::level_range(&target, 1);
    let mut opts = view.read_options();
    opts.set_iterate_upper_bound(end);
    // The iterator counts as one more read of the view.
    view.gets += 1;
    let iter = view.db.raw_iterator_opt(opts);
    scan_children(iter, &start, &target).map(|(children, _)| Some(children))
}

fn scan_children<'i>(
    mut iter: DBRawIterator<'i>,
    start: &[u8],
    group: &str,
) -> Result<(Vec<Child>, DBRawIterator<'i>)> {
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
        .map_err(Error::rocks_lazy(|| format!("listing {group:?}")))?;
    Ok((children, iter))
}
