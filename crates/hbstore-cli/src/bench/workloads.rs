//! The workloads. Each runs once on hbstore and once on raw RocksDB (same
//! options, fresh directories) and returns its samples; `run_all` repeats
//! them and keeps the medians.

use hbstore::{Options, RocksStore, Store};
use hbstore_testkit::Rng;

use super::raw::Raw;
use super::report::{Row, Target, Unit};
use super::{median, ops_per_sec, timed, Scratch, Sizes};
use crate::error::{CliError, CliResult};

/// How many workloads there are, numbered from 1.
pub const COUNT: u8 = 10;

/// Which store a repeat times first. Repeats alternate: whichever runs
/// second finds the CPU caches and the page cache warmer (the other store's
/// data was touched last), a bias the median evens out only if both orders
/// are in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    HbstoreFirst,
    RawFirst,
}

/// What one workload of one repeat works with.
pub struct Ctx<'a> {
    pub(super) sizes: &'a Sizes,
    scratch: &'a Scratch,
    pub(super) rng: Rng,
    order: Order,
    /// The workload's number, which every row it measures carries.
    number: u8,
}

impl Ctx<'_> {
    pub(super) fn open_pair(&self, options: &Options) -> CliResult<(RocksStore, Raw)> {
        let store = RocksStore::open(self.scratch.fresh("hbstore"), options.clone())?;
        let raw = Raw::open(&self.scratch.fresh("raw"), options)?;
        Ok((store, raw))
    }

    /// A row of this workload.
    pub(super) fn row(
        &self,
        name: &str,
        unit: Unit,
        hbstore: f64,
        raw: Option<f64>,
        target: Option<Target>,
    ) -> Row {
        Row::new(self.number, name, unit, hbstore, raw, target)
    }

    /// Times the same work on hbstore and on raw RocksDB (in this repeat's
    /// order), as a throughput row.
    pub(super) fn side_by_side<E1, E2>(
        &self,
        name: &str,
        ops: usize,
        target: Option<f64>,
        hbstore: impl FnOnce() -> Result<(), E1>,
        raw: impl FnOnce() -> Result<(), E2>,
    ) -> CliResult<Row>
    where
        CliError: From<E1> + From<E2>,
    {
        let (hb_took, raw_took) = match self.order {
            Order::RawFirst => {
                let (result, raw_took) = timed(raw);
                result?;
                let (result, hb_took) = timed(hbstore);
                result?;
                (hb_took, raw_took)
            }
            Order::HbstoreFirst => {
                let (result, hb_took) = timed(hbstore);
                result?;
                let (result, raw_took) = timed(raw);
                result?;
                (hb_took, raw_took)
            }
        };
        Ok(self.row(
            name,
            Unit::OpsPerSec,
            ops_per_sec(ops, hb_took),
            Some(ops_per_sec(ops, raw_took)),
            target.map(Target::RatioAtLeast),
        ))
    }
}

/// Fails the benchmark when a store did not answer what it should: a
/// figure from a store that answered wrongly would mean nothing.
pub(super) fn expect(ok: bool, what: &str) -> CliResult {
    if ok {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "benchmark self-check failed: {what}"
        )))
    }
}

const VALUE_43: &[u8; 43] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

/// 1: `key-1..key-N`, then random reads of them.
fn key_read_write(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let s = cx.sizes;
    let (store, raw) = cx.open_pair(&Options::default())?;
    let keys = numbered_keys(s.keys);
    let writes = cx.side_by_side(
        "key write",
        s.keys,
        Some(0.75),
        || {
            keys.iter()
                .try_for_each(|k| store.write(k.as_str(), VALUE_43))
        },
        || {
            keys.iter()
                .try_for_each(|k| raw.put(k.as_bytes(), VALUE_43))
        },
    )?;
    let picks = random_picks(&mut cx.rng, &keys, s.reads);
    let reads = cx.side_by_side(
        "key read",
        picks.len(),
        Some(0.9),
        || read_each(&store, &picks),
        || raw.get_each(&picks),
    )?;
    Ok(vec![writes, reads])
}

fn numbered_keys(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("key-{i}")).collect()
}

