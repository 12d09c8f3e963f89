//! The workloads on plain keys, groups and links: each runs on hbstore, on
//! raw RocksDB (same options) and on LMDB in `hb_store_lmdb`'s layout, in
//! fresh directories, and returns its rows.

use hbstore::{RocksStore, Store};
use hbstore_testkit::Rng;

use crate::error::{CliError, CliResult};
use crate::harness::{expect, lmdb_writes, run, timed, Ctx, Stores, Writes, LMDB_BUFFERED};
use crate::hb_lmdb::{Commit, HbLmdb};
use crate::report::{Figures, Row, Target, Unit};

const VALUE_43: &[u8; 43] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

/// Writes `value` at every path on the three stores (one acknowledged
/// write each): the write measurement workloads 1, 3 and 7 share.
fn value_writes<P: AsRef<str>>(
    cx: &Ctx<'_>,
    writes: Writes<'_>,
    stores: &Stores,
    paths: &[P],
    value: &[u8],
) -> CliResult<Vec<Row>> {
    cx.compare_writes(
        writes,
        stores,
        run(|| {
            paths
                .iter()
                .try_for_each(|p| stores.hbstore.write(p.as_ref(), value))
        }),
        run(|| {
            paths
                .iter()
                .try_for_each(|p| stores.raw.put(p.as_ref().as_bytes(), value))
        }),
        |lmdb, commit| {
            lmdb_writes(lmdb, commit, |w| {
                paths.iter().try_for_each(|p| {
                    w.put(p.as_ref().as_bytes(), value)?;
                    w.acknowledge()
                })
            })
        },
    )
}

