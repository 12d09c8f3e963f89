//! Link resolution for the RocksDB backend, shared by readers (on a
//! snapshot) and writers (inside a transaction).
//!
//! It computes the SPEC's walk with two shortcuts, both sound because of the
//! invariant (every ancestor of a stored entry is a group):
//! - when an entry exists at a path, every prefix of that path is a group,
//!   so a reader first probes the whole path and, in the common case (a
//!   value or a group), is done after one RocksDB get;
//! - once a segment is absent or a value, nothing below it exists, so the
//!   rest of the path is kept as it is without further reads.

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

/// A consistent view of the entries: a snapshot, or a transaction.
pub(crate) trait Lookup {
    /// Readers try the whole path first (one get when it exists); writers
    /// walk from the top, where their cache answers for the ancestors.
    const PROBE_WHOLE_FIRST: bool;

    fn probe(&mut self, path: &str) -> Result<Probe>;
}

/// The physical path of `path`, or `LinkLoop` after too many hops.
pub(crate) fn resolve<L: Lookup>(look: &mut L, path: &str) -> Result<String> {
    let mut hops = 0;
    resolve_from(look, path, path, &mut hops)
}

fn follow<L: Lookup>(look: &mut L, origin: &str, target: &str, hops: &mut u32) -> Result<String> {
    *hops += 1;
    if *hops > MAX_LINK_HOPS {
        return Err(Error::LinkLoop {
            path: crate::path::quote(origin),
            max: MAX_LINK_HOPS,
        });
    }
    resolve_from(look, origin, target, hops)
}

fn resolve_from<L: Lookup>(
    look: &mut L,
    origin: &str,
    path: &str,
    hops: &mut u32,
) -> Result<String> {
    if path.is_empty() {
        return Ok(String::new());
    }
    if L::PROBE_WHOLE_FIRST {
        match look.probe(path)? {
            Probe::Value | Probe::Group => return Ok(path.to_owned()),
            // The link's own key exists, so its ancestors are physical.
            Probe::Link(target) => return follow(look, origin, &target, hops),
            Probe::Absent => {}
        }
    }
    // `current` grows in place: each segment is appended to it, and only a
    // link replaces it (with its target's resolution).
    let mut current = String::with_capacity(path.len());
    let mut segments = path.split('/');
    while let Some(segment) = segments.next() {
        if !current.is_empty() {
            current.push('/');
        }
        current.push_str(segment);
        match look.probe(&current)? {
            Probe::Group => {}
            Probe::Link(target) => current = follow(look, origin, &target, hops)?,
            Probe::Value | Probe::Absent => {
                for rest in segments.by_ref() {
                    current.push('/');
                    current.push_str(rest);
                }
            }
        }
    }
    Ok(current)
}