fn random_picks<'k>(rng: &mut Rng, keys: &'k [String], n: usize) -> Vec<&'k str> {
    (0..n)
        .map(|_| keys[rng.below(keys.len())].as_str())
        .collect()
}

/// Reads every key of `picks`, each of which must hold a 43-byte value.
fn read_each(store: &RocksStore, picks: &[&str]) -> CliResult {
    picks.iter().try_for_each(|k| {
        let found = store.read(*k)?.is_some_and(|v| v.len() == 43);
        expect(found, "a written key reads back")
    })
}

/// Runs `work(thread_index)` on `threads` threads; the first error wins.
fn parallel(threads: usize, work: impl Fn(usize) -> CliResult + Sync) -> CliResult {
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|t| scope.spawn(move || work(t))).collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .unwrap_or_else(|_| Err(CliError::Failed("bench thread panicked".into())))
        })
    })
}

/// 2: groups with random ids, 10 values each; then `list` of random groups
/// against a raw prefix scan of their 10 keys.
fn list(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let s = cx.sizes;
    let (store, raw) = cx.open_pair(&Options::default())?;
    let ids: Vec<String> = (0..s.groups).map(|_| cx.rng.id()).collect();
    let children: Vec<String> = (1..=10).map(|j| format!("key-{j}")).collect();
    let fill = cx.side_by_side(
        "list: make_group + 10 writes",
        s.groups * 11,
        None,
        || {
            ids.iter().try_for_each(|id| {
                store.make_group(id.as_str())?;
                children
                    .iter()
                    .try_for_each(|c| store.write([id.as_str(), c.as_str()], VALUE_43))
            })
        },
        || {
            ids.iter().try_for_each(|id| {
                raw.put(id.as_bytes(), b"group")?;
                children
                    .iter()
                    .try_for_each(|c| raw.put(format!("{id}/{c}").as_bytes(), VALUE_43))
            })
        },
    )?;
    let picks: Vec<&str> = (0..s.lists)
        .map(|_| ids[cx.rng.below(ids.len())].as_str())
        .collect();
    let prefixes: Vec<String> = picks.iter().map(|id| format!("{id}/")).collect();
    let lists = cx.side_by_side(
        "list of a 10-child group",
        s.lists,
        Some(0.8),
        || {
            picks.iter().try_for_each(|id| {
                let names = store.list(*id)?.unwrap_or_default();
                expect(names.len() == 10, "a listed group holds 10 keys")
            })
        },
        || {
            prefixes.iter().try_for_each(|p| {
                let keys = raw.scan(p.as_bytes())?;
                expect(keys.len() == 10, "a raw scan finds 10 keys")
            })
        },
    )?;
    Ok(vec![fill, lists])
}

/// 3: values at depth 4, parents created on the way.
fn deep(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let s = cx.sizes;
    let (store, raw) = cx.open_pair(&Options::default())?;
    let f = s.deep_fanout;
    let mut paths = Vec::with_capacity(f * f * f * s.deep_leaves);
    for a in 0..f {
        for b in 0..f {
            for c in 0..f {
                for k in 0..s.deep_leaves {
                    paths.push(format!("a{a}/b{b}/c{c}/k{k}"));
                }
            }
        }
    }
    // Insertion in random order, so that parents are not always hot.
    for i in (1..paths.len()).rev() {
        paths.swap(i, cx.rng.below(i + 1));
    }
    let n = paths.len();
    let writes = cx.side_by_side(
        "deep write (depth 4)",
        n,
        Some(0.75),
        || {
            paths
                .iter()
                .try_for_each(|p| store.write(p.as_str(), VALUE_43))
        },
        || {
            paths
                .iter()
                .try_for_each(|p| raw.put(p.as_bytes(), VALUE_43))
        },
    )?;
    let picks: Vec<&str> = (0..n).map(|_| paths[cx.rng.below(n)].as_str()).collect();
    let reads = cx.side_by_side(
        "deep read (depth 4)",
        n,
        None,
        || {
            picks.iter().try_for_each(|p| {
                let found = store.read(*p)?.is_some();
                expect(found, "a deep value reads back")
            })
        },
        || raw.get_each(&picks),
    )?;
    Ok(vec![writes, reads])
}

