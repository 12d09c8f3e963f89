//! One store of the scale run, in a process of its own (`hbstore-bench
//! --scale-worker STORE --dir DIR --entries N`), so that its resident
//! memory is its own. It does a round each time the driver sends a line
//! on its standard input and answers with the round's figures, one JSON
//! line; it closes its store and exits when its input ends.

use std::io::{BufRead, Write};
use std::path::Path;

use hbstore::{Batch, ChildKind, EntryRead, Options, RocksStore, Store};
use hbstore_testkit::Rng;

use super::shape::{Shape, FIELDS, VALUE_BYTES};
use super::{reads, ReadCost, RoundFigures, ScaleStore, ROUNDS};
use crate::error::{CliError, CliResult};
use crate::harness::{ops_per_sec, store_bytes, timed, LMDB_BUFFERED};
use crate::hb_lmdb::{Commit, HbLmdb};
use crate::raw::Raw;

/// The longest a round waits for RocksDB's background work to settle.
const SETTLE_AT_MOST: std::time::Duration = std::time::Duration::from_secs(60);

/// LMDB's map: the most the environment may hold (address space only).
const LMDB_MAP_BYTES: usize = 1 << 40;

enum Opened {
    Hbstore(Box<RocksStore>),
    Raw(Raw),
    Lmdb(HbLmdb),
}

fn wrong_length(path: &str, len: usize) -> CliError {
    CliError::Failed(format!(
        "scale run: {path:?} read back {len} bytes, not {VALUE_BYTES}"
    ))
}

/// Calls `write` with each message of `from..to`: its id and its fields'
/// paths and values.
fn each_message(
    shape: &Shape,
    from: u64,
    to: u64,
    mut write: impl FnMut(&[(String, Vec<u8>)]) -> CliResult,
) -> CliResult {
    for i in from..to {
        let id = Shape::id(i);
        let fields: Vec<(String, Vec<u8>)> = FIELDS
            .iter()
            .zip(shape.values(i))
            .map(|(field, value)| (format!("{id}/{field}"), value))
            .collect();
        write(&fields)?;
    }
    Ok(())
}

/// How a round writes its messages.
#[derive(Clone, Copy, PartialEq)]
enum Writes {
    /// A write per field, as HyperBEAM's `write` of one key.
    EachField,
    /// A message's fields in one atomic write, as HyperBEAM's `write` of
    /// a map of keys (hbstore: one `Batch`; raw RocksDB: one write batch).
    EachMessage,
}

impl Opened {
    fn open(store: ScaleStore, dir: &Path, options: &Options) -> CliResult<Opened> {
        Ok(match store {
            ScaleStore::Hbstore => {
                Opened::Hbstore(Box::new(RocksStore::open(dir, options.clone())?))
            }
            ScaleStore::Raw => Opened::Raw(Raw::open(dir, options)?),
            ScaleStore::Lmdb => Opened::Lmdb(HbLmdb::create(dir, LMDB_MAP_BYTES, false)?),
        })
    }

    /// Writes messages `from..to` as `writes` says: on hbstore and raw
    /// RocksDB each write acknowledged (durable once it returns, short of
    /// power loss); on LMDB as the node runs it, `LMDB_BUFFERED` writes
    /// per transaction.
    fn write(&self, shape: &Shape, from: u64, to: u64, writes: Writes) -> CliResult {
        match self {
            Opened::Hbstore(store) => each_message(shape, from, to, |fields| {
                if writes == Writes::EachField {
                    for (path, value) in fields {
                        store.write(path.as_str(), value)?;
                    }
                    return Ok(());
                }
                let mut batch = Batch::new();
                for (path, value) in fields {
                    batch.write(path.as_str(), value)?;
                }
                Ok(store.apply(&batch)?)
            }),
            Opened::Raw(raw) => each_message(shape, from, to, |fields| {
                if writes == Writes::EachField {
                    return fields
                        .iter()
                        .try_for_each(|(path, value)| raw.put(path.as_bytes(), value));
                }
                raw.write_all(fields)
            }),
            Opened::Lmdb(env) => {
                let mut writer = env.writer(Commit::Every(LMDB_BUFFERED));
                each_message(shape, from, to, |fields| {
                    for (path, value) in fields {
                        writer.put(path.as_bytes(), value)?;
                        if writes == Writes::EachField {
                            writer.acknowledge()?;
                        }
                    }
                    if writes == Writes::EachMessage {
                        writer.acknowledge()?;
                    }
                    Ok(())
                })?;
                writer.finish()
            }
        }
    }

