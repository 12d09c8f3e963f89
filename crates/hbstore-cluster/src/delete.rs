//! Deletion, bottom up: a value or a link goes in one step; a group in
//! three, any client able to finish them (its parent's entry marked with
//! this attempt, the group's own slot deciding once whether it dies, which
//! it does only when it has no child, then the parent's entry removed or
//! restored). A recursive delete removes the children first, page by page.

use hbstore::{Error, Result, StorePath};

use crate::journal::Journal;
use crate::layout::{token, Entry};
use crate::mutate::{contended, RETRIES};
use crate::resolve::{join, Hops};
use crate::steps::{Decision, Got, Removed, Steps};

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
                self.delete_children(origin, &path, journal)?;
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
                            self.delete_children(origin, &path, journal)?;
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

    /// Deletes every child of the physical group `group`, bottom up.
    fn delete_children(
        &self,
        origin: &StorePath,
        group: &str,
        journal: &mut Journal,
    ) -> Result<()> {
        // Each round removes a page; more rounds than this mean writers
        // keep adding children as fast as they go.
        for _ in 0..RETRIES * 16 {
            let Some(page) = self.page(group, (b"-", b"+"), crate::read::PAGE, false, None)? else {
                return Ok(());
            };
            if page.is_empty() {
                return Ok(());
            }
            for (name, _) in page {
                self.delete_child(origin, group, &name, true, journal)?;
            }
        }
        Err(contended(origin))
    }
}
