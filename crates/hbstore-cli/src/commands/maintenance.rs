//! Commands on the whole store: stats, check, backup, compact, gc.

use std::io::Write;
use std::path::Path;

use hbstore::{BackupMethod, CheckReport, Error, Options, RocksStore};
use serde::Serialize;

use crate::error::{CliError, CliResult};
use crate::output::{counted, counts, escaped, print_json};
use crate::progress;

/// RocksDB's own figures that `stats` reports.
const ROCKS_PROPERTIES: &[&str] = &[
    "rocksdb.estimate-num-keys",
    "rocksdb.estimate-live-data-size",
    "rocksdb.total-sst-files-size",
    "rocksdb.cur-size-all-mem-tables",
    "rocksdb.num-live-versions",
];

/// Runs the full `check` with a progress bar: `stats` counts from its
/// report, `check` judges it.
fn check_with_progress(store: &RocksStore, what: &str) -> CliResult<CheckReport> {
    let total = store.property("rocksdb.estimate-num-keys")?;
    let bar = progress::bar(what, total);
    let report = store.check(|seen| bar.set_position(seen))?;
    bar.finish_and_clear();
    Ok(report)
}

fn dir_size(dir: &Path) -> CliResult<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let meta = entry?.metadata()?;
        if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

/// Up to this many entries (by RocksDB's estimate), `stats` counts
/// exactly anyway: the walk takes well under a second.
const EXACT_ANYWAY_UP_TO: u64 = 200_000;

#[derive(Serialize)]
struct Stats {
    /// Whether the counts are exact (a walk of every entry) or estimated.
    exact: bool,
    values: u64,
    groups: u64,
    links: u64,
    value_bytes: u64,
    disk_bytes: u64,
    rocksdb: std::collections::BTreeMap<&'static str, Option<u64>>,
}

pub fn stats(store: &RocksStore, exact: bool, json: bool, out: &mut dyn Write) -> CliResult {
    let mut rocksdb = std::collections::BTreeMap::new();
    for &name in ROCKS_PROPERTIES {
        rocksdb.insert(name, store.property(name)?);
    }
    let estimated_keys = rocksdb
        .get("rocksdb.estimate-num-keys")
        .copied()
        .flatten()
        .unwrap_or(0);
    let exact = exact || estimated_keys <= EXACT_ANYWAY_UP_TO;
    let (values, groups, links, value_bytes) = if exact {
        let report = check_with_progress(store, "counting")?;
        (
            report.values,
            report.groups,
            report.links,
            report.value_bytes,
        )
    } else {
        let estimate = store.estimate()?;
        (
            estimate.values,
            estimate.groups,
            estimate.links,
            estimate.value_bytes,
        )
    };
    let stats = Stats {
        exact,
        values,
        groups,
        links,
        value_bytes,
        disk_bytes: dir_size(store.dir())?,
        rocksdb,
    };
    if json {
        return print_json(out, &stats);
    }
    let about = if exact { "" } else { "≈ " };
    writeln!(
        out,
        "{:<34} {:>14}",
        "values",
        format!("{about}{}", stats.values)
    )?;
    writeln!(
        out,
        "{:<34} {:>14}",
        "groups",
        format!("{about}{}", stats.groups)
    )?;
    writeln!(
        out,
        "{:<34} {:>14}",
        "links",
        format!("{about}{}", stats.links)
    )?;
    let bytes = |n: u64| format!("{n} ({})", crate::output::human_bytes(n));
    writeln!(
        out,
        "{:<34} {:>14}",
        "value bytes",
        format!("{about}{}", bytes(stats.value_bytes))
    )?;
    writeln!(out, "{:<34} {:>14}", "on disk", bytes(stats.disk_bytes))?;
    for (name, value) in &stats.rocksdb {
        let shown = value.map_or("-".to_owned(), |v| v.to_string());
        writeln!(out, "{name:<34} {shown:>14}")?;
    }
    if !exact {
        writeln!(
            out,
            "(≈: estimated from RocksDB's files and a sample of their entries; \
             `hbstore stats --exact` counts every entry)"
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    path: &'a str,
    message: &'a str,
}

fn findings(list: &[hbstore::Finding]) -> Vec<JsonFinding<'_>> {
    list.iter()
        .map(|f| JsonFinding {
            path: &f.path,
            message: &f.message,
        })
        .collect()
}

#[derive(Serialize)]
struct JsonCheck<'a> {
    sound: bool,
    values: u64,
    groups: u64,
    links: u64,
    problems: Vec<JsonFinding<'a>>,
    warnings: Vec<JsonFinding<'a>>,
}

