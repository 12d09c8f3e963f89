//! `hbstore-bench --scale`: a store at a node's size, not a memtable's.
//!
//! HyperBEAM-shaped messages (`ID/field`, 43-character content-address
//! ids, 4 fields of 100 bytes of text) are written in rounds up to
//! `--entries` (default 20 million), each field its own acknowledged
//! write; after each round, random field reads and whole-message reads.
//! hbstore, raw RocksDB (the same options, the same entries as plain puts)
//! and LMDB (`hb_store_lmdb`'s layout, 5,000 writes per transaction as the
//! node writes it) each run in
//! a worker process of their own, so that each one's resident memory is
//! its own, and take turns round by round, so that the machine's noise
//! falls on all three. After the last round the store is closed and the
//! command-line tool is timed on it, as an operator would use it.

mod shape;
mod worker;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::args::{BenchArgs, ScaleStore};
use crate::error::{CliError, CliResult};
use crate::harness::Scratch;
use crate::output::print_json;
use crate::progress;

pub use worker::serve;

/// How many rounds the entries are written in.
pub const ROUNDS: u64 = 5;
/// Random field reads after each round (fewer in a run of fewer entries).
pub const FIELD_READS: u64 = 200_000;
/// Whole-message reads after each round (likewise).
pub const MESSAGE_READS: u64 = 20_000;

/// How many field reads and whole-message reads follow each round of a
/// run of `entries`.
pub fn reads(entries: u64) -> (u64, u64) {
    (
        FIELD_READS.min(entries),
        MESSAGE_READS.min(entries / shape::FIELDS.len() as u64),
    )
}
/// How many times the command-line `get` is timed (the median is shown).
const GET_RUNS: usize = 5;

/// The default size of the run.
pub const DEFAULT_ENTRIES: u64 = 20_000_000;

/// What a worker reports after a round.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundFigures {
    pub round: u64,
    /// Fields written so far.
    pub entries: u64,
    /// Fields per second, written one per write (the round's first half).
    pub writes_per_sec: f64,
    /// Fields per second, written a message per write (the second half).
    pub batched_writes_per_sec: f64,
    /// How long RocksDB's background work took to settle after the writes.
    pub settle_seconds: f64,
    pub field_reads_per_sec: f64,
    pub message_reads_per_sec: f64,
    /// Field reads per second, recent messages hottest (Zipf, s = 1).
    pub skewed_field_reads_per_sec: f64,
    /// What a read cost each pass, per read.
    pub field_read_cost: ReadCost,
    pub message_read_cost: ReadCost,
    pub skewed_read_cost: ReadCost,
    /// Bytes on disk (RocksDB: SST, WAL, manifest; LMDB: the data file).
    pub bytes: u64,
    /// Resident memory, and the part of it not mapped from files.
    pub rss: u64,
    pub rss_anon: u64,
}

/// Where a read's time goes, per read: hbstore's entry cache, RocksDB's
/// block cache and the blocks it read (RocksDB's per-thread perf context;
/// zeros for LMDB).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct ReadCost {
    pub entry_cache_hits: f64,
    pub block_cache_hits: f64,
    pub blocks_read: f64,
    pub block_bytes_read: f64,
    pub block_read_us: f64,
    pub decompress_us: f64,
}

impl ScaleStore {
    const ALL: [ScaleStore; 3] = [ScaleStore::Hbstore, ScaleStore::Raw, ScaleStore::Lmdb];

    pub fn name(self) -> &'static str {
        match self {
            ScaleStore::Hbstore => "hbstore",
            ScaleStore::Raw => "raw",
            ScaleStore::Lmdb => "lmdb",
        }
    }
}

/// A worker process and its pipes.
struct Worker {
    store: ScaleStore,
    child: Child,
    input: Option<ChildStdin>,
    output: BufReader<ChildStdout>,
}

fn worker_failed(store: ScaleStore, what: &str) -> CliError {
    CliError::Failed(format!("bench --scale: the {} worker {what}", store.name()))
}

