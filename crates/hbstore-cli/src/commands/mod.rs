//! One module per family of commands; this one opens the store the way each
//! command needs it (the embedded store in `--db`, or a cluster with
//! `--cluster`) and dispatches.

mod cluster;
mod demo;
mod entries;
mod listing;
mod maintenance;
mod transfer;

use std::io::Write;
use std::path::Path;

use hbstore::{Direction, Durability, Options, Page, RocksStore, Store};

use crate::cli::{Cli, Command, DurabilityArg};
use crate::error::CliResult;

/// The options every command opens an embedded store with.
fn store_options(cli: &Cli) -> CliResult<Options> {
    let durability = match (cli.sync, cli.durability) {
        (true, _) | (false, Some(DurabilityArg::Sync)) => Durability::Sync,
        (false, None | Some(DurabilityArg::Process)) => Durability::Process,
        (false, Some(DurabilityArg::Buffered)) => Durability::Buffered {
            flush_every: cli
                .flush_ms
                .map_or(Durability::FLUSH_EVERY, std::time::Duration::from_millis),
        },
    };
    if cli.flush_ms.is_some() && !matches!(durability, Durability::Buffered { .. }) {
        return Err(crate::error::CliError::Invalid(
            "--flush-ms applies to --durability buffered only".to_owned(),
        ));
    }
    let options = Options::default().durability(durability);
    Ok(match cli.memory_budget {
        Some(bytes) => options.memory_budget_bytes(bytes),
        None => options,
    })
}

/// Opens the store for commands that only read: read-only, so that they
/// work while another process has it open for writing.
fn open_for_reading(db: &Path, options: Options) -> CliResult<RocksStore> {
    Ok(RocksStore::open(db, options.read_only(true))?)
}

/// Opens (creating if needed) the store for commands that write; a store
/// of an older format is upgraded in place, with a progress bar.
fn open_for_writing(db: &Path, options: Options) -> CliResult<RocksStore> {
    let bar = crate::progress::bar("upgrading the store's format", None);
    let store = RocksStore::open_with_progress(db, options, &mut |n| bar.set_position(n));
    bar.finish_and_clear();
    Ok(store?)
}

/// Whether `command` changes the store (and so opens it for writing).
fn writes(command: &Command) -> bool {
    matches!(
        command,
        Command::Demo
            | Command::Put { .. }
            | Command::Mkgroup { .. }
            | Command::Link { .. }
            | Command::Rm { .. }
            | Command::Import { .. }
    )
}

/// Runs one command line, writing what it prints to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> CliResult {
    if let Some(address) = &cli.cluster {
        if cli.sync || cli.durability.is_some() {
            return Err(crate::error::CliError::Invalid(
                "--sync and --durability set how an embedded store (--db) writes its log; \
                 a cluster's writes wait for --replicas instead"
                    .to_owned(),
            ));
        }
        let access = crate::migrate::ClusterAccess {
            replicas: cli.replicas,
            deadline: cli.deadline,
        };
        return cluster::run(address, access, cli.command, out);
    }
    let db = cli.db.as_path();
    let options = store_options(&cli)?;
    match cli.command {
        Command::Upgrade => maintenance::upgrade(db, out),
        Command::Stats {
            prometheus: true, ..
        } => {
            let store = open_for_reading(db, options.clone())?;
            Ok(write!(out, "{}", store.metrics()?.prometheus_text())?)
        }
        Command::Stats { exact, json, .. } => maintenance::stats(
            &open_for_reading(db, options.clone())?,
            exact,
            json.json,
            out,
        ),
        Command::Check { json } => {
            maintenance::check(&open_for_reading(db, options.clone())?, json.json, out)
        }
        Command::Backup { dest } => maintenance::backup(db, &dest, out),
        Command::Compact => maintenance::compact(&open_for_writing(db, options.clone())?, out),
        Command::Gc {
            prefix,
            dry_run,
            json,
        } => {
            let store = if dry_run {
                open_for_reading(db, options.clone())?
            } else {
                open_for_writing(db, options.clone())?
            };
            maintenance::gc(&store, &prefix, dry_run, json.json, out)
        }
        command if writes(&command) => {
            let location = format!("--db {}", db.display());
            on_any_store(
                &open_for_writing(db, options.clone())?,
                &location,
                command,
                out,
            )
        }
        command => {
            let location = format!("--db {}", db.display());
            on_any_store(
                &open_for_reading(db, options.clone())?,
                &location,
                command,
                out,
            )
        }
    }
}

