//! End-to-end tests: the built `hbstore` binary on real temporary stores.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use hbstore::{Options, RocksStore, Store};

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("db")
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with_input(args, None)
    }

    fn run_with_input(&self, args: &[&str], input: Option<&[u8]>) -> Run {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hbstore"))
            .arg("--db")
            .arg(self.db())
            .args(args)
            .env_remove("HBSTORE_DB")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if let Some(bytes) = input {
            stdin.write_all(bytes).unwrap();
        }
        drop(stdin);
        finish(child.wait_with_output().unwrap())
    }

    /// Runs a command that must succeed, returning its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        run.text()
    }
}

fn finish(output: Output) -> Run {
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

#[test]
fn put_then_get_returns_exactly_the_bytes() {
    let env = Env::new();
    env.ok(&["put", "messages/m1/body", "hello"]);
    assert_eq!(env.run(&["get", "messages/m1/body"]).stdout, b"hello");
}

#[test]
fn binary_values_round_trip_through_standard_input() {
    let env = Env::new();
    let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let put = env.run_with_input(&["put", "blob"], Some(&bytes));
    assert_eq!(put.code, 0, "{}", put.stderr);
    let put = env.run_with_input(&["put", "blob2", "-"], Some(&bytes[..10]));
    assert_eq!(put.code, 0, "{}", put.stderr);
    assert_eq!(env.run(&["get", "blob"]).stdout, bytes);
    assert_eq!(env.run(&["get", "blob2"]).stdout, &bytes[..10]);
    env.run_with_input(&["put", "empty"], Some(b""));
    let empty = env.run(&["get", "empty"]);
    assert_eq!((empty.code, empty.stdout.len()), (0, 0));
}

#[test]
fn missing_paths_exit_1() {
    let env = Env::new();
    env.ok(&["mkgroup", "g"]);
    for args in [
        &["get", "nothing"][..],
        &["get", "g"],
        &["type", "nothing"],
        &["ls", "nothing"],
        &["tree", "nothing"],
        &["rm", "nothing"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("hbstore: "), "{}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    }
}

#[test]
fn usage_errors_and_invalid_paths_exit_2() {
    let env = Env::new();
    for args in [
        &["bogus"][..],
        &["get"],
        &["put", "a/../b", "x"],
        &["get", "a/./b"],
        &["tree", "--depth", "0"],
        &["link", "a", ".."],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
    let long = "x".repeat(9000);
    let run = env.run(&["put", &long, "v"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("longer than 8192 bytes"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.len() < 500, "the message does not echo 9 KB");
}

#[cfg(unix)]
#[test]
fn a_non_utf8_argument_is_a_usage_error() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    let output = Command::new(env!("CARGO_BIN_EXE_hbstore"))
        .arg("--db")
        .arg(env.db())
        .arg("put")
        .arg(std::ffi::OsStr::from_bytes(b"a/\xff"))
        .arg("v")
        .output()
        .unwrap();
    assert_eq!(finish(output).code, 2);
}

#[test]
fn failed_operations_exit_3_naming_the_path() {
    let env = Env::new();
    env.ok(&["put", "g/child", "x"]);
    let cases: [(&[&str], &str); 4] = [
        (&["put", "g", "x"], "\"g\" is a group"),
        (&["put", "g/child/below", "x"], "is a value"),
        (&["rm", "g"], "not empty"),
        (&["link", "t", "g/child"], "already exists"),
    ];
    for (args, says) in cases {
        let run = env.run(args);
        assert_eq!(run.code, 3, "{args:?}");
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
    assert_eq!(
        env.run(&["get", "g/child"]).stdout,
        b"x",
        "nothing was lost"
    );
}

#[test]
fn groups_links_resolve_and_rm() {
    let env = Env::new();
    env.ok(&["mkgroup", "messages/ids"]);
    env.ok(&["put", "messages/m1/slot", "1"]);
    env.ok(&["link", "messages/m1", "latest"]);
    assert_eq!(env.ok(&["resolve", "latest/slot"]), "messages/m1/slot\n");
    assert_eq!(env.ok(&["type", "latest"]), "composite\n");
    assert_eq!(env.ok(&["type", "latest/slot"]), "simple\n");
    env.ok(&["rm", "latest"]);
    assert_eq!(env.run(&["get", "latest/slot"]).code, 1);
    env.ok(&["rm", "-r", "messages"]);
    assert_eq!(env.ok(&["ls"]), "");
}

#[test]
fn ls_lists_sorted_names_and_long_details() {
    let env = Env::new();
    env.ok(&["put", "g/b", "12345"]);
    env.ok(&["mkgroup", "g/a"]);
    env.ok(&["link", "elsewhere", "g/c"]);
    assert_eq!(env.ok(&["ls", "g"]), "a\nb\nc\n");
    let long = env.ok(&["ls", "-l", "g"]);
    let lines: Vec<&str> = long.lines().collect();
    assert!(
        lines[0].starts_with("group") && lines[0].ends_with(" a"),
        "{long}"
    );
    assert!(lines[1].starts_with("value") && lines[1].contains(" 5 ") && lines[1].ends_with(" b"));
    assert!(
        lines[2].starts_with("link") && lines[2].ends_with("c -> elsewhere"),
        "{long}"
    );
    assert_eq!(env.ok(&["ls"]), "g\n");
}

#[test]
fn json_output_parses_back() {
    let env = Env::new();
    env.ok(&["put", "g/v", "abc"]);
    env.ok(&["link", "g", "l"]);
    let ls = env.run(&["ls", "--json", "g"]).json();
    assert_eq!(ls[0]["name"], "v");
    assert_eq!(ls[0]["kind"], "value");
    assert_eq!(ls[0]["size"], 3);
    let tree = env.run(&["tree", "--json"]).json();
    assert_eq!(tree["counts"]["groups"], 1);
    assert_eq!(tree["counts"]["links"], 1);
    assert_eq!(tree["children"][0]["children"][0]["name"], "v");
    assert_eq!(tree["children"][1]["target"], "g");
    assert_eq!(
        env.run(&["type", "--json", "l"]).json()["type"],
        "composite"
    );
    assert_eq!(
        env.run(&["resolve", "--json", "l/v"]).json()["resolved"],
        "g/v"
    );
    let stats = env.run(&["stats", "--json"]).json();
    assert_eq!(
        (stats["values"].as_u64(), stats["links"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(stats["value_bytes"], 3);
    assert!(stats["disk_bytes"].as_u64().unwrap() > 0);
    let check = env.run(&["check", "--json"]).json();
    assert_eq!(check["sound"], true);
}

#[test]
fn tree_draws_links_and_counts() {
    let env = Env::new();
    env.ok(&["put", "m/a/x", "1"]);
    env.ok(&["put", "m/b", "2"]);
    env.ok(&["link", "m/a", "m/c"]);
    let tree = env.ok(&["tree", "m"]);
    let expected = "m\n├── a\n│   └── x\n├── b\n└── c -> m/a\n\n1 group, 2 values, 1 link\n";
    assert_eq!(tree, expected);
    let shallow = env.ok(&["tree", "--depth", "1"]);
    assert_eq!(shallow, ".\n└── m\n\n1 group, 0 values, 0 links\n");
}

#[test]
fn check_finds_damage_written_behind_the_stores_back() {
    let env = Env::new();
    env.ok(&["put", "g/ok", "fine"]);
    assert_eq!(env.run(&["check"]).code, 0);
    {
        let db = rocksdb::DB::open_default(env.db()).unwrap();
        db.put(b"\x00\x02g/bad", b"\x07unknown tag").unwrap();
        db.put(b"\x00\x02x/orphan", b"\x02no parent").unwrap();
    }
    let run = env.run(&["check"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.text().contains("problem: g/bad: corrupt entry"),
        "{}",
        run.text()
    );
    assert!(
        run.text()
            .contains("problem: x/orphan: its parent \"x\" does not exist"),
        "{}",
        run.text()
    );
    let json = env.run(&["check", "--json"]).json();
    assert_eq!(json["sound"], false);
    assert_eq!(json["problems"].as_array().unwrap().len(), 2);
    assert_eq!(
        env.run(&["get", "g/ok"]).stdout,
        b"fine",
        "the rest stays readable"
    );
}

#[test]
fn backup_writes_a_store_that_opens_with_the_same_data() {
    let env = Env::new();
    env.ok(&["demo"]);
    let dest = env.dir.path().join("backup");
    env.ok(&["backup", dest.to_str().unwrap()]);
    let original = tree_of(&env.db());
    assert_eq!(tree_of(&dest), original);
    assert_eq!(
        env.run(&["backup", dest.to_str().unwrap()]).code,
        3,
        "never overwrites"
    );
}

fn tree_of(db: &Path) -> String {
    let run = Command::new(env!("CARGO_BIN_EXE_hbstore"))
        .arg("--db")
        .arg(db)
        .arg("tree")
        .output()
        .unwrap();
    String::from_utf8(run.stdout).unwrap()
}

#[test]
fn read_only_commands_and_backup_work_while_a_writer_holds_the_store() {
    let env = Env::new();
    let writer = RocksStore::open(env.db(), Options::default()).unwrap();
    writer.write("held/value", b"still readable").unwrap();
    assert_eq!(env.run(&["get", "held/value"]).stdout, b"still readable");
    assert_eq!(env.ok(&["ls", "held"]), "value\n");
    env.ok(&["check"]);
    env.ok(&["stats"]);
    let dest = env.dir.path().join("copy");
    let backup = env.ok(&["backup", dest.to_str().unwrap()]);
    assert!(backup.contains("snapshot"), "{backup}");
    let put = env.run(&["put", "x", "y"]);
    assert_eq!(put.code, 3);
    assert!(put.stderr.contains("locked"), "{}", put.stderr);
    drop(writer);
    let copy = RocksStore::open_read_only(&dest).unwrap();
    assert_eq!(copy.read("held/value").unwrap().unwrap(), b"still readable");
}

#[test]
fn compact_and_demo_run() {
    let env = Env::new();
    let demo = env.ok(&["demo"]);
    assert!(demo.contains("demo/latest/body"), "{demo}");
    assert!(demo.contains("5 groups, 9 values, 6 links"), "{demo}");
    env.ok(&["demo"]);
    assert!(env.ok(&["compact"]).contains("compacted"));
    env.ok(&["check"]);
}

#[test]
fn the_store_location_comes_from_the_environment() {
    let env = Env::new();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hbstore"))
            .args(args)
            .env("HBSTORE_DB", env.db())
            .output()
            .unwrap()
    };
    assert!(run(&["put", "k", "v"]).status.success());
    assert_eq!(env.run(&["get", "k"]).stdout, b"v");
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in [
        "demo", "put", "get", "type", "resolve", "mkgroup", "link", "rm", "ls", "tree", "stats",
        "check", "backup", "compact",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_hbstore"))
            .args([command, "--help"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{command}");
        assert!(text.contains("Example"), "{command}: {text}");
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let env = Env::new();
    let bytes = vec![b'x'; 1 << 20];
    env.run_with_input(&["put", "big"], Some(&bytes));
    let mut child = Command::new(env!("CARGO_BIN_EXE_hbstore"))
        .arg("--db")
        .arg(env.db())
        .args(["get", "big"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let run = finish(child.wait_with_output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
}