pub fn check(store: &RocksStore, json: bool, out: &mut dyn Write) -> CliResult {
    let report = check_with_progress(store, "checking")?;
    if json {
        print_json(
            out,
            &JsonCheck {
                sound: report.is_sound(),
                values: report.values,
                groups: report.groups,
                links: report.links,
                problems: findings(&report.problems),
                warnings: findings(&report.warnings),
            },
        )?;
    } else {
        for f in &report.problems {
            writeln!(
                out,
                "problem: {}: {}",
                escaped(&f.path),
                escaped(&f.message)
            )?;
        }
        for f in &report.warnings {
            writeln!(
                out,
                "warning: {}: {}",
                escaped(&f.path),
                escaped(&f.message)
            )?;
        }
        writeln!(
            out,
            "checked {} ({}): {}, {}",
            counted(report.entries(), "entry", "entries"),
            counts(report.groups, report.values, report.links),
            counted(report.problems.len() as u64, "problem", "problems"),
            counted(report.warnings.len() as u64, "warning", "warnings")
        )?;
    }
    if report.is_sound() {
        Ok(())
    } else {
        Err(CliError::Damaged(format!(
            "{} problems found in {}",
            report.problems.len(),
            store.dir().display()
        )))
    }
}

pub fn backup(db: &Path, dest: &Path, out: &mut dyn Write) -> CliResult {
    // A writer's handle can checkpoint; when another process is the writer,
    // a read-only handle copies from a snapshot instead.
    let store = match RocksStore::open(db, Options::default().create_if_missing(false)) {
        Err(Error::Locked { .. }) => RocksStore::open_read_only(db)?,
        other => other?,
    };
    let total = store.property("rocksdb.estimate-num-keys")?;
    let bar = progress::bar("copying", total);
    let method = store.backup(dest, |n| bar.set_position(n))?;
    bar.finish_and_clear();
    let how = match method {
        BackupMethod::Checkpoint => "a RocksDB checkpoint".to_owned(),
        BackupMethod::SnapshotCopy { records } => {
            format!("{records} records copied from a snapshot (another process is writing)")
        }
    };
    writeln!(out, "backup written to {}: {how}", dest.display())?;
    Ok(())
}

pub fn compact(store: &RocksStore, out: &mut dyn Write) -> CliResult {
    let bar = progress::bar("compacting", None);
    let result = store.compact();
    bar.finish_and_clear();
    result?;
    let size = dir_size(store.dir())?;
    writeln!(
        out,
        "compacted: {} on disk",
        crate::output::human_bytes(size)
    )?;
    Ok(())
}

#[derive(Serialize)]
struct JsonGc {
    prefix: String,
    dry_run: bool,
    examined: u64,
    removed: u64,
    bytes: u64,
    disk_bytes: u64,
}

pub fn gc(
    store: &RocksStore,
    prefix: &str,
    dry_run: bool,
    json: bool,
    out: &mut dyn Write,
) -> CliResult {
    let bar = progress::bar("sweeping: values examined", None);
    let report = store.gc(prefix, dry_run, &mut |n| bar.set_position(n));
    bar.finish_and_clear();
    let report = report?;
    let disk_bytes = dir_size(store.dir())?;
    if json {
        return print_json(
            out,
            &JsonGc {
                prefix: prefix.to_owned(),
                dry_run,
                examined: report.examined,
                removed: report.removed,
                bytes: report.bytes,
                disk_bytes,
            },
        );
    }
    let (verb, dry) = if dry_run {
        ("would be removed", " (dry run: nothing removed)")
    } else {
        ("removed", "")
    };
    writeln!(
        out,
        "{} under {}; {} that no link reaches {verb} ({} of values){dry}; {} on disk",
        counted(report.examined, "value", "values"),
        escaped(prefix),
        report.removed,
        crate::output::human_bytes(report.bytes),
        crate::output::human_bytes(disk_bytes)
    )?;
    Ok(())
}

/// `upgrade`: opens the store for writing (which upgrades an older format
/// in place) and says which format it holds now.
pub fn upgrade(db: &Path, out: &mut dyn Write) -> CliResult {
    let was = RocksStore::open_read_only(db);
    let upgraded = matches!(was, Err(Error::NeedsUpgrade { .. }));
    drop(was);
    let bar = progress::bar("upgrading: entries read", None);
    let store =
        RocksStore::open_with_progress(db, Options::default().create_if_missing(false), &mut |n| {
            bar.set_position(n)
        });
    bar.finish_and_clear();
    let store = store?;
    let message = if upgraded {
        "upgraded in place to the current format (the link index is built)"
    } else {
        "already in the current format; nothing to do"
    };
    writeln!(out, "{}: {message}", store.dir().display())?;
    Ok(())
}
