//! One module per family of commands; this one opens the store the way each
//! command needs it (the embedded store in `--db`, or a cluster with
//! `--cluster`) and dispatches.

mod cluster;
mod demo;
mod entries;
mod listing;
mod maintenance;
mod transfer;

use std::path::Path;

use hbstore::{Direction, Options, Page, RocksStore, Store};

use crate::cli::{Cli, Command};
use crate::error::CliResult;

/// Opens the store for commands that only read: read-only, so that they
/// work while another process has it open for writing.
fn open_for_reading(db: &Path) -> CliResult<RocksStore> {
    Ok(RocksStore::open_read_only(db)?)
}

/// Opens (creating if needed) the store for commands that write; a store
/// of an older format is upgraded in place, with a progress bar.
fn open_for_writing(db: &Path, sync: bool) -> CliResult<RocksStore> {
    let bar = crate::progress::bar("upgrading the store's format", None);
    let store = RocksStore::open_with_progress(db, Options::default().sync(sync), &mut |n| {
        bar.set_position(n)
    });
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

pub fn run(cli: Cli) -> CliResult {
    if let Some(address) = &cli.cluster {
        let access = crate::migrate::ClusterAccess {
            replicas: cli.replicas,
            deadline: cli.deadline,
        };
        return cluster::run(address, access, cli.command);
    }
    let db = cli.db.as_path();
    match cli.command {
        Command::Upgrade => maintenance::upgrade(db),
        Command::Stats { exact, json } => {
            maintenance::stats(&open_for_reading(db)?, exact, json.json)
        }
        Command::Check { json } => maintenance::check(&open_for_reading(db)?, json.json),
        Command::Backup { dest } => maintenance::backup(db, &dest),
        Command::Compact => maintenance::compact(&open_for_writing(db, cli.sync)?),
        Command::Gc {
            prefix,
            dry_run,
            json,
        } => {
            let store = if dry_run {
                open_for_reading(db)?
            } else {
                open_for_writing(db, cli.sync)?
            };
            maintenance::gc(&store, &prefix, dry_run, json.json)
        }
        Command::Bench(args) => crate::bench::run(&args),
        command if writes(&command) => {
            let location = format!("--db {}", db.display());
            on_any_store(&open_for_writing(db, cli.sync)?, &location, command)
        }
        command => {
            let location = format!("--db {}", db.display());
            on_any_store(&open_for_reading(db)?, &location, command)
        }
    }
}

/// The commands that work through the `Store` contract alone, on any
/// backend. `location` names the store as the command line does.
fn on_any_store(store: &impl Store, location: &str, command: Command) -> CliResult {
    match command {
        Command::Demo => demo::run(store, location),
        Command::Put { path, value } => entries::put(store, &path, value),
        Command::Get { path } => entries::get(store, &path),
        Command::Type { path, json } => entries::type_of(store, &path, json.json),
        Command::Resolve { path, json } => entries::resolve(store, &path, json.json),
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
            listing::ls(store, &path, &page, long, json.json)
        }
        Command::Match { pairs, limit, json } => listing::matching(store, &pairs, limit, json.json),
        Command::Tree { path, depth, json } => listing::tree(store, &path, depth, json.json),
        Command::Import { from, dir, json } => transfer::import(store, from, &dir, json.json),
        Command::Export { to, dir, json } => transfer::export(store, to, &dir, json.json),
        Command::Upgrade
        | Command::Stats { .. }
        | Command::Check { .. }
        | Command::Backup { .. }
        | Command::Compact
        | Command::Gc { .. }
        | Command::Bench(_) => unreachable!("dispatched by the caller, per backend"),
    }
}
