//! Resolution on a cluster: a path is tried as if it were physical (one
//! step in its parent's slot, which proves the parent alive, hence a
//! physical group with no link above it) and walked from the root, one
//! step per segment, only when that fails. Deletions found under way are
//! finished on the spot, so callers never see a group half deleted.

use hbstore::{check_resolved_len, Error, Result, StorePath, MAX_LINK_HOPS};

use crate::layout::Entry;
use crate::steps::{Got, Steps};

/// A path split into its parent and its last segment (the root's
/// children have the empty parent).
pub fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// `a/b`, where either may be the root.
pub fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => format!("{a}/{b}"),
    }
}

/// A physical path and what is there.
#[derive(Debug, Clone)]
pub struct Located {
    /// The physical path.
    pub path: String,
    /// What is there: `None` when absent. Never a link, never `Deleting`.
    pub entry: Option<Entry>,
}

impl Located {
    fn root() -> Located {
        Located {
            path: String::new(),
            entry: Some(Entry::Group(String::new())),
        }
    }
}

/// Counts link hops for one operation, so a cycle ends in `LinkLoop`.
pub struct Hops<'a> {
    origin: &'a StorePath,
    count: u32,
}

impl<'a> Hops<'a> {
    /// No hop yet, for an operation on `origin`.
    pub fn new(origin: &'a StorePath) -> Self {
        Hops { origin, count: 0 }
    }

    /// One more hop; `LinkLoop` past the limit.
    pub fn hop(&mut self) -> Result<()> {
        self.count += 1;
        if self.count > MAX_LINK_HOPS {
            return Err(Error::link_loop(self.origin.as_str()));
        }
        Ok(())
    }

    /// The operation's path.
    pub fn origin(&self) -> &'a StorePath {
        self.origin
    }
}

impl Steps {
    /// Child `name` of `group`, any deletion under way of it finished
    /// first.
    pub fn child(&self, group: &str, name: &str) -> Result<Got> {
        // A deletion, once finished, does not come back with the same
        // attempt; a few rounds cover other clients starting new ones.
        for _ in 0..64 {
            match self.get(group, name)? {
                Got::Entry(deleting @ Entry::Deleting { .. }) => {
                    self.finish_deletion(group, name, &deleting)?;
                }
                got => return Ok(got),
            }
        }
        Err(crate::error::ClusterError::Unavailable {
            command: "a read".into(),
            waited: std::time::Duration::ZERO,
            last: format!("{:?} is being deleted again and again", join(group, name)),
        }
        .into_store_error(format!("reading {:?}", join(group, name))))
    }

    /// `resolve(path)` and what is there, every link followed.
    pub fn locate(&self, path: &str, hops: &mut Hops<'_>) -> Result<Located> {
        if path.is_empty() {
            return Ok(Located::root());
        }
        let (parent, name) = split(path);
        let located = match self.child(parent, name)? {
            Got::NoGroup => self.walk(path, hops)?,
            Got::Absent => Located {
                path: path.to_owned(),
                entry: None,
            },
            Got::Entry(Entry::Link(target)) => {
                hops.hop()?;
                self.locate(&target, hops)?
            }
            Got::Entry(entry) => Located {
                path: path.to_owned(),
                entry: Some(entry),
            },
        };
        check_resolved_len(hops.origin(), &located.path)?;
        Ok(located)
    }

    /// Resolution from the root, a step per segment.
    fn walk(&self, path: &str, hops: &mut Hops<'_>) -> Result<Located> {
        let mut at = Located::root();
        let mut segments = path.split('/');
        while let Some(segment) = segments.next() {
            match self.child(&at.path, segment)? {
                Got::Entry(Entry::Link(target)) => {
                    hops.hop()?;
                    at = self.locate(&target, hops)?;
                }
                Got::Entry(entry) => {
                    at = Located {
                        path: join(&at.path, segment),
                        entry: Some(entry),
                    };
                }
                // Nothing is stored below a path that is not an alive
                // group, so the rest of the path is absent and no link.
                Got::NoGroup | Got::Absent => {
                    let mut rest = join(&at.path, segment);
                    for segment in segments {
                        rest = join(&rest, segment);
                    }
                    check_resolved_len(hops.origin(), &rest)?;
                    return Ok(Located {
                        path: rest,
                        entry: None,
                    });
                }
            }
            check_resolved_len(hops.origin(), &at.path)?;
        }
        Ok(at)
    }
}
