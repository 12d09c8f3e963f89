//! Workload 11: a store shaped like a node's cache, for the bytes it takes
//! as much as for speed. Each message is a group of 6 fields linked to
//! content-addressed values (`data/<sha256>`) of 32 B to 4 KiB, spread
//! evenly on a log scale; a tenth of the values are shared between
//! messages (a common owner, tag set or target), the rest unique. Values
//! are text-like, as message bodies and tags are: words of a vocabulary
//! picked with natural language's skew, numbers among them.

use hbstore_testkit::Rng;

use super::hyperbeam::{message_writes, whole_message_reads, Message};
use crate::error::CliResult;
use crate::harness::{Ctx, Writes};
use crate::report::{Row, Target};

const FIELDS: [&str; 6] = ["body", "data", "owner", "signature", "tags", "target"];
/// Words the text is made of: English's most common words first, then
/// made-up words spelled with English letter frequencies.
const VOCABULARY: usize = 8_192;
const COMMON_WORDS: &str = "the of and to in is that it for was on are as with his they at be \
    this from have or by one had not but what all were when we there can an your which their \
    said if do will each about how up out them then she many some so these would other into \
    has more her two like him see time could no make than first been its who now people my \
    made over did down only way find use may water long little very after words called just \
    where most know get through back much go good new write our me man too any day same right \
    look think also around another came come work three word must because does part even \
    place well such process message slot data commitment signature owner target anchor";
/// Letters in roughly the proportions English uses them.
const LETTERS: &[u8] = b"eeeeeeeeeeeetttttttttaaaaaaaaoooooooiiiiiiinnnnnnnsssssshhhhhhrrrrrrdddd\
    lllllccccuuummmwwffggyyppbbvkjxqz";
/// Values shared between messages (a tenth of all fields pick one).
const SHARED: usize = 2_000;
const SMALLEST: f64 = 32.0;
/// log2(4096 / 32): value sizes span this many doublings.
const DOUBLINGS: f64 = 7.0;

/// A uniform number in [0, 1).
fn unit(rng: &mut Rng) -> f64 {
    rng.below(1 << 24) as f64 / f64::from(1 << 24)
}

/// The vocabulary: the common words, then made-up ones.
pub fn vocabulary(rng: &mut Rng) -> Vec<String> {
    let mut words: Vec<String> = COMMON_WORDS.split_whitespace().map(str::to_owned).collect();
    while words.len() < VOCABULARY {
        let len = 3 + rng.below(8);
        words.push(
            (0..len)
                .map(|_| char::from(LETTERS[rng.below(LETTERS.len())]))
                .collect(),
        );
    }
    words
}

/// Text of `len` bytes: words picked as natural language picks them (the
/// k-th most common about 1/k as often as the first), now and then a
/// number.
pub fn text(rng: &mut Rng, words: &[String], len: usize) -> Vec<u8> {
    let ln_words = (words.len() as f64).ln();
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        if rng.below(10) == 0 {
            out.extend_from_slice(rng.below(1_000_000).to_string().as_bytes());
        } else {
            let k = ((unit(rng) * ln_words).exp() as usize).saturating_sub(1);
            out.extend_from_slice(words[k.min(words.len() - 1)].as_bytes());
        }
        out.push(if rng.below(15) == 0 { b'\n' } else { b' ' });
    }
    out.truncate(len);
    out
}

/// A value's size: 32 B to 4 KiB, even on a log scale.
fn size(rng: &mut Rng) -> usize {
    (SMALLEST * (DOUBLINGS * unit(rng)).exp2()) as usize
}

/// `n` messages in the node's shape.
fn node_messages(rng: &mut Rng, n: usize) -> Vec<Message> {
    let words = vocabulary(rng);
    let shared: Vec<Vec<u8>> = (0..SHARED)
        .map(|_| {
            let len = size(rng);
            text(rng, &words, len)
        })
        .collect();
    (0..n)
        .map(|_| Message {
            id: rng.id(),
            fields: FIELDS
                .iter()
                .map(|field| {
                    let value = if rng.below(10) == 0 {
                        shared[rng.below(SHARED)].clone()
                    } else {
                        let len = size(rng);
                        text(rng, &words, len)
                    };
                    ((*field).to_owned(), value)
                })
                .collect(),
        })
        .collect()
}

/// 11: the node-shaped store written (a batch per message), read back
/// whole at random, and its bytes on disk, flushed and then compacted.
pub fn node_workload(cx: &mut Ctx<'_>) -> CliResult<Vec<Row>> {
    let n = cx.sizes.node_messages;
    let stores = cx.open_stores(false)?;
    let all = node_messages(&mut cx.rng, n);
    let mut rows = message_writes(
        cx,
        Writes {
            name: "node cache: message write (6 fields)",
            ops: n,
            targets: &[Target::LmdbRatioAtLeast(1.5)],
        },
        &stores,
        &all,
    )?;
    let picks: Vec<&Message> = (0..cx.sizes.node_reads)
        .map(|_| &all[cx.rng.below(n)])
        .collect();
    rows.push(whole_message_reads(
        cx,
        "node cache: message read, whole",
        &[],
        &stores,
        &picks,
        FIELDS.len(),
    )?);
    rows.extend(cx.bytes_rows(&stores, &[Target::LmdbRatioAtMost(0.3)])?);
    // Compacted: every file rewritten once, the last level's compression
    // applied to all, what a store settles to.
    stores.hbstore.compact()?;
    stores.raw.compact();
    let mut compacted = cx.bytes_rows(&stores, &[Target::LmdbRatioAtMost(0.3)])?;
    compacted.truncate(1);
    for row in &mut compacted {
        row.workload = "bytes on disk, compacted (lmdb: file size)".to_owned();
    }
    rows.extend(compacted);
    Ok(rows)
}
