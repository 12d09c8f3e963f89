//! The harness every workload runs on: how big the work is, the scratch
//! directory its stores live in, the three stores of one workload, timing
//! them in turn, and the rows they give. Workloads (`workloads/`) and the
//! scale run (`scale/`) build on it; it knows none of them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hbstore::{Options, RocksStore};
use hbstore_testkit::Rng;

use crate::error::{CliError, CliResult};
use crate::hb_lmdb::{Commit, HbLmdb};
use crate::raw::Raw;
use crate::report::{Figures, Row, Target, Unit};

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
    pub fn new(parent: Option<&PathBuf>) -> CliResult<Scratch> {
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

/// How many writes HyperBEAM's LMDB store buffers in one transaction.
pub const LMDB_BUFFERED: usize = 5_000;

/// The most an LMDB map may grow to in the bench: address space only
/// (the file grows with what is written).
const LMDB_MAP_BYTES: usize = 64 << 30;

/// One timed run of a store, boxed so the runs of one row can be timed in
/// turn.
type Run<'a> = Box<dyn FnOnce() -> CliResult + 'a>;

/// Boxes a run whose error any of the stores' errors may be.
pub fn run<'a, E>(f: impl FnOnce() -> Result<(), E> + 'a) -> Run<'a>
where
    CliError: From<E>,
{
    Box::new(move || f().map_err(CliError::from))
}

/// The stores of one workload, fresh.
pub struct Stores {
    pub hbstore: RocksStore,
    pub raw: Raw,
    /// LMDB written a transaction per acknowledged write; reads use it.
    pub lmdb: HbLmdb,
    /// LMDB written as HyperBEAM does, `LMDB_BUFFERED` writes per
    /// transaction (for the second row of each write measurement).
    pub lmdb_buffered: HbLmdb,
}

/// A write measurement: its name, how many acknowledged writes it makes,
/// and its targets.
pub struct Writes<'a> {
    pub name: &'a str,
    pub ops: usize,
    pub targets: &'a [Target],
}

/// What one workload of one repeat works with.
pub struct Ctx<'a> {
    pub sizes: &'a Sizes,
    scratch: &'a Scratch,
    pub rng: Rng,
    /// Which store a repeat times first, in turn: whichever runs later
    /// finds the CPU caches and the page cache warmer (another store's
    /// data was touched last), a bias the median evens out only if every
    /// order is in it.
    turn: usize,
    /// The workload's number, which every row it measures carries.
    number: u8,
    /// The options every store of the bench is opened with.
    options: &'a Options,
}

impl<'a> Ctx<'a> {
    /// The context of workload `number` in repeat `repeat`.
    pub fn new(
        sizes: &'a Sizes,
        scratch: &'a Scratch,
        options: &'a Options,
        number: u8,
        repeat: usize,
    ) -> Self {
        Ctx {
            sizes,
            scratch,
            rng: Rng::new(0x5eed + repeat as u64 * 100 + u64::from(number)),
            turn: repeat,
            number,
            options,
        }
    }

    /// Fresh stores, hbstore and raw RocksDB opened with the bench's
    /// options (`sync` as asked), LMDB as HyperBEAM opens it (synced when
    /// `sync` is, so that the durability is the same).
    pub fn open_stores(&self, sync: bool) -> CliResult<Stores> {
        let options = self.options.clone().sync(sync);
        Ok(Stores {
            hbstore: RocksStore::open(self.scratch.fresh("hbstore"), options.clone())?,
            raw: Raw::open(&self.scratch.fresh("raw"), &options)?,
            lmdb: HbLmdb::create(&self.scratch.fresh("lmdb"), LMDB_MAP_BYTES, sync)?,
            lmdb_buffered: HbLmdb::create(&self.scratch.fresh("lmdb"), LMDB_MAP_BYTES, sync)?,
        })
    }

    /// A row of this workload.
    pub fn row(&self, name: &str, unit: Unit, figures: Figures, targets: &[Target]) -> Row {
        Row::new(self.number, name, unit, figures, targets)
    }

