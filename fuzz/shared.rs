//! What the fuzz targets check, shared with the regular test that replays
//! their corpora (`crates/hbstore/tests/store/fuzz_corpus.rs`), so that CI
//! runs every input the fuzzer ever kept even where it cannot fuzz.

use hbstore::{Batch, IntoStorePath, MemoryStore, RocksStore, Store, StorePath, MAX_PATH_BYTES};

/// Path parsing never panics, and what it accepts is canonical and stable.
pub fn check_path(data: &[u8]) {
    if let Ok(path) = data.into_store_path() {
        let s = path.as_str();
        assert!(s.len() <= MAX_PATH_BYTES);
        assert!(!s.starts_with('/') && !s.ends_with('/') && !s.contains("//"));
        assert!(path
            .segments()
            .all(|seg| seg != "." && seg != ".." && !seg.contains('\0')));
        assert_eq!(StorePath::parse(s).expect("canonical reparses"), path);
    }
}

/// Segments are drawn from a tiny alphabet, so that paths collide and
/// links form chains and cycles; the last one is hostile.
const SEGMENTS: [&str; 6] = ["a", "b", "c", "d", "..", "x\0"];

fn path(byte: u8) -> Vec<&'static str> {
    let depth = (byte & 3) as usize;
    (0..depth)
        .map(|i| {
            let pick = (byte >> (2 + i * 2)) & 3;
            // One path in 16 uses a hostile segment.
            if byte == 0xff || byte == 0xfe {
                SEGMENTS[4 + (byte & 1) as usize]
            } else {
                SEGMENTS[pick as usize]
            }
        })
        .collect()
}

/// Applies one operation, decoded from `bytes`, to `store`; returns its
/// answer as text and how many bytes it used.
fn step(store: &impl Store, bytes: &[u8]) -> (String, usize) {
    let get = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let (op, p, q) = (get(0) % 11, path(get(1)), path(get(2)));
    let answer = match op {
        0 | 1 => format!("{:?}", store.write(&p, &[get(2)])),
        2 => format!("{:?}", store.read(&p)),
        3 => format!("{:?}", store.type_of(&p)),
        4 => format!("{:?}", store.list_children(&p)),
        5 => format!("{:?}", store.resolve(&p)),
        6 => format!("{:?}", store.make_group(&p)),
        7 => format!("{:?}", store.make_link(&p, &q)),
        8 => format!("{:?}", store.delete(&p)),
        9 => format!("{:?}", store.delete_recursive(&p)),
        _ => {
            let mut batch = Batch::new();
            let built = batch
                .write(&p, b"batch")
                .and_then(|b| b.make_link(&p, &q))
                .and_then(|b| b.make_group(&q))
                .map(drop);
            match built {
                Ok(()) => format!("{:?}", store.apply(&batch)),
                Err(e) => format!("{e:?}"),
            }
        }
    };
    (answer, 3)
}

fn tree(store: &impl Store) -> Vec<String> {
    let mut out = Vec::new();
    hbstore::walk(store, &StorePath::root(), |path, kind| {
        // A value's path has no link on the way: this reads the value itself.
        let value = match kind {
            hbstore::ChildKind::Value { .. } => store.read(path)?,
            _ => None,
        };
        out.push(format!("{path} {kind:?} {value:?}"));
        Ok(())
    })
    .expect("walking a sound store");
    out
}

/// Runs the operations of `data` on `rocks` (after a reset) and on a fresh
/// model; panics at the first difference.
pub fn run_differential(data: &[u8], rocks: &RocksStore) {
    rocks.reset().expect("reset");
    let model = MemoryStore::new();
    let mut at = 0;
    while at < data.len() {
        let (expected, used) = step(&model, &data[at..]);
        let (got, _) = step(rocks, &data[at..]);
        assert_eq!(got, expected, "operation at byte {at}");
        at += used;
    }
    assert_eq!(tree(rocks), tree(&model));
    let report = rocks.check(|_| {}).expect("check");
    assert!(report.is_sound(), "{:?}", report.problems);
}
