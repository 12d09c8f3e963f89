//! The single-slot steps (`scripts.rs`) as typed calls: arguments in,
//! parsed replies out. Each call is one round trip to one primary (two when
//! writes wait for replicas: the script and `WAIT`, in one pipeline).

use std::time::Duration;

use hbstore::{Error, Result};

use crate::client::{slot_of, Client};
use crate::error::ClusterError;
use crate::layout::{Entry, Layout};
use crate::resp::{Cmd, Reply};
use crate::scripts;

/// Which script.
#[derive(Debug, Clone, Copy)]
pub enum Script {
    Get = 0,
    Put,
    Mark,
    Kill,
    Settle,
    Remove,
    Restore,
    Page,
    Puts,
}

/// What a child lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    /// The group is not alive (absent, a value, a link, or not yet marked).
    NoGroup,
    /// The group is alive and has no such child.
    Absent,
    /// The child.
    Entry(Entry),
}

/// What a `PUT` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Put {
    /// The group is not alive.
    NoGroup,
    /// Stored; the value it replaced, encoded, if any.
    Done(Option<Vec<u8>>),
    /// The same link was already there.
    Same,
    /// Something else is there; nothing changed.
    Existing(Entry),
}

/// What a `PUTS` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Puts {
    /// The group is not alive (and no token was given).
    NoGroup,
    /// The token given is of a dead incarnation.
    Stale,
    /// Child `index` (from 0) holds what its entry cannot replace; nothing
    /// changed.
    Blocked { index: usize, entry: Entry },
    /// Stored; each child's previous entry, encoded.
    Done(Vec<Option<Vec<u8>>>),
}

/// What a `REMOVE` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    /// The group is not alive.
    NoGroup,
    /// Nothing there.
    Absent,
    /// A value or link, removed; its encoded entry.
    Gone(Vec<u8>),
    /// A group, now marked as being deleted by this attempt.
    Deleting { token: String, attempt: String },
    /// A group another deletion is working on.
    Busy { token: String, attempt: String },
    /// Not the entry expected; nothing changed.
    Changed,
}

/// The decision of a deletion attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Deleted,
    Refused,
}

/// One child as a page gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageChild {
    Value { len: u64, bytes: Option<Vec<u8>> },
    Group,
    Link(String),
}

/// Script calls for one store: its layout, the cluster, the scripts' SHA1s.
pub struct Steps {
    pub client: Client,
    pub layout: Layout,
    shas: Vec<String>,
    /// Groups this client wrote to lately: only a hint of which step to
    /// try first, never relied on for correctness.
    alive: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Replicas each write waits for (0: none), and how long.
    replicas: u32,
    replica_timeout: Duration,
}

fn flag(root: bool) -> &'static [u8] {
    if root {
        b"1"
    } else {
        b"0"
    }
}

