//! Link resolution for the RocksDB backend, shared by readers (on a
//! snapshot) and writers (inside a transaction).
//!
//! It computes the contract's walk with two shortcuts, both sound because of the
//! invariant (every ancestor of a stored entry is a group):
//! - when an entry exists at a path, every prefix of that path is a group,
//!   so a reader first probes the whole path and, in the common case (a
//!   value or a group), is done after one RocksDB get;
//! - once a segment is absent or a value, nothing below it exists, so the
//!   rest of the path is kept as it is without further reads.

use std::borrow::Cow;

use crate::codec::Entry;
use crate::error::{Error, Result};
use crate::store::MAX_LINK_HOPS;

/// What is stored at one physical path, as far as resolution cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Probe {
    Absent,
    Value,
    Group,
    Link(String),
}

impl Probe {
    /// What resolution needs to know of a stored entry.
    pub(crate) fn of(entry: &Entry<'_>) -> Probe {
        match *entry {
            Entry::Value(_) => Probe::Value,
            Entry::Group => Probe::Group,
            Entry::Link(target) => Probe::Link(target.to_owned()),
        }
    }
}

/// A consistent view of the entries: a snapshot, or a transaction.
pub(crate) trait Lookup {
    /// Readers try the whole path first (one get when it exists); writers
    /// walk from the top, where their cache answers for the ancestors.
    const PROBE_WHOLE_FIRST: bool;

    fn probe(&mut self, path: &str) -> Result<Probe>;

    /// `probe` of the last segment of a path. A writer's cache of groups
    /// rarely knows it (it is usually what is being written), so writers
    /// skip asking it.
    fn probe_last(&mut self, path: &str) -> Result<Probe> {
        self.probe(path)
    }
}

/// The physical path of `path` and what is there (`Absent` when nothing
/// is), or `LinkLoop` after too many hops. Knowing what is at the end spares
/// every caller a second read of it.
pub(crate) fn resolve<'p, L: Lookup>(look: &mut L, path: &'p str) -> Result<(Cow<'p, str>, Probe)> {
    let mut hops = 0;
    resolve_from(look, path, path, &mut hops, Last::Follow)
}

/// Where `path` itself is stored: its parent resolved (links followed),
/// joined with its last segment, which is not followed; and what is there
/// (a link is answered as `Link`). This is where `write` and `make_link`
/// put their entry: a link at the last segment is replaced, not written
/// through (`docs/contract.md`).
pub(crate) fn locate_last<'p, L: Lookup>(
    look: &mut L,
    path: &'p str,
) -> Result<(Cow<'p, str>, Probe)> {
    let mut hops = 0;
    resolve_from(look, path, path, &mut hops, Last::Keep)
}

/// What resolution does with a link at the last segment of a path.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Follow,
    Keep,
}

fn follow<L: Lookup>(
    look: &mut L,
    origin: &str,
    target: String,
    hops: &mut u32,
) -> Result<(String, Probe)> {
    *hops += 1;
    if *hops > MAX_LINK_HOPS {
        return Err(Error::link_loop(origin));
    }
    let (path, at) = resolve_from(look, origin, &target, hops, Last::Follow)?;
    let path = match path {
        // The target itself, physical: reuse its string.
        Cow::Borrowed(_) => target,
        Cow::Owned(p) => p,
    };
    Ok((path, at))
}

fn resolve_from<'p, L: Lookup>(
    look: &mut L,
    origin: &str,
    path: &'p str,
    hops: &mut u32,
    last: Last,
) -> Result<(Cow<'p, str>, Probe)> {
    if path.is_empty() {
        return Ok((Cow::Borrowed(""), Probe::Group));
    }
    if L::PROBE_WHOLE_FIRST {
        match look.probe(path)? {
            found @ (Probe::Value | Probe::Group) => return Ok((Cow::Borrowed(path), found)),
            // The link's own key exists, so its ancestors are physical.
            Probe::Link(target) if last == Last::Keep => {
                return Ok((Cow::Borrowed(path), Probe::Link(target)))
            }
            Probe::Link(target) => {
                return follow(look, origin, target, hops).map(|(p, at)| (Cow::Owned(p), at))
            }
            Probe::Absent => {}
        }
    }
    // `current` grows in place: each segment is appended to it, and only a
    // link replaces it (with its target's resolution).
    let mut current = String::with_capacity(path.len());
    let mut at = Probe::Group;
    let mut segments = path.split('/').peekable();
    while let Some(segment) = segments.next() {
        if !current.is_empty() {
            current.push('/');
        }
        current.push_str(segment);
        let probed = if segments.peek().is_some() {
            look.probe(&current)?
        } else {
            look.probe_last(&current)?
        };
        at = match probed {
            Probe::Link(target) if segments.peek().is_some() || last == Last::Follow => {
                let (resolved, found) = follow(look, origin, target, hops)?;
                current = resolved;
                found
            }
            found => found,
        };
        if matches!(at, Probe::Value | Probe::Absent) && segments.peek().is_some() {
            for rest in segments.by_ref() {
                current.push('/');
                current.push_str(rest);
            }
            at = Probe::Absent;
        }
    }
    Ok((Cow::Owned(current), at))
}