    /// Waits (a minute at most) until RocksDB's flushes and compactions
    /// triggered by the writes are done, so that reads are measured on a
    /// settled store and not against the writes' leftover work; returns
    /// the seconds waited.
    fn settle(&self) -> CliResult<f64> {
        let start = std::time::Instant::now();
        let busy = |property: &dyn Fn(&str) -> CliResult<Option<u64>>| -> CliResult<bool> {
            for name in [
                "rocksdb.num-running-compactions",
                "rocksdb.num-running-flushes",
                "rocksdb.compaction-pending",
                "rocksdb.mem-table-flush-pending",
            ] {
                if property(name)?.unwrap_or(0) > 0 {
                    return Ok(true);
                }
            }
            Ok(false)
        };
        while start.elapsed() < SETTLE_AT_MOST {
            let still = match self {
                Opened::Hbstore(store) => busy(&|name| Ok(store.property(name)?)),
                Opened::Raw(raw) => busy(&|name| raw.property(name)),
                Opened::Lmdb(_) => Ok(false),
            }?;
            if !still {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(start.elapsed().as_secs_f64())
    }

    /// Reads one field and checks its length.
    fn read_field(&self, path: &str) -> CliResult {
        let len = match self {
            Opened::Hbstore(store) => store.read(path)?.map(|v| v.len()),
            Opened::Raw(raw) => raw.get(path.as_bytes())?.map(|v| v.len()),
            Opened::Lmdb(env) => env.reading()?.read(path.as_bytes())?.map(<[u8]>::len),
        };
        match len {
            Some(VALUE_BYTES) => Ok(()),
            other => Err(wrong_length(path, other.unwrap_or(0))),
        }
    }

    /// Reads a whole message (each store its own way: hbstore in one
    /// `read_entry`, raw RocksDB by a prefix scan, LMDB as HyperBEAM's
    /// cache reads it, `list` and then a `read` per field) and checks that
    /// every field came back.
    fn read_message(&self, id: &str) -> CliResult {
        let fields = match self {
            Opened::Hbstore(store) => match store.read_message(id, 4096)? {
                Some(EntryRead::Group(children)) => children
                    .iter()
                    .filter(|c| matches!(c.kind, ChildKind::Value { .. }) && c.bytes.is_some())
                    .count(),
                _ => 0,
            },
            Opened::Raw(raw) => raw.scan_values(format!("{id}/").as_bytes())?,
            Opened::Lmdb(env) => {
                let reader = env.reading()?;
                let mut found = 0;
                for name in reader.list(id.as_bytes())? {
                    let path = [id.as_bytes(), b"/", &name].concat();
                    found += usize::from(reader.read(&path)?.is_some());
                }
                found
            }
        };
        if fields == FIELDS.len() {
            Ok(())
        } else {
            Err(CliError::Failed(format!(
                "scale run: message {id:?} read back with {fields} of {} fields",
                FIELDS.len()
            )))
        }
    }

    /// Entry-cache hits so far (hbstore only).
    fn entry_cache_hits(&self) -> u64 {
        match self {
            Opened::Hbstore(store) => store.entry_cache_hits_and_misses().0,
            _ => 0,
        }
    }

    fn bytes(&self, dir: &Path) -> CliResult<u64> {
        match self {
            Opened::Lmdb(env) => Ok(env.disk_bytes()?.0),
            _ => store_bytes(dir),
        }
    }
}

/// A message's index from Zipf's law with s = 1 over the `written`
/// messages by age, the newest the most likely: the rank `k` (from 1) has
/// a chance of about 1/k, drawn as `written` to a uniform power, rounded
/// down (the continuous law's inverse).
fn zipf_recent(rng: &mut Rng, written: u64) -> u64 {
    let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let rank = (written as f64).powf(unit) as u64;
    written - rank.clamp(1, written)
}

/// Runs `reads` reads of `work` with RocksDB's per-thread perf context
/// counting, and what they cost per read (zeros for LMDB, which has none).
fn costed<T>(reads: u64, work: impl FnOnce() -> T) -> (T, ReadCost) {
    use rocksdb::perf::{set_perf_stats, PerfContext, PerfMetric, PerfStatsLevel};
    set_perf_stats(PerfStatsLevel::EnableTime);
    let mut context = PerfContext::default();
    context.reset();
    let answer = work();
    let per = |metric| context.metric(metric) as f64 / reads.max(1) as f64;
    let cost = ReadCost {
        entry_cache_hits: 0.0,
        block_cache_hits: per(PerfMetric::BlockCacheHitCount),
        blocks_read: per(PerfMetric::BlockReadCount),
        block_bytes_read: per(PerfMetric::BlockReadByte),
        block_read_us: per(PerfMetric::BlockReadTime) / 1_000.0,
        decompress_us: per(PerfMetric::BlockDecompressTime) / 1_000.0,
    };
    set_perf_stats(PerfStatsLevel::Disable);
    (answer, cost)
}

/// The process's resident memory, and the part of it that is not mapped
/// from files (LMDB's pages of the data file are counted in the first
/// only), from /proc; zeros where there is no /proc.
fn resident_memory() -> (u64, u64) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (0, 0);
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kib| kib * 1024)
    };
    (field("VmRSS:"), field("RssAnon:"))
}

