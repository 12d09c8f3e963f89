//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// hbstore: a hierarchical key-value store (paths, groups, links) on RocksDB.
#[derive(Debug, Parser)]
#[command(name = "hbstore", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// The store directory.
    #[arg(
        long,
        global = true,
        env = "HBSTORE_DB",
        default_value = "./hbstore-data"
    )]
    pub db: PathBuf,

    /// fsync every write before returning (survives power loss).
    #[arg(long, global = true)]
    pub sync: bool,

    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str = "\
Exit codes: 0 success; 1 the path asked for is not there; 2 usage error or invalid input;
3 the operation failed (the message says which path and why); 4 `check` found damage.";

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a small message-shaped tree under `demo/` and show it off.
    #[command(after_help = "Example:\n  hbstore --db /tmp/hb demo")]
    Demo,

    /// Store a value (from VALUE, or standard input when VALUE is omitted or `-`).
    #[command(
        after_help = "Examples:\n  hbstore put messages/m1/body hello\n  hbstore put blobs/logo < logo.png"
    )]
    Put { path: String, value: Option<String> },

    /// Print a value's bytes, exactly as stored.
    #[command(after_help = "Example:\n  hbstore get messages/m1/body > body.bin")]
    Get { path: String },

    /// Print `simple` (a value) or `composite` (a group).
    #[command(after_help = "Example:\n  hbstore type latest")]
    Type {
        path: String,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Print the physical path, every link followed.
    #[command(after_help = "Example:\n  hbstore resolve latest/body")]
    Resolve {
        path: String,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Create a group and any missing parents (like `mkdir -p`).
    #[command(after_help = "Example:\n  hbstore mkgroup messages/ids")]
    Mkgroup { path: String },

    /// Make NEW a link to EXISTING (which need not exist).
    #[command(after_help = "Example:\n  hbstore link messages/m1 latest")]
    Link { existing: String, new: String },

    /// Remove a value, a link or an empty group (-r: a group and everything in it).
    #[command(after_help = "Examples:\n  hbstore rm latest\n  hbstore rm -r messages")]
    Rm {
        path: String,
        /// Remove a group with everything below it.
        #[arg(short, long)]
        recursive: bool,
    },

    /// List a group's children, sorted (the top level by default).
    #[command(after_help = "Examples:\n  hbstore ls messages\n  hbstore ls -l")]
    Ls {
        #[arg(default_value = "")]
        path: String,
        /// Show each child's kind, a value's size and a link's target.
        #[arg(short, long)]
        long: bool,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Draw a subtree like tree(1); links show as `name -> target`.
    #[command(after_help = "Example:\n  hbstore tree messages --depth 2")]
    Tree {
        #[arg(default_value = "")]
        path: String,
        /// Show at most this many levels below PATH.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        depth: Option<u64>,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Count values, groups and links; sizes on disk; RocksDB's estimates.
    #[command(after_help = "Example:\n  hbstore stats --json")]
    Stats {
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Verify the whole store; exit 4 if anything is damaged.
    #[command(after_help = "Example:\n  hbstore check")]
    Check {
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Write a consistent, openable copy of the store to DEST (a new directory).
    #[command(after_help = "Example:\n  hbstore backup /backups/hb-2026-11-25")]
    Backup { dest: PathBuf },

    /// Compact the whole database, reclaiming the space of deleted entries.
    #[command(after_help = "Example:\n  hbstore compact")]
    Compact,

    /// Bring in an hb_store_fs tree or an hb_store_rocksdb database.
    ///
    /// Safe to run again: importing the same source twice gives the same store.
    #[command(
        after_help = "Examples:\n  hbstore import --from fs ./cache-mainnet\n  hbstore import --from hb-rocksdb ./cache-rocksdb"
    )]
    Import {
        #[arg(long, value_enum)]
        from: crate::migrate::Source,
        dir: PathBuf,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Write the store out as an hb_store_fs tree in DIR (new or empty).
    #[command(after_help = "Example:\n  hbstore export --to fs ./cache-fs")]
    Export {
        #[arg(long, value_enum)]
        to: crate::migrate::Target,
        dir: PathBuf,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Benchmark HyperBEAM's store workloads against raw RocksDB.
    ///
    /// Works in fresh temporary stores (not in --db); prints ops/s for both and their ratio.
    #[command(
        after_help = "Examples:\n  hbstore bench\n  hbstore bench --quick --json > bench.json"
    )]
    Bench {
        /// A fraction of the work, for smoke runs.
        #[arg(long)]
        quick: bool,
        /// Runs per workload (the median is reported); default 3, 1 with --quick.
        #[arg(long)]
        repeats: Option<usize>,
        /// Where to create the temporary stores (default: the system's temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Run only these workloads (numbers 1 to 7, comma-separated).
        #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u8).range(1..=7))]
        only: Vec<u8>,
        #[command(flatten)]
        json: JsonFlag,
    },
}
