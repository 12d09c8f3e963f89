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
use smallvec::SmallVec;

use super::cache::Caches;
use super::entries::{Cached, Ticket};
use super::listings::{self, child};
use super::nowait::{self, get};
use super::resolve::{resolve, Lookup, Probe};
use super::scan;
use crate::codec::{self, Entry};
use crate::error::{Error, Result};
use crate::path::{join_str, StorePath, MAX_PATH_BYTES};
use crate::store::{Child, ChildKind, ChildRead, Direction, EntryRead, EntryType, Page};

/// The largest value a read keeps the bytes of.
type Keep = Option<usize>;
/// Keep no value's bytes.
pub(crate) const NOTHING: Keep = None;

/// The entries one read looks at: the live database (checked afterwards)
/// or a snapshot.
pub(crate) struct ReadView<'a> {
    db: &'a DB,
    /// The entry and link caches, on the live database only (a snapshot is
    /// older).
    caches: Option<&'a Caches>,
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
        self.last_value = None;
        let ticket = match self.caches {
            Some(caches) => {
                let cached = caches.entries.get(path);
                if let Some(entry) = cached.as_ref().and_then(Cached::entry) {
                    self.last_value = kept_value(self.keep_up_to, path, &entry)?;
                    return Ok(Probe::of(&entry));
                }
                if let Some(target) = caches.links.get(path) {
                    return Ok(Probe::Link(target.into()));
                }
                Some(caches.entries.ticket(path))
            }
            None => None,
        };
        codec::entry_key_into(&mut self.key, path);
        let stored = get(self.db, self.snapshot.as_ref(), &self.key)
            .map_err(Error::rocks_lazy(|| format!("reading {path:?}")))?;
        let Some(bytes) = stored else {
            return Ok(Probe::Absent);
        };
        let entry = codec::decode_entry(path, &bytes)?;
        if let (Some(caches), Some(ticket)) = (self.caches, ticket) {
            caches.entries.fill(path, ticket, &entry);
        }
        self.last_value = kept_value(self.keep_up_to, path, &entry)?;
        Ok(Probe::of(&entry))
    }
}

/// `kept` of the entry's bytes when it is a value.
fn kept_value(keep_up_to: Keep, path: &str, entry: &Entry<'_>) -> Result<Option<Vec<u8>>> {
    match *entry {
        Entry::Value(v) => kept(keep_up_to, path, v),
        Entry::Group | Entry::Link(_) => Ok(None),
    }
}

/// A copy of the value `v` found at `path`, when a view keeps values of
/// its size.
fn kept(keep_up_to: Keep, path: &str, v: &[u8]) -> Result<Option<Vec<u8>>> {
    if keep_up_to.is_none_or(|max| v.len() > max) {
        return Ok(None);
    }
    if v.len() > nowait::VALUE_BYTES && nowait::refusing() {
        return Err(Error::would_wait(format!("reading {path:?}")));
    }
    Ok(Some(v.to_vec()))
}

impl<'a> ReadView<'a> {
    fn live(db: &'a DB, caches: &'a Caches, keep_up_to: Keep) -> Self {
        Self::new(db, Some(caches), None, keep_up_to)
    }

    pub(crate) fn snapshot(db: &'a DB, keep_up_to: Keep) -> Self {
        Self::new(db, None, Some(db.snapshot()), keep_up_to)
    }

