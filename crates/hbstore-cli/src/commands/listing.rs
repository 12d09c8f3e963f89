//! Commands that show groups: ls and tree.

use std::io::Write;

use hbstore::{add_path, Child, ChildKind, Page, Store};
use serde::Serialize;

use crate::error::{CliError, CliResult};
use crate::output::{escaped, not_found, print_json, stdout_is_terminal};

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
    fn new(child: &Child, children: Option<Vec<JsonChild>>) -> Self {
        let (kind, size, target) = match &child.kind {
            ChildKind::Value { len } => ("value", Some(*len), None),
            ChildKind::Group => ("group", None, None),
            ChildKind::Link { target } => ("link", None, Some(target.clone())),
        };
        JsonChild {
            name: child.name.clone(),
            kind,
            size,
            target,
            children,
        }
    }
}

fn children(store: &impl Store, path: &str) -> CliResult<Vec<Child>> {
    store.list_children(path)?.ok_or_else(|| not_found(path))
}

/// How many children `ls` reads at a time: its output starts after the
/// first page, and its memory is one page's, however large the group.
const LS_PAGE: usize = 10_000;

/// Prints children as `ls` shows them, one at a time.
struct LsPrinter<W: Write> {
    out: W,
    long: bool,
    json: bool,
    printed: usize,
    terminal: bool,
}

impl<W: Write> LsPrinter<W> {
    /// Names go out exact to a pipe (one per line, as `ls` does), escaped
    /// on a terminal.
    fn show(&self, name: &str) -> String {
        if self.terminal {
            escaped(name).into_owned()
        } else {
            name.to_owned()
        }
    }

    fn print(&mut self, child: &Child) -> CliResult {
        self.printed += 1;
        if self.json {
            // The same text as the whole list printed by `print_json`:
            // each element indented by two spaces.
            let text = serde_json::to_string_pretty(&JsonChild::new(child, None))
                .map_err(|e| CliError::Failed(e.to_string()))?;
            let separator = if self.printed == 1 { "[\n" } else { ",\n" };
            write!(self.out, "{separator}  {}", text.replace('\n', "\n  "))?;
            return Ok(());
        }
        let name = self.show(&child.name);
        if !self.long {
            writeln!(self.out, "{name}")?;
            return Ok(());
        }
        match &child.kind {
            ChildKind::Value { len } => writeln!(self.out, "value {len:>12}  {name}")?,
            ChildKind::Group => writeln!(self.out, "group {:>12}  {name}", "-")?,
            ChildKind::Link { target } => {
                let target = self.show(target);
                writeln!(self.out, "link  {:>12}  {name} -> {target}", "-")?
            }
        }
        Ok(())
    }

    fn finish(mut self) -> CliResult {
        if self.json {
            writeln!(self.out, "{}", if self.printed == 0 { "[]" } else { "\n]" })?;
        }
        self.out.flush()?;
        Ok(())
    }
}

/// `ls`: the children on `page`, read a page of `LS_PAGE` at a time and
/// printed as they come (a group of millions starts printing at once).
pub fn ls(
    store: &impl Store,
    path: &str,
    page: &Page,
    long: bool,
    json: bool,
    out: &mut dyn Write,
) -> CliResult {
    let mut printer = LsPrinter {
        out: std::io::BufWriter::new(&mut *out),
        long,
        json,
        printed: 0,
        terminal: stdout_is_terminal(),
    };
    let mut from = page.from.clone();
    let mut left = page.limit;
    loop {
        let want = left.map_or(LS_PAGE, |n| n.min(LS_PAGE));
        // One child more than printed: where the next page starts.
        let window = Page {
            from,
            limit: Some(want + 1),
            direction: page.direction,
        };
        let mut children = store
            .list_range(path, &window)?
            .ok_or_else(|| not_found(path))?;
        let next = (children.len() > want)
            .then(|| children.pop())
            .flatten()
            .map(|child| child.name);
        for child in &children {
            printer.print(child)?;
        }
        printer.out.flush()?;
        if let Some(n) = &mut left {
            *n -= children.len();
        }
        match next {
            Some(name) if left != Some(0) => from = Some(name),
            _ => break,
        }
    }
    printer.finish()
}

#[derive(Default, Serialize)]
struct Counts {
    groups: u64,
    values: u64,
    links: u64,
}