/// The commands that work through the `Store` contract alone, on any
/// backend. `location` names the store as the command line does.
fn on_any_store(
    store: &impl Store,
    location: &str,
    command: Command,
    out: &mut dyn Write,
) -> CliResult {
    match command {
        Command::Demo => demo::run(store, location, out),
        Command::Put { path, value } => entries::put(store, &path, value),
        Command::Get { path } => entries::get(store, &path, out),
        Command::Type { path, json } => entries::type_of(store, &path, json.json, out),
        Command::Resolve { path, json } => entries::resolve(store, &path, json.json, out),
        Command::Mkgroup { path } => entries::mkgroup(store, &path),
        Command::Link { existing, new } => entries::link(store, &existing, &new),
        Command::Rm { path, recursive } => entries::rm(store, &path, recursive),
        Command::Ls {
            path,
            long,
            from,
            limit,
            reverse,
            json,
        } => {
            let page = Page {
                from,
                limit,
                direction: if reverse {
                    Direction::Descending
                } else {
                    Direction::Ascending
                },
            };
            listing::ls(store, &path, &page, long, json.json, out)
        }
        Command::Match { pairs, limit, json } => {
            listing::matching(store, &pairs, limit, json.json, out)
        }
        Command::Tree { path, depth, json } => listing::tree(store, &path, depth, json.json, out),
        Command::Import { from, dir, json } => transfer::import(store, from, &dir, json.json, out),
        Command::Export { to, dir, json } => transfer::export(store, to, &dir, json.json, out),
        Command::Upgrade
        | Command::Stats { .. }
        | Command::Check { .. }
        | Command::Backup { .. }
        | Command::Compact
        | Command::Gc { .. } => unreachable!("dispatched by the caller, per backend"),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// Runs one command line in process, on `db`, and what it printed.
    fn run_here(db: &Path, args: &[&str]) -> (CliResult, String) {
        let line = ["hbstore", "--db"]
            .into_iter()
            .chain(db.to_str())
            .chain(args.iter().copied());
        let mut out = Vec::new();
        let result = run(Cli::parse_from(line), &mut out);
        (result, String::from_utf8(out).expect("UTF-8 output"))
    }

    fn ok(db: &Path, args: &[&str]) -> String {
        let (result, printed) = run_here(db, args);
        assert!(
            result.is_ok(),
            "{args:?}: {:?}",
            result.err().map(|e| e.to_string())
        );
        printed
    }

    #[test]
    fn commands_print_to_the_writer_they_are_given() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        assert_eq!(ok(&db, &["put", "m/body", "hello"]), "");
        assert_eq!(ok(&db, &["link", "m", "latest"]), "");
        assert_eq!(ok(&db, &["get", "latest/body"]), "hello");
        assert_eq!(ok(&db, &["resolve", "latest/body"]), "m/body\n");
        assert_eq!(ok(&db, &["type", "m"]), "composite\n");
        assert_eq!(ok(&db, &["ls", "m"]), "body\n");
        assert_eq!(ok(&db, &["link", "data/h", "m/ref"]), "");
        assert_eq!(ok(&db, &["match", "ref=data/h"]), "m\n");
        let json: serde_json::Value =
            serde_json::from_str(&ok(&db, &["ls", "-l", "m", "--json"])).unwrap();
        assert_eq!(json[0]["name"], "body");
        assert!(ok(&db, &["tree"]).contains("latest -> m"));
        assert!(ok(&db, &["check"]).contains("0 problems"));
        assert!(ok(&db, &["demo"]).contains("Next, try:"));
        let (missing, printed) = run_here(&db, &["get", "nothing"]);
        assert!(matches!(missing, Err(crate::error::CliError::NotFound(_))));
        assert_eq!(printed, "");
    }
}
