//! What the fuzz targets (`fuzz/`) check, shared with the regular test
//! that replays their corpora (`crates/hbstore/tests/store/fuzz_corpus.rs`),
//! so that CI runs every input the fuzzer ever kept even where it cannot
//! fuzz. The operations are the same as the property test's ([`crate::ops`]).

use hbstore::{is_canonical, IntoStorePath, MemoryStore, RocksStore, Store, StorePath};

use crate::dump;
use crate::ops::{run, Action, Segments};

/// Path parsing never panics, and what it accepts is canonical (by the
/// library's one definition) and stable.
pub fn check_path(data: &[u8]) {
    if let Ok(path) = data.into_store_path() {
        let s = path.as_str();
        assert!(is_canonical(s), "{s:?}");
        assert_eq!(StorePath::parse(s).expect("canonical reparses"), path);
    }
}

/// Segments are drawn from a tiny alphabet, so that paths collide and
/// links form chains and cycles; the last two are hostile.
const SEGMENTS: [&str; 6] = ["a", "b", "c", "d", "..", "x\0"];

/// A path of 0 to 3 segments decoded from one byte: its low two bits are
/// the depth, each further pair of bits picks a segment. The bytes 0xfe and
/// 0xff (2 in 256) use a hostile segment at every depth instead.
fn path(byte: u8) -> Segments {
    let depth = (byte & 3) as usize;
    (0..depth)
        .map(|i| {
            if byte >= 0xfe {
                SEGMENTS[4 + (byte & 1) as usize]
            } else {
                SEGMENTS[((byte >> (2 + i * 2)) & 3) as usize]
            }
        })
        .collect()
}

/// The bytes one operation takes from the input.
const OP_BYTES: usize = 3;

/// Decodes one operation from (up to) three bytes: which operation, then
/// its one or two paths.
fn action(bytes: &[u8]) -> Action {
    let get = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let (op, p, q) = (get(0) % 11, path(get(1)), path(get(2)));
    match op {
        0 | 1 => Action::Write(p, vec![get(2)]),
        2 => Action::Read(p),
        3 => Action::Type(p),
        4 => Action::List(p),
        5 => Action::Resolve(p),
        6 => Action::MakeGroup(p),
        7 => Action::MakeLink(p, q),
        8 => Action::Delete(p, false),
        9 => Action::Delete(p, true),
        _ => Action::Batch(vec![
            Action::Write(p.clone(), b"batch".to_vec()),
            Action::MakeLink(p, q.clone()),
            Action::MakeGroup(q),
        ]),
    }
}

/// Runs the operations of `data` on `rocks` (after a reset) and on a fresh
/// model; panics at the first difference.
pub fn run_differential(data: &[u8], rocks: &RocksStore) {
    rocks.reset().expect("reset");
    let model = MemoryStore::new();
    for (i, chunk) in data.chunks(OP_BYTES).enumerate() {
        let action = action(chunk);
        assert_eq!(
            run(rocks, &action),
            run(&model, &action),
            "operation at byte {}: {action:?}",
            i * OP_BYTES
        );
    }
    assert_eq!(dump(rocks), dump(&model));
    let report = rocks.check(|_| {}).expect("check");
    assert!(report.is_sound(), "{:?}", report.problems);
}
