//! The workloads. Each runs once on hbstore and once on raw RocksDB (same
//! options, fresh directories) and returns its samples; `run_all` repeats
//! them and keeps the medians.

use std::sync::atomic::{AtomicBool, Ordering};

use hbstore::{Options, RocksStore, Store};

use super::raw::Raw;
use super::report::{Row, Target};
use super::{median, ops_per_sec, timed, Rng, Scratch, Sizes};
use crate::error::{CliError, CliResult};

/// How many workloads `run_all` runs per repeat (for the progress bar).
pub const COUNT: usize = 7;

/// One measurement of one repeat.
struct Sample {
    workload: &'static str,
    unit: &'static str,
    hbstore: f64,
    raw: Option<f64>,
    target: Option<Target>,
}

fn open_pair(scratch: &Scratch, options: &Options) -> CliResult<(RocksStore, Raw)> {
    let store = RocksStore::open(scratch.fresh("hbstore"), options.clone())?;
    let raw = Raw::open(&scratch.fresh("raw"), options)?;
    Ok((store, raw))
}

fn check(ok: bool, what: &str) -> CliResult {
    if ok {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "benchmark self-check failed: {what}"
        )))
    }
}

const VALUE_43: &[u8; 43] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

/// Whether this repeat times raw RocksDB before hbstore. Repeats alternate:
/// whichever runs second finds the CPU caches and the page cache warmer
/// (the other store's data was touched last), a bias the median evens out
/// only if both orders are in it.
static RAW_FIRST: AtomicBool = AtomicBool::new(false);

/// Times the same work on hbstore and on raw RocksDB (in this repeat's
/// order), as a throughput sample.
fn side_by_side<E1, E2>(
    workload: &'static str,
    ops: usize,
    target: Option<f64>,
    hbstore: impl FnOnce() -> Result<(), E1>,
    raw: impl FnOnce() -> Result<(), E2>,
) -> CliResult<Sample>
where
    CliError: From<E1> + From<E2>,
{
    let (hb_took, raw_took) = if RAW_FIRST.load(Ordering::Relaxed) {
        let (result, raw_took) = timed(raw);
        result?;
        let (result, hb_took) = timed(hbstore);
        result?;
        (hb_took, raw_took)
    } else {
        let (result, hb_took) = timed(hbstore);
        result?;
        let (result, raw_took) = timed(raw);
        result?;
        (hb_took, raw_took)
    };
    Ok(Sample {
        workload,
        unit: "ops/s",
        hbstore: ops_per_sec(ops, hb_took),
        raw: Some(ops_per_sec(ops, raw_took)),
        target: target.map(Target::RatioAtLeast),
    })
}