impl Steps {
    /// Loads the scripts (their SHA1s come back from `SCRIPT LOAD`).
    pub fn new(
        client: Client,
        layout: Layout,
        replicas: u32,
        replica_timeout: Duration,
    ) -> std::result::Result<Steps, ClusterError> {
        let primary = client.primaries().into_iter().next().unwrap_or_default();
        let loads: Vec<Cmd> = scripts::ALL
            .iter()
            .map(|body| Cmd::new("SCRIPT").arg("LOAD").arg(body))
            .collect();
        let replies = client.call_node(&primary, &loads)?;
        let shas = replies
            .into_iter()
            .map(|r| match r {
                Reply::Bulk(Some(sha)) => Ok(String::from_utf8_lossy(&sha).into_owned()),
                other => Err(unexpected("SCRIPT LOAD", &other)),
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Steps {
            client,
            layout,
            shas,
            alive: Default::default(),
            replicas,
            replica_timeout,
        })
    }

    /// Whether this client wrote to `group` lately.
    pub fn recently_alive(&self, group: &str) -> bool {
        let alive = self.alive.lock().unwrap_or_else(|p| p.into_inner());
        alive.contains(group)
    }

    /// Notes that `group` took a write.
    pub fn seen_alive(&self, group: &str) {
        /// Groups remembered; the set starts over when full.
        const REMEMBERED: usize = 4096;
        let mut alive = self.alive.lock().unwrap_or_else(|p| p.into_inner());
        if alive.len() >= REMEMBERED {
            alive.clear();
        }
        if !alive.contains(group) {
            alive.insert(group.to_owned());
        }
    }

    /// Runs `script` on the keys of `group`.
    fn eval(&self, script: Script, group: &str, args: &[&[u8]], write: bool) -> Result<Reply> {
        let keys = self.layout.group_keys(group);
        self.eval_keys(script, &keys, args, write)
            .map_err(|e| e.into_store_error(format!("cluster step on group {group:?}")))
    }

    fn eval_keys(
        &self,
        script: Script,
        keys: &[Vec<u8>],
        args: &[&[u8]],
        write: bool,
    ) -> std::result::Result<Reply, ClusterError> {
        let slot = slot_of(&keys[0]);
        let build = |verb: &str, head: &[u8]| {
            let mut cmd = Cmd::new(verb).arg(head).arg(keys.len().to_string());
            for k in keys {
                cmd.push(k);
            }
            for a in args {
                cmd.push(a);
            }
            let mut cmds = vec![cmd];
            if write && self.replicas > 0 {
                cmds.push(
                    Cmd::new("WAIT")
                        .arg(self.replicas.to_string())
                        .arg(self.replica_timeout.as_millis().to_string()),
                );
            }
            cmds
        };
        let idx = script as usize;
        let mut replies = self
            .client
            .call(slot, &build("EVALSHA", self.shas[idx].as_bytes()))?;
        if matches!(replies.first(), Some(Reply::Error(e)) if e.starts_with("NOSCRIPT")) {
            // A node that has not seen the script yet (a new primary after
            // a failover, say): EVAL sends it, and the node keeps it.
            replies = self
                .client
                .call(slot, &build("EVAL", scripts::ALL[idx].as_bytes()))?;
        }
        let mut replies = replies.into_iter();
        let reply = replies.next().unwrap_or(Reply::Array(None));
        if let Reply::Error(message) = &reply {
            return Err(ClusterError::Refused {
                addr: format!("slot {slot}"),
                command: format!("script {script:?}"),
                message: message.clone(),
            });
        }
        if let Some(waited) = replies.next() {
            match waited {
                Reply::Int(n) if n >= i64::from(self.replicas) => {}
                Reply::Int(n) => {
                    return Err(ClusterError::NotReplicated {
                        wanted: self.replicas,
                        acknowledged: n,
                        timeout: self.replica_timeout,
                    })
                }
                other => return Err(unexpected("WAIT", &other)),
            }
        }
        Ok(reply)
    }

    /// Child `name` of `group`.
    pub fn get(&self, group: &str, name: &str) -> Result<Got> {
        // A plain HGET first: an entry there proves its group alive (a
        // marker dies only once its group is empty), so a hit needs no
        // script; only a miss asks the script whether the group is alive.
        let entries = self.layout.entries(group);
        let hget = Cmd::new("HGET").arg(&entries).arg(name);
        let hit = self
            .client
            .call(slot_of(&entries), &[hget])
            .map_err(|e| e.into_store_error(format!("cluster step on group {group:?}")))?
            .pop();
        match hit {
            Some(Reply::Bulk(Some(raw))) => return Ok(Got::Entry(self.decode(group, name, &raw)?)),
            Some(Reply::Bulk(None)) => {}
            Some(Reply::Error(message)) => {
                return Err(ClusterError::Refused {
                    addr: format!("slot {}", slot_of(&entries)),
                    command: "HGET".into(),
                    message,
                }
                .into_store_error(format!("cluster step on group {group:?}")))
            }
            other => {
                return Err(self.odd(group, "HGET", &format!("{other:?}")));
            }
        }
        let reply = self.eval(
            Script::Get,
            group,
            &[flag(group.is_empty()), name.as_bytes()],
            false,
        )?;
        let mut items = reply.into_items().into_iter();
        let status = status(items.next());
        match (status.as_str(), items.next().and_then(Reply::into_bytes)) {
            ("nogroup", _) => Ok(Got::NoGroup),
            ("ok", None) => Ok(Got::Absent),
            ("ok", Some(raw)) => Ok(Got::Entry(self.decode(group, name, &raw)?)),
            _ => Err(self.odd(group, "GET", &status)),
        }
    }

    /// Puts `tag` + `payload` at child `name` of `group` (see `PUT`).
    pub fn put(&self, group: &str, name: &str, tag: u8, payload: &[u8]) -> Result<Put> {
        let reply = self.eval(
            Script::Put,
            group,
            &[flag(group.is_empty()), name.as_bytes(), &[tag], payload],
            true,
        )?;
        let mut items = reply.into_items().into_iter();
        let status = status(items.next());
        let entry = items.next().and_then(Reply::into_bytes);
        match status.as_str() {
            "nogroup" => Ok(Put::NoGroup),
            "done" => Ok(Put::Done(entry)),
            "same" => Ok(Put::Same),
            "v" | "g" | "d" | "l" => {
                let raw = entry.ok_or_else(|| self.odd(group, "PUT", &status))?;
                Ok(Put::Existing(self.decode(group, name, &raw)?))
            }
            _ => Err(self.odd(group, "PUT", &status)),
        }
    }

    /// Puts every `(name, encoded entry)` of `items` under `group`, all or
    /// none; `token` marks a group not yet marked (see `PUTS`).
    pub fn puts(&self, group: &str, token: Option<&str>, items: &[(&str, &[u8])]) -> Result<Puts> {
        let mut args: Vec<&[u8]> = Vec::with_capacity(2 + 2 * items.len());
        args.push(flag(group.is_empty()));
        args.push(token.unwrap_or("").as_bytes());
        for (name, value) in items {
            args.push(name.as_bytes());
            args.push(value);
        }
        let reply = self.eval(Script::Puts, group, &args, true)?;
        let mut items_back = reply.into_items().into_iter();
        let status = status(items_back.next());
        match status.as_str() {
            "nogroup" => Ok(Puts::NoGroup),
            "stale" => Ok(Puts::Stale),
            "blocked" => {
                let index = items_back
                    .next()
                    .and_then(Reply::into_bytes)
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|s| s.parse::<usize>().ok())
                    .filter(|&i| i >= 1 && i <= items.len())
                    .ok_or_else(|| self.odd(group, "PUTS", "a blocked child without its index"))?;
                let raw = items_back
                    .next()
                    .and_then(Reply::into_bytes)
                    .ok_or_else(|| self.odd(group, "PUTS", "a blocked child without its entry"))?;
                let entry = self.decode(group, items[index - 1].0, &raw)?;
                Ok(Puts::Blocked {
                    index: index - 1,
                    entry,
                })
            }
            "done" => Ok(Puts::Done(
                items_back
                    .map(|r| r.into_bytes().filter(|b| !b.is_empty()))
                    .collect(),
            )),
            _ => Err(self.odd(group, "PUTS", &status)),
        }
    }

