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

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub workload: &'static str,
    pub unit: &'static str,
    pub hbstore: f64,
    pub raw_rocksdb: Option<f64>,
    /// hbstore / raw RocksDB, for throughput rows.
    pub ratio: Option<f64>,
    pub target: Option<Target>,
    pub target_holds: Option<bool>,
}

impl Row {
    pub fn new(
        workload: &'static str,
        unit: &'static str,
        hbstore: f64,
        raw: Option<f64>,
        target: Option<Target>,
    ) -> Row {
        let ratio = match unit {
            "ops/s" => raw.map(|r| hbstore / r),
            _ => None,
        };
        let target_holds = target.map(|t| match t {
            Target::RatioAtLeast(min) => ratio.is_some_and(|r| r >= min),
            Target::AtMost(max) => hbstore <= max,
        });
        Row {
            workload,
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
        return super::super::commands::print_json(&JsonReport {
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
        "| {:<32} | {:>9} | {:>11} | {:>11} | {:>6} | {:<14} |",
        "workload", "unit", "hbstore", "raw RocksDB", "ratio", "target"
    )?;
    writeln!(
        out,
        "|{:-<34}|{:->11}|{:->13}|{:->13}|{:->8}|{:-<16}|",
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
            "| {:<32} | {:>9} | {:>11} | {:>11} | {:>6} | {:<14} |",
            row.workload,
            row.unit,
            figure(row.hbstore),
            row.raw_rocksdb.map_or(String::new(), figure),
            row.ratio.map_or(String::new(), |r| format!("{r:.2}")),
            target
        )?;
    }
    Ok(())
}
