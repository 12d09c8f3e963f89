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

use rocksdb::{DBRawIterator, Snapshot, DB};

use super::cache::Links;
use super::nowait::{self, get};
use super::resolve::{resolve, Lookup, Probe};
use super::scan;
use crate::codec::{self, Entry};
use crate::error::{Error, Result};
use crate::path::{StorePath, MAX_PATH_BYTES};
use crate::store::{Child, ChildKind, ChildRead, Direction, EntryRead, EntryType, Page};

/// The largest value a read keeps the bytes of.
type Keep = Option<usize>;
/// Keep no value's bytes.
pub(crate) const NOTHING: Keep = None;

/// The entries one read looks at: the live database (checked afterwards)
/// or a snapshot.
pub(crate) struct ReadView<'a> {
    db: &'a DB,
    /// The link cache, on the live database only (a snapshot is older).
    links: Option<&'a Links>,
    snapshot: Option<Snapshot<'a>>,
    sequence: u64,
    /// Reads made so far (gets, cache lookups and iterators alike): one
    /// read is consistent by itself.
    reads: u32,
    /// The bytes of the last value probed, when asked for: resolution ends
    /// at the first value it meets, so at a value it is the target's.
    last_value: Option<Vec<u8>>,
    /// Values of at most this many bytes are kept in `last_value`; larger
    /// ones are not copied at all.
    keep_up_to: Keep,
    key: codec::EntryKey,
}