impl Counts {
    fn count(&mut self, kind: &ChildKind) {
        match kind {
            ChildKind::Value { .. } => self.values += 1,
            ChildKind::Group => self.groups += 1,
            ChildKind::Link { .. } => self.links += 1,
        }
    }
}

/// One child in the tree, with its own children when it is a group within
/// the depth asked for. The tree is read once and then rendered as JSON or
/// as a drawing.
struct Node {
    child: Child,
    below: Option<Vec<Node>>,
}

/// Reads the subtree under `path`, `depth` being its level, counting every
/// child; links are shown, not followed.
fn read_tree(
    store: &impl Store,
    path: &str,
    depth: usize,
    max_depth: Option<usize>,
    counts: &mut Counts,
) -> CliResult<Vec<Node>> {
    let mut nodes = Vec::new();
    for child in children(store, path)? {
        counts.count(&child.kind);
        let below = if child.kind == ChildKind::Group && max_depth.is_none_or(|max| depth < max) {
            let child_path = add_path(path, child.name.as_str())?;
            Some(read_tree(store, &child_path, depth + 1, max_depth, counts)?)
        } else {
            None
        };
        nodes.push(Node { child, below });
    }
    Ok(nodes)
}

fn to_json(nodes: &[Node]) -> Vec<JsonChild> {
    nodes
        .iter()
        .map(|n| JsonChild::new(&n.child, n.below.as_deref().map(to_json)))
        .collect()
}

/// Draws `nodes` like tree(1). Names are always escaped here: a newline in
/// a name would break the drawing, even in a pipe.
fn draw(out: &mut impl Write, nodes: &[Node], prefix: &str) -> CliResult {
    for (i, node) in nodes.iter().enumerate() {
        let last = i + 1 == nodes.len();
        let branch = if last { "└── " } else { "├── " };
        let name = escaped(&node.child.name);
        match &node.child.kind {
            ChildKind::Link { target } => {
                writeln!(out, "{prefix}{branch}{name} -> {}", escaped(target))?
            }
            _ => writeln!(out, "{prefix}{branch}{name}")?,
        }
        if let Some(below) = &node.below {
            let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
            draw(out, below, &deeper)?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonTree {
    path: String,
    children: Vec<JsonChild>,
    counts: Counts,
}

pub fn tree(
    store: &impl Store,
    path: &str,
    depth: Option<u64>,
    json: bool,
    out: &mut dyn Write,
) -> CliResult {
    let canonical = hbstore::path(path).map_err(CliError::from)?;
    let max_depth = depth.map(|d| usize::try_from(d).unwrap_or(usize::MAX));
    let mut counts = Counts::default();
    let nodes = read_tree(store, &canonical, 1, max_depth, &mut counts)?;
    if json {
        return print_json(
            out,
            &JsonTree {
                path: canonical,
                children: to_json(&nodes),
                counts,
            },
        );
    }
    let mut out = std::io::BufWriter::new(&mut *out);
    let top = if canonical.is_empty() {
        ".".into()
    } else {
        escaped(&canonical)
    };
    writeln!(out, "{top}")?;
    draw(&mut out, &nodes, "")?;
    writeln!(out, "\n{}", counts_line(&counts))?;
    out.flush()?;
    Ok(())
}

/// "3 groups, 1 value, 2 links": the one wording of a count triple.
fn counts_line(c: &Counts) -> String {
    crate::output::counts(c.groups, c.values, c.links)
}

/// `match`: the groups, one per line (escaped on a terminal), or a JSON
/// list; exit 1 when none matches, as `grep` does.
pub fn matching(
    store: &impl Store,
    pairs: &[(String, String)],
    limit: Option<usize>,
    json: bool,
    out: &mut dyn Write,
) -> CliResult {
    let groups = store.match_links(pairs, limit)?;
    if json {
        print_json(out, &groups)?;
    } else {
        let mut out = std::io::BufWriter::new(&mut *out);
        let terminal = stdout_is_terminal();
        for group in &groups {
            if terminal {
                writeln!(out, "{}", escaped(group))?;
            } else {
                writeln!(out, "{group}")?;
            }
        }
        out.flush()?;
    }
    if groups.is_empty() {
        return Err(CliError::NotFound("no group matches every pair".to_owned()));
    }
    Ok(())
}
