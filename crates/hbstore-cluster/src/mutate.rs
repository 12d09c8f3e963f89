//! The mutations that add, as sequences of single-slot steps: groups
//! created top down (an entry in the parent, then the group's own marker),
//! values and links put in their group's slot (deletion is `delete.rs`).
//! Each step is atomic; a step that finds the tree changed under it (a
//! group deleted, a link made where it expected nothing) makes the
//! operation resolve again.

use hbstore::{Error, Result, StorePath};

use crate::error::ClusterError;
use crate::journal::Journal;
use crate::layout::{token, Entry};
use crate::resolve::{join, split, Hops};
use crate::steps::{Put, Puts, Steps};

/// How many times an operation resolves again after finding the tree
/// changed under it before it gives up (each retry means another client
/// changed the same paths meanwhile).
pub(crate) const RETRIES: usize = 64;

/// What `ensure_group` achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    /// The group is there and alive.
    Ready,
    /// A link or a deletion got in the way: resolve again.
    Moved,
}

pub(crate) fn contended(origin: &StorePath) -> Error {
    ClusterError::Unavailable {
        command: "a store operation".into(),
        waited: std::time::Duration::ZERO,
        last: format!("{RETRIES} retries: other clients keep changing the same paths"),
    }
    .into_store_error(format!("{:?}", origin.as_str()))
}

