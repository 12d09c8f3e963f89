//! `hbstore-bench` end to end, on the built binary: the scale run at a
//! small size (every figure there, the tool timed on the store, the
//! scratch directory left empty), its bad arguments, the cluster run on a
//! local cluster, and the help.

use std::path::PathBuf;
use std::process::{Command, Output};

fn bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hbstore-bench"))
}

/// Runs `command`, which must succeed, and parses its JSON output.
fn json_of(command: &mut Command) -> serde_json::Value {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    json(&output)
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The `hbstore` tool beside the benchmark, which `--scale` times: built
/// if this test run did not build it already.
fn ensure_the_tool_is_built() {
    let tool = PathBuf::from(env!("CARGO_BIN_EXE_hbstore-bench"))
        .with_file_name(format!("hbstore{}", std::env::consts::EXE_SUFFIX));
    if tool.exists() {
        return;
    }
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "hbstore-cli", "--bin", "hbstore"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the hbstore tool");
}

#[test]
fn scale_runs_small_and_refuses_bad_arguments() {
    ensure_the_tool_is_built();
    let scratch = tempfile::tempdir().unwrap();
    let (report, svg) = run_with_chart(&["--scale", "--entries", "2000"], scratch.path());
    assert_chart(
        &svg,
        &[
            "Writes, a field per write",
            "Whole-message reads",
            "Bytes on disk",
            "lmdb",
        ],
    );
    let rounds = report["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 5);
    for round in rounds {
        for store in round.as_array().unwrap() {
            assert!(store["writes_per_sec"].as_f64().unwrap() > 0.0);
            assert!(store["field_reads_per_sec"].as_f64().unwrap() > 0.0);
            assert!(store["bytes"].as_u64().unwrap() > 0);
        }
    }
    assert_eq!(rounds[4][0]["entries"], 2000);
    assert_eq!(report["commands"]["ls_root_lines"], 500);
    assert!(report["commands"]["get_ms"].as_f64().unwrap() > 0.0);
    // The run cleans up after itself.
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);

    for bad in [
        &["--scale", "--entries", "0"][..],
        &["--entries", "1000"],
        &["--scale", "--quick"],
        &["--scale", "--entries", "many"],
        &["--scale-worker", "hbstore"],
        &["--scale-worker", "redis", "--dir", "x"],
        &["--only", "0"],
        &["--only", "99"],
        &["--repeats", "0"],
        &["--compression", "brotli"],
    ] {
        let output = bench().args(bad).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn the_small_bench_prints_every_chosen_workload() {
    let scratch = tempfile::tempdir().unwrap();
    let (report, svg) = run_with_chart(&["--quick", "--only", "1,2"], scratch.path());
    assert_chart(
        &svg,
        &[
            "1 key read",
            "2 list of a 10-child group",
            "÷ LMDB",
            "÷ raw RocksDB",
        ],
    );
    // A chart that cannot be written is refused before the run, naming
    // the file.
    let output = bench()
        .args([
            "--quick",
            "--only",
            "1",
            "--svg",
            "/nonexistent/dir/chart.svg",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("/nonexistent/dir/chart.svg"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = report["rows"].as_array().expect("rows");
    assert!(!rows.is_empty());
    for row in rows {
        let workload = row["number"].as_u64().unwrap();
        assert!(workload == 1 || workload == 2, "{row}");
        assert!(row["hbstore"].as_f64().unwrap() > 0.0, "{row}");
    }
}

/// Runs the benchmark with `args` in `scratch`, its JSON and its chart
/// (drawn outside `scratch`, which the run must leave empty).
fn run_with_chart(args: &[&str], scratch: &std::path::Path) -> (serde_json::Value, String) {
    let charts = tempfile::tempdir().unwrap();
    let chart = charts.path().join("chart.svg");
    let report = json_of(
        bench()
            .args(args)
            .args(["--json", "--svg"])
            .arg(&chart)
            .arg("--dir")
            .arg(scratch),
    );
    (report, std::fs::read_to_string(&chart).unwrap())
}

/// An SVG document with a drawing in it and every one of `texts`.
fn assert_chart(svg: &str, texts: &[&str]) {
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(
        svg.contains("<polyline") || svg.contains("<rect"),
        "something drawn"
    );
    for text in texts {
        assert!(svg.contains(text), "{text:?} missing from the chart");
    }
}

#[test]
fn on_a_local_cluster_it_prints_both_columns() {
    let cluster = hbstore_testkit::LocalCluster::start()
        .expect("a local Redis cluster (./dev test installs redis-server)");
    let rows = json_of(bench().args(["--cluster", &cluster.address(), "--quick", "--json"]));
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 12, "4 workloads x 3 thread counts");
    for row in rows {
        assert!(row["hbstore_ops"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["plain_ops"].as_f64().unwrap() > 0.0, "{row}");
    }
}

#[test]
fn help_has_examples() {
    let output = bench().arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Example"), "{text}");
    assert!(text.contains("--scale"), "{text}");
}