/// 1 (and the reads of 6): `key-1..key-N`, then random reads; then the same
/// reads from 1, 2 and 4 threads.
fn key_read_write(s: &Sizes, scratch: &Scratch, rng: &mut Rng) -> CliResult<Vec<Sample>> {
    let (store, raw) = open_pair(scratch, &Options::default())?;
    let keys: Vec<String> = (1..=s.keys).map(|i| format!("key-{i}")).collect();
    let mut out = vec![side_by_side(
        "1 key write",
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
    )?];
    let picks: Vec<&str> = (0..s.reads)
        .map(|_| keys[rng.below(keys.len())].as_str())
        .collect();
    for (threads, name) in [
        (1, "1 key read"),
        (2, "6 read, 2 threads"),
        (4, "6 read, 4 threads"),
    ] {
        let per_thread = picks.len() / threads;
        let share = |t: usize| &picks[t * per_thread..(t + 1) * per_thread];
        out.push(side_by_side(
            name,
            per_thread * threads,
            (threads == 1).then_some(0.9),
            || {
                parallel(threads, |t| {
                    share(t).iter().try_for_each(|k| {
                        let found = store.read(*k)?.is_some_and(|v| v.len() == 43);
                        check(found, "a written key reads back")
                    })
                })
            },
            || parallel(threads, |t| raw.get_each(share(t))),
        )?);
    }
    Ok(out)
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
fn list(s: &Sizes, scratch: &Scratch, rng: &mut Rng) -> CliResult<Vec<Sample>> {
    let (store, raw) = open_pair(scratch, &Options::default())?;
    let ids: Vec<String> = (0..s.groups).map(|_| rng.id()).collect();
    let children: Vec<String> = (1..=10).map(|j| format!("key-{j}")).collect();
    let fill = side_by_side(
        "2 list: make_group + 10 writes",
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
        .map(|_| ids[rng.below(ids.len())].as_str())
        .collect();
    let prefixes: Vec<String> = picks.iter().map(|id| format!("{id}/")).collect();
    let lists = side_by_side(
        "2 list of a 10-child group",
        s.lists,
        Some(0.8),
        || {
            picks.iter().try_for_each(|id| {
                let names = store.list(*id)?.unwrap_or_default();
                check(names.len() == 10, "a listed group holds 10 keys")
            })
        },
        || {
            prefixes.iter().try_for_each(|p| {
                let keys = raw.scan(p.as_bytes())?;
                check(keys.len() == 10, "a raw scan finds 10 keys")
            })
        },
    )?;
    Ok(vec![fill, lists])
}

/// 3: values at depth 4, parents created on the way.
fn deep(s: &Sizes, scratch: &Scratch, rng: &mut Rng) -> CliResult<Vec<Sample>> {
    let (store, raw) = open_pair(scratch, &Options::default())?;
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
        paths.swap(i, rng.below(i + 1));
    }
    let n = paths.len();
    let writes = side_by_side(
        "3 deep write (depth 4)",
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
    let picks: Vec<&str> = (0..n).map(|_| paths[rng.below(n)].as_str()).collect();
    let reads = side_by_side(
        "3 deep read (depth 4)",
        n,
        None,
        || {
            picks.iter().try_for_each(|p| {
                let found = store.read(*p)?.is_some();
                check(found, "a deep value reads back")
            })
        },
        || raw.get_each(&picks),
    )?;
    Ok(vec![writes, reads])
}

/// 4: reads through one link, against raw reads of the targets.
fn links(s: &Sizes, scratch: &Scratch, rng: &mut Rng) -> CliResult<Vec<Sample>> {
    let (store, raw) = open_pair(scratch, &Options::default())?;
    for n in 0..s.link_values {
        let target = format!("data/k-{n}");
        store.write(target.as_str(), VALUE_43)?;
        store.make_link(target.as_str(), format!("alias/k-{n}"))?;
        raw.put(target.as_bytes(), VALUE_43)?;
    }
    let picks: Vec<usize> = (0..s.link_reads)
        .map(|_| rng.below(s.link_values))
        .collect();
    let aliases: Vec<String> = picks.iter().map(|n| format!("alias/k-{n}")).collect();
    let targets: Vec<String> = picks.iter().map(|n| format!("data/k-{n}")).collect();
    Ok(vec![side_by_side(
        "4 read through one link",
        s.link_reads,
        Some(0.45),
        || {
            aliases.iter().try_for_each(|p| {
                let found = store.read(p.as_str())?.is_some();
                check(found, "a read through a link finds the value")
            })
        },
        || raw.get_each(&targets),
    )?])
}

/// 5: one group of many children; the cost of the last writes against the
/// first.
fn big_group(s: &Sizes, scratch: &Scratch, rng: &mut Rng) -> CliResult<Vec<Sample>> {
    let (store, raw) = open_pair(scratch, &Options::default())?;
    store.make_group("big")?;
    let names: Vec<String> = (0..s.big_group)
        .map(|_| format!("big/{}", rng.id()))
        .collect();
    let (hb_first, hb_last) = first_and_last_window(&names, s.big_window, |p| {
        store.write(p, VALUE_43)?;
        Ok(())
    })?;
    let (raw_first, raw_last) =
        first_and_last_window(&names, s.big_window, |p| raw.put(p.as_bytes(), VALUE_43))?;
    let listed = store.list("big")?.map_or(0, |l| l.len());
    check(listed == s.big_group, "the big group lists every child")?;
    let sample = |workload, hb, raw| Sample {
        workload,
        unit: "µs/write",
        hbstore: hb,
        raw: Some(raw),
        target: None,
    };
    Ok(vec![
        sample("5 big group: first 1,000 writes", hb_first, raw_first),
        sample("5 big group: last 1,000 writes", hb_last, raw_last),
        Sample {
            workload: "5 big group: last / first",
            unit: "x",
            hbstore: hb_last / hb_first,
            raw: Some(raw_last / raw_first),
            target: Some(Target::AtMost(1.3)),
        },
        // RocksDB's own writes slow down as its memtable grows; this is
        // hbstore's growth with that factored out (1.0: none of its own).
        Sample {
            workload: "5 big group: growth / raw growth",
            unit: "x",
            hbstore: (hb_last / hb_first) / (raw_last / raw_first),
            raw: None,
            target: None,
        },
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

/// 6: synced writes from 1, 2 and 4 threads (RocksDB's group commit).
fn sync_writes(s: &Sizes, scratch: &Scratch, _rng: &mut Rng) -> CliResult<Vec<Sample>> {
    let options = Options::default().sync(true);
    let mut out = Vec::new();
    for (threads, name) in [
        (1, "6 sync write, 1 thread"),
        (2, "6 sync write, 2 threads"),
        (4, "6 sync write, 4 threads"),
    ] {
        let (store, raw) = open_pair(scratch, &options)?;
        let per_thread = s.sync_writes / threads;
        let key = |t: usize, i: usize| format!("t{t}/k{i}");
        out.push(side_by_side(
            name,
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
fn large_values(s: &Sizes, scratch: &Scratch, rng: &mut Rng) -> CliResult<Vec<Sample>> {
    let (store, raw) = open_pair(scratch, &Options::default())?;
    let value: Vec<u8> = (0..1 << 20).map(|_| rng.next_u64() as u8).collect();
    let paths: Vec<String> = (0..s.large_values).map(|i| format!("blobs/b{i}")).collect();
    let writes = side_by_side(
        "7 large value write (1 MiB)",
        s.large_values,
        None,
        || {
            paths
                .iter()
                .try_for_each(|p| store.write(p.as_str(), &value))
        },
        || paths.iter().try_for_each(|p| raw.put(p.as_bytes(), &value)),
    )?;
    let reads = side_by_side(
        "7 large value read (1 MiB)",
        s.large_values,
        None,
        || {
            paths.iter().try_for_each(|p| {
                let len = store.read(p.as_str())?.map_or(0, |v| v.len());
                check(len == value.len(), "a large value reads back whole")
            })
        },
        || raw.get_each(&paths),
    )?;
    Ok(vec![writes, reads])
}

type Workload = fn(&Sizes, &Scratch, &mut Rng) -> CliResult<Vec<Sample>>;

const WORKLOADS: [Workload; COUNT] = [
    key_read_write,
    list,
    deep,
    links,
    big_group,
    sync_writes,
    large_values,
];

/// Every workload, `sizes.repeats` times; one row per measurement with the
/// medians over the repeats.
pub fn run_all(
    sizes: &Sizes,
    chosen: &[u8],
    scratch: &Scratch,
    tick: &dyn Fn(),
) -> CliResult<Vec<Row>> {
    let mut samples: Vec<Vec<Sample>> = Vec::new();
    for repeat in 0..sizes.repeats {
        RAW_FIRST.store(repeat % 2 == 1, Ordering::Relaxed);
        let mut rng = Rng::new(0x5eed + repeat as u64);
        let mut this_repeat = Vec::new();
        for (number, workload) in (1..).zip(WORKLOADS) {
            if !chosen.contains(&number) {
                continue;
            }
            this_repeat.extend(workload(sizes, scratch, &mut rng)?);
            tick();
        }
        samples.push(this_repeat);
    }
    let first = samples.first().map_or(&[][..], Vec::as_slice);
    Ok(first
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let hbstore = median(samples.iter().map(|r| r[i].hbstore).collect());
            let raw = s
                .raw
                .map(|_| median(samples.iter().filter_map(|r| r[i].raw).collect()));
            Row::new(s.workload, s.unit, hbstore, raw, s.target)
        })
        .collect())
}
