//! The benchmark's table, for people and for scripts.

use std::io::Write;

use serde::Serialize;

use super::Sizes;
use crate::error::CliResult;

/// What a row must show to meet its target.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// hbstore / raw RocksDB at least this (throughput rows).
    RatioAtLeast(f64),
    /// hbstore's own figure at most this (the big group's last / first).
    AtMost(f64),
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
    /// A factor between two measurements.
    #[serde(rename = "x")]
    Times,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::OpsPerSec => "ops/s",
            Unit::MicrosPerWrite => "µs/write",
            Unit::Times => "x",
        }
    }

    /// Whether hbstore / raw RocksDB is a meaningful ratio for this unit.
    fn has_ratio(self) -> bool {
        self == Unit::OpsPerSec
    }
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
    /// hbstore / raw RocksDB, for throughput rows.
    pub ratio: Option<f64>,
    pub target: Option<Target>,
    pub target_holds: Option<bool>,
}

impl Row {
    pub fn new(
        number: u8,
        workload: &str,
        unit: Unit,
        hbstore: f64,
        raw: Option<f64>,
        target: Option<Target>,
    ) -> Row {
        let ratio = raw.filter(|_| unit.has_ratio()).map(|r| hbstore / r);
        let target_holds = target.map(|t| match t {
            Target::RatioAtLeast(min) => ratio.is_some_and(|r| r >= min),
            Target::AtMost(max) => hbstore <= max,
        });
        Row {
            number,
            workload: workload.to_owned(),
            unit,
            hbstore,
            raw_rocksdb: raw,
            ratio,
            target,
            target_holds,
        }
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    quick: bool,
    repeats: usize,
    rows: &'a [Row],
}

fn figure(v: f64) -> String {
    if v >= 100.0 {
        format!("{:.0}", v)
    } else {
        format!("{v:.2}")
    }
}

pub fn print(rows: &[Row], sizes: &Sizes, quick: bool, json: bool) -> CliResult {
    if json {
        return crate::output::print_json(&JsonReport {
            quick,
            repeats: sizes.repeats,
            rows,
        });
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "hbstore bench{}: median of {} run(s); raw RocksDB opened with the same options",
        if quick { " --quick" } else { "" },
        sizes.repeats
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| {:<44} | {:>9} | {:>11} | {:>11} | {:>6} | {:<14} |",
        "workload", "unit", "hbstore", "raw RocksDB", "ratio", "target"
    )?;
    writeln!(
        out,
        "|{:-<46}|{:->11}|{:->13}|{:->13}|{:->8}|{:-<16}|",
        "", "", "", "", "", ""
    )?;
    for row in rows {
        let target = match (row.target, row.target_holds) {
            (Some(Target::RatioAtLeast(min)), Some(ok)) => {
                format!("≥ {min} {}", if ok { "holds" } else { "MISSED" })
            }
            (Some(Target::AtMost(max)), Some(ok)) => {
                format!("≤ {max} {}", if ok { "holds" } else { "MISSED" })
            }
            _ => String::new(),
        };
        writeln!(
            out,
            "| {:<44} | {:>9} | {:>11} | {:>11} | {:>6} | {:<14} |",
            format!("{} {}", row.number, row.workload),
            row.unit.as_str(),
            figure(row.hbstore),
            row.raw_rocksdb.map_or(String::new(), figure),
            row.ratio.map_or(String::new(), |r| format!("{r:.2}")),
            target
        )?;
    }
    Ok(())
}
