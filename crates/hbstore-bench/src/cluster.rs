//! `hbstore --cluster URL bench`: HyperBEAM's common operations on a
//! cluster store, beside the same work as plain Redis commands on the same
//! cluster, through the same client, in the same run, with 1, 4 and 16
//! client threads. The plain baseline keeps a message as one Redis hash
//! (`HSET`/`HGET`/`HGETALL`): what a program would do without hbstore's
//! paths, groups and links. `--cluster local` starts a six-node cluster on
//! 127.0.0.1 for the run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use hbstore::{Batch, Store};
use hbstore_cluster::{ClusterStore, Cmd, Options, Reply};
use hbstore_testkit::LocalCluster;
use hbstore_testkit::Rng;
use serde::Serialize;

use crate::args::BenchArgs;
use crate::error::{CliError, CliResult};
use crate::harness::median;
use crate::output::print_json;

/// Client threads each workload runs with.
const THREADS: [usize; 3] = [1, 4, 16];
const FIELDS: usize = 4;
const VALUE: [u8; 100] = [b'x'; 100];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    WriteField,
    ReadField,
    ReadMessage,
    NewMessage,
}

impl Workload {
    const ALL: [Workload; 4] = [
        Workload::WriteField,
        Workload::ReadField,
        Workload::ReadMessage,
        Workload::NewMessage,
    ];

    fn name(self) -> &'static str {
        match self {
            Workload::WriteField => "write a field of a message",
            Workload::ReadField => "read a field",
            Workload::ReadMessage => "read a message (4 fields)",
            Workload::NewMessage => "write a new message (4 fields)",
        }
    }

    fn plain(self) -> &'static str {
        match self {
            Workload::WriteField => "HSET",
            Workload::ReadField => "HGET",
            Workload::ReadMessage => "HGETALL",
            Workload::NewMessage => "HSET of 4 fields",
        }
    }

    /// Whether the target (at least half of plain) applies: one
    /// step on the common path. A new message creates a group first.
    fn has_target(self) -> bool {
        self != Workload::NewMessage
    }
}

#[derive(Serialize)]
struct Row {
    workload: &'static str,
    plain: &'static str,
    threads: usize,
    hbstore_ops: f64,
    plain_ops: f64,
    ratio: f64,
}

struct Bench {
    store: Arc<ClusterStore>,
    ids: Arc<Vec<String>>,
    plain_prefix: String,
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(format!("bench: {e}"))
}

impl Bench {
    fn plain_key(&self, id: &str) -> Vec<u8> {
        format!("{}{id}", self.plain_prefix).into_bytes()
    }

