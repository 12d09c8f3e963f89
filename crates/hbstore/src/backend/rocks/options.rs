//! How a RocksDB store is opened: the one home of every option and its
//! default.

use rocksdb::{BlockBasedOptions, Cache, DBCompressionType, SliceTransform};

use crate::codec;

/// Block compression for the store's files. A store's files may mix
/// them: a change applies to the files written from then on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// No compression: the fastest reads, the most bytes.
    None,
    /// Fast, modest ratio.
    Lz4,
    /// Slower, better ratio, on every level.
    Zstd,
    /// The default: LZ4 on every level but the last, and on the last, where
    /// most of a large store's bytes end up and are rewritten least often,
    /// ZSTD with a dictionary trained on each file's own blocks (small
    /// values share their words across blocks that way). On a node-shaped
    /// store it takes 0.57 of LZ4's bytes once compacted (`hbstore-bench`
    /// workload 11 and the README give the figures).
    #[default]
    Tiered,
}

/// What an acknowledged write survives: the trade between a write's cost
/// and what a crash may take back. Whichever is chosen, a crash never
/// leaves the store inconsistent: what survives is every write up to some
/// point, each batch whole or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// The default: a write returns once its log record is handed to the
    /// operating system, so every acknowledged write survives the process
    /// being killed (SIGKILL, an out-of-memory kill, a crash of the node);
    /// the machine losing power may lose the last seconds.
    #[default]
    Process,
    /// A write returns once its log record is on disk (an fsync per write,
    /// or per group of concurrent writes): it survives power loss too.
    Sync,
    /// A write returns once it is in memory; a background thread hands the
    /// log to the operating system every `flush_every`. A process kill
    /// loses at most the writes of the last interval, never anything
    /// older; a clean close (and `hb_store_hbstore:stop`) loses nothing.
    /// The trade HyperBEAM's LMDB store makes (writes gathered in
    /// transactions, `no_sync`), with a bound on the loss.
    Buffered {
        /// How often the log is handed to the operating system.
        flush_every: std::time::Duration,
    },
}

impl Durability {
    /// The default interval of [`Durability::Buffered`]: 100 ms.
    pub const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

    /// Its name, as the command line and the Erlang store message spell
    /// it: `process`, `sync` or `buffered`.
    pub fn name(self) -> &'static str {
        match self {
            Durability::Process => "process",
            Durability::Sync => "sync",
            Durability::Buffered { .. } => "buffered",
        }
    }
}

/// The dictionary the last level's ZSTD trains for each file, and how many
/// bytes of samples it trains on (RocksDB's advice: about 100 times the
/// dictionary).
const DICTIONARY_BYTES: i32 = 16 << 10;
const DICTIONARY_SAMPLE_BYTES: i32 = 100 * DICTIONARY_BYTES;
/// ZSTD's own default level; zlib's default window (RocksDB's `-14`).
const ZSTD_LEVEL: i32 = 3;
const WINDOW_BITS: i32 = -14;
/// RocksDB's memtable size and how many there may be (its defaults).
const MEMTABLE_BYTES: usize = 64 << 20;
const MEMTABLES: usize = 2;

/// The memory budget's default share of the machine, and its least size.
const BUDGET_SHARE: u64 = 4;
const BUDGET_LEAST: u64 = 512 << 20;
/// The least the block cache gets (its index and filter blocks live there).
const BLOCK_CACHE_LEAST: usize = 64 << 20;

/// A quarter of the memory this process may use (at least 512 MiB): the
/// caches are sized to the machine rather than to a small fixed figure,
/// since a node's store is its hot path and LMDB, the node's other store,
/// uses all free memory as its page cache; a quarter leaves the node, its
/// Erlang heaps and the OS page cache the rest.
fn default_memory_budget() -> usize {
    let share = usable_memory().map_or(BUDGET_LEAST, |bytes| bytes / BUDGET_SHARE);
    usize::try_from(share.max(BUDGET_LEAST)).unwrap_or(usize::MAX)
}

/// How a store's memory budget is spent ([`Options::memory_budget`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryBudget {
    /// RocksDB's memtables: the one being written and one being flushed.
    pub memtables: usize,
    /// RocksDB's block cache: blocks of the files, their index and filter
    /// blocks, decompressed.
    pub block_cache: usize,
    /// hbstore's entry cache: decoded entries by path, read without any
    /// RocksDB call (writable opens only).
    pub entry_cache: usize,
    /// The writers' cache of known groups (and fresh groups).
    pub group_cache: usize,
    /// The cache of links and their targets.
    pub link_cache: usize,
}

