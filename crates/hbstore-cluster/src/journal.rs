//! A batch's undo: every step a batch takes is recorded with what it
//! replaced, and when an operation of the batch fails the steps are undone
//! in reverse, each only if what it wrote is still there (so an undo never
//! overwrites another client's write). Single operations record nothing.

use std::collections::HashMap;

use crate::layout::Entry;
use crate::resolve::split;
use crate::steps::{Removed, Steps};

/// One step, and how to take it back.
#[derive(Debug)]
enum Undo {
    /// Child `name` of `group` went from `before` to `after` (encoded).
    Put {
        group: String,
        name: String,
        before: Option<Vec<u8>>,
        after: Vec<u8>,
    },
    /// A value or link was removed.
    Removed {
        group: String,
        name: String,
        before: Vec<u8>,
    },
    /// A group was created with `token`.
    Created { path: String, token: String },
    /// A group was deleted.
    Deleted { path: String },
}

/// The steps of one batch so far; off for a single operation.
#[derive(Debug, Default)]
pub struct Journal {
    on: bool,
    steps: Vec<Undo>,
}

impl Journal {
    /// A journal that records nothing.
    pub fn off() -> Self {
        Journal::default()
    }

    /// A journal that records every step.
    pub fn on() -> Self {
        Journal {
            on: true,
            steps: Vec::new(),
        }
    }

    fn record(&mut self, undo: Undo) {
        if self.on {
            self.steps.push(undo);
        }
    }

    pub fn put(&mut self, group: &str, name: &str, before: Option<Vec<u8>>, after: &Entry) {
        if self.on {
            self.record(Undo::Put {
                group: group.to_owned(),
                name: name.to_owned(),
                before,
                after: after.encode(),
            });
        }
    }

    pub fn removed(&mut self, group: &str, name: &str, before: Vec<u8>) {
        self.record(Undo::Removed {
            group: group.to_owned(),
            name: name.to_owned(),
            before,
        });
    }

    pub fn created(&mut self, path: &str, token: &str) {
        self.record(Undo::Created {
            path: path.to_owned(),
            token: token.to_owned(),
        });
    }

    pub fn deleted(&mut self, path: &str) {
        self.record(Undo::Deleted {
            path: path.to_owned(),
        });
    }

    /// Takes every step back, last first, each only if what it wrote is
    /// still there (a step another client has changed since is left as
    /// that client made it). Stops at the first step the cluster fails to
    /// take back (down, or the operation's deadline passed): the batch is
    /// then partly applied, and the error says so.
    pub fn roll_back(self, steps: &Steps) -> Result<(), Unfinished> {
        let total = self.steps.len();
        // Groups brought back by undoing a deletion have new tokens; an
        // earlier creation of the same path is undone by those.
        let mut recreated: HashMap<String, String> = HashMap::new();
        for (done, undo) in self.steps.into_iter().rev().enumerate() {
            let undone = match &undo {
                Undo::Put {
                    group,
                    name,
                    before,
                    after,
                } => steps.restore(group, name, Some(after), before.as_deref()),
                Undo::Removed {
                    group,
                    name,
                    before,
                } => steps.restore(group, name, None, Some(before)),
                Undo::Created { path, token } => {
                    let token = recreated.get(path).unwrap_or(token);
                    uncreate(steps, path, token)
                }
                Undo::Deleted { path } => {
                    let mut again = Journal::on();
                    let done = steps.ensure_group(path, &mut again).map(|_| true);
                    for step in again.steps {
                        if let Undo::Created { path, token } = step {
                            recreated.insert(path, token);
                        }
                    }
                    done
                }
            };
            if let Err(cause) = undone {
                return Err(Unfinished {
                    left: total - done,
                    total,
                    cause,
                });
            }
        }
        Ok(())
    }
}

/// An undo the cluster did not let finish.
#[derive(Debug)]
pub struct Unfinished {
    /// Steps not taken back.
    left: usize,
    /// Steps the batch had taken.
    total: usize,
    /// Why the undo stopped.
    cause: hbstore::Error,
}

impl Unfinished {
    /// The error of a batch that failed with `failure` and could not be
    /// wholly undone: it says the batch may be partly applied.
    pub fn into_error(self, failure: &hbstore::Error) -> hbstore::Error {
        hbstore::Error::Remote {
            context: format!(
                "{failure}; undoing the batch then failed, so it may be partly applied \
                 ({} of its {} steps not taken back)",
                self.left, self.total
            ),
            source: Box::new(self.cause),
        }
    }
}

/// Deletes the group created as `path` with `token`, if it is still that
/// incarnation and empty.
fn uncreate(steps: &Steps, path: &str, token: &str) -> hbstore::Result<bool> {
    let (parent, name) = split(path);
    let expected = Entry::Group(token.to_owned()).encode();
    let attempt = crate::layout::token();
    match steps.remove(parent, name, &attempt, Some(&expected))? {
        Removed::Deleting { token, attempt } => {
            let deleting = Entry::Deleting { token, attempt };
            let decision = steps.finish_deletion(parent, name, &deleting)?;
            Ok(decision == crate::steps::Decision::Deleted)
        }
        _ => Ok(false),
    }
}
