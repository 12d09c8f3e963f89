//! The `hbstore` command-line tool (`src/main.rs` is only its entry
//! point). A library too, for the one other binary of the workspace,
//! `hbstore-bench`, which shares the tool's error type, progress bars and
//! JSON output, and HyperBEAM's LMDB layout (which `import --from hb-lmdb`
//! reads and the benchmark writes).
//!
//! How the files depend on each other, one way: `cli` is the command line
//! (clap's types); `commands/` runs each command on a store, writing to
//! the writer it is given; `migrate/` moves data between stores; `output`,
//! `progress` and `error` are below them all.

mod cli;
mod commands;
pub mod error;
pub mod hb_lmdb;
mod migrate;
pub mod output;
pub mod progress;

use std::process::ExitCode;

use clap::Parser;

/// Runs the `hbstore` tool on this process's arguments, standard output
/// and standard error, and says how it ended.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let mut out = std::io::stdout().lock();
    match commands::run(cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error::CliError::OutputClosed) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hbstore: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
