//! The commands with `--cluster`: every command of the contract runs as it
//! does on an embedded store; `stats` and `check` read the cluster's
//! namespace; the commands about an embedded store's files say what to use
//! instead.

use std::io::Write;

use hbstore::metrics::{by, one};
use hbstore_cluster::ClusterStore;
use serde::Serialize;

use crate::cli::Command;
use crate::error::{CliError, CliResult};
use crate::migrate::ClusterAccess;
use crate::output::{counted, counts, escaped, print_json};

pub fn run(
    address: &str,
    access: ClusterAccess,
    command: Command,
    out: &mut dyn Write,
) -> CliResult {
    let open = || crate::migrate::open_cluster(std::path::Path::new(address), access);
    match command {
        Command::Stats {
            prometheus: true, ..
        } => prometheus(&open()?, out),
        Command::Stats { json, .. } => stats(&open()?, json.json, out),
        Command::Check { json } => check(&open()?, json.json, out),
        Command::Upgrade | Command::Backup { .. } | Command::Compact | Command::Gc { .. } => {
            Err(CliError::Invalid(format!(
                "`{}` works on an embedded store's files (--db), not on a cluster: \
                 the cluster's engine keeps them (Redis: replicas, BGSAVE, MEMORY PURGE)",
                name(&command)
            )))
        }
        command => {
            let location = format!("--cluster {}", hbstore_cluster::redacted(address));
            super::on_any_store(&open()?, &location, command, out)
        }
    }
}

fn name(command: &Command) -> &'static str {
    match command {
        Command::Upgrade => "upgrade",
        Command::Backup { .. } => "backup",
        Command::Compact => "compact",
        Command::Gc { .. } => "gc",
        _ => "this command",
    }
}

#[derive(Serialize)]
struct ClusterStats<'a> {
    exact: bool,
    namespace: &'a str,
    values: u64,
    groups: u64,
    links: u64,
    value_bytes: u64,
    stale_index_members: u64,
    primaries: Vec<String>,
}

/// `stats --prometheus`: the namespace's exact counts (a read of all of
/// it) with the client's own figures, as Prometheus text.
fn prometheus(store: &ClusterStore, out: &mut dyn Write) -> CliResult {
    let report = store.check()?;
    let mut metrics = store.metrics();
    metrics.gauge(
        "hbstore_entries",
        "Entries the namespace holds, by kind, counted exactly.",
        by(
            "kind",
            &[
                ("value", report.values as f64),
                ("group", report.groups as f64),
                ("link", report.links as f64),
            ],
        ),
    );
    metrics.gauge(
        "hbstore_value_bytes",
        "Bytes of the values the namespace holds.",
        one(report.value_bytes as f64),
    );
    metrics.gauge(
        "hbstore_cluster_stale_index_members",
        "Members of the link index naming a link that no longer points there (harmless; match checks each).",
        one(report.stale_index_members as f64),
    );
    metrics.gauge(
        "hbstore_cluster_primaries",
        "Primaries of the cluster, as the client last saw them.",
        one(store.primaries().len() as f64),
    );
    Ok(write!(out, "{}", metrics.prometheus_text())?)
}

/// `stats`: exact counts from a read of the whole namespace.
fn stats(store: &ClusterStore, json: bool, out: &mut dyn Write) -> CliResult {
    let report = store.check()?;
    if json {
        return print_json(
            out,
            &ClusterStats {
                exact: true,
                namespace: store.namespace(),
                values: report.values,
                groups: report.groups,
                links: report.links,
                value_bytes: report.value_bytes,
                stale_index_members: report.stale_index_members,
                primaries: store.primaries(),
            },
        );
    }
    writeln!(
        out,
        "{} in namespace {:?} on {} ({} of values)",
        counts(report.groups, report.values, report.links),
        store.namespace(),
        counted(store.primaries().len() as u64, "primary", "primaries"),
        crate::output::human_bytes(report.value_bytes)
    )?;
    Ok(())
}

#[derive(Serialize)]
struct ClusterCheckJson<'a> {
    sound: bool,
    values: u64,
    groups: u64,
    links: u64,
    stale_index_members: u64,
    problems: &'a [String],
}

/// `check`: the layout's rules over the whole namespace; exit 4 if broken.
fn check(store: &ClusterStore, json: bool, out: &mut dyn Write) -> CliResult {
    let report = store.check()?;
    if json {
        print_json(
            out,
            &ClusterCheckJson {
                sound: report.is_sound(),
                values: report.values,
                groups: report.groups,
                links: report.links,
                stale_index_members: report.stale_index_members,
                problems: &report.problems,
            },
        )?;
    } else {
        for problem in &report.problems {
            writeln!(out, "problem: {}", escaped(problem))?;
        }
        writeln!(
            out,
            "checked namespace {:?} ({}): {}, {}",
            store.namespace(),
            counts(report.groups, report.values, report.links),
            counted(report.problems.len() as u64, "problem", "problems"),
            counted(
                report.stale_index_members,
                "stale link-index member",
                "stale link-index members"
            )
        )?;
    }
    if report.is_sound() {
        Ok(())
    } else {
        Err(CliError::Damaged(format!(
            "{} problems found in namespace {:?}",
            report.problems.len(),
            store.namespace()
        )))
    }
}