    /// Brings `group`'s marker to life with `token`; `false` when stale.
    pub fn mark(&self, group: &str, token: &str) -> Result<bool> {
        let reply = self.eval_one_key(Script::Mark, group, &[token.as_bytes()])?;
        match reply.bytes() {
            Some(b"ok") => Ok(true),
            Some(b"stale") => Ok(false),
            _ => Err(self.odd(group, "MARK", &format!("{reply:?}"))),
        }
    }

    fn eval_one_key(&self, script: Script, group: &str, args: &[&[u8]]) -> Result<Reply> {
        let keys = [self.layout.marker(group)];
        self.eval_keys(script, &keys, args, true)
            .map_err(|e| e.into_store_error(format!("cluster step on group {group:?}")))
    }

    /// Decides deletion `attempt` of incarnation `token` of `group`.
    pub fn kill(&self, group: &str, token: &str, attempt: &str) -> Result<Decision> {
        let reply = self.eval(
            Script::Kill,
            group,
            &[token.as_bytes(), attempt.as_bytes()],
            true,
        )?;
        match reply.bytes() {
            Some(b"deleted") => Ok(Decision::Deleted),
            Some(b"refused") => Ok(Decision::Refused),
            _ => Err(Error::Corrupt {
                key: format!("{:?}", String::from_utf8_lossy(&self.layout.marker(group))),
                reason: format!(
                    "its parent deletes incarnation {token}, but another one is alive ({reply:?})"
                ),
            }),
        }
    }

    /// Settles a decided deletion of child `name` in `parent`.
    pub fn settle(
        &self,
        parent: &str,
        name: &str,
        deleting: &Entry,
        decision: Decision,
    ) -> Result<()> {
        let Entry::Deleting { token, .. } = deleting else {
            return Ok(());
        };
        let outcome: &[u8] = match decision {
            Decision::Deleted => b"deleted",
            Decision::Refused => b"refused",
        };
        self.eval(
            Script::Settle,
            parent,
            &[
                name.as_bytes(),
                &deleting.encode(),
                outcome,
                token.as_bytes(),
            ],
            true,
        )?;
        Ok(())
    }

