//! `hbstore bench`: HyperBEAM's store workloads on hbstore and, side by
//! side, the equivalent plain operations on raw RocksDB opened with the same
//! options, in the same run, on the same machine. Only the ratio is meant to
//! be compared across machines.

pub mod cluster;
mod hyperbeam;
mod node;
mod raw;
mod report;
mod scale;
mod workloads;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::cli::BenchArgs;
use crate::error::CliResult;
use crate::progress;

/// How big each workload is.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub keys: usize,
    pub reads: usize,
    pub groups: usize,
    pub lists: usize,
    pub deep_fanout: usize,
    pub deep_leaves: usize,
    pub link_values: usize,
    pub link_reads: usize,
    pub big_group: usize,
    pub big_window: usize,
    pub sync_writes: usize,
    pub large_values: usize,
    pub messages: usize,
    pub match_queries: usize,
    pub pages: usize,
    pub node_messages: usize,
    pub node_reads: usize,
    pub repeats: usize,
}

impl Sizes {
    /// The sizes the targets are stated for.
    pub const FULL: Sizes = Sizes {
        keys: 100_000,
        reads: 100_000,
        groups: 10_000,
        lists: 20_000,
        deep_fanout: 10,
        deep_leaves: 100,
        link_values: 10_000,
        link_reads: 100_000,
        big_group: 200_000,
        big_window: 1_000,
        sync_writes: 2_000,
        large_values: 2_000,
        messages: 50_000,
        match_queries: 50,
        pages: 10_000,
        node_messages: 200_000,
        node_reads: 20_000,
        repeats: 3,
    };

    /// A smoke run for CI: every workload, a fraction of the work.
    pub const QUICK: Sizes = Sizes {
        keys: 10_000,
        reads: 10_000,
        groups: 1_000,
        lists: 2_000,
        deep_fanout: 5,
        deep_leaves: 40,
        link_values: 1_000,
        link_reads: 10_000,
        big_group: 20_000,
        big_window: 1_000,
        sync_writes: 200,
        large_values: 50,
        messages: 5_000,
        match_queries: 20,
        pages: 200,
        node_messages: 5_000,
        node_reads: 2_000,
        repeats: 1,
    };
}

/// A scratch directory for the stores of one run, removed afterwards.
pub struct Scratch {
    root: tempfile::TempDir,
    next: std::cell::Cell<usize>,
}

impl Scratch {
    fn new(parent: Option<&PathBuf>) -> CliResult<Scratch> {
        let root = match parent {
            Some(p) => tempfile::Builder::new()
                .prefix("hbstore-bench")
                .tempdir_in(p)?,
            None => tempfile::Builder::new().prefix("hbstore-bench").tempdir()?,
        };
        Ok(Scratch {
            root,
            next: std::cell::Cell::new(0),
        })
    }

    /// A fresh directory path for one store.
    pub fn fresh(&self, name: &str) -> PathBuf {
        let n = self.next.get();
        self.next.set(n + 1);
        self.root.path().join(format!("{name}-{n}"))
    }

    /// Removes every store made so far (their handles are closed), so that
    /// a run needs the disk of one workload at a time.
    pub fn clear(&self) -> CliResult {
        for entry in std::fs::read_dir(self.root.path())? {
            std::fs::remove_dir_all(entry?.path())?;
        }
        Ok(())
    }
}

/// The bytes of a RocksDB directory's SST files, write-ahead logs and
/// manifest (its informational `LOG` files are left out).
pub fn store_bytes(dir: &std::path::Path) -> CliResult<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".sst") || name.ends_with(".log") || name.starts_with("MANIFEST") {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// Times `f`, returning its result and how long it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

pub fn ops_per_sec(ops: usize, took: Duration) -> f64 {
    ops as f64 / took.as_secs_f64().max(1e-9)
}

/// The median of some measurements (the middle one, or the mean of the two
/// middle ones).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// How many workloads there are (`--only` takes 1 to this).
pub const WORKLOADS: u8 = workloads::COUNT;

pub fn run(args: &BenchArgs) -> CliResult {
    if let (Some(store), Some(dir)) = (args.scale_worker, &args.dir) {
        let entries = args.entries.unwrap_or(scale::DEFAULT_ENTRIES);
        let options = hbstore::Options::default().compression(args.compression.into());
        return scale::serve(store, dir, entries, &options);
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
        (1..=WORKLOADS).collect()
    } else {
        args.only.clone()
    };
    let bar = progress::bar(
        "benchmarking",
        Some(chosen.len() as u64 * sizes.repeats as u64),
    );
    let options = hbstore::Options::default().compression(args.compression.into());
    let rows = workloads::run_all(&sizes, &options, &chosen, &scratch, &|| bar.inc(1))?;
    bar.finish_and_clear();
    report::print(
        &rows,
        &sizes,
        args.quick,
        args.compression.name(),
        args.json.json,
    )
}
