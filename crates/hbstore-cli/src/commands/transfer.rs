//! `import` and `export`: the progress bar and the summary around the work
//! that `migrate` does.

use std::io::Write;
use std::path::Path;

use hbstore::Store;

use crate::error::CliResult;
use crate::migrate::{self, Source, Summary, Target};
use crate::output::{counted, counts, escaped, print_json};
use crate::progress;

pub fn import(
    store: &impl Store,
    from: Source,
    dir: &Path,
    json: bool,
    out: &mut dyn Write,
) -> CliResult {
    let bar = progress::bar("importing", None);
    let summary = migrate::import(store, from, dir, &mut |n| bar.set_position(n));
    bar.finish_and_clear();
    print(&summary?, "imported", json, out)
}

pub fn export(
    store: &impl Store,
    to: Target,
    dir: &Path,
    json: bool,
    out: &mut dyn Write,
) -> CliResult {
    let bar = progress::bar("exporting", None);
    let summary = migrate::export(store, to, dir, &mut |n| bar.set_position(n));
    bar.finish_and_clear();
    print(&summary?, "exported", json, out)
}

fn print(summary: &Summary, what: &str, json: bool, out: &mut dyn Write) -> CliResult {
    if json {
        return print_json(out, summary);
    }
    for w in &summary.warnings {
        writeln!(out, "warning: {}", escaped(w))?;
    }
    writeln!(
        out,
        "{what}: {}, {}",
        counts(summary.groups, summary.values, summary.links),
        counted(summary.warnings.len() as u64, "warning", "warnings")
    )?;
    Ok(())
}
