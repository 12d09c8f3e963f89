//! Replays the fuzz targets' corpora (`fuzz/corpus/`) as regular tests, so
//! every input the fuzzer kept is checked on every CI run, with the same
//! checks as the targets (`hbstore_testkit::fuzz`).

use std::path::PathBuf;

use hbstore_testkit::fuzz as shared;

use crate::common::TempRocks;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} holds no inputs", dir.display());
    inputs
}

#[test]
fn the_path_parse_corpus_passes() {
    for (path, input) in corpus("path_parse") {
        let result = std::panic::catch_unwind(|| shared::check_path(&input));
        assert!(result.is_ok(), "{}", path.display());
    }
}

#[test]
fn the_ops_vs_model_corpus_passes() {
    let rocks = TempRocks::new();
    for (path, input) in corpus("ops_vs_model") {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            shared::run_differential(&input, &rocks.store)
        }));
        assert!(result.is_ok(), "{}", path.display());
    }
}