    fn new(
        db: &'a DB,
        caches: Option<&'a Caches>,
        snapshot: Option<Snapshot<'a>>,
        keep_up_to: Keep,
    ) -> Self {
        ReadView {
            db,
            caches,
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
        caches: &'a Caches,
        keep_up_to: Keep,
        read: impl Fn(&mut ReadView<'a>) -> Result<T>,
    ) -> Result<T> {
        let mut live = ReadView::live(db, caches, keep_up_to);
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

pub(crate) fn read(db: &DB, caches: &Caches, path: &StorePath) -> Result<Option<Vec<u8>>> {
    read_up_to(db, caches, path, usize::MAX)
}

/// `read`, for a value of at most `max` bytes: a larger one is not copied,
/// and answers nothing.
pub(crate) fn read_up_to(
    db: &DB,
    caches: &Caches,
    path: &StorePath,
    max: usize,
) -> Result<Option<Vec<u8>>> {
    ReadView::answer(db, caches, Some(max), |view| {
        Ok(match resolve(view, path.as_str())? {
            (_, Probe::Value) => view.last_value.take(),
            _ => None,
        })
    })
}

pub(crate) fn type_of(db: &DB, caches: &Caches, path: &StorePath) -> Result<Option<EntryType>> {
    ReadView::answer(db, caches, NOTHING, |view| {
        Ok(match resolve(view, path.as_str())?.1 {
            Probe::Value => Some(EntryType::Simple),
            Probe::Group => Some(EntryType::Composite),
            Probe::Absent | Probe::Link(_) => None,
        })
    })
}

pub(crate) fn resolve_path(db: &DB, caches: &Caches, path: &StorePath) -> Result<StorePath> {
    ReadView::answer(db, caches, NOTHING, |view| {
        let (target, _) = resolve(view, path.as_str())?;
        Ok(StorePath::from_canonical(target.into_owned()))
    })
}

/// `list_range` (and `list`, the whole group in ascending order).
pub(crate) fn list(
    db: &DB,
    caches: &Caches,
    path: &StorePath,
    page: &Page,
) -> Result<Option<Vec<Child>>> {
    // A listing in the entry cache is exact, and kept only for a group
    // that is there, so `path` is a group with no link on the way (see
    // `entries.rs`).
    if let Some((children, _)) = caches.entries.listing(path.as_str()) {
        return Ok(Some(listings::page_of(children, page)));
    }
    // Children exist only under a group (the invariant), so when the scan
    // finds any, `path` is a group with no link on the way: one iterator,
    // one consistent view, done. Only an empty page needs a closer look.
    let ticket = caches.entries.listing_ticket(path.as_str());
    let (start, end) = codec::children_range(path.as_str());
    // Walking down needs the lower bound (`prev` would leave the range);
    // walking up does without, which lets the group's own key be read
    // below.
    let descending = page.direction == Direction::Descending;
    let mut iter = scan::children(db, None, descending.then_some(start.as_slice()), end);
    let mut children = Vec::new();
    scan_page(&mut iter, &start, page, path.as_str(), |name, entry| {
        children.push(child(name, &entry));
        Ok(())
    })?;
    if !children.is_empty() || path.is_root() {
        if *page == Page::default() {
            caches
                .entries
                .fill_listing(path.as_str(), ticket, &children);
        }
        return Ok(Some(children));
    }
    if descending {
        drop(iter);
        return ReadView::answer(db, caches, NOTHING, |view| list_resolved(view, path, page));
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
            ReadView::answer(db, caches, NOTHING, |view| list_resolved(view, path, page))
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
    caches: &Caches,
    path: &StorePath,
    inline_up_to: usize,
) -> Result<Option<EntryRead>> {
    // A listing is kept only for a group that is there, under its
    // physical path: found under `path`, it says that `path` is that
    // group, with no link on the way, and no resolution is needed.
    if let Some(children) = cached_group(db, caches, path.as_str(), inline_up_to)? {
        return Ok(Some(EntryRead::Group(children)));
    }
    ReadView::answer(db, caches, Some(usize::MAX), |view| {
        let (target, at) = resolve(view, path.as_str())?;
        match at {
            Probe::Value => Ok(view.last_value.take().map(EntryRead::Value)),
            Probe::Group => {
                let Some(caches) = view.caches else {
                    return view.read_group(&target, inline_up_to).map(Some);
                };
                // Under `path` itself, the listing was looked for above.
                if target != path.as_str() {
                    if let Some(children) = cached_group(db, caches, &target, inline_up_to)? {
                        return Ok(Some(EntryRead::Group(children)));
                    }
                }
                let ticket = caches.entries.listing_ticket(&target);
                let read = view.read_group(&target, inline_up_to)?;
                if let EntryRead::Group(children) = &read {
                    if !children.is_empty() && children.len() <= listings::MAX_CHILDREN {
                        let listing: Vec<Child> = children
                            .iter()
                            .map(|c| Child {
                                name: c.name.clone(),
                                kind: c.kind.clone(),
                            })
                            .collect();
                        caches.entries.fill_listing(&target, ticket, &listing);
                    }
                }
                Ok(Some(read))
            }
            Probe::Absent | Probe::Link(_) => Ok(None),
        }
    })
}

/// `read_message`: `read_entry`, then the values its link children point
/// at, from the entry cache where it has them and otherwise in one batched
/// read of the database (sorted keys, so RocksDB walks each file once); a
/// target that is not a plain value at its own key (a link, or reached
/// through a link) is followed on its own.
pub(crate) fn read_message(
    db: &DB,
    caches: &Caches,
    path: &StorePath,
    inline_up_to: usize,
) -> Result<Option<EntryRead>> {
    let Some(entry) = read_entry(db, caches, path, inline_up_to)? else {
        return Ok(None);
    };
    let EntryRead::Group(children) = entry else {
        return Ok(Some(entry));
    };
    with_link_values(db, caches, children, inline_up_to).map(|c| Some(EntryRead::Group(c)))
}

/// `read_message` of a group whose listing the entry cache holds (a group
/// of at most [`listings::MAX_CHILDREN`] children: bounded work), and
/// `None`, having read nothing, for anything else.
pub(crate) fn read_message_cached(
    db: &DB,
    caches: &Caches,
    path: &StorePath,
    inline_up_to: usize,
) -> Result<Option<EntryRead>> {
    let Some(children) = cached_group(db, caches, path.as_str(), inline_up_to)? else {
        return Ok(None);
    };
    with_link_values(db, caches, children, inline_up_to).map(|c| Some(EntryRead::Group(c)))
}

/// A group's children with the values their links point at, up to
/// `inline_up_to` bytes.
fn with_link_values(
    db: &DB,
    caches: &Caches,
    mut children: Vec<ChildRead>,
    inline_up_to: usize,
) -> Result<Vec<ChildRead>> {
    let mut batched: Vec<(String, Ticket)> = Vec::new();
    let mut batched_at: Vec<usize> = Vec::new();
    let mut followed: Vec<usize> = Vec::new();
    let links: SmallVec<[usize; 8]> = (0..children.len())
        .filter(|&i| matches!(children[i].kind, ChildKind::Link { .. }))
        .collect();
    let cached = caches
        .entries
        .get_many(links.iter().map(|&i| link_target(&children[i])));
    for (&i, cached) in links.iter().zip(cached) {
        match cached.as_ref().and_then(Cached::entry) {
            Some(Entry::Value(v)) => {
                children[i].bytes = (v.len() <= inline_up_to).then(|| v.to_vec())
            }
            Some(Entry::Group) => {}
            Some(Entry::Link(_)) => followed.push(i),
            None => {
                let target = link_target(&children[i]);
                batched.push((target.to_owned(), caches.entries.ticket(target)));
                batched_at.push(i);
            }
        }
    }
    let found = read_batched(db, caches, &batched, inline_up_to)?;
    for (i, found) in batched_at.into_iter().zip(found) {
        match found {
            Found::Value(bytes) => children[i].bytes = bytes,
            Found::Group => {}
            Found::Elsewhere => followed.push(i),
        }
    }
    for i in followed {
        if let ChildKind::Link { target } = &children[i].kind {
            let target = StorePath::from_canonical(target.clone());
            children[i].bytes = read_up_to(db, caches, &target, inline_up_to)?;
        }
    }
    Ok(children)
}

/// The target of a child known to be a link.
fn link_target(child: &ChildRead) -> &str {
    match &child.kind {
        ChildKind::Link { target } => target,
        _ => "",
    }
}

/// What [`read_batched`] found at a path.
enum Found {
    /// A value, with its bytes if they are at most the size asked for.
    Value(Option<Vec<u8>>),
    /// A group.
    Group,
    /// A link, or nothing at the path's own key (it may lie behind a link
    /// on its way): the caller follows it on its own.
    Elsewhere,
}

/// Reads `paths` in one batched read of the database (sorted keys, so
/// RocksDB walks each file once), filling the entry cache with what it
/// finds under each path's ticket; answers in `paths`' order.
fn read_batched(
    db: &DB,
    caches: &Caches,
    paths: &[(String, Ticket)],
    inline_up_to: usize,
) -> Result<Vec<Found>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let mut keys: Vec<(codec::EntryKey, usize)> = paths
        .iter()
        .enumerate()
        .map(|(i, (path, _))| (codec::entry_key(path), i))
        .collect();
    keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut answers: Vec<Option<Found>> = paths.iter().map(|_| None).collect();
    let found = nowait::get_many(db, keys.iter().map(|(key, _)| key.as_slice()));
    for ((_, i), found) in keys.iter().zip(found) {
        let (path, ticket) = &paths[*i];
        let stored = found.map_err(Error::rocks_lazy(|| format!("reading {path:?}")))?;
        let answer = match stored {
            None => Found::Elsewhere,
            Some(stored) => {
                let entry = codec::decode_entry(path, &stored)?;
                caches.entries.fill(path, *ticket, &entry);
                match entry {
                    Entry::Value(v) => Found::Value(kept(Some(inline_up_to), path, v)?),
                    Entry::Group => Found::Group,
                    Entry::Link(_) => Found::Elsewhere,
                }
            }
        };
        answers[*i] = Some(answer);
    }
    Ok(answers
        .into_iter()
        .map(|a| a.unwrap_or(Found::Elsewhere))
        .collect())
}

/// A group's children with their small values, from the entry cache
/// alone where it can (its listing, and each value's own record), the
/// values it lacks in one batched read; `None` when the listing is not
/// cached, or a child of the group changed meanwhile (the caller then
/// scans the group in the database).
fn cached_group(
    db: &DB,
    caches: &Caches,
    group: &str,
    inline_up_to: usize,
) -> Result<Option<Vec<ChildRead>>> {
    let Some((listing, held)) = caches.entries.listing(group) else {
        return Ok(None);
    };
    let mut children = Vec::with_capacity(listing.len());
    let mut missing: Vec<(String, Ticket)> = Vec::new();
    let mut missing_at: Vec<usize> = Vec::new();
    // The paths of the values to answer with the listing, looked up
    // together.
    let wanted: SmallVec<[Option<String>; 8]> = listing
        .iter()
        .map(|child| match child.kind {
            ChildKind::Value { len } if len <= inline_up_to as u64 => {
                Some(join_str(group, &child.name))
            }
            _ => None,
        })
        .collect();
    let mut records = caches
        .entries
        .get_many(wanted.iter().flatten().map(String::as_str))
        .into_iter();
    for (Child { name, kind }, path) in listing.into_iter().zip(wanted) {
        let mut bytes = None;
        if let (ChildKind::Value { len }, Some(path)) = (&kind, path) {
            let record = records.next().flatten();
            match record.as_ref().and_then(Cached::entry) {
                Some(Entry::Value(v)) if v.len() as u64 == *len => bytes = Some(v.to_vec()),
                // Not what the listing says: a writer is at it.
                Some(_) => return Ok(None),
                None => {
                    let ticket = caches.entries.ticket(&path);
                    missing.push((path, ticket));
                    missing_at.push(children.len());
                }
            }
        }
        children.push(ChildRead { name, kind, bytes });
    }
    let found = read_batched(db, caches, &missing, inline_up_to)?;
    for (i, found) in missing_at.into_iter().zip(found) {
        let Found::Value(bytes) = found else {
            return Ok(None);
        };
        children[i].bytes = bytes;
    }
    if !caches.entries.unchanged(held) {
        return Ok(None);
    }
    Ok(Some(children))
}

impl ReadView<'_> {
    /// The children of the physical group `group`, with the bytes of the
    /// values up to `inline_up_to`, from one scan in this view.
    fn read_group(&mut self, group: &str, inline_up_to: usize) -> Result<EntryRead> {
        let mut children = Vec::new();
        self.scan_group(group, &Page::default(), |name, entry| {
            let bytes = match entry {
                Entry::Value(v) if v.len() <= inline_up_to => Some(v.to_vec()),
                _ => None,
            };
            let Child { name, kind } = child(name, &entry);
            children.push(ChildRead { name, kind, bytes });
            Ok(())
        })?;
        Ok(EntryRead::Group(children))
    }

    /// Scans the children of the physical group `group` on `page`, in this
    /// view (the iterator counts as one more read of it).
    fn scan_group(
        &mut self,
        group: &str,
        page: &Page,
        visit: impl FnMut(&str, Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        let (start, end) = codec::children_range(group);
        self.reads += 1;
        let mut iter = scan::children(self.db, self.snapshot.as_ref(), Some(&start), end);
        scan_page(&mut iter, &start, page, group, visit)
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
