//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand};

use crate::migrate::{Source, Target};

/// hbstore: a hierarchical key-value store (paths, groups, links) on RocksDB, or on a Redis cluster.
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

    /// fsync every write before returning (survives power loss); the same as
    /// --durability sync.
    #[arg(long, global = true, conflicts_with = "durability")]
    pub sync: bool,

    /// What an acknowledged write survives: process (the default: a killed process
    /// loses nothing), sync (power loss too: an fsync per write) or buffered (writes
    /// held in memory, the log handed to the OS every --flush-ms: a kill loses at most
    /// that interval's writes; a clean exit loses nothing).
    #[arg(long, global = true, value_enum)]
    pub durability: Option<DurabilityArg>,

    /// With --durability buffered: how often the log is handed to the OS, in
    /// milliseconds (default 100).
    #[arg(long, global = true, value_name = "MS", requires = "durability",
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub flush_ms: Option<u64>,

    /// The memory the store may hold (its caches and memtables), in bytes or with a
    /// K, M or G suffix (default: a quarter of the machine's memory).
    #[arg(long, global = true, value_name = "BYTES", value_parser = byte_size)]
    pub memory_budget: Option<usize>,

    /// Work on a store in a Redis cluster instead of --db:
    /// redis://HOST:PORT[,HOST:PORT...][/NAMESPACE] (any node will do; namespace `hb`
    /// by default).
    #[arg(long, global = true, env = "HBSTORE_CLUSTER", value_name = "URL")]
    pub cluster: Option<String>,

    /// With --cluster: each write waits until this many replicas have it (Redis WAIT),
    /// so it survives the failure of its primary.
    #[arg(long, global = true, requires = "cluster", default_value_t = 0)]
    pub replicas: u32,

    /// With --cluster: give up on a cluster that does not answer after this many
    /// seconds (redirects and failovers are waited out until then).
    #[arg(long, global = true, requires = "cluster", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub deadline: u64,

    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str = "\
Exit codes: 0 success; 1 the path asked for is not there; 2 usage error or invalid input;
3 the operation failed (the message says which path and why); 4 `check` found damage.";

/// `--json`, shared by the commands that offer it.
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

    /// Store a value (from VALUE, or standard input when VALUE is omitted or `-`);
    /// a value or a link at PATH is replaced (the link, not its target).
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

    /// Make NEW a link to EXISTING (which need not exist); a link at NEW is
    /// re-pointed, a value replaced.
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
    #[command(
        after_help = "Examples:\n  hbstore ls messages\n  hbstore ls -l\n  hbstore ls big --from k0500 --limit 100\n  hbstore ls big --reverse --limit 10"
    )]
    Ls {
        #[arg(default_value = "")]
        path: String,
        /// Show each child's kind, a value's size and a link's target.
        #[arg(short, long)]
        long: bool,
        /// Start at this name (inclusive; it need not exist).
        #[arg(long)]
        from: Option<String>,
        /// Show at most this many children.
        #[arg(long)]
        limit: Option<usize>,
        /// Reverse byte order (with --from: names up to and including it).
        #[arg(long)]
        reverse: bool,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Find the groups whose child KEY links to TARGET, for every KEY=TARGET given.
    ///
    /// HyperBEAM's cache writes a message's field as a link to its content-addressed
    /// value, so this finds messages by field values. Answered from the link index:
    /// its cost grows with the answer, not with the store. Exit 1 when none matches.
    #[command(
        name = "match",
        after_help = "Example:\n  hbstore match process=data/Xy3 slot=data/Q8k --limit 10"
    )]
    Match {
        /// KEY=TARGET pairs: a child name and the path its link points at.
        #[arg(required = true, value_parser = match_pair)]
        pairs: Vec<(String, String)>,
        /// Print at most this many groups.
        #[arg(long)]
        limit: Option<usize>,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Upgrade a store written by an older hbstore to the current format, in place.
    ///
    /// Any command that opens the store for writing does the same; this one does
    /// only that, with a progress bar, and says what it did.
    #[command(after_help = "Example:\n  hbstore --db ./cache upgrade")]
    Upgrade,

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

    /// Count values, groups and links (estimated at once on a large store; --exact walks it), bytes on disk.
    #[command(
        after_help = "Examples:\n  hbstore stats\n  hbstore stats --exact --json\n  \
                      hbstore stats --prometheus > hbstore.prom.tmp && mv hbstore.prom.tmp hbstore.prom"
    )]
    Stats {
        /// Count every entry exactly (a walk of the whole store, with a progress bar)
        /// instead of answering from RocksDB's estimates at once.
        #[arg(long, conflicts_with = "prometheus")]
        exact: bool,
        /// Print the store's metrics in Prometheus' text format (for node_exporter's
        /// textfile collector): size on disk, entries, memory, pending compaction, write
        /// stalls. Counts of operations are this command's own; a node's come from
        /// hb_store_hbstore:metrics_text/1.
        #[arg(long, conflicts_with = "json")]
        prometheus: bool,
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

    /// Remove the values under a prefix that no link reaches any more.
    ///
    /// HyperBEAM links a message's fields to content-addressed values under data/;
    /// once the messages are removed (`rm -r ID`), their values stay behind. This
    /// finds them from the link index, removes them in batches beside a running
    /// writer (a value linked meanwhile survives), then compacts the freed range.
    #[command(after_help = "Examples:\n  hbstore gc --dry-run\n  hbstore gc --prefix data --json")]
    Gc {
        /// The group whose values are swept (at any depth below it).
        #[arg(long, default_value = "data")]
        prefix: String,
        /// Only count what would be removed.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Bring in an hb_store_fs tree, an hb_store_rocksdb database, an hb_store_lmdb environment, or another hbstore store (embedded or on a cluster).
    ///
    /// Safe to run again: importing the same source twice gives the same store.
    /// The source is only read (an LMDB environment may be in use by a node meanwhile).
    #[command(
        after_help = "Examples:\n  hbstore import --from fs ./cache-mainnet\n  hbstore import --from hb-rocksdb ./cache-rocksdb\n  hbstore import --from hb-lmdb ./cache-mainnet/lmdb\n  hbstore --cluster redis://10.0.0.1:7000 import --from hbstore ./hbstore-data\n  hbstore --db ./local import --from cluster redis://10.0.0.1:7000"
    )]
    Import {
        #[arg(long, value_enum)]
        from: Source,
        dir: PathBuf,
        #[command(flatten)]
        json: JsonFlag,
    },

    /// Write the store out: as an hb_store_fs tree in DIR (new or empty), or into another hbstore store.
    #[command(
        after_help = "Examples:\n  hbstore export --to fs ./cache-fs\n  hbstore export --to cluster redis://10.0.0.1:7000/hb\n  hbstore --cluster redis://10.0.0.1:7000 export --to hbstore ./copy"
    )]
    Export {
        #[arg(long, value_enum)]
        to: Target,
        dir: PathBuf,
        #[command(flatten)]
        json: JsonFlag,
    },
}

