//! The benchmark's table, for people and for scripts.

use std::io::Write;

use serde::Serialize;

use crate::error::CliResult;

/// What a row must show to meet a target.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// hbstore / raw RocksDB at least this (throughput rows).
    RatioAtLeast(f64),
    /// hbstore / LMDB at least this (throughput rows).
    LmdbRatioAtLeast(f64),
    /// hbstore / LMDB at most this (bytes rows).
    LmdbRatioAtMost(f64),
    /// hbstore's own figure at most this (the big group's last / first).
    AtMost(f64),
}

impl Target {
    fn holds(self, row: &Row) -> bool {
        match self {
            Target::RatioAtLeast(min) => row.ratio.is_some_and(|r| r >= min),
            Target::LmdbRatioAtLeast(min) => row.lmdb_ratio.is_some_and(|r| r >= min),
            Target::LmdbRatioAtMost(max) => row.lmdb_ratio.is_some_and(|r| r <= max),
            Target::AtMost(max) => row.hbstore <= max,
        }
    }

    fn show(self) -> String {
        match self {
            Target::RatioAtLeast(min) => format!("≥ {min} raw"),
            Target::LmdbRatioAtLeast(min) => format!("≥ {min} lmdb"),
            Target::LmdbRatioAtMost(max) => format!("≤ {max} lmdb"),
            Target::AtMost(max) => format!("≤ {max}"),
        }
    }
}

/// What a row's figures measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Unit {
    /// Operations per second: higher is better, and hbstore / raw is the
    /// ratio that compares across machines.
    #[serde(rename = "ops/s")]
    OpsPerSec,
    /// Microseconds per write: lower is better.
    #[serde(rename = "µs/write")]
    MicrosPerWrite,
    /// Bytes on disk: lower is better.
    #[serde(rename = "bytes")]
    Bytes,
    /// A factor between two measurements.
    #[serde(rename = "x")]
    Times,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::OpsPerSec => "ops/s",
            Unit::MicrosPerWrite => "µs/write",
            Unit::Bytes => "MiB",
            Unit::Times => "x",
        }
    }

    /// Whether hbstore / another store is a meaningful ratio for this unit.
    fn has_ratio(self) -> bool {
        matches!(self, Unit::OpsPerSec | Unit::Bytes)
    }

    /// A figure as the table shows it.
    fn figure(self, v: f64) -> String {
        match self {
            Unit::Bytes => format!("{:.1}", v / f64::from(1 << 20)),
            _ if v >= 100.0 => format!("{v:.0}"),
            _ => format!("{v:.2}"),
        }
    }
}

/// The figures of one measurement on each store (a store that was not
/// measured is `None`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Figures {
    pub hbstore: f64,
    pub raw: Option<f64>,
    pub lmdb: Option<f64>,
}

/// One measurement, with the number of the workload that made it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The workload (`--only` takes these numbers).
    pub number: u8,
    /// What was measured.
    pub workload: String,
    pub unit: Unit,
    pub hbstore: f64,
    pub raw_rocksdb: Option<f64>,
    /// LMDB in `hb_store_lmdb`'s layout; the workload's name says how its
    /// writes were committed where that matters.
    pub lmdb: Option<f64>,
    /// hbstore / raw RocksDB, for throughput and bytes rows.
    pub ratio: Option<f64>,
    /// hbstore / LMDB, for throughput and bytes rows.
    pub lmdb_ratio: Option<f64>,
    /// Each target, and whether it holds.
    pub targets: Vec<Checked>,
}

/// A target and whether the row meets it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Checked {
    #[serde(flatten)]
    pub target: Target,
    pub holds: bool,
}

impl Row {
    pub fn new(number: u8, workload: &str, unit: Unit, f: Figures, targets: &[Target]) -> Row {
        let against =
            |other: Option<f64>| other.filter(|_| unit.has_ratio()).map(|o| f.hbstore / o);
        let mut row = Row {
            number,
            workload: workload.to_owned(),
            unit,
            hbstore: f.hbstore,
            raw_rocksdb: f.raw,
            lmdb: f.lmdb,
            ratio: against(f.raw),
            lmdb_ratio: against(f.lmdb),
            targets: Vec::new(),
        };
        row.targets = targets
            .iter()
            .map(|&target| Checked {
                target,
                holds: target.holds(&row),
            })
            .collect();
        row
    }

