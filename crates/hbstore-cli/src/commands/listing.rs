//! Commands that show groups: ls and tree.

use std::io::Write;

use hbstore::{add_path, Child, ChildKind, RocksStore, Store};
use serde::Serialize;

use super::entries::not_found;
use super::print_json;
use crate::error::{CliError, CliResult};

/// A child as `--json` shows it.
#[derive(Serialize)]
struct JsonChild {
    name: String,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    children: Option<Vec<JsonChild>>,
}

impl JsonChild {
    fn new(child: Child) -> Self {
        let (kind, size, target) = match child.kind {
            ChildKind::Value { len } => ("value", Some(len), None),
            ChildKind::Group => ("group", None, None),
            ChildKind::Link { target } => ("link", None, Some(target)),
        };
        JsonChild {
            name: child.name,
            kind,
            size,
            target,
            children: None,
        }
    }
}

fn children(store: &RocksStore, path: &str) -> CliResult<Vec<Child>> {
    store.list_children(path)?.ok_or_else(|| not_found(path))
}

pub fn ls(store: &RocksStore, path: &str, long: bool, json: bool) -> CliResult {
    let children = children(store, path)?;
    if json {
        let list: Vec<JsonChild> = children.into_iter().map(JsonChild::new).collect();
        return print_json(&list);
    }
    let mut out = std::io::stdout().lock();
    for child in children {
        if !long {
            writeln!(out, "{}", child.name)?;
            continue;
        }
        match child.kind {
            ChildKind::Value { len } => writeln!(out, "value {len:>12}  {}", child.name)?,
            ChildKind::Group => writeln!(out, "group {:>12}  {}", "-", child.name)?,
            ChildKind::Link { target } => {
                writeln!(out, "link  {:>12}  {} -> {target}", "-", child.name)?
            }
        }
    }
    Ok(())
}

#[derive(Default, Serialize)]
struct Counts {
    groups: u64,
    values: u64,
    links: u64,
}

/// Walks a subtree, calling `visit` for every child with its depth and
/// whether it is the last of its siblings; links are shown, not followed.
struct Walker<'a> {
    store: &'a RocksStore,
    max_depth: Option<usize>,
    counts: Counts,
}

impl Walker<'_> {
    fn json(&mut self, path: &str, depth: usize) -> CliResult<Vec<JsonChild>> {
        let mut out = Vec::new();
        for child in children(self.store, path)? {
            let is_group = child.kind == ChildKind::Group;
            let child_path = add_path(path, child.name.as_str())?;
            self.count(&child.kind);
            let mut node = JsonChild::new(child);
            if is_group && self.max_depth.is_none_or(|max| depth < max) {
                node.children = Some(self.json(&child_path, depth + 1)?);
            }
            out.push(node);
        }
        Ok(out)
    }

    fn draw(&mut self, out: &mut impl Write, path: &str, prefix: &str, depth: usize) -> CliResult {
        let list = children(self.store, path)?;
        let count = list.len();
        for (i, child) in list.into_iter().enumerate() {
            let last = i + 1 == count;
            let branch = if last { "└── " } else { "├── " };
            self.count(&child.kind);
            match &child.kind {
                ChildKind::Link { target } => {
                    writeln!(out, "{prefix}{branch}{} -> {target}", child.name)?
                }
                _ => writeln!(out, "{prefix}{branch}{}", child.name)?,
            }
            if child.kind == ChildKind::Group && self.max_depth.is_none_or(|max| depth < max) {
                let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
                let child_path = add_path(path, child.name.as_str())?;
                self.draw(out, &child_path, &deeper, depth + 1)?;
            }
        }
        Ok(())
    }

    fn count(&mut self, kind: &ChildKind) {
        match kind {
            ChildKind::Value { .. } => self.counts.values += 1,
            ChildKind::Group => self.counts.groups += 1,
            ChildKind::Link { .. } => self.counts.links += 1,
        }
    }
}

#[derive(Serialize)]
struct JsonTree {
    path: String,
    children: Vec<JsonChild>,
    counts: Counts,
}

pub fn tree(store: &RocksStore, path: &str, depth: Option<u64>, json: bool) -> CliResult {
    let canonical = hbstore::path::path(path).map_err(CliError::from)?;
    let mut walker = Walker {
        store,
        max_depth: depth.map(|d| usize::try_from(d).unwrap_or(usize::MAX)),
        counts: Counts::default(),
    };
    if json {
        let children = walker.json(&canonical, 1)?;
        return print_json(&JsonTree {
            path: canonical,
            children,
            counts: walker.counts,
        });
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(
        out,
        "{}",
        if canonical.is_empty() {
            "."
        } else {
            &canonical
        }
    )?;
    walker.draw(&mut out, &canonical, "", 1)?;
    let c = &walker.counts;
    writeln!(
        out,
        "\n{} {}, {} {}, {} {}",
        c.groups,
        plural(c.groups, "group", "groups"),
        c.values,
        plural(c.values, "value", "values"),
        c.links,
        plural(c.links, "link", "links"),
    )?;
    out.flush()?;
    Ok(())
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}
