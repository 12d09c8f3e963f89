//! The workloads, in the order of their numbers: a list over the harness
//! (`harness.rs`). `run_all` repeats the chosen ones and keeps the medians.

mod basic;
pub mod hyperbeam;
pub mod node;

use hbstore::Options;

use crate::error::CliResult;
use crate::harness::{median, Ctx, Scratch, Sizes};
use crate::report::{Figures, Row};

/// How many workloads there are, numbered from 1.
pub const COUNT: u8 = 11;

type Workload = fn(&mut Ctx<'_>) -> CliResult<Vec<Row>>;

/// The workloads, in the order of their numbers (1 first).
const WORKLOADS: [Workload; COUNT as usize] = [
    basic::key_read_write,
    basic::list,
    basic::deep,
    basic::links,
    basic::big_group,
    basic::threads,
    basic::large_values,
    hyperbeam::messages_workload,
    hyperbeam::match_workload,
    hyperbeam::pages_workload,
    node::node_workload,
];

/// Every chosen workload, `sizes.repeats` times; one row per measurement
/// with the medians over the repeats. Each workload's stores are removed
/// once it is done.
pub fn run_all(
    sizes: &Sizes,
    options: &Options,
    chosen: &[u8],
    scratch: &Scratch,
    tick: &dyn Fn(),
) -> CliResult<Vec<Row>> {
    let mut repeats: Vec<Vec<Row>> = Vec::new();
    for repeat in 0..sizes.repeats {
        let mut this_repeat = Vec::new();
        for (number, workload) in (1..).zip(WORKLOADS) {
            if !chosen.contains(&number) {
                continue;
            }
            let mut cx = Ctx::new(sizes, scratch, options, number, repeat);
            this_repeat.extend(workload(&mut cx)?);
            scratch.clear()?;
            tick();
        }
        repeats.push(this_repeat);
    }
    let first = repeats.first().map_or(&[][..], Vec::as_slice);
    Ok(first
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let figures = |pick: fn(Figures) -> Option<f64>| {
                pick(row.figures()).map(|_| {
                    median(
                        repeats
                            .iter()
                            .filter_map(|r| pick(r[i].figures()))
                            .collect(),
                    )
                })
            };
            Row::new(
                row.number,
                &row.workload,
                row.unit,
                Figures {
                    hbstore: median(repeats.iter().map(|r| r[i].hbstore).collect()),
                    raw: figures(|f| f.raw),
                    lmdb: figures(|f| f.lmdb),
                },
                &row.targets(),
            )
        })
        .collect())
}
