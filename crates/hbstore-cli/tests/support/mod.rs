//! What the command-line tests share: running the built binary, reading
//! its output, and the fixtures kept in `tests/fixtures/`.

#![allow(dead_code, reason = "each test binary uses a part of it")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// What one run of the binary gave.
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

/// The built `hbstore`, on the store `db` when given, with no store taken
/// from the environment.
pub fn command(db: Option<&Path>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hbstore"));
    command
        .env_remove("HBSTORE_DB")
        .env_remove("HBSTORE_CLUSTER");
    if let Some(db) = db {
        command.arg("--db").arg(db);
    }
    command
}

/// Runs `hbstore --db DB ARGS`, feeding `input` on standard input.
pub fn run(db: &Path, args: &[&str], input: Option<&[u8]>) -> Run {
    run_command(command(Some(db)), args, input)
}

/// Runs `hbstore STORE ARGS` (`STORE` naming the store: `--db DIR`,
/// `--cluster URL`), with neither taken from the environment.
pub fn run_on(store: &[&str], args: &[&str], input: Option<&[u8]>) -> Run {
    let mut hbstore = command(None);
    hbstore.args(store);
    run_command(hbstore, args, input)
}

fn run_command(mut hbstore: Command, args: &[&str], input: Option<&[u8]>) -> Run {
    let mut child = hbstore
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hbstore");
    let mut stdin = child.stdin.take().expect("piped stdin");
    if let Some(bytes) = input {
        stdin.write_all(bytes).expect("write stdin");
    }
    drop(stdin);
    finish(child.wait_with_output().expect("wait for hbstore"))
}

/// A finished run, checked for panics (a panic is never an answer).
pub fn finish(output: Output) -> Run {
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "no panics: {}",
        run.stderr
    );
    run
}

/// A fixture file of `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A copy of a fixture directory in `into`: RocksDB may rotate its log
/// file even on a read-only open, and the repository's copy stays as it is.
pub fn fixture_copy(name: &str, into: &Path) -> PathBuf {
    let from = fixture(name);
    let to = into.join(name);
    std::fs::create_dir_all(&to).expect("create the fixture copy");
    for entry in std::fs::read_dir(&from).expect("read the fixture") {
        let entry = entry.expect("fixture entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy a fixture file");
    }
    to
}