    /// Runs each of `runs` once, starting with a different one each repeat,
    /// and returns how long each took, in the order given.
    fn in_turn(&self, runs: Vec<Run<'_>>) -> CliResult<Vec<Duration>> {
        let n = runs.len();
        let mut slots: Vec<Option<Run<'_>>> = runs.into_iter().map(Some).collect();
        let mut took = vec![Duration::ZERO; n];
        for k in 0..n {
            let i = (k + self.turn) % n;
            if let Some(run) = slots[i].take() {
                let (result, t) = timed(run);
                result?;
                took[i] = t;
            }
        }
        Ok(took)
    }

    /// Times the same work on the three stores, as a throughput row.
    pub fn compare(
        &self,
        name: &str,
        ops: usize,
        targets: &[Target],
        hbstore: Run<'_>,
        raw: Run<'_>,
        lmdb: Run<'_>,
    ) -> CliResult<Row> {
        let took = self.in_turn(vec![hbstore, raw, lmdb])?;
        let rate = |i: usize| ops_per_sec(ops, took[i]);
        Ok(self.row(
            name,
            Unit::OpsPerSec,
            Figures {
                hbstore: rate(0),
                raw: Some(rate(1)),
                lmdb: Some(rate(2)),
            },
            targets,
        ))
    }

    /// Times writes on the three stores, LMDB twice: a transaction per
    /// acknowledged write (the durability hbstore's default gives: a
    /// process kill loses nothing acknowledged), and HyperBEAM's buffered
    /// transactions (nothing durable until one commits). Two rows.
    pub fn compare_writes(
        &self,
        Writes { name, ops, targets }: Writes<'_>,
        stores: &Stores,
        hbstore: Run<'_>,
        raw: Run<'_>,
        lmdb: impl Fn(&HbLmdb, Commit) -> CliResult,
    ) -> CliResult<Vec<Row>> {
        let lmdb = &lmdb;
        let took = self.in_turn(vec![
            hbstore,
            raw,
            Box::new(move || lmdb(&stores.lmdb, Commit::EachWrite)),
            Box::new(move || lmdb(&stores.lmdb_buffered, Commit::Every(LMDB_BUFFERED))),
        ])?;
        let rate = |i: usize| ops_per_sec(ops, took[i]);
        Ok(vec![
            self.row(
                &format!("{name} (lmdb: txn per write)"),
                Unit::OpsPerSec,
                Figures {
                    hbstore: rate(0),
                    raw: Some(rate(1)),
                    lmdb: Some(rate(2)),
                },
                targets,
            ),
            self.row(
                &format!("{name} (lmdb: 5,000 per txn, not durable)"),
                Unit::OpsPerSec,
                Figures {
                    hbstore: rate(0),
                    raw: None,
                    lmdb: Some(rate(3)),
                },
                &[],
            ),
        ])
    }

    /// The bytes each store occupies once its memtable is flushed: RocksDB's
    /// SST and log files; LMDB's data file, then the pages in use in it.
    pub fn bytes_rows(&self, stores: &Stores, targets: &[Target]) -> CliResult<Vec<Row>> {
        stores.hbstore.flush()?;
        stores.raw.flush()?;
        let hbstore = store_bytes(stores.hbstore.dir())? as f64;
        let raw = store_bytes(stores.raw.dir())? as f64;
        let (file, used) = stores.lmdb.disk_bytes()?;
        Ok(vec![
            self.row(
                "bytes on disk (lmdb: file size)",
                Unit::Bytes,
                Figures {
                    hbstore,
                    raw: Some(raw),
                    lmdb: Some(file as f64),
                },
                targets,
            ),
            self.row(
                "bytes on disk (lmdb: pages in use)",
                Unit::Bytes,
                Figures {
                    hbstore,
                    raw: Some(raw),
                    lmdb: Some(used as f64),
                },
                &[],
            ),
        ])
    }
}

/// Writes with a writer of `lmdb` committing as `commit` says, then
/// commits the rest.
pub fn lmdb_writes(
    lmdb: &HbLmdb,
    commit: Commit,
    work: impl FnOnce(&mut crate::hb_lmdb::Writer<'_>) -> CliResult,
) -> CliResult {
    let mut writer = lmdb.writer(commit);
    work(&mut writer)?;
    writer.finish()
}

/// Fails the benchmark when a store did not answer what it should: a
/// figure from a store that answered wrongly would mean nothing.
pub fn expect(ok: bool, what: &str) -> CliResult {
    if ok {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "benchmark self-check failed: {what}"
        )))
    }
}