    /// The targets alone (to measure the same row again).
    pub fn targets(&self) -> Vec<Target> {
        self.targets.iter().map(|c| c.target).collect()
    }

    pub fn figures(&self) -> Figures {
        Figures {
            hbstore: self.hbstore,
            raw: self.raw_rocksdb,
            lmdb: self.lmdb,
        }
    }
}

/// Draws hbstore's ratio to each baseline, a bar per row that has one;
/// a bytes row's ratio is inverted (the baseline's bytes ÷ hbstore's), so
/// that right of 1 is better for hbstore on every bar.
pub fn chart(path: &std::path::Path, rows: &[Row], quick: bool) -> CliResult {
    let bars: Vec<crate::chart::Ratios> = rows
        .iter()
        .filter(|row| row.unit.has_ratio())
        .map(|row| {
            let bytes = row.unit == Unit::Bytes;
            let read = |ratio: Option<f64>| {
                ratio
                    .filter(|r| *r > 0.0)
                    .map(|r| if bytes { 1.0 / r } else { r })
            };
            crate::chart::Ratios {
                workload: format!(
                    "{} {}{}",
                    row.number,
                    row.workload,
                    if bytes { " (bytes, inverted)" } else { "" }
                ),
                raw: read(row.ratio),
                lmdb: read(row.lmdb_ratio),
            }
        })
        .collect();
    let heading = format!(
        "hbstore-bench{}: hbstore ÷ raw RocksDB and ÷ LMDB, per workload",
        if quick { " --quick" } else { "" }
    );
    crate::chart::ratios(path, &heading, &bars)
}

#[derive(Serialize)]
struct JsonReport<'a> {
    quick: bool,
    repeats: usize,
    compression: &'a str,
    rows: &'a [Row],
}

/// Prints the rows of a run of `repeats` repeats (their medians).
pub fn print(
    rows: &[Row],
    repeats: usize,
    quick: bool,
    compression: &str,
    json: bool,
) -> CliResult {
    if json {
        return crate::output::print_json(
            &mut std::io::stdout().lock(),
            &JsonReport {
                quick,
                repeats,
                compression,
                rows,
            },
        );
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "hbstore-bench{}: median of {} run(s); raw RocksDB opened with the same options \
         ({compression} compression); LMDB in hb_store_lmdb's layout, opened as HyperBEAM opens it",
        if quick { " --quick" } else { "" },
        repeats
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| {:<52} | {:>8} | {:>9} | {:>9} | {:>5} | {:>9} | {:>6} | {:<36} |",
        "workload", "unit", "hbstore", "raw", "÷raw", "lmdb", "÷lmdb", "target"
    )?;
    writeln!(
        out,
        "|{:-<54}|{:->10}|{:->11}|{:->11}|{:->7}|{:->11}|{:->8}|{:-<38}|",
        "", "", "", "", "", "", "", ""
    )?;
    for row in rows {
        let target = row
            .targets
            .iter()
            .map(|c| {
                let verdict = if c.holds { "holds" } else { "MISSED" };
                format!("{} {verdict}", c.target.show())
            })
            .collect::<Vec<_>>()
            .join(", ");
        let ratio = |r: Option<f64>| r.map_or(String::new(), |r| format!("{r:.2}"));
        writeln!(
            out,
            "| {:<52} | {:>8} | {:>9} | {:>9} | {:>5} | {:>9} | {:>6} | {:<36} |",
            format!("{} {}", row.number, row.workload),
            row.unit.as_str(),
            row.unit.figure(row.hbstore),
            row.raw_rocksdb
                .map_or(String::new(), |v| row.unit.figure(v)),
            ratio(row.ratio),
            row.lmdb.map_or(String::new(), |v| row.unit.figure(v)),
            ratio(row.lmdb_ratio),
            target
        )?;
    }
    Ok(())
}
