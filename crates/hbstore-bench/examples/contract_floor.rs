//! What the contract itself costs a write at a node's size: raw RocksDB
//! doing the least any store keeping SPEC's contract must do for a new
//! message, beside raw RocksDB's blind puts (the `--scale` run's
//! baseline) and hbstore.
//!
//! A new message `ID/field` needs, at the least, one read (is `ID`
//! there, and a group? a value there refuses the write) and its group's
//! record beside the fields' own: one `get` and five records where blind
//! puts write four. Messages of 4 fields of 100 bytes are written in 5
//! rounds, the stores taking turns, half of each round a field per write
//! and half a message per write, as `hbstore-bench --scale` writes them.
//!
//! `cargo run -p hbstore-bench --example contract_floor [FIELDS]`
//! (default 4,000,000 fields).

use std::error::Error;
use std::time::Instant;

use hbstore::{Batch, Options, RocksStore, Store};
use rocksdb::{WriteBatch, WriteOptions, DB};

const FIELDS: [&str; 4] = ["data", "owner", "signature", "target"];
const ROUNDS: u64 = 5;

/// Message `i`'s id: 43 characters, consecutive messages far apart in
/// key order, as content addresses are.
fn id(i: u64) -> String {
    let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i >> 7).wrapping_mul(0xD1B5_4A32_D192_ED03);
    format!("{:016x}{:016x}{:011x}", h, h.rotate_left(29), h >> 20)
}

fn value(i: u64, field: usize) -> Vec<u8> {
    let mut v = format!("{i}-{field}-").into_bytes();
    v.resize(100, b'a' + (i % 26) as u8);
    v
}

enum Writer {
    /// Blind puts of the fields: the `--scale` run's raw baseline.
    Raw(DB, WriteOptions),
    /// The contract's least: the group looked up, its record written too.
    Floor(DB, WriteOptions),
    Hbstore(RocksStore),
}

impl Writer {
    fn name(&self) -> &'static str {
        match self {
            Writer::Raw(..) => "raw RocksDB, blind puts",
            Writer::Floor(..) => "raw RocksDB, the contract's least",
            Writer::Hbstore(_) => "hbstore",
        }
    }

    fn write(&self, i: u64, batched: bool) -> Result<(), Box<dyn Error>> {
        let m = id(i);
        let fields = FIELDS
            .iter()
            .enumerate()
            .map(|(f, name)| (format!("{m}/{name}"), value(i, f)));
        match self {
            Writer::Raw(db, w) | Writer::Floor(db, w) => {
                let mut batch = WriteBatch::default();
                if let Writer::Floor(..) = self {
                    if db.get_pinned(&m)?.is_some() {
                        return Err(format!("{m:?} is there already").into());
                    }
                    if batched {
                        batch.put(&m, b"group");
                    } else {
                        db.put_opt(&m, b"group", w)?;
                    }
                }
                for (path, value) in fields {
                    if batched {
                        batch.put(path, value);
                    } else {
                        db.put_opt(path, value, w)?;
                    }
                }
                if batched {
                    db.write_opt(batch, w)?;
                }
            }
            Writer::Hbstore(store) => {
                let mut batch = Batch::new();
                for (path, value) in fields {
                    if batched {
                        batch.write(path.as_str(), &value)?;
                    } else {
                        store.write(path.as_str(), &value)?;
                    }
                }
                if batched {
                    store.apply(&batch)?;
                }
            }
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let fields: u64 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().map_err(|e| format!("FIELDS {arg:?}: {e}"))?,
        None => 4_000_000,
    };
    let messages = (fields / FIELDS.len() as u64).max(ROUNDS);
    let scratch = tempfile::tempdir()?;
    let options = Options::default();
    let open = |name: &str| DB::open(&options.rocksdb_options(), scratch.path().join(name));
    let writers = [
        Writer::Raw(open("raw")?, options.write_options()),
        Writer::Floor(open("floor")?, options.write_options()),
        Writer::Hbstore(RocksStore::open(
            scratch.path().join("hbstore"),
            options.clone(),
        )?),
    ];
    println!("| fields | store | field writes/s (a field per write) | ÷raw | field writes/s (a message per write) | ÷raw |");
    println!("|---|---|---|---|---|---|");
    let mut written = 0;
    for round in 1..=ROUNDS {
        let to = messages * round / ROUNDS;
        let half = written + (to - written) / 2;
        // Fields per second, a field per write and a message per write,
        // by writer.
        let mut rates = [(0.0, 0.0); 3];
        // Each store goes first in turn, so the machine's noise falls on all.
        for turn in 0..writers.len() {
            let which = (round as usize + turn) % writers.len();
            let writer = &writers[which];
            let rate = |from: u64, to: u64, batched: bool| -> Result<f64, Box<dyn Error>> {
                let start = Instant::now();
                for i in from..to {
                    writer.write(i, batched)?;
                }
                Ok(((to - from) * FIELDS.len() as u64) as f64 / start.elapsed().as_secs_f64())
            };
            rates[which] = (rate(written, half, false)?, rate(half, to, true)?);
        }
        written = to;
        let (raw_each, raw_batched) = rates[0];
        for (writer, (each, batched)) in writers.iter().zip(rates) {
            println!(
                "| {} | {} | {each:.0} | {:.2} | {batched:.0} | {:.2} |",
                written * FIELDS.len() as u64,
                writer.name(),
                each / raw_each,
                batched / raw_batched
            );
        }
    }
    Ok(())
}
