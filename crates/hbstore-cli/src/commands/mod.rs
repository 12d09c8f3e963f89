//! One module per family of commands; this one opens the store the way each
//! command needs it and dispatches.

mod demo;
mod entries;
mod listing;
mod maintenance;

use std::path::Path;

use hbstore::{Options, RocksStore};

use crate::cli::{Cli, Command};
use crate::error::CliResult;

/// Opens the store for commands that only read: read-only, so that they
/// work while another process has it open for writing.
fn open_for_reading(db: &Path) -> CliResult<RocksStore> {
    Ok(RocksStore::open_read_only(db)?)
}

/// Opens (creating if needed) the store for commands that write.
fn open_for_writing(db: &Path, sync: bool) -> CliResult<RocksStore> {
    Ok(RocksStore::open(db, Options::default().sync(sync))?)
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
        Command::Ls { path, long, json } => {
            listing::ls(&open_for_reading(db)?, &path, long, json.json)
        }
        Command::Tree { path, depth, json } => {
            listing::tree(&open_for_reading(db)?, &path, depth, json.json)
        }
        Command::Stats { json } => maintenance::stats(&open_for_reading(db)?, json.json),
        Command::Check { json } => maintenance::check(&open_for_reading(db)?, json.json),
        Command::Backup { dest } => maintenance::backup(db, &dest),
        Command::Compact => maintenance::compact(&open_for_writing(db, cli.sync)?),
        Command::Import { from, dir, json } => {
            crate::migrate::import(&open_for_writing(db, cli.sync)?, from, &dir, json.json)
        }
        Command::Export { to, dir, json } => {
            crate::migrate::export(&open_for_reading(db)?, to, &dir, json.json)
        }
        Command::Bench {
            quick,
            repeats,
            dir,
            only,
            json,
        } => crate::bench::run(crate::bench::BenchArgs {
            quick,
            json: json.json,
            repeats,
            dir,
            only,
        }),
    }
}

/// Prints a value as JSON on standard output.
pub(crate) fn print_json(value: &impl serde::Serialize) -> CliResult {
    use std::io::Write;
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| crate::error::CliError::Failed(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    Ok(())
}