/// Serves rounds until the driver closes standard input.
pub fn serve(store: ScaleStore, dir: &Path, entries: u64, options: &Options) -> CliResult {
    let opened = Opened::open(store, dir, options)?;
    let shape = Shape::new();
    let messages = (entries / FIELDS.len() as u64).max(ROUNDS);
    let (field_reads, message_reads) = reads(entries);
    let mut written = 0;
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for (round, line) in (1..=ROUNDS).zip(stdin.lock().lines()) {
        line?;
        let to = messages * round / ROUNDS;
        // The first half of the round a write per field, the second a
        // message per write.
        let half = written + (to - written) / 2;
        let (wrote, field_time) = timed(|| opened.write(&shape, written, half, Writes::EachField));
        wrote?;
        let (wrote, batch_time) = timed(|| opened.write(&shape, half, to, Writes::EachMessage));
        wrote?;
        let fields_each = (half - written) as usize * FIELDS.len();
        let fields_batched = (to - half) as usize * FIELDS.len();
        written = to;
        let settle_seconds = opened.settle()?;

        // The same random reads on every store: the seed is the round's.
        // Uniform over every message written; then skewed as a node's
        // reads are, recent messages hottest (Zipf, s = 1, by age).
        let mut rng = Rng::new(round * 7_919);
        let paths: Vec<String> = (0..field_reads)
            .map(|_| Shape::field_path(rng.next_u64() % written, rng.below(FIELDS.len())))
            .collect();
        let ids: Vec<String> = (0..message_reads)
            .map(|_| Shape::id(rng.next_u64() % written))
            .collect();
        let skewed: Vec<String> = (0..field_reads)
            .map(|_| Shape::field_path(zipf_recent(&mut rng, written), rng.below(FIELDS.len())))
            .collect();
        let hits_before = opened.entry_cache_hits();
        let ((read, read_time), field_cost) = costed(field_reads, || {
            timed(|| paths.iter().try_for_each(|p| opened.read_field(p)))
        });
        read?;
        let field_hits = opened.entry_cache_hits() - hits_before;
        let hits_before = opened.entry_cache_hits();
        let ((read, message_time), message_cost) = costed(message_reads, || {
            timed(|| ids.iter().try_for_each(|id| opened.read_message(id)))
        });
        read?;
        let message_hits = opened.entry_cache_hits() - hits_before;
        let hits_before = opened.entry_cache_hits();
        let ((read, skewed_time), skewed_cost) = costed(field_reads, || {
            timed(|| skewed.iter().try_for_each(|p| opened.read_field(p)))
        });
        read?;
        let skewed_hits = opened.entry_cache_hits() - hits_before;
        drop((paths, ids, skewed));

        let (rss, rss_anon) = resident_memory();
        let figures = RoundFigures {
            round,
            entries: written * FIELDS.len() as u64,
            writes_per_sec: ops_per_sec(fields_each, field_time),
            batched_writes_per_sec: ops_per_sec(fields_batched, batch_time),
            settle_seconds,
            field_reads_per_sec: ops_per_sec(field_reads as usize, read_time),
            message_reads_per_sec: ops_per_sec(message_reads as usize, message_time),
            skewed_field_reads_per_sec: ops_per_sec(field_reads as usize, skewed_time),
            field_read_cost: ReadCost {
                entry_cache_hits: field_hits as f64 / field_reads.max(1) as f64,
                ..field_cost
            },
            message_read_cost: ReadCost {
                entry_cache_hits: message_hits as f64 / message_reads.max(1) as f64,
                ..message_cost
            },
            skewed_read_cost: ReadCost {
                entry_cache_hits: skewed_hits as f64 / field_reads.max(1) as f64,
                ..skewed_cost
            },
            bytes: opened.bytes(dir)?,
            rss,
            rss_anon,
        };
        let line = serde_json::to_string(&figures).map_err(|e| CliError::Failed(e.to_string()))?;
        writeln!(stdout, "{line}")?;
        stdout.flush()?;
    }
    drop(opened);
    Ok(())
}