impl Steps {
    /// Makes the physical path `path` an alive group, creating what is
    /// missing from the top down. `NotAGroup` (for `origin`) at a value.
    pub fn ensure_group_for(
        &self,
        origin: &StorePath,
        path: &str,
        journal: &mut Journal,
    ) -> Result<Ensured> {
        let mut at = String::new();
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            let child = join(&at, segment);
            let mut tries = 0;
            loop {
                tries += 1;
                if tries > RETRIES {
                    return Err(contended(origin));
                }
                let fresh = token();
                let token = match self.put(&at, segment, b'g', fresh.as_bytes())? {
                    Put::NoGroup => return Ok(Ensured::Moved),
                    Put::Done(_) => {
                        journal.created(&child, &fresh);
                        fresh
                    }
                    // Our own group, met again: the step ran but its reply
                    // was lost, and the client sent it again.
                    Put::Existing(Entry::Group(token)) if token == fresh => {
                        journal.created(&child, &fresh);
                        fresh
                    }
                    Put::Existing(Entry::Group(token)) => token,
                    Put::Existing(deleting @ Entry::Deleting { .. }) => {
                        self.finish_deletion(&at, segment, &deleting)?;
                        continue;
                    }
                    Put::Existing(Entry::Value(_)) => {
                        return Err(Error::NotAGroup {
                            path: origin.to_string(),
                            value_at: child,
                        })
                    }
                    Put::Same | Put::Existing(Entry::Link(_)) => return Ok(Ensured::Moved),
                };
                // The group's own marker, set now if it is new, and checked
                // (set, if its creator died before) if it was there.
                if self.mark(&child, &token)? {
                    break;
                }
            }
            at = child;
        }
        Ok(Ensured::Ready)
    }

    /// `ensure_group_for` a path that is its own origin (undo, CLI).
    pub fn ensure_group(&self, path: &str, journal: &mut Journal) -> Result<Ensured> {
        let origin = StorePath::parse(path)?;
        self.ensure_group_for(&origin, path, journal)
    }

    /// `write`: the bytes at `origin`, its parent resolved and its last
    /// segment not followed (a value or a link there is replaced).
    pub fn write(&self, origin: &StorePath, value: &[u8], journal: &mut Journal) -> Result<()> {
        if origin.is_root() {
            return Err(Error::root("written"));
        }
        let entry = Entry::Value(value.to_vec());
        let mut at = origin.as_str().to_owned();
        let mut hops = Hops::new(origin);
        // The token of a parent this write just opened, to mark it with in
        // the same step as the write.
        let mut opened: Option<String> = None;
        for _ in 0..RETRIES {
            let (parent, name) = split(&at);
            let outcome = match opened.take() {
                None => self.put(parent, name, b'v', value)?,
                Some(token) => match self.puts(parent, Some(&token), &[(name, &entry.encode())])? {
                    Puts::Done(before) => Put::Done(before.into_iter().next().flatten()),
                    Puts::Blocked { entry, .. } => Put::Existing(entry),
                    Puts::NoGroup | Puts::Stale => Put::NoGroup,
                },
            };
            match outcome {
                Put::Done(before) => {
                    journal.put(parent, name, before, &entry);
                    return Ok(());
                }
                Put::Existing(Entry::Group(_) | Entry::Deleting { .. }) => {
                    return Err(Error::IsGroup {
                        path: origin.to_string(),
                    })
                }
                // PUT replaces a value or a link, so neither is answered
                // here; were one, the parent is resolved again.
                Put::NoGroup | Put::Same | Put::Existing(Entry::Value(_) | Entry::Link(_)) => {
                    let (parent, name) = (parent.to_owned(), name.to_owned());
                    match self.open_parent(origin, &parent, journal)? {
                        Some(token) => opened = Some(token),
                        None => {
                            at = self.reach_parent(origin, &parent, &name, &mut hops, journal)?
                        }
                    }
                }
            }
        }
        Err(contended(origin))
    }

    /// Values and links put under one parent in one step (a message's
    /// fields in a batch): the parent opened first if it is missing, the
    /// links indexed (all at once), then every entry at once. Anything
    /// unusual (a group or a clash among the children, a parent that is
    /// not physical) falls back to one operation each, in order, which
    /// gives each its own answer.
    pub fn put_siblings(
        &self,
        parent: &StorePath,
        items: &[(&StorePath, Entry)],
        journal: &mut Journal,
    ) -> Result<()> {
        let group = parent.as_str();
        let encoded: Vec<Vec<u8>> = items.iter().map(|(_, entry)| entry.encode()).collect();
        let named: Vec<(&str, &[u8])> = items
            .iter()
            .zip(&encoded)
            .filter_map(|((path, _), raw)| path.name().map(|name| (name, raw.as_slice())))
            .collect();
        if named.len() != items.len() {
            return self.put_each(items, journal);
        }
        // A group this client has not written to lately is most likely a
        // new message: opened first, it takes two steps, where trying it
        // first would take three.
        let mut token: Option<String> = None;
        if !self.recently_alive(group) {
            match self.open_parent(items[0].0, group, journal)? {
                Some(opened) => token = Some(opened),
                None => return self.put_each(items, journal),
            }
        }
        let links: Vec<(&str, &str)> = items
            .iter()
            .filter_map(|(path, entry)| match (entry, path.name()) {
                (Entry::Link(target), Some(name)) => Some((name, target.as_str())),
                _ => None,
            })
            .collect();
        self.index_links(group, &links)?;
        for _ in 0..2 {
            match self.puts(group, token.as_deref(), &named)? {
                Puts::Done(before) => {
                    for (((name, _), (_, entry)), before) in named.iter().zip(items).zip(before) {
                        journal.put(group, name, before, entry);
                    }
                    self.seen_alive(group);
                    return Ok(());
                }
                Puts::NoGroup if token.is_none() => {
                    match self.open_parent(items[0].0, group, journal)? {
                        Some(opened) => token = Some(opened),
                        None => break,
                    }
                }
                _ => break,
            }
        }
        self.put_each(items, journal)
    }

    fn put_each(&self, items: &[(&StorePath, Entry)], journal: &mut Journal) -> Result<()> {
        for (path, entry) in items {
            match entry {
                Entry::Link(target) => self.make_link(&StorePath::parse(target)?, path, journal)?,
                Entry::Value(value) => self.write(path, value, journal)?,
                Entry::Group(_) | Entry::Deleting { .. } => self.make_group(path, journal)?,
            }
        }
        Ok(())
    }

    /// Adds `group` to the link index of each (child name, target) of
    /// `links`, in one round of pipelined `ZADD`s.
    fn index_links(&self, group: &str, links: &[(&str, &str)]) -> Result<()> {
        if links.is_empty() {
            return Ok(());
        }
        let cmds: Vec<(u16, crate::resp::Cmd)> = links
            .iter()
            .map(|(name, target)| {
                let index = self.layout.link_index(name, target);
                let cmd = crate::resp::Cmd::new("ZADD")
                    .arg(&index)
                    .arg("0")
                    .arg(group);
                (crate::client::slot_of(&index), cmd)
            })
            .collect();
        let replies = self
            .client
            .call_each(cmds)
            .map_err(|e| e.into_store_error(format!("indexing the links of {group:?}")))?;
        match replies
            .iter()
            .find(|r| !matches!(r, crate::resp::Reply::Int(_)))
        {
            None => Ok(()),
            Some(other) => {
                Err(crate::steps::unexpected("ZADD", other).into_store_error("indexing a link"))
            }
        }
    }

    /// After a step found `parent` not alive: makes it a group in its own
    /// parent, in one step when that one is alive (so `parent` is physical),
    /// and returns the token to mark it with. `None` when that one is not
    /// alive either, or `parent` is a link: the caller resolves.
    fn open_parent(
        &self,
        origin: &StorePath,
        parent: &str,
        journal: &mut Journal,
    ) -> Result<Option<String>> {
        if parent.is_empty() {
            return Ok(None);
        }
        let (above, name) = split(parent);
        for _ in 0..RETRIES {
            let fresh = token();
            match self.put(above, name, b'g', fresh.as_bytes())? {
                Put::Done(_) => {
                    journal.created(parent, &fresh);
                    return Ok(Some(fresh));
                }
                Put::Existing(Entry::Group(token)) if token == fresh => {
                    journal.created(parent, &fresh);
                    return Ok(Some(fresh));
                }
                Put::Existing(Entry::Group(token)) => return Ok(Some(token)),
                Put::Existing(deleting @ Entry::Deleting { .. }) => {
                    self.finish_deletion(above, name, &deleting)?;
                }
                Put::Existing(Entry::Value(_)) => {
                    return Err(Error::NotAGroup {
                        path: origin.to_string(),
                        value_at: parent.to_owned(),
                    })
                }
                Put::Existing(Entry::Link(_)) | Put::Same | Put::NoGroup => return Ok(None),
            }
        }
        Err(contended(origin))
    }

    /// After a step found `parent` not alive: where the child `name` really
    /// goes (its parent resolved), with the parent created when missing.
    fn reach_parent(
        &self,
        origin: &StorePath,
        parent: &str,
        name: &str,
        hops: &mut Hops<'_>,
        journal: &mut Journal,
    ) -> Result<String> {
        let located = self.locate(parent, hops)?;
        if located.path != parent {
            return Ok(join(&located.path, name));
        }
        if let Some(Entry::Value(_)) = located.entry {
            return Err(Error::NotAGroup {
                path: origin.to_string(),
                value_at: located.path,
            });
        }
        self.ensure_group_for(origin, parent, journal)?;
        Ok(join(parent, name))
    }

    /// `make_group`: `mkdir -p` at `resolve(origin)`.
    pub fn make_group(&self, origin: &StorePath, journal: &mut Journal) -> Result<()> {
        for _ in 0..RETRIES {
            let mut hops = Hops::new(origin);
            let located = self.locate(origin.as_str(), &mut hops)?;
            match located.entry {
                Some(Entry::Value(_)) => {
                    return Err(Error::NotAGroup {
                        path: origin.to_string(),
                        value_at: located.path,
                    })
                }
                Some(_) if located.path.is_empty() => return Ok(()),
                Some(Entry::Group(_)) => return Ok(()),
                _ => {
                    if self.ensure_group_for(origin, &located.path, journal)? == Ensured::Ready {
                        return Ok(());
                    }
                }
            }
        }
        Err(contended(origin))
    }

    /// `make_link`: a link at `new` (its parent resolved, its last segment
    /// not followed) to `existing`, replacing a value or re-pointing a link
    /// there. The link index gets the link's group first, so `match` never
    /// misses a link that is there; the record of a link re-pointed or
    /// replaced stays in the index (`match` checks every member against
    /// the entry itself, so a stale one is skipped; `check` counts them).
    pub fn make_link(
        &self,
        existing: &StorePath,
        new: &StorePath,
        journal: &mut Journal,
    ) -> Result<()> {
        if existing == new {
            return Ok(());
        }
        let (Some(parent), Some(name)) = (new.parent(), new.name()) else {
            return Err(Error::root("a link"));
        };
        let target = existing.as_str();
        let entry = Entry::Link(target.to_owned());
        // Only the parent is resolved; errors name the link's path, as in
        // the embedded backends.
        let mut hops = Hops::new(new);
        let mut at_parent = parent.as_str().to_owned();
        for _ in 0..RETRIES {
            hbstore::check_resolved_len(new, &join(&at_parent, name))?;
            self.index_links(&at_parent, &[(name, target)])?;
            match self.put(&at_parent, name, b'l', target.as_bytes())? {
                Put::Done(before) => {
                    journal.put(&at_parent, name, before, &entry);
                    return Ok(());
                }
                Put::Same => return Ok(()),
                Put::Existing(other) => {
                    return Err(Error::AlreadyExists {
                        path: new.to_string(),
                        existing: other.describe(),
                    })
                }
                Put::NoGroup => {
                    let located = self.locate(&at_parent, &mut hops)?;
                    if located.path != at_parent {
                        at_parent = located.path;
                        continue;
                    }
                    if let Some(Entry::Value(_)) = located.entry {
                        return Err(Error::NotAGroup {
                            path: new.to_string(),
                            value_at: located.path,
                        });
                    }
                    self.ensure_group_for(new, &at_parent, journal)?;
                }
            }
        }
        Err(contended(new))
    }
}