impl MemoryBudget {
    /// All of it.
    pub fn total(&self) -> usize {
        self.memtables + self.block_cache + self.entry_cache + self.group_cache + self.link_cache
    }
}

/// The machine's memory (Linux: `/proc/meminfo`), or the cgroup's limit
/// when one is set lower (a container); `None` where neither is known.
fn usable_memory() -> Option<u64> {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        });
    let limit = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|file| {
        std::fs::read_to_string(file)
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()
    });
    match (total, limit) {
        (Some(t), Some(l)) => Some(t.min(l)),
        (t, l) => t.or(l),
    }
}

/// Options for [`RocksStore::open`](super::RocksStore::open), with builder
/// setters:
///
/// ```
/// let options = hbstore::Options::default().sync(true).block_cache_bytes(256 << 20);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    pub(crate) create_if_missing: bool,
    pub(crate) read_only: bool,
    pub(crate) durability: Durability,
    pub(crate) compression: Compression,
    pub(crate) memory_budget_bytes: usize,
    pub(crate) block_cache_bytes: Option<usize>,
    pub(crate) entry_cache_bytes: Option<usize>,
    pub(crate) entry_value_bytes: usize,
    pub(crate) bloom_bits_per_key: Option<f64>,
    pub(crate) group_cache_bytes: usize,
    pub(crate) link_cache_bytes: usize,
    pub(crate) gc_grace: std::time::Duration,
}

/// The largest value the entry cache keeps, by default.
const ENTRY_VALUE_BYTES: usize = 16 << 10;
/// What a block usually charges the block cache (RocksDB's 4 KiB blocks
/// and their overhead), which HyperClockCache sizes its table by.
const BLOCK_CHARGE: usize = 5 << 10;

/// How long `gc` leaves a value alone after it was written.
const GC_GRACE: std::time::Duration = std::time::Duration::from_secs(300);

impl Default for Options {
    fn default() -> Self {
        Options {
            create_if_missing: true,
            read_only: false,
            durability: Durability::Process,
            compression: Compression::default(),
            memory_budget_bytes: default_memory_budget(),
            block_cache_bytes: None,
            entry_cache_bytes: None,
            entry_value_bytes: ENTRY_VALUE_BYTES,
            bloom_bits_per_key: Some(10.0),
            group_cache_bytes: 16 << 20,
            link_cache_bytes: 16 << 20,
            gc_grace: GC_GRACE,
        }
    }
}

impl Options {
    /// Create the store when the directory holds none (default: true).
    pub fn create_if_missing(mut self, yes: bool) -> Self {
        self.create_if_missing = yes;
        self
    }

    /// Open without taking the writer's lock, so that it works beside a
    /// process that has the store open for writing; writes are refused
    /// (default: false).
    pub fn read_only(mut self, yes: bool) -> Self {
        self.read_only = yes;
        self
    }

    /// fsync the write-ahead log before an operation returns, so that it
    /// survives power loss, not only a process kill (default: false):
    /// [`Durability::Sync`], or with `false` [`Durability::Process`].
    pub fn sync(mut self, yes: bool) -> Self {
        self.durability = if yes {
            Durability::Sync
        } else {
            Durability::Process
        };
        self
    }