    /// Removes child `name` of `group` (see `REMOVE`); only if it is
    /// `expected` when given.
    pub fn remove(
        &self,
        group: &str,
        name: &str,
        attempt: &str,
        expected: Option<&[u8]>,
    ) -> Result<Removed> {
        let reply = self.eval(
            Script::Remove,
            group,
            &[
                flag(group.is_empty()),
                name.as_bytes(),
                attempt.as_bytes(),
                expected.unwrap_or(b""),
            ],
            true,
        )?;
        let mut items = reply.into_items().into_iter();
        let status = status(items.next());
        let raw = items.next().and_then(Reply::into_bytes);
        let deleting = |raw: Option<Vec<u8>>| -> Result<(String, String)> {
            match raw.map(|r| self.decode(group, name, &r)).transpose()? {
                Some(Entry::Deleting { token, attempt }) => Ok((token, attempt)),
                _ => Err(self.odd(group, "REMOVE", &status)),
            }
        };
        match status.as_str() {
            "nogroup" => Ok(Removed::NoGroup),
            "absent" => Ok(Removed::Absent),
            "changed" => Ok(Removed::Changed),
            "removed" => Ok(Removed::Gone(raw.unwrap_or_default())),
            "deleting" => {
                let (token, attempt) = deleting(raw)?;
                Ok(Removed::Deleting { token, attempt })
            }
            "busy" => {
                let (token, attempt) = deleting(raw)?;
                Ok(Removed::Busy { token, attempt })
            }
            _ => Err(self.odd(group, "REMOVE", &status)),
        }
    }

    /// Puts child `name` of `group` back to `restore` (removes it when
    /// `None`) if it is still `current` (absent when `None`).
    pub fn restore(
        &self,
        group: &str,
        name: &str,
        current: Option<&[u8]>,
        restore: Option<&[u8]>,
    ) -> Result<bool> {
        let reply = self.eval(
            Script::Restore,
            group,
            &[
                flag(group.is_empty()),
                name.as_bytes(),
                current.unwrap_or(b""),
                restore.unwrap_or(b""),
            ],
            true,
        )?;
        Ok(reply == Reply::Int(1))
    }

    /// A page of `group`'s children between ZRANGEBYLEX bounds; `None`
    /// when the group is not alive.
    pub fn page(
        &self,
        group: &str,
        bounds: (&[u8], &[u8]),
        limit: usize,
        descending: bool,
        inline_up_to: Option<usize>,
    ) -> Result<Option<Vec<(String, PageChild)>>> {
        let limit = limit.to_string();
        let inline = inline_up_to.map_or(-1, |n| n.min(i64::MAX as usize) as i64);
        let inline = inline.to_string();
        let reply = self.eval(
            Script::Page,
            group,
            &[
                flag(group.is_empty()),
                bounds.0,
                bounds.1,
                limit.as_bytes(),
                if descending { b"1" } else { b"0" },
                inline.as_bytes(),
            ],
            false,
        )?;
        let mut items = reply.into_items().into_iter();
        let status = status(items.next());
        match status.as_str() {
            "nogroup" => return Ok(None),
            "ok" => {}
            _ => return Err(self.odd(group, "PAGE", &status)),
        }
        let mut children = Vec::new();
        while let (Some(name), Some(raw)) = (items.next(), items.next()) {
            let name = String::from_utf8(name.into_bytes().unwrap_or_default())
                .map_err(|_| self.odd(group, "PAGE", "a name that is not UTF-8"))?;
            let raw = raw.into_bytes().unwrap_or_default();
            let child = match raw.split_first() {
                Some((b's', len)) => PageChild::Value {
                    len: std::str::from_utf8(len)
                        .ok()
                        .and_then(|l| l.parse().ok())
                        .ok_or_else(|| self.odd(group, "PAGE", "a size that does not parse"))?,
                    bytes: None,
                },
                _ => match self.decode(group, &name, &raw)? {
                    Entry::Value(v) => PageChild::Value {
                        len: v.len() as u64,
                        bytes: Some(v),
                    },
                    Entry::Group(_) | Entry::Deleting { .. } => PageChild::Group,
                    Entry::Link(t) => PageChild::Link(t),
                },
            };
            children.push((name, child));
        }
        // A whole group comes in hash order (see PAGE); a range is in
        // order already, and sorting it again costs little.
        if descending {
            children.sort_by(|a, b| b.0.as_bytes().cmp(a.0.as_bytes()));
        } else {
            children.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        }
        Ok(Some(children))
    }

    fn decode(&self, group: &str, name: &str, raw: &[u8]) -> Result<Entry> {
        Entry::decode(raw).map_err(|reason| Error::Corrupt {
            key: format!(
                "{:?} field {name:?}",
                String::from_utf8_lossy(&self.layout.entries(group))
            ),
            reason,
        })
    }

    fn odd(&self, group: &str, step: &str, got: &str) -> Error {
        ClusterError::Unexpected {
            command: format!("{step} on group {group:?}"),
            reply: got.chars().take(200).collect(),
        }
        .into_store_error("a cluster step")
    }
}

fn status(item: Option<Reply>) -> String {
    item.and_then(Reply::into_bytes)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// An `Unexpected` error for `reply` to `command`.
pub fn unexpected(command: &str, reply: &Reply) -> ClusterError {
    ClusterError::Unexpected {
        command: command.to_owned(),
        reply: format!("{reply:?}").chars().take(200).collect(),
    }
}