impl Worker {
    fn spawn(store: ScaleStore, dir: &Path, args: &BenchArgs, entries: u64) -> CliResult<Worker> {
        let compression = clap::ValueEnum::to_possible_value(&args.compression)
            .map(|value| value.get_name().to_owned())
            .unwrap_or_default();
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--scale", "--scale-worker", store.name()])
            .arg("--dir")
            .arg(dir)
            .args(["--entries", &entries.to_string()])
            .args(["--compression", &compression])
            .args(args.memory_budget.map(|b| format!("--memory-budget={b}")))
            .args(args.no_entry_cache.then_some("--no-entry-cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(worker_failed(store, "has no pipes"));
        };
        Ok(Worker {
            store,
            child,
            input: Some(input),
            output: BufReader::new(output),
        })
    }

    fn round(&mut self) -> CliResult<RoundFigures> {
        let input = self
            .input
            .as_mut()
            .ok_or_else(|| worker_failed(self.store, "was closed"))?;
        writeln!(input, "round")?;
        input.flush()?;
        let mut line = String::new();
        if self.output.read_line(&mut line)? == 0 {
            return Err(worker_failed(self.store, "stopped before the round's end"));
        }
        serde_json::from_str(&line)
            .map_err(|e| worker_failed(self.store, &format!("answered {line:?}: {e}")))
    }

    /// Closes the worker's input, so it closes its store, and waits.
    fn finish(mut self) -> CliResult {
        drop(self.input.take());
        let status = self.child.wait()?;
        if status.success() {
            Ok(())
        } else {
            Err(worker_failed(self.store, &format!("exited with {status}")))
        }
    }
}

/// The command-line tool timed on the finished hbstore store.
#[derive(Debug, Serialize)]
struct CommandTimes {
    get_ms: f64,
    stats_ms: f64,
    stats_exact_ms: f64,
    ls_root_first_line_ms: f64,
    ls_root_ms: f64,
    ls_root_lines: u64,
}

/// The `hbstore` tool, run on the store: the binary beside this one (cargo
/// builds both into one directory; `./dev bench` builds both).
fn hbstore_command(dir: &Path, args: &[&str]) -> CliResult<Command> {
    let tool =
        std::env::current_exe()?.with_file_name(format!("hbstore{}", std::env::consts::EXE_SUFFIX));
    if !tool.exists() {
        return Err(CliError::Failed(format!(
            "bench --scale times the command-line tool, and {} is not there \
             (`cargo build -p hbstore-cli` builds it)",
            tool.display()
        )));
    }
    let mut command = Command::new(tool);
    command.arg("--db").arg(dir).args(args);
    command.stdin(Stdio::null()).stderr(Stdio::inherit());
    Ok(command)
}

fn timed_command(dir: &Path, args: &[&str]) -> CliResult<f64> {
    let start = Instant::now();
    let status = hbstore_command(dir, args)?.stdout(Stdio::null()).status()?;
    let took = millis(start.elapsed());
    if !status.success() {
        return Err(CliError::Failed(format!(
            "bench --scale: `hbstore {}` exited with {status}",
            args.join(" ")
        )));
    }
    Ok(took)
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `ls` of the root (a group of every message): when its first line
/// comes, when its last, and how many lines.
fn time_ls(dir: &Path) -> CliResult<(f64, f64, u64)> {
    let start = Instant::now();
    let mut child = hbstore_command(dir, &["ls"])?
        .stdout(Stdio::piped())
        .spawn()?;
    let output = child
        .stdout
        .take()
        .ok_or_else(|| CliError::Failed("bench --scale: `hbstore ls` has no output".into()))?;
    let mut first = None;
    let mut lines = 0;
    for line in BufReader::new(output).split(b'\n') {
        line?;
        first.get_or_insert_with(|| millis(start.elapsed()));
        lines += 1;
    }
    let status = child.wait()?;
    let all = millis(start.elapsed());
    if !status.success() {
        return Err(CliError::Failed(format!(
            "bench --scale: `hbstore ls` exited with {status}"
        )));
    }
    Ok((first.unwrap_or(all), all, lines))
}

fn time_commands(dir: &Path) -> CliResult<CommandTimes> {
    let path = shape::Shape::field_path(0, 0);
    let mut gets = (0..GET_RUNS)
        .map(|_| timed_command(dir, &["get", &path]))
        .collect::<CliResult<Vec<f64>>>()?;
    gets.sort_by(f64::total_cmp);
    let stats_ms = timed_command(dir, &["stats"])?;
    let stats_exact_ms = timed_command(dir, &["stats", "--exact"])?;
    let (ls_root_first_line_ms, ls_root_ms, ls_root_lines) = time_ls(dir)?;
    Ok(CommandTimes {
        get_ms: gets[GET_RUNS / 2],
        stats_ms,
        stats_exact_ms,
        ls_root_first_line_ms,
        ls_root_ms,
        ls_root_lines,
    })
}

#[derive(Serialize)]
struct ScaleReport {
    entries: u64,
    compression: &'static str,
    /// Per round, each store's figures in the order of `stores`.
    stores: [&'static str; 3],
    rounds: Vec<[RoundFigures; 3]>,
    commands: CommandTimes,
    memory_budget: u64,
}

pub fn run(args: &BenchArgs) -> CliResult {
    let entries = args.entries.unwrap_or(DEFAULT_ENTRIES);
    let scratch = Scratch::new(args.dir.as_ref())?;
    let dirs = ScaleStore::ALL.map(|store| scratch.fresh(store.name()));
    let mut workers = Vec::with_capacity(3);
    for (store, dir) in ScaleStore::ALL.iter().zip(&dirs) {
        workers.push(Worker::spawn(*store, dir, args, entries)?);
    }
    let bar = progress::bar("writing and reading", Some(ROUNDS * 3));
    let mut rounds = Vec::new();
    for round in 0..ROUNDS as usize {
        let mut figures: [Option<RoundFigures>; 3] = [None, None, None];
        // Each store goes first in turn.
        for turn in 0..3 {
            let which = (round + turn) % 3;
            figures[which] = Some(workers[which].round()?);
            bar.inc(1);
        }
        let [Some(a), Some(b), Some(c)] = figures else {
            return Err(CliError::Failed(
                "bench --scale: a round went missing".into(),
            ));
        };
        rounds.push([a, b, c]);
    }
    bar.finish_and_clear();
    for worker in workers {
        worker.finish()?;
    }
    let spinner = progress::bar("timing the command-line tool on the store", None);
    let commands = time_commands(&dirs[0])?;
    spinner.finish_and_clear();
    let options = args.options();
    let report = ScaleReport {
        entries,
        compression: args.compression.name(),
        stores: ScaleStore::ALL.map(ScaleStore::name),
        rounds,
        commands,
        memory_budget: options.memory_budget().total() as u64,
    };
    if let Some(svg) = &args.svg {
        chart(svg, &report)?;
    }
    if args.json {
        return print_json(&mut std::io::stdout().lock(), &report);
    }
    print_report(&report)
}

/// The run as a chart: each figure against entries, a line per store.
fn chart(path: &Path, report: &ScaleReport) -> CliResult {
    type Pick = fn(&RoundFigures) -> f64;
    let figures: [(&str, &str, Pick); 6] = [
        ("Writes, a field per write", "fields/s", |f| {
            f.writes_per_sec
        }),
        ("Writes, a message per write", "fields/s", |f| {
            f.batched_writes_per_sec
        }),
        ("Field reads, uniform", "reads/s", |f| f.field_reads_per_sec),
        (
            "Field reads, skewed (Zipf, recent hottest)",
            "reads/s",
            |f| f.skewed_field_reads_per_sec,
        ),
        ("Whole-message reads", "messages/s", |f| {
            f.message_reads_per_sec
        }),
        ("Bytes on disk", "MiB", |f| {
            f.bytes as f64 / f64::from(1 << 20)
        }),
    ];
    let panels: Vec<crate::chart::Panel<'_>> = figures
        .iter()
        .map(|&(title, unit, pick)| crate::chart::Panel {
            title,
            unit,
            lines: (0..report.stores.len())
                .map(|store| {
                    report
                        .rounds
                        .iter()
                        .map(|round| (round[store].entries as f64, pick(&round[store])))
                        .collect()
                })
                .collect(),
        })
        .collect();
    let heading = format!(
        "hbstore-bench --scale --entries {}: hbstore, raw RocksDB and LMDB",
        report.entries
    );
    crate::chart::scale(path, &heading, &report.stores, &panels)
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / f64::from(1 << 20))
}

/// Prints a Markdown table, each column as wide as its widest cell (the
/// store's name left-aligned, figures right-aligned).
fn table(out: &mut impl Write, headers: &[&str], rows: &[Vec<String>]) -> CliResult {
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .map(|row| row[i].chars().count())
                .chain([headers[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, &width))| {
                if headers[i] == "store" {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        format!("| {} |", padded.join(" | "))
    };
    writeln!(out, "{}", line(headers))?;
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    writeln!(out, "|-{}-|", rule.join("-|-"))?;
    for row in rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        writeln!(out, "{}", line(&cells))?;
    }
    Ok(())
}

fn print_report(report: &ScaleReport) -> CliResult {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "hbstore-bench --scale --entries {}: {} rounds of messages of 4 fields of 100 bytes, \
         half of each round a write per field, half a message per write; then {} random field \
         reads and {} whole-message reads once RocksDB's background work has settled; hbstore \
         and raw RocksDB ({} compression) and LMDB (5,000 writes per transaction, as HyperBEAM \
         writes it), each in its own process",
        report.entries,
        ROUNDS,
        reads(report.entries).0,
        reads(report.entries).1,
        report.compression
    )?;
    writeln!(out)?;
    let figure = |x: f64| format!("{x:.0}");
    let mut rows = Vec::new();
    for round in &report.rounds {
        for (name, f) in report.stores.iter().zip(round) {
            rows.push(vec![
                f.entries.to_string(),
                (*name).to_owned(),
                figure(f.writes_per_sec),
                figure(f.batched_writes_per_sec),
                figure(f.field_reads_per_sec),
                figure(f.skewed_field_reads_per_sec),
                figure(f.message_reads_per_sec),
                format!("{:.1}", f.settle_seconds),
                mib(f.bytes),
                mib(f.rss),
                mib(f.rss_anon),
            ]);
        }
    }
    table(
        &mut out,
        &[
            "entries",
            "store",
            "writes/s",
            "batched writes/s",
            "field reads/s",
            "skewed reads/s",
            "message reads/s",
            "settled (s)",
            "on disk",
            "RSS",
            "RSS (anon)",
        ],
        &rows,
    )?;
    writeln!(out)?;
    let ratio = |a: f64, b: f64| format!("{:.2}", a / b);
    let rows: Vec<Vec<String>> = report
        .rounds
        .iter()
        .map(|[hb, raw, lmdb]| {
            vec![
                hb.entries.to_string(),
                ratio(hb.writes_per_sec, raw.writes_per_sec),
                ratio(hb.batched_writes_per_sec, raw.batched_writes_per_sec),
                ratio(hb.writes_per_sec, lmdb.writes_per_sec),
                ratio(hb.field_reads_per_sec, raw.field_reads_per_sec),
                ratio(hb.field_reads_per_sec, lmdb.field_reads_per_sec),
                ratio(
                    hb.skewed_field_reads_per_sec,
                    lmdb.skewed_field_reads_per_sec,
                ),
                ratio(hb.message_reads_per_sec, raw.message_reads_per_sec),
                ratio(hb.message_reads_per_sec, lmdb.message_reads_per_sec),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "entries",
            "writes ÷raw",
            "batched ÷raw",
            "writes ÷lmdb",
            "field reads ÷raw",
            "field reads ÷lmdb",
            "skewed ÷lmdb",
            "message reads ÷raw",
            "message reads ÷lmdb",
        ],
        &rows,
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Where a read's time goes, per read (RocksDB's perf context; hbstore's entry cache): \
         hits in the entry cache, in the block cache, blocks read from files, their KiB, \
         microseconds reading and decompressing them."
    )?;
    writeln!(out)?;
    let mut rows = Vec::new();
    for round in &report.rounds {
        for (name, f) in report.stores.iter().zip(round).take(2) {
            for (pass, cost) in [
                ("uniform", &f.field_read_cost),
                ("skewed", &f.skewed_read_cost),
                ("message", &f.message_read_cost),
            ] {
                rows.push(vec![
                    f.entries.to_string(),
                    (*name).to_owned(),
                    pass.to_owned(),
                    format!("{:.2}", cost.entry_cache_hits),
                    format!("{:.2}", cost.block_cache_hits),
                    format!("{:.2}", cost.blocks_read),
                    format!("{:.2}", cost.block_bytes_read / 1024.0),
                    format!("{:.2}", cost.block_read_us),
                    format!("{:.2}", cost.decompress_us),
                ]);
            }
        }
    }
    table(
        &mut out,
        &[
            "entries",
            "store",
            "reads",
            "entry cache hits",
            "block cache hits",
            "blocks read",
            "KiB read",
            "read µs",
            "decompress µs",
        ],
        &rows,
    )?;
    let c = &report.commands;
    writeln!(out)?;
    writeln!(
        out,
        "The command-line tool on the closed hbstore store: `get` {:.0} ms (median of \
         {GET_RUNS}), `stats` {:.0} ms, `stats --exact` {:.0} ms, `ls` of the root ({} lines) \
         first line after {:.0} ms, all in {:.0} ms.",
        c.get_ms,
        c.stats_ms,
        c.stats_exact_ms,
        c.ls_root_lines,
        c.ls_root_first_line_ms,
        c.ls_root_ms
    )?;
    if let Some([hb, raw, lmdb]) = report.rounds.last() {
        let first = report.rounds.first().map_or(hb.rss, |r| r[0].rss);
        writeln!(
            out,
            "hbstore's resident memory: {} after the first round, {} after the last; its \
             configured caches and memtables come to {}.",
            mib(first),
            mib(hb.rss),
            mib(report.memory_budget)
        )?;
        let verdict = |holds: bool| if holds { "holds" } else { "MISSED" };
        let of = |a: f64, b: f64| a / b;
        let uniform = of(hb.field_reads_per_sec, lmdb.field_reads_per_sec);
        let skewed = of(
            hb.skewed_field_reads_per_sec,
            lmdb.skewed_field_reads_per_sec,
        );
        let messages = of(hb.message_reads_per_sec, lmdb.message_reads_per_sec);
        let memory = of(hb.rss as f64, lmdb.rss as f64);
        let disk = of(hb.bytes as f64, lmdb.bytes as f64);
        writeln!(
            out,
            "Targets at {} entries (the last round): field reads {uniform:.2} of LMDB's (≥ 1.0: \
             {}), skewed {skewed:.2} (≥ 1.5: {}); whole messages {messages:.2} (≥ 1.0: {}); \
             resident memory {memory:.2} of LMDB's (≤ 1.25: {}); bytes on disk {disk:.2} (≤ \
             0.4: {}); writes {:.2} of raw RocksDB (a message per write: {:.2}); `get` under 50 \
             ms: {}; `stats` under 1 s: {}.",
            hb.entries,
            verdict(uniform >= 1.0),
            verdict(skewed >= 1.5),
            verdict(messages >= 1.0),
            verdict(memory <= 1.25),
            verdict(disk <= 0.4),
            of(hb.writes_per_sec, raw.writes_per_sec),
            of(hb.batched_writes_per_sec, raw.batched_writes_per_sec),
            verdict(c.get_ms < 50.0),
            verdict(c.stats_ms < 1000.0),
        )?;
    }
    Ok(())
}
