//! The benchmark's command line: the same flags `hbstore-bench` had.

use std::path::PathBuf;

use clap::{Args, Parser};

/// Benchmark HyperBEAM's store workloads against raw RocksDB and LMDB.
///
/// Works in fresh temporary stores; prints ops/s and bytes on disk for hbstore, raw RocksDB
/// with the same options, and LMDB in hb_store_lmdb's layout, with hbstore's ratio to each.
/// With --cluster, hbstore on a Redis cluster against plain Redis commands instead.
#[derive(Debug, Parser)]
#[command(
    name = "hbstore-bench",
    version,
    after_help = "Examples:\n  hbstore-bench\n  hbstore-bench --quick --json > bench.json\n  \
                  hbstore-bench --scale --entries 8000000\n  hbstore-bench --cluster local --quick"
)]
pub struct Cli {
    /// Benchmark a store on this Redis cluster (`redis://HOST:PORT[/NAMESPACE]`), or on a
    /// six-node cluster started on 127.0.0.1 for the run (`local`).
    #[arg(long)]
    pub cluster: Option<String>,
    #[command(flatten)]
    pub bench: BenchArgs,
}

/// The benchmark's arguments.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A fraction of the work, for smoke runs.
    #[arg(long)]
    pub quick: bool,
    /// Runs per workload (the median is reported); default 3, 1 with --quick.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub repeats: Option<u64>,
    /// Where to create the temporary stores (default: the system's temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Run only these workloads (numbered from 1, comma-separated; see the table).
    #[arg(long, value_delimiter = ',', value_parser = workload_number)]
    pub only: Vec<u8>,
    /// Block compression of hbstore and raw RocksDB (tiered, the default: LZ4, and ZSTD
    /// with a trained dictionary on the last level).
    #[arg(long, value_enum, default_value = "tiered")]
    pub compression: BenchCompression,
    /// The memory budget of hbstore (and raw RocksDB's block cache, which gets hbstore's
    /// entry cache share too), in bytes (default: hbstore's own default).
    #[arg(long, value_name = "BYTES")]
    pub memory_budget: Option<usize>,
    /// Run hbstore without its entry cache, its share of the budget going to the block
    /// cache (to see what the entry cache gives, memory for memory).
    #[arg(long)]
    pub no_entry_cache: bool,
    /// The run at a node's size instead: messages written in rounds up to --entries,
    /// random reads after each, resident memory and bytes per round, then the
    /// command-line tool timed on the store. Needs some 3 GB of disk per 10 million entries.
    #[arg(long, conflicts_with_all = ["quick", "only", "repeats"])]
    pub scale: bool,
    /// Also draw the run as an SVG chart into FILE: with --scale, throughput and bytes on
    /// disk against entries, a line per store; otherwise hbstore's ratio to each baseline,
    /// a bar per workload.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// How many fields --scale writes (default 20,000,000).
    #[arg(long, requires = "scale", value_parser = clap::value_parser!(u64).range(20..))]
    pub entries: Option<u64>,
    /// Internal: one store of a --scale run, in its own process (--dir is its store).
    #[arg(long, hide = true, value_enum, requires = "dir")]
    pub scale_worker: Option<ScaleStore>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The stores a `--scale` run compares, each in a worker process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScaleStore {
    Hbstore,
    Raw,
    Lmdb,
}

/// The compression choices of `--compression`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchCompression {
    None,
    Lz4,
    Zstd,
    Tiered,
}

impl BenchArgs {
    /// The options hbstore and raw RocksDB are opened with.
    pub fn options(&self) -> hbstore::Options {
        let mut options = hbstore::Options::default().compression(self.compression.into());
        if let Some(bytes) = self.memory_budget {
            options = options.memory_budget_bytes(bytes);
        }
        if self.no_entry_cache {
            let budget = options.memory_budget();
            options = options
                .entry_cache_bytes(0)
                .block_cache_bytes(budget.block_cache + budget.entry_cache);
        }
        options
    }
}

impl BenchCompression {
    pub fn name(self) -> &'static str {
        match self {
            BenchCompression::None => "no",
            BenchCompression::Lz4 => "LZ4",
            BenchCompression::Zstd => "ZSTD",
            BenchCompression::Tiered => "tiered (LZ4, ZSTD + dictionary on the last level)",
        }
    }
}

impl From<BenchCompression> for hbstore::Compression {
    fn from(c: BenchCompression) -> Self {
        match c {
            BenchCompression::None => hbstore::Compression::None,
            BenchCompression::Lz4 => hbstore::Compression::Lz4,
            BenchCompression::Zstd => hbstore::Compression::Zstd,
            BenchCompression::Tiered => hbstore::Compression::Tiered,
        }
    }
}

/// A workload number, checked against the benchmark's own list.
fn workload_number(text: &str) -> Result<u8, String> {
    let count = crate::workloads::COUNT;
    match text.parse::<u8>() {
        Ok(n) if (1..=count).contains(&n) => Ok(n),
        _ => Err(format!("workloads are numbered 1 to {count}")),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
