//! Deletion, bottom up: a value or a link goes in one step; a group in
//! three, any client able to finish them (its parent's entry marked with
//! this attempt, the group's own slot deciding once whether it dies, which
//! it does only when it has no child, then the parent's entry removed or
//! restored). A recursive delete removes the children first, page by page,
//! with an explicit stack of the groups it is emptying (never one call per
//! level: a tree may be thousands of levels deep, and a dirty scheduler's
//! stack is small).

use hbstore::{Error, Result, StorePath};

use crate::journal::Journal;
use crate::layout::{token, Entry};
use crate::mutate::{contended, RETRIES};
use crate::resolve::{join, Hops};
use crate::steps::{Decision, Got, PageChild, Removed, Steps};

impl Steps {
    /// Drives a deletion under way (by anyone) to its end; says whether the
    /// group died.
    pub fn finish_deletion(&self, parent: &str, name: &str, deleting: &Entry) -> Result<Decision> {
        let Entry::Deleting { token, attempt } = deleting else {
            return Ok(Decision::Refused);
        };
        let decision = self.kill(&join(parent, name), token, attempt)?;
        self.settle(parent, name, deleting, decision)?;
        Ok(decision)
    }

    /// `delete`: removes the entry at `origin` (its parent resolved).
    pub fn delete(
        &self,
        origin: &StorePath,
        recursive: bool,
        journal: &mut Journal,
    ) -> Result<bool> {
        let (Some(parent), Some(name)) = (origin.parent(), origin.name()) else {
            return Err(Error::root("deleted"));
        };
        let mut at_parent = parent.as_str().to_owned();
        for _ in 0..RETRIES {
            match self.delete_child(origin, &at_parent, name, recursive, journal)? {
                Some(removed) => return Ok(removed),
                None => {
                    let located = self.locate(&at_parent, &mut Hops::new(&parent))?;
                    if located.path == at_parent {
                        return Ok(false);
                    }
                    at_parent = located.path;
                }
            }
        }
        Err(contended(origin))
    }

    /// Removes child `name` of the physical group `parent`; `None` when
    /// `parent` is not alive.
    fn delete_child(
        &self,
        origin: &StorePath,
        parent: &str,
        name: &str,
        recursive: bool,
        journal: &mut Journal,
    ) -> Result<Option<bool>> {
        let path = join(parent, name);
        if recursive {
            // Children first, so the group's own deletion is not refused.
            if let Got::Entry(Entry::Group(_)) = self.child(parent, name)? {
                self.delete_below(origin, &path, journal)?;
            }
        }
        for _ in 0..RETRIES {
            let ours = token();
            let removed = match self.remove(parent, name, &ours, None)? {
                // Our own attempt, met again: the step ran but its reply
                // was lost, and the client sent it again.
                Removed::Busy { token, attempt } if attempt == ours => {
                    Removed::Deleting { token, attempt }
                }
                removed => removed,
            };
            match removed {
                Removed::NoGroup => return Ok(None),
                Removed::Absent | Removed::Changed => return Ok(Some(false)),
                Removed::Gone(before) => {
                    journal.removed(parent, name, before);
                    return Ok(Some(true));
                }
                Removed::Busy { token, attempt } => {
                    self.finish_deletion(parent, name, &Entry::Deleting { token, attempt })?;
                }
                Removed::Deleting { token, attempt } => {
                    let deleting = Entry::Deleting { token, attempt };
                    match self.finish_deletion(parent, name, &deleting)? {
                        Decision::Deleted => {
                            journal.deleted(&path);
                            return Ok(Some(true));
                        }
                        Decision::Refused if recursive => {
                            self.delete_below(origin, &path, journal)?;
                        }
                        Decision::Refused => {
                            return Err(Error::NotEmpty {
                                path: origin.to_string(),
                            })
                        }
                    }
                }
            }
        }
        Err(contended(origin))
    }

    /// Deletes everything below the physical group `group`, bottom up: a
    /// page of a group's children at a time, descending into the first
    /// child group met, removing a group once a page finds it empty. Any
    /// size and depth: only the stack of groups being emptied is held.
    fn delete_below(&self, origin: &StorePath, group: &str, journal: &mut Journal) -> Result<()> {
        let mut emptying = vec![group.to_owned()];
        // Rounds in a row that removed nothing and went nowhere: only other
        // clients changing the same groups as fast as this one can cause
        // them.
        let mut idle = 0;
        while let Some(top) = emptying.last().cloned() {
            if idle > RETRIES {
                return Err(contended(origin));
            }
            let page = self
                .page(&top, (b"-", b"+"), crate::read::PAGE, false, None)?
                .unwrap_or_default();
            if page.is_empty() {
                emptying.pop();
                if emptying.is_empty() {
                    return Ok(());
                }
                // `top` is empty now: it goes as a child of its parent.
                let (parent, name) = crate::resolve::split(&top);
                match self.delete_child(origin, parent, name, false, journal) {
                    Ok(_) => idle = 0,
                    // A child was added meanwhile: empty it again.
                    Err(Error::NotEmpty { .. }) => {
                        emptying.push(top);
                        idle += 1;
                    }
                    Err(e) => return Err(e),
                }
                continue;
            }
            let mut removed_any = false;
            for (name, child) in page {
                if matches!(child, PageChild::Group) {
                    emptying.push(join(&top, &name));
                    removed_any = true;
                    break;
                }
                if self.delete_child(origin, &top, &name, false, journal)? == Some(true) {
                    removed_any = true;
                }
            }
            idle = if removed_any { 0 } else { idle + 1 };
        }
        Ok(())
    }
}
