//! One module per family of commands; this one opens the store the way each
//! command needs it and dispatches.

mod demo;
mod entries;
mod listing;
mod maintenance;
mod transfer;

use std::path::Path;

use hbstore::{Direction, Options, Page, RocksStore};

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

pub fn run(cli: Cli) -> CliResult {
    let db = cli.db.as_path();
    match cli.command {
        Command::Demo => demo::run(&open_for_writing(db, cli.sync)?),
        Command::Put { path, value } => {
            entries::put(&open_for_writing(db, cli.sync)?, &path, value)
        }
        Command::Get { path } => entries::get(&open_for_reading(db)?, &path),
        Command::Type { path, json } => entries::type_of(&open_for_reading(db)?, &path, json.json),
        Command::Resolve { path, json } => {
            entries::resolve(&open_for_reading(db)?, &path, json.json)
        }
        Command::Mkgroup { path } => entries::mkgroup(&open_for_writing(db, cli.sync)?, &path),
        Command::Link { existing, new } => {
            entries::link(&open_for_writing(db, cli.sync)?, &existing, &new)
        }
        Command::Rm { path, recursive } => {
            entries::rm(&open_for_writing(db, cli.sync)?, &path, recursive)
        }
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
            listing::ls(&open_for_reading(db)?, &path, &page, long, json.json)
        }
        Command::Match { pairs, limit, json } => {
            listing::matching(&open_for_reading(db)?, &pairs, limit, json.json)
        }
        Command::Upgrade => maintenance::upgrade(db),
        Command::Tree { path, depth, json } => {
            listing::tree(&open_for_reading(db)?, &path, depth, json.json)
        }
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
        Command::Import { from, dir, json } => {
            transfer::import(&open_for_writing(db, cli.sync)?, from, &dir, json.json)
        }
        Command::Export { to, dir, json } => {
            transfer::export(&open_for_reading(db)?, to, &dir, json.json)
        }
        Command::Bench(args) => crate::bench::run(&args),
    }
}
