//! End-to-end tests: the built `hbstore` binary on real temporary stores.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use hbstore::{Batch, Options, RocksStore, Store};

mod support;

use support::{command, finish, Run};

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
        support::run(&self.db(), args, None)
    }

    fn run_with_input(&self, args: &[&str], input: Option<&[u8]>) -> Run {
        support::run(&self.db(), args, input)
    }

    /// Runs a command that must succeed, returning its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        run.text()
    }
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
    let output = command(Some(&env.db()))
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
        (&["link", "t", "g"], "already exists"),
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
fn link_re_points_and_put_replaces_a_link() {
    let env = Env::new();
    env.ok(&["put", "data/h1", "one"]);
    env.ok(&["put", "data/h2", "two"]);
    env.ok(&["link", "data/h1", "m/body"]);
    env.ok(&["link", "data/h2", "m/body"]);
    assert_eq!(env.ok(&["resolve", "m/body"]), "data/h2\n");
    assert_eq!(env.run(&["get", "m/body"]).stdout, b"two");
    env.ok(&["put", "m/body", "own"]);
    assert_eq!(env.ok(&["resolve", "m/body"]), "m/body\n");
    assert_eq!(
        env.run(&["get", "data/h2"]).stdout,
        b"two",
        "the target stays"
    );
    env.ok(&["link", "data/h1", "m/body"]);
    assert_eq!(
        env.run(&["get", "m/body"]).stdout,
        b"one",
        "a value replaced"
    );
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
    assert_eq!(stats["exact"], true, "a small store is counted exactly");
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
    support::run(db, &["tree"], None).text()
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
fn the_commands_the_demo_suggests_run_as_printed() {
    let env = Env::new();
    let demo = env.ok(&["demo"]);
    let suggested: Vec<&str> = demo
        .lines()
        .skip_while(|line| !line.starts_with("Next, try:"))
        .skip(1)
        .filter(|line| line.starts_with("  "))
        .collect();
    assert_eq!(suggested.len(), 4, "{demo}");
    for line in suggested {
        let mut words = line.split_whitespace();
        let program = words.next().expect("a program");
        let output = std::process::Command::new(program)
            .args(words)
            .env_remove("HBSTORE_DB")
            .output()
            .unwrap_or_else(|e| panic!("{line:?} does not start: {e}"));
        assert!(
            output.status.success(),
            "{line:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
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
        command(None)
            .args(args)
            .env("HBSTORE_DB", env.db())
            .output()
            .unwrap()
    };
    assert!(run(&["put", "k", "v"]).status.success());
    assert_eq!(env.run(&["get", "k"]).stdout, b"v");
}

#[test]
fn every_command_answers_help() {
    // That each has an example is checked in-process, over clap's own list
    // of commands (`cli.rs`); here, that the binary answers `--help`.
    for command_name in ["put", "import", "export"] {
        let run = finish(
            command(None)
                .args([command_name, "--help"])
                .output()
                .unwrap(),
        );
        assert_eq!(run.code, 0, "{command_name}");
        assert!(run.text().contains("Example"), "{command_name}");
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let env = Env::new();
    let bytes = vec![b'x'; 1 << 20];
    env.run_with_input(&["put", "big"], Some(&bytes));
    let mut child = command(Some(&env.db()))
        .args(["get", "big"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let run = finish(child.wait_with_output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn names_with_control_characters_are_escaped_for_people_and_exact_in_json() {
    let env = Env::new();
    env.ok(&["put", "g/line\nbreak", "x"]);
    env.ok(&["put", "g/\u{1b}[31mred", "y"]);
    env.ok(&["link", "g/line\nbreak", "g/\u{7}bell"]);
    let tree = env.ok(&["tree"]);
    assert!(tree.contains("line\\nbreak"), "{tree}");
    assert!(tree.contains("\\u{1b}[31mred"), "{tree}");
    assert!(
        !tree.contains('\u{1b}') && !tree.contains('\u{7}'),
        "no control character reaches the terminal: {tree:?}"
    );
    assert_eq!(
        tree.lines().count(),
        1 + 4 + 2,
        "one line per entry: {tree}"
    );
    let listed = env.run(&["ls", "g", "--json"]).json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["\u{7}bell", "\u{1b}[31mred", "line\nbreak"]);
    let check = env.ok(&["check"]);
    assert!(!check.contains('\u{7}'), "{check:?}");
    // To a pipe, `ls` writes names exact, one per line, as ls(1) does.
    assert_eq!(
        env.ok(&["ls", "g"]),
        "\u{7}bell\n\u{1b}[31mred\nline\nbreak\n"
    );
}

#[test]
fn ls_pages_from_a_name_either_way() {
    let env = Env::new();
    for name in ["a", "b", "c", "d"] {
        env.ok(&["put", &format!("g/{name}"), "v"]);
    }
    assert_eq!(
        env.ok(&["ls", "g", "--from", "b", "--limit", "2"]),
        "b\nc\n"
    );
    assert_eq!(env.ok(&["ls", "g", "--from", "bb"]), "c\nd\n");
    assert_eq!(
        env.ok(&["ls", "g", "--reverse", "--limit", "3"]),
        "d\nc\nb\n"
    );
    assert_eq!(env.ok(&["ls", "g", "--reverse", "--from", "b"]), "b\na\n");
    let json = env.run(&["ls", "g", "--from", "c", "--json"]).json();
    assert_eq!(json.as_array().map(Vec::len), Some(2));
    assert_eq!(env.run(&["ls", "g", "--limit", "x"]).code, 2);
}

#[test]
fn match_finds_messages_by_field_and_exits_1_when_none() {
    let env = Env::new();
    env.ok(&["put", "data/p1", "process one"]);
    env.ok(&["put", "data/s1", "slot one"]);
    env.ok(&["link", "data/p1", "m1/process"]);
    env.ok(&["link", "data/s1", "m1/slot"]);
    env.ok(&["link", "data/p1", "m2/process"]);
    assert_eq!(env.ok(&["match", "process=data/p1"]), "m1\nm2\n");
    assert_eq!(
        env.ok(&["match", "process=data/p1", "slot=data/s1"]),
        "m1\n"
    );
    assert_eq!(
        env.ok(&["match", "process=data/p1", "--limit", "1"]),
        "m1\n"
    );
    let json = env.run(&["match", "process=data/p1", "--json"]).json();
    assert_eq!(json, serde_json::json!(["m1", "m2"]));
    let none = env.run(&["match", "process=data/nobody"]);
    assert_eq!(none.code, 1, "{}", none.stderr);
    assert!(none.stdout.is_empty());
    assert_eq!(env.run(&["match", "no-equals-sign"]).code, 2);
    assert_eq!(
        env.run(&["match", "a/b=data/p1"]).code,
        2,
        "a key is one segment"
    );
    assert_eq!(env.run(&["match"]).code, 2);
}

#[test]
fn get_of_a_group_explains_that_it_is_a_group() {
    let env = Env::new();
    env.ok(&["put", "msg/body", "x"]);
    let run = env.run(&["get", "msg"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("is a group"), "{}", run.stderr);
}

#[test]
fn upgrade_builds_the_link_index_of_a_format_1_store() {
    let env = Env::new();
    env.ok(&["link", "data/p1", "m1/process"]);
    {
        let db = rocksdb::DB::open_default(env.db()).unwrap();
        let mut no_index = rocksdb::WriteBatch::default();
        no_index.delete_range(b"\x00\x00\x01", b"\x00\x00\x02");
        db.write(no_index).unwrap();
        db.put(b"\x00\x00hbstore-format", 1u32.to_be_bytes())
            .unwrap();
    }
    let refused = env.run(&["match", "process=data/p1"]);
    assert_eq!(refused.code, 3);
    assert!(
        refused.stderr.contains("hbstore upgrade"),
        "{}",
        refused.stderr
    );
    assert!(env.ok(&["upgrade"]).contains("upgraded"));
    assert_eq!(env.ok(&["match", "process=data/p1"]), "m1\n");
    assert!(env.ok(&["upgrade"]).contains("nothing to do"));
    env.ok(&["check"]);
}

#[test]
fn gc_removes_the_values_no_link_reaches_and_says_what_it_freed() {
    let env = Env::new();
    env.ok(&["put", "data/kept", "linked"]);
    env.ok(&["put", "data/orphan", "0123456789"]);
    env.ok(&["link", "data/kept", "m1/field"]);
    let dry = env.run(&["gc", "--dry-run", "--json"]).json();
    assert_eq!(dry["examined"], 2);
    assert_eq!(dry["removed"], 1);
    assert_eq!(dry["bytes"], 10);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(env.run(&["get", "data/orphan"]).stdout, b"0123456789");
    let text = env.ok(&["gc"]);
    assert!(
        text.contains("2 values under data; 1 that no link reaches removed"),
        "{text}"
    );
    assert_eq!(env.run(&["get", "data/orphan"]).code, 1);
    assert_eq!(env.run(&["get", "m1/field"]).stdout, b"linked");
    let again = env.run(&["gc", "--json"]).json();
    assert_eq!(again["removed"], 0);
}

#[test]
fn gc_refuses_hostile_prefixes_and_changes_nothing() {
    let env = Env::new();
    env.ok(&["put", "data/orphan", "x"]);
    for prefix in ["", "/", "a/../b"] {
        let run = env.run(&["gc", "--prefix", prefix]);
        assert_eq!(run.code, 2, "{prefix:?}: {}", run.stderr);
    }
    // A name with control characters is a path like any other (nothing is
    // under it), shown escaped.
    let run = env.run(&["gc", "--prefix", "\u{1b}[2J"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.text().contains("0 values under \\u{1b}[2J"),
        "{}",
        run.text()
    );
    let long = "x/".repeat(5_000);
    assert_eq!(env.run(&["gc", "--prefix", &long]).code, 2);
    assert_eq!(env.run(&["get", "data/orphan"]).stdout, b"x");
}

/// Fills `dir` with `n` children of `big` named `k00000`... through the
/// library, in batches, and closes the store.
fn big_group(db: &Path, n: usize, fields: &[&str]) {
    let store = RocksStore::open(db, Options::default()).unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(5_000) {
        let mut batch = Batch::new();
        for i in chunk {
            if fields.is_empty() {
                batch.write(format!("big/k{i:05}").as_str(), b"v").unwrap();
            }
            for field in fields {
                batch
                    .write(format!("big/k{i:05}/{field}").as_str(), b"value")
                    .unwrap();
            }
        }
        store.apply(&batch).unwrap();
    }
}

#[test]
fn ls_streams_a_group_larger_than_its_pages() {
    let env = Env::new();
    big_group(&env.db(), 25_000, &[]);
    let all = env.ok(&["ls", "big"]);
    let names: Vec<&str> = all.lines().collect();
    assert_eq!(names.len(), 25_000);
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    assert_eq!((names[0], names[24_999]), ("k00000", "k24999"));
    assert_eq!(
        env.ok(&["ls", "big", "--limit", "15000"]).lines().count(),
        15_000
    );
    assert_eq!(env.ok(&["ls", "big", "--limit", "0"]), "");
    let back = env.ok(&["ls", "big", "--reverse", "--from", "k20000"]);
    let back: Vec<&str> = back.lines().collect();
    assert_eq!(back.len(), 20_001);
    assert_eq!((back[0], back[20_000]), ("k20000", "k00000"));
    let from = env.ok(&["ls", "big", "--from", "k09999", "--limit", "10002"]);
    let from: Vec<&str> = from.lines().collect();
    assert_eq!(
        (from.len(), from[0], from[10_001]),
        (10_002, "k09999", "k20000")
    );
    let long = env.ok(&["ls", "-l", "big", "--from", "k24999"]);
    assert_eq!(long, format!("value {:>12}  k24999\n", 1));

    // JSON is streamed too, and is the same text as a list printed whole.
    let text = env.run(&["ls", "big", "--json", "--limit", "10001"]);
    let json = text.json();
    assert_eq!(json.as_array().map(Vec::len), Some(10_001));
    assert_eq!(json[10_000]["name"], "k10000");
    // Laid out as the whole list printed at once would be.
    let text = String::from_utf8(text.stdout).unwrap();
    let first =
        "[\n  {\n    \"name\": \"k00000\",\n    \"kind\": \"value\",\n    \"size\": 1\n  },\n";
    assert!(
        text.starts_with(first),
        "{:?}",
        &text[..first.len().min(text.len())]
    );
    assert!(
        text.ends_with("    \"size\": 1\n  }\n]\n"),
        "{:?}",
        &text[text.len() - 40..]
    );
    assert_eq!(env.ok(&["ls", "big", "--json", "--limit", "0"]), "[]\n");
}

#[test]
fn stats_estimates_a_large_store_and_counts_exactly_when_asked() {
    let env = Env::new();
    big_group(&env.db(), 60_000, &["a", "b", "c", "d"]);
    {
        let store = RocksStore::open(env.db(), Options::default()).unwrap();
        store.compact().unwrap();
    }
    let estimate = env.run(&["stats", "--json"]).json();
    assert_eq!(estimate["exact"], false);
    let exact = env.run(&["stats", "--exact", "--json"]).json();
    assert_eq!(exact["exact"], true);
    for (what, count) in [("values", 240_000), ("groups", 60_001), ("links", 0)] {
        assert_eq!(exact[what], count, "{what}");
        let about = estimate[what].as_u64().unwrap() as f64;
        assert!(
            (about - count as f64).abs() <= count as f64 * 0.05,
            "{what}: about {about}, exactly {count}"
        );
    }
    let text = env.ok(&["stats"]);
    assert!(
        text.contains("≈") && text.contains("stats --exact"),
        "{text}"
    );
}

#[test]
fn stats_prometheus_prints_valid_exposition_text_with_the_stores_figures() {
    use hbstore_testkit::exposition::{parse_exposition, sample};
    let env = Env::new();
    big_group(&env.db(), 5_000, &["a", "b"]);
    let text = env.ok(&["stats", "--prometheus"]);
    let parsed = parse_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let value = |name: &str, labels: &[(&str, &str)]| {
        sample(&parsed, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?}\n{text}"))
    };
    assert!(value("hbstore_disk_bytes", &[("part", "files")]) > 0.0);
    let values = value("hbstore_entries", &[("kind", "value")]);
    assert!(
        (values - 10_000.0).abs() <= 500.0,
        "about 10,000 values: {values}"
    );
    assert_eq!(
        value(
            "hbstore_info",
            &[
                ("backend", "rocksdb"),
                ("mode", "read-only"),
                ("durability", "process")
            ]
        ),
        1.0
    );
    value("hbstore_compaction_pending_bytes", &[]);
    value("hbstore_write_stall_seconds_total", &[]);
    value("hbstore_memory_budget_bytes", &[("part", "block_cache")]);
    // Not with the flags that print something else.
    for other in ["--json", "--exact"] {
        let run = env.run(&["stats", "--prometheus", other]);
        assert_eq!(run.code, 2, "{other}: {}", run.stderr);
    }
    // Nothing there: an error, not an empty report.
    let nothing = Env::new().run(&["stats", "--prometheus"]);
    assert_ne!(nothing.code, 0);
    assert_ne!(
        nothing.code, 2,
        "a missing store is not a usage error: {}",
        nothing.stderr
    );
    assert!(nothing.stdout.is_empty());
}

#[test]
fn durability_flags_choose_how_writes_are_kept_and_refuse_contradictions() {
    let env = Env::new();
    env.ok(&["--durability", "buffered", "put", "b", "buffered"]);
    env.ok(&[
        "--durability",
        "buffered",
        "--flush-ms",
        "5",
        "put",
        "c",
        "five",
    ]);
    env.ok(&["--durability", "sync", "put", "s", "synced"]);
    env.ok(&["--sync", "put", "t", "synced too"]);
    env.ok(&["--durability", "process", "put", "p", "default"]);
    // A clean exit flushes what a buffered store held.
    for (key, value) in [
        ("b", "buffered"),
        ("c", "five"),
        ("s", "synced"),
        ("p", "default"),
    ] {
        assert_eq!(env.ok(&["get", key]), value);
    }
    for bad in [
        vec!["--durability", "fast", "put", "k", "v"],
        vec!["--flush-ms", "100", "put", "k", "v"],
        vec![
            "--durability",
            "process",
            "--flush-ms",
            "100",
            "put",
            "k",
            "v",
        ],
        vec![
            "--durability",
            "buffered",
            "--flush-ms",
            "0",
            "put",
            "k",
            "v",
        ],
        vec![
            "--durability",
            "buffered",
            "--flush-ms",
            "soon",
            "put",
            "k",
            "v",
        ],
        vec!["--sync", "--durability", "buffered", "put", "k", "v"],
        vec![
            "--cluster",
            "redis://127.0.0.1:1",
            "--durability",
            "sync",
            "get",
            "k",
        ],
    ] {
        let run = env.run(&bad);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
        assert!(!run.stderr.is_empty(), "{bad:?} says why");
    }
    assert_eq!(env.run(&["get", "k"]).code, 1, "no refused write landed");
}

#[test]
fn memory_budget_takes_a_size_and_refuses_anything_else() {
    let env = Env::new();
    env.ok(&["--memory-budget", "64M", "put", "k", "v"]);
    assert_eq!(env.ok(&["--memory-budget", "1G", "get", "k"]), "v");
    assert_eq!(env.ok(&["--memory-budget", "600000000", "get", "k"]), "v");
    for bad in ["lots", "12X", "-5", "", "99999999999999999999G"] {
        let run = env.run(&["--memory-budget", bad, "get", "k"]);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
    }
}