/// 4: reads through one link, against raw reads of the targets.
fn links(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let s = cx.sizes;
    let (store, raw) = cx.open_pair(&Options::default())?;
    for n in 0..s.link_values {
        let target = format!("data/k-{n}");
        store.write(target.as_str(), VALUE_43)?;
        store.make_link(target.as_str(), format!("alias/k-{n}"))?;
        raw.put(target.as_bytes(), VALUE_43)?;
    }
    let picks: Vec<usize> = (0..s.link_reads)
        .map(|_| cx.rng.below(s.link_values))
        .collect();
    let aliases: Vec<String> = picks.iter().map(|n| format!("alias/k-{n}")).collect();
    let targets: Vec<String> = picks.iter().map(|n| format!("data/k-{n}")).collect();
    Ok(vec![cx.side_by_side(
        "read through one link",
        s.link_reads,
        Some(0.45),
        || {
            aliases.iter().try_for_each(|p| {
                let found = store.read(p.as_str())?.is_some();
                expect(found, "a read through a link finds the value")
            })
        },
        || raw.get_each(&targets),
    )?])
}

/// 5: one group of many children; the cost of the last writes against the
/// first.
fn big_group(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let s = cx.sizes;
    let (store, raw) = cx.open_pair(&Options::default())?;
    store.make_group("big")?;
    let names: Vec<String> = (0..s.big_group)
        .map(|_| format!("big/{}", cx.rng.id()))
        .collect();
    let (hb_first, hb_last) = first_and_last_window(&names, s.big_window, |p| {
        store.write(p, VALUE_43)?;
        Ok(())
    })?;
    let (raw_first, raw_last) =
        first_and_last_window(&names, s.big_window, |p| raw.put(p.as_bytes(), VALUE_43))?;
    let listed = store.list("big")?.map_or(0, |l| l.len());
    expect(listed == s.big_group, "the big group lists every child")?;
    let per_write = |name, hb, raw| cx.row(name, Unit::MicrosPerWrite, hb, Some(raw), None);
    Ok(vec![
        per_write("big group: first 1,000 writes", hb_first, raw_first),
        per_write("big group: last 1,000 writes", hb_last, raw_last),
        cx.row(
            "big group: last / first",
            Unit::Times,
            hb_last / hb_first,
            Some(raw_last / raw_first),
            Some(Target::AtMost(1.3)),
        ),
        // RocksDB's own writes slow down as its memtable grows; this is
        // hbstore's growth with that factored out (1.0: none of its own).
        cx.row(
            "big group: growth / raw growth",
            Unit::Times,
            (hb_last / hb_first) / (raw_last / raw_first),
            None,
            None,
        ),
    ])
}

/// Writes every path, timing each window of `window` writes; returns the
/// microseconds per write of the first window and of the last.
fn first_and_last_window(
    paths: &[String],
    window: usize,
    write: impl Fn(&str) -> CliResult,
) -> CliResult<(f64, f64)> {
    let mut first = None;
    let mut last = 0.0;
    for chunk in paths.chunks(window) {
        let (result, took) = timed(|| chunk.iter().try_for_each(|p| write(p)));
        result?;
        last = took.as_secs_f64() * 1e6 / chunk.len() as f64;
        first.get_or_insert(last);
    }
    Ok((first.unwrap_or(last), last))
}