    /// Runs `ops` operations of `workload` on `threads` threads; ops/s.
    fn run(
        &self,
        workload: Workload,
        hbstore: bool,
        threads: usize,
        ops: usize,
        round: usize,
    ) -> CliResult<f64> {
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (store, ids, next) = (self.store.clone(), self.ids.clone(), next.clone());
                let prefix = self.plain_prefix.clone();
                std::thread::spawn(move || -> Result<(), String> {
                    let mut rng = Rng::new((round * 1000 + t) as u64 + 7);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= ops {
                            return Ok(());
                        }
                        let id = &ids[rng.below(ids.len())];
                        let plain_key = format!("{prefix}{id}").into_bytes();
                        one(&store, workload, hbstore, id, &plain_key, i, round)?;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .map_err(|_| failed("a client thread panicked"))?
                .map_err(failed)?;
        }
        Ok(ops as f64 / started.elapsed().as_secs_f64())
    }
}

/// One operation; `i` and `round` make new names unique.
fn one(
    store: &ClusterStore,
    workload: Workload,
    hbstore: bool,
    id: &str,
    plain_key: &[u8],
    i: usize,
    round: usize,
) -> Result<(), String> {
    let plain = |cmd: Cmd| -> Result<Reply, String> {
        match store.command(plain_key, cmd).map_err(|e| e.to_string())? {
            Reply::Error(e) => Err(e),
            reply => Ok(reply),
        }
    };
    match (workload, hbstore) {
        (Workload::WriteField, true) => store
            .write(format!("{id}/w{round}-{i}").as_str(), &VALUE)
            .map_err(|e| e.to_string()),
        (Workload::WriteField, false) => plain(
            Cmd::new("HSET")
                .arg(plain_key)
                .arg(format!("w{round}-{i}"))
                .arg(VALUE),
        )
        .map(drop),
        (Workload::ReadField, true) => match store.read(format!("{id}/f{}", i % FIELDS).as_str()) {
            Ok(Some(v)) if v.len() == VALUE.len() => Ok(()),
            other => Err(format!("read {id}: {other:?}")),
        },
        (Workload::ReadField, false) => match plain(
            Cmd::new("HGET")
                .arg(plain_key)
                .arg(format!("f{}", i % FIELDS)),
        )? {
            Reply::Bulk(Some(v)) if v.len() == VALUE.len() => Ok(()),
            other => Err(format!("HGET {id}: {other:?}")),
        },
        (Workload::ReadMessage, true) => match store.read_entry(id, 4096) {
            Ok(Some(hbstore::EntryRead::Group(children))) if children.len() >= FIELDS => Ok(()),
            other => Err(format!("read_entry {id}: {other:?}")),
        },
        (Workload::ReadMessage, false) => match plain(Cmd::new("HGETALL").arg(plain_key))? {
            Reply::Array(Some(items)) if items.len() >= 2 * FIELDS => Ok(()),
            other => Err(format!("HGETALL {id}: {other:?}")),
        },
        (Workload::NewMessage, true) => {
            let mut batch = Batch::new();
            for f in 0..FIELDS {
                batch
                    .write(format!("n{round}-{i}-{id}/f{f}"), &VALUE)
                    .map_err(|e| e.to_string())?;
            }
            store.apply(&batch).map_err(|e| e.to_string())
        }
        (Workload::NewMessage, false) => {
            let key = [plain_key, format!("-n{round}-{i}").as_bytes()].concat();
            let mut cmd = Cmd::new("HSET").arg(&key);
            for f in 0..FIELDS {
                cmd.push(format!("f{f}"));
                cmd.push(VALUE);
            }
            store
                .command(&key, cmd)
                .map(drop)
                .map_err(|e| e.to_string())
        }
    }
}

pub fn run(address: &str, args: &BenchArgs) -> CliResult {
    if args.scale || !args.only.is_empty() {
        return Err(CliError::Invalid(
            "bench with --cluster runs its own workloads: --scale and --only are for an embedded store".into(),
        ));
    }
    let local;
    let address = if address == "local" {
        eprintln!("bench: starting a six-node cluster on 127.0.0.1");
        local = LocalCluster::start().map_err(failed)?;
        local.address()
    } else {
        address.to_owned()
    };
    let namespace = format!("bench-{}", std::process::id());
    let store = Arc::new(ClusterStore::open(
        &address,
        Options::default().namespace(&namespace),
    )?);
    let (messages, ops) = if args.quick {
        (1_000, 4_000)
    } else {
        (10_000, 40_000)
    };
    let repeats = args.repeats.unwrap_or(if args.quick { 1 } else { 3 }) as usize;
    let mut rng = Rng::new(1);
    let ids: Arc<Vec<String>> = Arc::new((0..messages).map(|_| rng.id()).collect());
    let bench = Bench {
        store: store.clone(),
        ids: ids.clone(),
        plain_prefix: format!("{namespace}-plain:"),
    };
    eprintln!("bench: writing {messages} messages of {FIELDS} fields, as hbstore groups and as plain hashes");
    for id in ids.iter() {
        let mut batch = Batch::new();
        let mut cmd = Cmd::new("HSET").arg(bench.plain_key(id));
        for f in 0..FIELDS {
            batch.write(format!("{id}/f{f}"), &VALUE)?;
            cmd.push(format!("f{f}"));
            cmd.push(VALUE);
        }
        store.apply(&batch)?;
        store.command(&bench.plain_key(id), cmd).map_err(failed)?;
    }

    let mut rows = Vec::new();
    for workload in Workload::ALL {
        eprintln!(
            "bench: {} ({} threads)",
            workload.name(),
            THREADS.map(|t| t.to_string()).join(", ")
        );
        for threads in THREADS {
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            for round in 0..repeats {
                // Each side goes first in turn.
                let order = if round % 2 == 0 {
                    [true, false]
                } else {
                    [false, true]
                };
                for hbstore in order {
                    let rate = bench.run(workload, hbstore, threads, ops, round)?;
                    if hbstore {
                        ours.push(rate);
                    } else {
                        theirs.push(rate);
                    }
                }
            }
            let (hbstore_ops, plain_ops) = (median(ours), median(theirs));
            rows.push(Row {
                workload: workload.name(),
                plain: workload.plain(),
                threads,
                hbstore_ops,
                plain_ops,
                ratio: hbstore_ops / plain_ops,
            });
        }
    }
    store.reset()?;
    // The messages' plain hashes and the new-message workload's, one per
    // operation: every key under the plain prefix.
    let pattern = format!("{}*", bench.plain_prefix);
    drop_plain(&store, &pattern)?;

    if args.json {
        return print_json(&mut std::io::stdout().lock(), &rows);
    }
    print(&rows, messages, ops, repeats);
    Ok(())
}

/// Removes the plain keys matching `pattern` on every primary.
fn drop_plain(store: &ClusterStore, pattern: &str) -> CliResult {
    store.scan_matching(pattern, |key| {
        store
            .command(&key, Cmd::new("UNLINK").arg(&key))
            .map(drop)
            .map_err(|e| e.into_store_error("removing the benchmark's plain keys"))
    })?;
    Ok(())
}

fn print(rows: &[Row], messages: usize, ops: usize, repeats: usize) {
    println!(
        "hbstore on a Redis cluster vs plain Redis commands, same client, same run \
         ({messages} messages, {ops} operations per cell, median of {repeats})\n"
    );
    println!("| workload | plain | threads | hbstore ops/s | plain ops/s | ÷plain |");
    println!("|---|---|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {:.0} | {:.0} | {:.2} |",
            r.workload, r.plain, r.threads, r.hbstore_ops, r.plain_ops, r.ratio
        );
    }
    println!();
    for workload in Workload::ALL {
        let mine: Vec<&Row> = rows
            .iter()
            .filter(|r| r.workload == workload.name())
            .collect();
        let worst = mine.iter().map(|r| r.ratio).fold(f64::INFINITY, f64::min);
        let grows = mine.windows(2).all(|w| w[1].hbstore_ops > w[0].hbstore_ops);
        let target = if workload.has_target() {
            format!(
                "≥ 0.5 of plain: {} (lowest {worst:.3})",
                if worst >= 0.5 { "holds" } else { "MISSED" }
            )
        } else {
            format!("no target (creates a group first; lowest {worst:.3})")
        };
        println!(
            "{}: {target}; grows with threads (1 → 4 → 16): {}",
            workload.name(),
            if grows { "holds" } else { "MISSED" }
        );
    }
}