/// 1: `key-1..key-N`, then random reads of them.
pub fn key_read_write(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let s = cx.sizes;
    let stores = cx.open_stores(false)?;
    let Stores {
        hbstore: store,
        raw,
        lmdb,
        ..
    } = &stores;
    let keys = numbered_keys(s.keys);
    let mut rows = value_writes(
        cx,
        Writes {
            name: "key write",
            ops: s.keys,
            targets: &[Target::RatioAtLeast(0.75), Target::LmdbRatioAtLeast(1.5)],
        },
        &stores,
        &keys,
        VALUE_43,
    )?;
    let picks = random_picks(&mut cx.rng, &keys, s.reads);
    rows.push(cx.compare(
        "key read",
        picks.len(),
        &[Target::RatioAtLeast(0.9)],
        run(|| read_each(store, &picks)),
        run(|| raw.get_each(&picks)),
        run(|| lmdb_read_each(lmdb, &picks)),
    )?);
    rows.extend(cx.bytes_rows(&stores, &[])?);
    Ok(rows)
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

/// The same on LMDB, a read transaction per read as `hb_store_lmdb` takes.
fn lmdb_read_each<K: AsRef<str>>(lmdb: &HbLmdb, picks: &[K]) -> CliResult {
    picks.iter().try_for_each(|k| {
        // Copied out, as the NIF copies a value into an Erlang binary.
        let found = lmdb
            .reading()?
            .read(k.as_ref().as_bytes())?
            .map(<[u8]>::to_vec)
            .is_some();
        expect(found, "a written key reads back from LMDB")
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
/// against a raw prefix scan of their 10 keys and `hb_store_lmdb`'s list.
pub fn list(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let s = cx.sizes;
    let stores = cx.open_stores(false)?;
    let Stores {
        hbstore: store,
        raw,
        lmdb,
        ..
    } = &stores;
    let ids: Vec<String> = (0..s.groups).map(|_| cx.rng.id()).collect();
    let children: Vec<String> = (1..=10).map(|j| format!("key-{j}")).collect();
    let mut rows = cx.compare_writes(
        Writes {
            name: "list: make_group + 10 writes",
            ops: s.groups * 11,
            targets: &[],
        },
        &stores,
        run(|| {
            ids.iter().try_for_each(|id| {
                store.make_group(id.as_str())?;
                children
                    .iter()
                    .try_for_each(|c| store.write([id.as_str(), c.as_str()], VALUE_43))
            })
        }),
        run(|| {
            ids.iter().try_for_each(|id| {
                raw.put(id.as_bytes(), b"group")?;
                children
                    .iter()
                    .try_for_each(|c| raw.put(format!("{id}/{c}").as_bytes(), VALUE_43))
            })
        }),
        |lmdb, commit| {
            lmdb_writes(lmdb, commit, |w| {
                ids.iter().try_for_each(|id| {
                    w.put(id.as_bytes(), crate::hb_lmdb::GROUP)?;
                    w.acknowledge()?;
                    children.iter().try_for_each(|c| {
                        w.put(format!("{id}/{c}").as_bytes(), VALUE_43)?;
                        w.acknowledge()
                    })
                })
            })
        },
    )?;
    let picks: Vec<&str> = (0..s.lists)
        .map(|_| ids[cx.rng.below(ids.len())].as_str())
        .collect();
    let prefixes: Vec<String> = picks.iter().map(|id| format!("{id}/")).collect();
    rows.push(cx.compare(
        "list of a 10-child group",
        s.lists,
        &[Target::RatioAtLeast(0.8)],
        run(|| {
            picks.iter().try_for_each(|id| {
                let names = store.list(*id)?.unwrap_or_default();
                expect(names.len() == 10, "a listed group holds 10 keys")
            })
        }),
        run(|| {
            prefixes.iter().try_for_each(|p| {
                let keys = raw.scan(p.as_bytes())?;
                expect(keys.len() == 10, "a raw scan finds 10 keys")
            })
        }),
        run(|| {
            picks.iter().try_for_each(|id| {
                let names = lmdb.reading()?.list(id.as_bytes())?;
                expect(names.len() == 10, "an LMDB list finds 10 keys")
            })
        }),
    )?);
    rows.extend(cx.bytes_rows(&stores, &[])?);
    Ok(rows)
}

/// 3: values at depth 4, parents created on the way.
pub fn deep(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let s = cx.sizes;
    let stores = cx.open_stores(false)?;
    let Stores {
        hbstore: store,
        raw,
        lmdb,
        ..
    } = &stores;
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
    let mut rows = value_writes(
        cx,
        Writes {
            name: "deep write (depth 4)",
            ops: n,
            targets: &[Target::RatioAtLeast(0.75)],
        },
        &stores,
        &paths,
        VALUE_43,
    )?;
    let picks: Vec<&str> = (0..n).map(|_| paths[cx.rng.below(n)].as_str()).collect();
    rows.push(cx.compare(
        "deep read (depth 4)",
        n,
        &[],
        run(|| read_each(store, &picks)),
        run(|| raw.get_each(&picks)),
        run(|| lmdb_read_each(lmdb, &picks)),
    )?);
    rows.extend(cx.bytes_rows(&stores, &[])?);
    Ok(rows)
}

/// 4: reads through one link, against raw reads of the targets and
/// `hb_store_lmdb`'s reads through its `link:` values.
pub fn links(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let s = cx.sizes;
    let stores = cx.open_stores(false)?;
    let Stores {
        hbstore: store,
        raw,
        lmdb,
        ..
    } = &stores;
    lmdb_writes(lmdb, Commit::Every(LMDB_BUFFERED), |w| {
        for n in 0..s.link_values {
            let target = format!("data/k-{n}");
            store.write(target.as_str(), VALUE_43)?;
            store.make_link(target.as_str(), format!("alias/k-{n}"))?;
            raw.put(target.as_bytes(), VALUE_43)?;
            w.put(target.as_bytes(), VALUE_43)?;
            w.make_link(target.as_bytes(), format!("alias/k-{n}").as_bytes())?;
            w.acknowledge()?;
        }
        Ok(())
    })?;
    let picks: Vec<usize> = (0..s.link_reads)
        .map(|_| cx.rng.below(s.link_values))
        .collect();
    let aliases: Vec<String> = picks.iter().map(|n| format!("alias/k-{n}")).collect();
    let targets: Vec<String> = picks.iter().map(|n| format!("data/k-{n}")).collect();
    let mut rows = vec![cx.compare(
        "read through one link",
        s.link_reads,
        &[Target::RatioAtLeast(0.45)],
        run(|| {
            aliases.iter().try_for_each(|p| {
                let found = store.read(p.as_str())?.is_some();
                expect(found, "a read through a link finds the value")
            })
        }),
        run(|| raw.get_each(&targets)),
        run(|| lmdb_read_each(lmdb, &aliases)),
    )?];
    rows.extend(cx.bytes_rows(&stores, &[])?);
    Ok(rows)
}

/// 5: one group of many children; the cost of the last writes against the
/// first.
pub fn big_group(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let s = cx.sizes;
    let stores = cx.open_stores(false)?;
    let Stores {
        hbstore: store,
        raw,
        lmdb,
        ..
    } = &stores;
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
    let (lmdb_first, lmdb_last) = {
        let mut writer = lmdb.writer(Commit::EachWrite);
        writer.put(b"big", crate::hb_lmdb::GROUP)?;
        writer.acknowledge()?;
        let writer = std::cell::RefCell::new(writer);
        let windows = first_and_last_window(&names, s.big_window, |p| {
            let mut w = writer.borrow_mut();
            w.put(p.as_bytes(), VALUE_43)?;
            w.acknowledge()
        })?;
        writer.into_inner().finish()?;
        windows
    };
    let listed = store.list("big")?.map_or(0, |l| l.len());
    expect(listed == s.big_group, "the big group lists every child")?;
    let per_write = |name, hb, raw, lmdb| {
        cx.row(
            name,
            Unit::MicrosPerWrite,
            Figures {
                hbstore: hb,
                raw: Some(raw),
                lmdb: Some(lmdb),
            },
            &[],
        )
    };
    let mut rows = vec![
        per_write(
            "big group: first 1,000 writes",
            hb_first,
            raw_first,
            lmdb_first,
        ),
        per_write("big group: last 1,000 writes", hb_last, raw_last, lmdb_last),
        cx.row(
            "big group: last / first",
            Unit::Times,
            Figures {
                hbstore: hb_last / hb_first,
                raw: Some(raw_last / raw_first),
                lmdb: Some(lmdb_last / lmdb_first),
            },
            &[Target::AtMost(1.3)],
        ),
        // RocksDB's own writes slow down as its memtable grows; this is
        // hbstore's growth with that factored out (1.0: none of its own).
        cx.row(
            "big group: growth / raw growth",
            Unit::Times,
            Figures {
                hbstore: (hb_last / hb_first) / (raw_last / raw_first),
                ..Figures::default()
            },
            &[],
        ),
    ];
    rows.extend(cx.bytes_rows(&stores, &[])?);
    Ok(rows)
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
/// synced writes from 1, 2 and 4 threads (RocksDB's group commit; LMDB
/// commits one writer at a time).
pub fn threads(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let s = cx.sizes;
    let mut out = Vec::new();
    let stores = cx.open_stores(false)?;
    let Stores {
        hbstore: store,
        raw,
        lmdb,
        ..
    } = &stores;
    let keys = numbered_keys(s.keys);
    lmdb_writes(lmdb, Commit::Every(LMDB_BUFFERED), |w| {
        for k in &keys {
            store.write(k.as_str(), VALUE_43)?;
            raw.put(k.as_bytes(), VALUE_43)?;
            w.put(k.as_bytes(), VALUE_43)?;
            w.acknowledge()?;
        }
        Ok(())
    })?;
    let picks = random_picks(&mut cx.rng, &keys, s.reads);
    for threads in [2, 4] {
        let per_thread = picks.len() / threads;
        let share = |t: usize| &picks[t * per_thread..(t + 1) * per_thread];
        out.push(cx.compare(
            &format!("read, {threads} threads"),
            per_thread * threads,
            &[],
            run(|| parallel(threads, |t| read_each(store, share(t)))),
            run(|| parallel(threads, |t| raw.get_each(share(t)))),
            run(|| parallel(threads, |t| lmdb_read_each(lmdb, share(t)))),
        )?);
    }
    for threads in [1, 2, 4] {
        let synced = cx.open_stores(true)?;
        let per_thread = s.sync_writes / threads;
        let key = |t: usize, i: usize| format!("t{t}/k{i}");
        out.push(
            cx.compare(
                &format!(
                    "sync write, {threads} thread{} (all: fsync per write)",
                    if threads == 1 { "" } else { "s" }
                ),
                per_thread * threads,
                &(threads == 4)
                    .then_some(Target::RatioAtLeast(0.7))
                    .into_iter()
                    .collect::<Vec<_>>(),
                run(|| {
                    parallel(threads, |t| {
                        (0..per_thread)
                            .try_for_each(|i| Ok(synced.hbstore.write(key(t, i), VALUE_43)?))
                    })
                }),
                run(|| {
                    parallel(threads, |t| {
                        (0..per_thread)
                            .try_for_each(|i| synced.raw.put(key(t, i).as_bytes(), VALUE_43))
                    })
                }),
                run(|| {
                    parallel(threads, |t| {
                        (0..per_thread).try_for_each(|i| {
                            lmdb_writes(&synced.lmdb, Commit::EachWrite, |w| {
                                w.put(key(t, i).as_bytes(), VALUE_43)
                            })
                        })
                    })
                }),
            )?,
        );
    }
    out.extend(cx.bytes_rows(&stores, &[])?);
    Ok(out)
}

/// 7: 1 MiB values written and read back.
pub fn large_values(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let s = cx.sizes;
    let stores = cx.open_stores(false)?;
    let Stores {
        hbstore: store,
        raw,
        lmdb,
        ..
    } = &stores;
    let value: Vec<u8> = (0..1 << 20).map(|_| cx.rng.next_u64() as u8).collect();
    let paths: Vec<String> = (0..s.large_values).map(|i| format!("blobs/b{i}")).collect();
    let mut rows = value_writes(
        cx,
        Writes {
            name: "large value write (1 MiB)",
            ops: s.large_values,
            targets: &[],
        },
        &stores,
        &paths,
        &value,
    )?;
    rows.push(cx.compare(
        "large value read (1 MiB)",
        s.large_values,
        &[],
        run(|| {
            paths.iter().try_for_each(|p| {
                let len = store.read(p.as_str())?.map_or(0, |v| v.len());
                expect(len == value.len(), "a large value reads back whole")
            })
        }),
        run(|| raw.get_each(&paths)),
        run(|| {
            paths.iter().try_for_each(|p| {
                let reader = lmdb.reading()?;
                let len = reader.read(p.as_bytes())?.map_or(0, |v| v.to_vec().len());
                expect(
                    len == value.len(),
                    "a large value reads back whole from LMDB",
                )
            })
        }),
    )?);
    rows.extend(cx.bytes_rows(&stores, &[])?);
    Ok(rows)
}