impl Lookup for ReadView<'_> {
    const PROBE_WHOLE_FIRST: bool = true;

    fn probe(&mut self, path: &str) -> Result<Probe> {
        if path.len() > MAX_PATH_BYTES {
            return Ok(Probe::Absent);
        }
        self.reads += 1;
        if let Some(target) = self.links.and_then(|l| l.get(path)) {
            return Ok(Probe::Link(target.into()));
        }
        codec::entry_key_into(&mut self.key, path);
        let stored = get(self.db, self.snapshot.as_ref(), &self.key)
            .map_err(Error::rocks_lazy(|| format!("reading {path:?}")))?;
        self.last_value = None;
        let probe = match stored {
            None => Probe::Absent,
            Some(bytes) => match codec::decode_entry(path, &bytes)? {
                Entry::Value(v) => {
                    if self.keep_up_to.is_some_and(|max| v.len() <= max) {
                        if v.len() > nowait::VALUE_BYTES && nowait::refusing() {
                            return Err(Error::would_wait(format!("reading {path:?}")));
                        }
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
    fn live(db: &'a DB, links: &'a Links, keep_up_to: Keep) -> Self {
        Self::new(db, Some(links), None, keep_up_to)
    }

    pub(crate) fn snapshot(db: &'a DB, keep_up_to: Keep) -> Self {
        Self::new(db, None, Some(db.snapshot()), keep_up_to)
    }

    fn new(
        db: &'a DB,
        links: Option<&'a Links>,
        snapshot: Option<Snapshot<'a>>,
        keep_up_to: Keep,
    ) -> Self {
        ReadView {
            db,
            links,
            sequence: db.latest_sequence_number(),
            snapshot,
            reads: 0,
            last_value: None,
            keep_up_to,
            key: codec::EntryKey::new(),
        }
    }

    /// Whether the database holds `key`, in this view.
    pub(crate) fn contains(&mut self, key: &[u8]) -> Result<bool> {
        self.reads += 1;
        let found =
            get(self.db, self.snapshot.as_ref(), key).map_err(Error::rocks("reading a key"))?;
        Ok(found.is_some())
    }

    /// Whether everything read so far comes from one state.
    fn consistent(&self) -> bool {
        self.snapshot.is_some()
            || self.reads <= 1
            || self.db.latest_sequence_number() == self.sequence
    }

    /// Runs `read` on the live database and, if a writer interfered, again
    /// on a snapshot.
    fn answer<T>(
        db: &'a DB,
        links: &'a Links,
        keep_up_to: Keep,
        read: impl Fn(&mut ReadView<'a>) -> Result<T>,
    ) -> Result<T> {
        let mut live = ReadView::live(db, links, keep_up_to);
        let answer = read(&mut live);
        if live.consistent() {
            return answer;
        }
        read(&mut ReadView::snapshot(db, keep_up_to))
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
}

pub(crate) fn read(db: &DB, links: &Links, path: &StorePath) -> Result<Option<Vec<u8>>> {
    ReadView::answer(db, links, Some(usize::MAX), |view| {
        Ok(match resolve(view, path.as_str())? {
            (_, Probe::Value) => view.last_value.take(),
            _ => None,
        })
    })
}

/// `read`, for a value of at most `max` bytes: a larger one is not copied,
/// and answers nothing.
pub(crate) fn read_up_to(
    db: &DB,
    links: &Links,
    path: &StorePath,
    max: usize,
) -> Result<Option<Vec<u8>>> {
    ReadView::answer(db, links, Some(max), |view| {
        Ok(match resolve(view, path.as_str())? {
            (_, Probe::Value) => view.last_value.take(),
            _ => None,
        })
    })
}

pub(crate) fn type_of(db: &DB, links: &Links, path: &StorePath) -> Result<Option<EntryType>> {
    ReadView::answer(db, links, NOTHING, |view| {
        Ok(match resolve(view, path.as_str())?.1 {
            Probe::Value => Some(EntryType::Simple),
            Probe::Group => Some(EntryType::Composite),
            Probe::Absent | Probe::Link(_) => None,
        })
    })
}

pub(crate) fn resolve_path(db: &DB, links: &Links, path: &StorePath) -> Result<StorePath> {
    ReadView::answer(db, links, NOTHING, |view| {
        let (target, _) = resolve(view, path.as_str())?;
        Ok(StorePath::from_canonical(target.into_owned()))
    })
}

/// `list_range` (and `list`, the whole group in ascending order).
pub(crate) fn list(
    db: &DB,
    links: &Links,
    path: &StorePath,
    page: &Page,
) -> Result<Option<Vec<Child>>> {
    // Children exist only under a group (the invariant), so when the scan
    // finds any, `path` is a group with no link on the way: one iterator,
    // one consistent view, done. Only an empty page needs a closer look.
    let (start, end) = codec::level_range(path.as_str(), 1);
    // Walking down needs the lower bound (`prev` would leave the range);
    // walking up does without, which lets the group's own key be read
    // below.
    let descending = page.direction == Direction::Descending;
    let mut iter = scan::bounded(db, None, descending.then_some(start.as_slice()), end);
    let mut children = Vec::new();
    scan_page(&mut iter, &start, page, path.as_str(), |name, entry| {
        children.push(child(name, &entry));
        Ok(())
    })?;
    if !children.is_empty() || path.is_root() {
        return Ok(Some(children));
    }
    if descending {
        drop(iter);
        return ReadView::answer(db, links, NOTHING, |view| list_resolved(view, path, page));
    }
    // The same iterator (the same view) reads the group's own key: the
    // iterator is bounded above only, and a path's key sorts before its
    // children's range because its depth prefix is one less.
    let key = codec::entry_key(path.as_str());
    debug_assert!(key.as_slice() < start.as_slice());
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
            ReadView::answer(db, links, NOTHING, |view| list_resolved(view, path, page))
        }
    }
}

/// `list` of a path that goes through a link or does not exist.
fn list_resolved(
    view: &mut ReadView<'_>,
    path: &StorePath,
    page: &Page,
) -> Result<Option<Vec<Child>>> {
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
    let mut children = Vec::new();
    view.scan_group(&target, page, |name, entry| {
        children.push(child(name, &entry));
        Ok(())
    })?;
    Ok(Some(children))
}

/// `read_entry`: a value's bytes, or a group's children with the bytes of
/// the small values among them, from one resolution and one scan.
pub(crate) fn read_entry(
    db: &DB,
    links: &Links,
    path: &StorePath,
    inline_up_to: usize,
) -> Result<Option<EntryRead>> {
    ReadView::answer(db, links, Some(usize::MAX), |view| {
        let (target, at) = resolve(view, path.as_str())?;
        match at {
            Probe::Value => Ok(view.last_value.take().map(EntryRead::Value)),
            Probe::Group => {
                let mut children = Vec::new();
                view.scan_group(&target, &Page::default(), |name, entry| {
                    let bytes = match entry {
                        Entry::Value(v) if v.len() <= inline_up_to => Some(v.to_vec()),
                        _ => None,
                    };
                    let Child { name, kind } = child(name, &entry);
                    children.push(ChildRead { name, kind, bytes });
                    Ok(())
                })?;
                Ok(Some(EntryRead::Group(children)))
            }
            Probe::Absent | Probe::Link(_) => Ok(None),
        }
    })
}

impl ReadView<'_> {
    /// Scans the children of the physical group `group` on `page`, in this
    /// view (the iterator counts as one more read of it).
    fn scan_group(
        &mut self,
        group: &str,
        page: &Page,
        visit: impl FnMut(&str, Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        let (start, end) = codec::level_range(group, 1);
        self.reads += 1;
        let mut iter = scan::bounded(self.db, self.snapshot.as_ref(), Some(&start), end);
        scan_page(&mut iter, &start, page, group, visit)
    }
}

/// What a listing says of a child.
fn child(name: &str, entry: &Entry<'_>) -> Child {
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

/// Visits the children on `page` of the group whose children's range
/// starts at `start`, in the page's order: a seek to `from` and one step
/// per child, so a page costs its own size, not the group's. A descending
/// page needs `iter` bounded below by `start`.
fn scan_page(
    iter: &mut DBRawIterator<'_>,
    start: &[u8],
    page: &Page,
    group: &str,
    mut visit: impl FnMut(&str, Entry<'_>) -> Result<()>,
) -> Result<()> {
    let mut left = page.limit.unwrap_or(usize::MAX);
    if left > 0 {
        let from = |name: &str| [start, name.as_bytes()].concat();
        match (page.direction, &page.from) {
            (Direction::Ascending, None) => iter.seek(start),
            (Direction::Ascending, Some(name)) => iter.seek(from(name)),
            (Direction::Descending, None) => iter.seek_to_last(),
            (Direction::Descending, Some(name)) => iter.seek_for_prev(from(name)),
        }
    }
    while left > 0 {
        let (Some(key), Some(bytes)) = (iter.key(), iter.value()) else {
            break;
        };
        let path = codec::decode_key(key)?;
        visit(
            codec::child_name(key, start)?,
            codec::decode_entry(path, bytes)?,
        )?;
        left -= 1;
        match page.direction {
            Direction::Ascending => iter.next(),
            Direction::Descending => iter.prev(),
        }
    }
    iter.status()
        .map_err(Error::rocks_lazy(|| format!("listing {group:?}")))
}