/// A size in bytes: a number, or one with a K, M or G suffix (powers of
/// 1,024).
fn byte_size(text: &str) -> Result<usize, String> {
    let (digits, shift) = match text.trim().char_indices().last() {
        Some((i, 'K' | 'k')) => (&text[..i], 10),
        Some((i, 'M' | 'm')) => (&text[..i], 20),
        Some((i, 'G' | 'g')) => (&text[..i], 30),
        _ => (text, 0),
    };
    digits
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("{text:?} is not a size (bytes, or a number with K, M or G)"))
}

/// `KEY=TARGET`, split at the first `=` (a target may hold more).
fn match_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, target)) if !key.is_empty() => Ok((key.to_owned(), target.to_owned())),
        _ => Err(format!("{text:?} is not KEY=TARGET")),
    }
}

impl clap::ValueEnum for Source {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Source::Fs,
            Source::HbRocksdb,
            Source::HbLmdb,
            Source::Hbstore,
            Source::Cluster,
        ]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(match self {
            Source::Fs => PossibleValue::new("fs").help("A directory tree written by hb_store_fs"),
            Source::HbRocksdb => PossibleValue::new("hb-rocksdb")
                .help("A RocksDB database written by hb_store_rocksdb"),
            Source::HbLmdb => {
                PossibleValue::new("hb-lmdb").help("An LMDB environment written by hb_store_lmdb")
            }
            Source::Hbstore => {
                PossibleValue::new("hbstore").help("An embedded hbstore store (its directory)")
            }
            Source::Cluster => PossibleValue::new("cluster")
                .help("An hbstore store on a Redis cluster (its redis:// address)"),
        })
    }
}

impl clap::ValueEnum for Target {
    fn value_variants<'a>() -> &'a [Self] {
        &[Target::Fs, Target::Hbstore, Target::Cluster]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(match self {
            Target::Fs => PossibleValue::new("fs").help("A directory tree that hb_store_fs reads"),
            Target::Hbstore => PossibleValue::new("hbstore")
                .help("An embedded hbstore store (its directory, created if missing)"),
            Target::Cluster => PossibleValue::new("cluster")
                .help("An hbstore store on a Redis cluster (its redis:// address)"),
        })
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

    #[test]
    fn every_command_has_help_with_an_example() {
        let cli = Cli::command();
        let commands: Vec<_> = cli.get_subcommands().collect();
        assert!(commands.len() >= 17, "{} commands", commands.len());
        for command in commands {
            let help = command
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(
                help.contains("Example"),
                "`hbstore {}` has no example in its help",
                command.get_name()
            );
        }
    }
}

/// `--durability`'s values (see [`hbstore::Durability`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DurabilityArg {
    /// Every acknowledged write survives a process kill (the default).
    Process,
    /// Every acknowledged write survives power loss (an fsync per write).
    Sync,
    /// Writes held in memory, the log handed to the OS every --flush-ms.
    Buffered,
}
