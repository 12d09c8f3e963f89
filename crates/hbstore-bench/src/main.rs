//! `hbstore-bench`: HyperBEAM's store workloads on hbstore and, side by
//! side, the same work on raw RocksDB opened with the same options and on
//! LMDB in `hb_store_lmdb`'s layout, in the same run, on the same machine
//! (only the ratios are meant to be compared across machines); the run at
//! a node's size (`--scale`); and hbstore on a Redis cluster against plain
//! Redis commands (`--cluster`). A binary of its own, as RocksDB ships
//! `db_bench` beside its tools: the `hbstore` tool operators install links
//! none of it.
//!
//! How the files depend on each other, one way: `main` dispatches to
//! `scale/`, `cluster` and `workloads/`; `scale/` uses the workloads'
//! message shapes; every workload runs on `harness` (stores, timing,
//! rows), which uses `raw` (RocksDB without hbstore) and `report`.

mod args;
mod chart;
mod cluster;
mod harness;
mod raw;
mod report;
mod scale;
mod workloads;

// The tool's error type, progress bars, JSON output and HyperBEAM's LMDB
// layout, shared with the `hbstore` tool (whose `import --from hb-lmdb`
// reads that layout).
use hbstore_cli::{error, hb_lmdb, output, progress};

use std::process::ExitCode;

use clap::Parser;

use crate::args::{BenchArgs, Cli};
use crate::error::{CliError, CliResult};
use crate::harness::{Scratch, Sizes};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.cluster {
        Some(address) => cluster::run(address, &cli.bench),
        None => run(&cli.bench),
    };
    match result {
        Ok(()) | Err(CliError::OutputClosed) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hbstore-bench: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(args: &BenchArgs) -> CliResult {
    if let Some(svg) = &args.svg {
        chart::check_destination(svg)?;
    }
    if let (Some(store), Some(dir)) = (args.scale_worker, &args.dir) {
        let entries = args.entries.unwrap_or(scale::DEFAULT_ENTRIES);
        return scale::serve(store, dir, entries, &args.options());
    }
    if args.scale {
        return scale::run(args);
    }
    let mut sizes = if args.quick {
        Sizes::QUICK
    } else {
        Sizes::FULL
    };
    if let Some(r) = args.repeats {
        sizes.repeats = usize::try_from(r).unwrap_or(usize::MAX);
    }
    let scratch = Scratch::new(args.dir.as_ref())?;
    let chosen = if args.only.is_empty() {
        (1..=workloads::COUNT).collect()
    } else {
        args.only.clone()
    };
    let bar = progress::bar(
        "benchmarking",
        Some(chosen.len() as u64 * sizes.repeats as u64),
    );
    let options = args.options();
    let rows = workloads::run_all(&sizes, &options, &chosen, &scratch, &|| bar.inc(1))?;
    bar.finish_and_clear();
    if let Some(svg) = &args.svg {
        report::chart(svg, &rows, args.quick)?;
    }
    report::print(
        &rows,
        sizes.repeats,
        args.quick,
        args.compression.name(),
        args.json,
    )
}