    /// What an acknowledged write survives (default:
    /// [`Durability::Process`]). A zero interval of
    /// [`Durability::Buffered`] is taken as a millisecond.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = match durability {
            Durability::Buffered { flush_every } => Durability::Buffered {
                flush_every: flush_every.max(std::time::Duration::from_millis(1)),
            },
            other => other,
        };
        self
    }

    /// Block compression (default: [`Compression::Tiered`]).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// The memory the store may hold, split (see [`Options::memory_budget`])
    /// between RocksDB's memtables, its block cache and hbstore's entry
    /// cache (default: a quarter of the machine's memory, or of the
    /// container's limit when lower, and at least 512 MiB).
    pub fn memory_budget_bytes(mut self, bytes: usize) -> Self {
        self.memory_budget_bytes = bytes;
        self
    }

    /// Size of RocksDB's block cache for reads, which also holds the
    /// files' index and filter blocks, instead of its share of the memory
    /// budget.
    pub fn block_cache_bytes(mut self, bytes: usize) -> Self {
        self.block_cache_bytes = Some(bytes);
        self
    }

    /// Size of the entry cache (decoded entries by path, read without any
    /// RocksDB call) instead of its share of the memory budget; 0 turns it
    /// off.
    pub fn entry_cache_bytes(mut self, bytes: usize) -> Self {
        self.entry_cache_bytes = Some(bytes);
        self
    }

    /// The largest value the entry cache keeps (default 16 KiB: a
    /// HyperBEAM message's fields are far smaller; a larger value is one
    /// RocksDB read for its own bytes anyway).
    pub fn entry_value_bytes(mut self, bytes: usize) -> Self {
        self.entry_value_bytes = bytes;
        self
    }

    /// Bloom filter bits per key, so that reads of absent paths rarely
    /// touch disk; `None` turns filters off (default: 10 bits, about 1%
    /// false positives).
    pub fn bloom_bits_per_key(mut self, bits: Option<f64>) -> Self {
        self.bloom_bits_per_key = bits;
        self
    }

    /// Memory for the writers' cache of paths known to be groups, so that
    /// the ancestors of a write are not read again every time; 0 turns it
    /// off (default: 16 MiB, some 200,000 typical paths).
    pub fn group_cache_bytes(mut self, bytes: usize) -> Self {
        self.group_cache_bytes = bytes;
        self
    }

    /// Memory for the cache of links and their targets that writers keep
    /// (links they made or followed), so that a read through a cached link
    /// costs one RocksDB get instead of two; 0 turns it off (default:
    /// 16 MiB).
    pub fn link_cache_bytes(mut self, bytes: usize) -> Self {
        self.link_cache_bytes = bytes;
        self
    }

    /// How long [`RocksStore::gc`](super::RocksStore::gc) leaves alone a
    /// value this handle wrote, even when no link reaches it (default: 5
    /// minutes). HyperBEAM writes a value before the links to it, so a
    /// sweep between the two would otherwise remove it; the grace period
    /// must be longer than a writer ever takes from one to the other. Zero
    /// turns it off (for a store that no one else writes to while gc runs).
    pub fn gc_grace(mut self, grace: std::time::Duration) -> Self {
        self.gc_grace = grace;
        self
    }

    /// How these settings spend the memory budget, besides a fixed
    /// overhead: the memtables first, and the writers' small group and
    /// link caches; of the rest, four fifths to the entry cache and one to
    /// the block cache. The entry cache answers a read of a cached entry
    /// without any RocksDB call, and holds a decoded entry in about the
    /// memory its block would take; the block cache serves the rest (and
    /// every scan) from decompressed blocks, and holds the index and filter
    /// blocks every read of the disk needs, so it never gets less than 64
    /// MiB (the OS page cache keeps the compressed files besides). An explicit block or entry cache size replaces its
    /// share (the total then follows).
    pub fn memory_budget(&self) -> MemoryBudget {
        let memtables = MEMTABLES * MEMTABLE_BYTES;
        let fixed = memtables + self.group_cache_bytes + self.link_cache_bytes;
        let rest = self.memory_budget_bytes.saturating_sub(fixed);
        MemoryBudget {
            memtables,
            block_cache: self
                .block_cache_bytes
                .unwrap_or((rest / 5).max(BLOCK_CACHE_LEAST)),
            entry_cache: self.entry_cache_bytes.unwrap_or(rest / 5 * 4),
            group_cache: self.group_cache_bytes,
            link_cache: self.link_cache_bytes,
        }
    }

    /// The RocksDB options these settings stand for. hbstore opens its
    /// database with exactly these; benchmarks open their raw RocksDB
    /// baseline with them too, so that a comparison is like for like.
    ///
    /// Not part of the stable API: it exposes the `rocksdb` crate's types,
    /// whose version may change with any hbstore release.
    #[doc(hidden)]
    pub fn rocksdb_options(&self) -> rocksdb::Options {
        let mut opts = rocksdb::Options::default();
        opts.create_if_missing(self.create_if_missing);
        opts.set_compression_type(match self.compression {
            Compression::None => DBCompressionType::None,
            Compression::Lz4 | Compression::Tiered => DBCompressionType::Lz4,
            Compression::Zstd => DBCompressionType::Zstd,
        });
        if self.compression == Compression::Tiered {
            opts.set_bottommost_compression_type(DBCompressionType::Zstd);
            opts.set_bottommost_compression_options(
                WINDOW_BITS,
                ZSTD_LEVEL,
                0,
                DICTIONARY_BYTES,
                true,
            );
            opts.set_bottommost_zstd_max_train_bytes(DICTIONARY_SAMPLE_BYTES, true);
        }
        opts.set_block_based_table_factory(&self.table_options());
        // Counters only (block cache hits and misses, stall time), for the
        // store's metrics: RocksDB keeps them per core, so a read pays an
        // uncontended add; its histograms and timers, which read the clock
        // inside the read path, stay off.
        opts.enable_statistics();
        opts.set_statistics_level(rocksdb::statistics::StatsLevel::ExceptHistogramOrTimers);
        // Filters on the prefix of a group's children too (beside whole
        // keys): a scan of a group's children skips the files and
        // memtables that hold none of them. The extractor is part of the
        // format (recorded in the store) whether filters are on or not.
        opts.set_prefix_extractor(SliceTransform::create(
            codec::PREFIX_EXTRACTOR,
            codec::children_prefix,
            Some(codec::has_children_prefix),
        ));
        if self.bloom_bits_per_key.is_some() {
            // A whole-key bloom filter in the memtable too: a writer looks
            // up the path it is about to write (is it a group? a link?),
            // and for a new path the filter answers without searching the
            // memtable's skip list.
            opts.set_memtable_prefix_bloom_ratio(0.05);
            opts.set_memtable_whole_key_filtering(true);
        }
        // Buffered durability: RocksDB keeps the log's records in its own
        // buffer until the store's flusher (or a clean close) hands them
        // to the operating system, whole write batches at a time.
        opts.set_manual_wal_flush(matches!(self.durability, Durability::Buffered { .. }));
        opts.set_write_buffer_size(MEMTABLE_BYTES);
        // Concurrent writers: the log's writer lets the next group of
        // writers start its log record while the last group is still
        // inserting into the memtable, instead of every waiting writer
        // spinning until both are done. Same guarantees (an acknowledged
        // write is in the log and visible).
        opts.set_enable_pipelined_write(true);
        opts.set_max_write_buffer_number(MEMTABLES as i32);
        opts.increase_parallelism(
            std::thread::available_parallelism().map_or(2, |n| n.get() as i32),
        );
        prefix_seeks_opt_in(opts)
    }

    /// How the store's files are read. Index and filter blocks live in the
    /// block cache, so the memory a store of any size holds is bounded by
    /// the cache (RocksDB otherwise keeps every file's index and filter in
    /// memory for as long as the file is open, which grows with the
    /// store), and opening a file reads neither (a command-line open of a
    /// node's cache reads kilobytes); the newest files' are pinned, so that
    /// a writer's look-up of a new path never misses on them. Partitioned
    /// filters were measured and dropped: each look-up of an absent path
    /// pays a search of the partitions' index first, and writes at 4
    /// million entries (`hbstore-bench --scale --entries 4000000`) were
    /// 0.28-0.47 of raw RocksDB's with them, 0.37-0.69 without.
    fn table_options(&self) -> BlockBasedOptions {
        let mut table = BlockBasedOptions::default();
        // HyperClockCache: lock-free look-ups, where the LRU cache takes a
        // shard's mutex on every hit (reads from several threads).
        table.set_block_cache(&Cache::new_hyper_clock_cache(
            self.memory_budget().block_cache,
            BLOCK_CHARGE,
        ));
        table.set_cache_index_and_filter_blocks(true);
        table.set_cache_index_and_filter_blocks_with_high_priority(true);
        table.set_pin_l0_filter_and_index_blocks_in_cache(true);
        table.set_pin_top_level_index_and_filter(true);
        if let Some(bits) = self.bloom_bits_per_key {
            table.set_bloom_filter(bits, false);
            table.set_whole_key_filtering(true);
        }
        table
    }

    /// The write options these settings stand for (see
    /// [`Options::rocksdb_options`]). Not part of the stable API, likewise.
    #[doc(hidden)]
    pub fn write_options(&self) -> rocksdb::WriteOptions {
        let mut w = rocksdb::WriteOptions::default();
        w.set_sync(self.durability == Durability::Sync);
        w
    }
}

/// `opts` with prefix seeks opt-in only: RocksDB's default, with a prefix
/// extractor set, is that *every* iterator may answer only within its seek
/// key's prefix, so a scan across groups (gc, check, export, a recursive
/// delete) could silently miss keys. Opt-in only, every iterator reads in
/// total order unless it asks (`scan::children`). The binding has no
/// setter for the option, so it goes through RocksDB's options string,
/// which copies everything else (the table factory with its cache, the
/// extractor, the statistics) into the options returned.
fn prefix_seeks_opt_in(mut opts: rocksdb::Options) -> rocksdb::Options {
    // The option is this RocksDB's own (the binding builds RocksDB from
    // the source it ships), so only a build without it can fail here; a
    // store that misses keys would be worse than stopping.
    opts.get_options_from_string("prefix_seek_opt_in_only=true")
        .expect("RocksDB knows prefix_seek_opt_in_only")
}
