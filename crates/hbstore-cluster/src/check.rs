//! `check` on a cluster: every key of the namespace read back and the
//! layout's rules verified: entries decode, each group's names match its
//! entries, a group with children has a live marker, a live marker's
//! group is a group in its parent (so every ancestor of every entry is a
//! group), and every link is in the link index. It scans the namespace and
//! holds its structure in memory: a tool for tests and operators, not for
//! an operation's path.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use hbstore::Result;

use crate::client::slot_of;
use crate::layout::{Entry, Key};
use crate::resolve::{join, split};
use crate::resp::{Cmd, Reply};
use crate::store::ClusterStore;

/// What `check` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterCheck {
    /// Groups (entries tagged as groups).
    pub groups: u64,
    /// Values.
    pub values: u64,
    /// Links.
    pub links: u64,
    /// Bytes of all values.
    pub value_bytes: u64,
    /// Link-index members whose link has gone (harmless: `match` checks
    /// every member; left by deleted links and undone batches).
    pub stale_index_members: u64,
    /// Everything that breaks the layout's rules, one line each.
    pub problems: Vec<String>,
}

impl ClusterCheck {
    /// Whether no rule is broken.
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

fn fetch(store: &ClusterStore, cmds: Vec<(u16, Cmd)>) -> Result<Vec<Reply>> {
    store
        .steps()
        .client
        .call_each(cmds)
        .map_err(|e| e.into_store_error("check"))
}

impl ClusterStore {
    /// Reads the whole namespace and checks it.
    pub fn check(&self) -> Result<ClusterCheck> {
        let layout = self.steps().layout.clone();
        let mut groups_seen = BTreeSet::new();
        let mut indexes = Vec::new();
        self.scan(|key| {
            match layout.parse(&key) {
                Some(Key::Group { group, .. }) => {
                    groups_seen.insert(group);
                }
                Some(Key::Index { key, target }) => indexes.push((key, target)),
                None => {}
            }
            Ok(())
        })?;
        let groups: Vec<String> = groups_seen.into_iter().collect();
        let mut report = ClusterCheck::default();

        // Each group's entries, names and live token.
        let mut cmds = Vec::new();
        for g in &groups {
            let (e, n, m) = (layout.entries(g), layout.names(g), layout.marker(g));
            cmds.push((slot_of(&e), Cmd::new("HGETALL").arg(&e)));
            cmds.push((slot_of(&n), Cmd::new("ZRANGE").arg(&n).arg("0").arg("-1")));
            cmds.push((slot_of(&m), Cmd::new("HGET").arg(&m).arg("t")));
        }
        let mut replies = fetch(self, cmds)?.into_iter();
        let mut entries: HashMap<String, BTreeMap<String, Entry>> = HashMap::new();
        let mut live: HashMap<String, String> = HashMap::new();
        for g in &groups {
            let (Some(all), Some(names), Some(token)) =
                (replies.next(), replies.next(), replies.next())
            else {
                break;
            };
            let mut children = BTreeMap::new();
            let mut fields = BTreeSet::new();
            let mut items = all.into_items().into_iter();
            while let (Some(name), Some(raw)) = (items.next(), items.next()) {
                let name =
                    String::from_utf8_lossy(&name.into_bytes().unwrap_or_default()).into_owned();
                fields.insert(name.clone());
                match Entry::decode(&raw.into_bytes().unwrap_or_default()) {
                    Ok(entry) => {
                        match &entry {
                            Entry::Value(v) => {
                                report.values += 1;
                                report.value_bytes += v.len() as u64;
                            }
                            Entry::Group(_) | Entry::Deleting { .. } => report.groups += 1,
                            Entry::Link(_) => report.links += 1,
                        }
                        children.insert(name, entry);
                    }
                    Err(reason) => report.problems.push(format!(
                        "{:?}: child {name:?} does not decode: {reason}",
                        join(g, &name)
                    )),
                }
            }
            let names: BTreeSet<String> = names
                .into_items()
                .into_iter()
                .filter_map(|r| {
                    r.into_bytes()
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                })
                .collect();
            if names != fields {
                report.problems.push(format!(
                    "group {g:?}: its ordered names {names:?} are not its children {fields:?}"
                ));
            }
            if let Some(t) = token.into_bytes() {
                live.insert(g.clone(), String::from_utf8_lossy(&t).into_owned());
            }
            entries.insert(g.clone(), children);
        }

        for g in &groups {
            let has_children = entries.get(g).is_some_and(|c| !c.is_empty());
            if g.is_empty() {
                continue;
            }
            if has_children && !live.contains_key(g) {
                report
                    .problems
                    .push(format!("group {g:?} has children but no live marker"));
            }
            if let Some(token) = live.get(g) {
                let (parent, name) = split(g);
                let ok = match entries.get(parent).and_then(|c| c.get(name)) {
                    Some(Entry::Group(t)) | Some(Entry::Deleting { token: t, .. }) => t == token,
                    _ => false,
                };
                if !ok {
                    report.problems.push(format!(
                        "group {g:?} is alive (token {token}) but its parent {parent:?} does not hold it as that group"
                    ));
                }
            }
        }

        // Every link in the index; index members whose link has gone.
        let mut index_members: HashMap<(String, String), BTreeSet<String>> = HashMap::new();
        let cmds = indexes
            .iter()
            .map(|(k, t)| {
                let key = layout.link_index(k, t);
                (
                    slot_of(&key),
                    Cmd::new("ZRANGE").arg(&key).arg("0").arg("-1"),
                )
            })
            .collect();
        for ((k, t), reply) in indexes.iter().zip(fetch(self, cmds)?) {
            let members = reply
                .into_items()
                .into_iter()
                .filter_map(|r| {
                    r.into_bytes()
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                })
                .collect::<BTreeSet<_>>();
            for m in &members {
                let linked =
                    matches!(entries.get(m).and_then(|c| c.get(k)), Some(Entry::Link(x)) if x == t);
                if !linked {
                    report.stale_index_members += 1;
                }
            }
            index_members.insert((k.clone(), t.clone()), members);
        }
        for (g, children) in &entries {
            for (name, entry) in children {
                if let Entry::Link(target) = entry {
                    let indexed = index_members
                        .get(&(name.clone(), target.clone()))
                        .is_some_and(|m| m.contains(g));
                    if !indexed {
                        report.problems.push(format!(
                            "link {:?} -> {target:?} is not in the link index (match would miss it)",
                            join(g, name)
                        ));
                    }
                }
            }
        }
        report.problems.sort();
        Ok(report)
    }
}