/// 6: threads sharing one store: random reads from 2 and 4 threads, then
/// synced writes from 1, 2 and 4 threads (RocksDB's group commit).
fn threads(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let s = cx.sizes;
    let mut out = Vec::new();
    let (store, raw) = cx.open_pair(&Options::default())?;
    let keys = numbered_keys(s.keys);
    for k in &keys {
        store.write(k.as_str(), VALUE_43)?;
        raw.put(k.as_bytes(), VALUE_43)?;
    }
    let picks = random_picks(&mut cx.rng, &keys, s.reads);
    for threads in [2, 4] {
        let per_thread = picks.len() / threads;
        let share = |t: usize| &picks[t * per_thread..(t + 1) * per_thread];
        out.push(cx.side_by_side(
            &format!("read, {threads} threads"),
            per_thread * threads,
            None,
            || parallel(threads, |t| read_each(&store, share(t))),
            || parallel(threads, |t| raw.get_each(share(t))),
        )?);
    }
    let options = Options::default().sync(true);
    for threads in [1, 2, 4] {
        let (store, raw) = cx.open_pair(&options)?;
        let per_thread = s.sync_writes / threads;
        let key = |t: usize, i: usize| format!("t{t}/k{i}");
        out.push(cx.side_by_side(
            &format!(
                "sync write, {threads} thread{}",
                if threads == 1 { "" } else { "s" }
            ),
            per_thread * threads,
            (threads == 4).then_some(0.7),
            || {
                parallel(threads, |t| {
                    (0..per_thread).try_for_each(|i| Ok(store.write(key(t, i), VALUE_43)?))
                })
            },
            || {
                parallel(threads, |t| {
                    (0..per_thread).try_for_each(|i| raw.put(key(t, i).as_bytes(), VALUE_43))
                })
            },
        )?);
    }
    Ok(out)
}

/// 7: 1 MiB values written and read back.
fn large_values(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let s = cx.sizes;
    let (store, raw) = cx.open_pair(&Options::default())?;
    let value: Vec<u8> = (0..1 << 20).map(|_| cx.rng.next_u64() as u8).collect();
    let paths: Vec<String> = (0..s.large_values).map(|i| format!("blobs/b{i}")).collect();
    let writes = cx.side_by_side(
        "large value write (1 MiB)",
        s.large_values,
        None,
        || {
            paths
                .iter()
                .try_for_each(|p| store.write(p.as_str(), &value))
        },
        || paths.iter().try_for_each(|p| raw.put(p.as_bytes(), &value)),
    )?;
    let reads = cx.side_by_side(
        "large value read (1 MiB)",
        s.large_values,
        None,
        || {
            paths.iter().try_for_each(|p| {
                let len = store.read(p.as_str())?.map_or(0, |v| v.len());
                expect(len == value.len(), "a large value reads back whole")
            })
        },
        || raw.get_each(&paths),
    )?;
    Ok(vec![writes, reads])
}

type Workload = fn(&mut Ctx<'_>) -> CliResult<Vec<Row>>;

/// The workloads, in the order of their numbers (1 first).
const WORKLOADS: [Workload; COUNT as usize] = [
    key_read_write,
    list,
    deep,
    links,
    big_group,
    threads,
    large_values,
    super::hyperbeam::messages_workload,
    super::hyperbeam::match_workload,
    super::hyperbeam::pages_workload,
];

/// Every chosen workload, `sizes.repeats` times; one row per measurement
/// with the medians over the repeats.
pub fn run_all(
    sizes: &Sizes,
    chosen: &[u8],
    scratch: &Scratch,
    tick: &dyn Fn(),
) -> CliResult<Vec<Row>> {
    let mut repeats: Vec<Vec<Row>> = Vec::new();
    for repeat in 0..sizes.repeats {
        let order = if repeat % 2 == 0 {
            Order::HbstoreFirst
        } else {
            Order::RawFirst
        };
        let mut this_repeat = Vec::new();
        for (number, workload) in (1..).zip(WORKLOADS) {
            if !chosen.contains(&number) {
                continue;
            }
            let mut cx = Ctx {
                sizes,
                scratch,
                rng: Rng::new(0x5eed + repeat as u64 * 100 + u64::from(number)),
                order,
                number,
            };
            this_repeat.extend(workload(&mut cx)?);
            tick();
        }
        repeats.push(this_repeat);
    }
    let first = repeats.first().map_or(&[][..], Vec::as_slice);
    Ok(first
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let hbstore = median(repeats.iter().map(|r| r[i].hbstore).collect());
            let raw = row
                .raw_rocksdb
                .map(|_| median(repeats.iter().filter_map(|r| r[i].raw_rocksdb).collect()));
            Row::new(
                row.number,
                &row.workload,
                row.unit,
                hbstore,
                raw,
                row.target,
            )
        })
        .collect())
}
