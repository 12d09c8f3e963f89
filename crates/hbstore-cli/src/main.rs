//! `hbstore`: the command-line tool for hbstore stores.

mod bench;
mod cli;
mod commands;
mod error;
mod hb_lmdb;
mod migrate;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error::CliError::OutputClosed) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hbstore: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
