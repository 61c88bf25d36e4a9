//! `prism sweep --launcher slurm` against a real single-node Slurm (Debian's slurmctld,
//! slurmd and munge, started by `tests/slurm/local-cluster.sh start`): a metrics-only sweep of
//! 30 runs on the fetched VitaminC pool becomes one array job, every run is executed exactly
//! once, and the report job runs after the array. Ignored by default (it needs root, the
//! packages and running daemons); `just test-slurm` sets them up and runs it.

mod common;

use common::{cache, experiment_file, prism, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A metrics-only experiment of 30 runs writing into `dir/results`.
fn experiment(dir: &Path) -> PathBuf {
    experiment_file(
        dir,
        "slurm-smoke",
        r#"[data]
pool = "vitaminc"
pool_size = 400
[subsets]
sizes = [30, 60, 90]
seeds = [0, 1, 2, 3, 4]
[[subsets.strategies]]
kind = "random"
[[subsets.strategies]]
kind = "max-diversity"
[sweep]
train = false
metrics = ["distinct-2", "self-bleu", "ngram-entropy-2", "label-entropy"]
"#,
    )
}

/// Whether any of `jobs` is still known to the queue.
fn queued(jobs: &[&str]) -> bool {
    let out = Command::new("squeue")
        .args(["-h", "-o", "%i %T", "-j", &jobs.join(",")])
        .output()
        .expect("squeue runs");
    !String::from_utf8_lossy(&out.stdout).trim().is_empty()
}

#[test]
#[ignore = "needs a running local Slurm: `just test-slurm`"]
fn array_of_30_runs_then_the_report_job() {
    let ping = Command::new("sinfo").args(["-h", "-o", "%t"]).output();
    assert!(
        ping.as_ref().is_ok_and(|o| o.status.success()),
        "no Slurm here: run `tests/slurm/local-cluster.sh start` (or `just test-slurm`)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let exp = experiment(tmp.path());
    let cache = cache();
    let env = [("PRISM_CACHE", cache.to_str().unwrap())];
    let out = prism(
        tmp.path(),
        &[
            "sweep",
            exp.to_str().unwrap(),
            "--launcher",
            "slurm",
            "--slurm-cpus",
            "1",
            "--slurm-parallel",
            "4",
            "--slurm-time",
            "00:10:00",
        ],
        &env,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let jobs: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(jobs["tasks"], 30);
    let (array, report) = (
        jobs["array_job"].as_str().unwrap().to_string(),
        jobs["report_job"].as_str().unwrap().to_string(),
    );
    let start = Instant::now();
    while queued(&[&array, &report]) {
        assert!(
            start.elapsed() < Duration::from_secs(900),
            "jobs {array} and {report} did not finish in 15 minutes"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    let sweep = tmp.path().join("results/slurm-smoke");
    // Every run finished, and each was executed exactly once (the sweep's event log).
    let events = std::fs::read_to_string(sweep.join("events.jsonl")).unwrap();
    let started: Vec<String> = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"]["state"] == "started")
        .map(|e| e["event"]["run"].as_str().unwrap().to_string())
        .collect();
    let unique: std::collections::HashSet<_> = started.iter().collect();
    assert_eq!(started.len(), 30, "runs started: {}", started.len());
    assert_eq!(unique.len(), 30);
    // One task log per array index.
    let logs = std::fs::read_dir(sweep.join("slurm"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("task-"))
        .count();
    assert_eq!(logs, 30);
    // The report job ran after the array and saw all 30 runs.
    let report_log =
        std::fs::read_to_string(sweep.join("slurm").join(format!("report-{report}.out"))).unwrap();
    assert!(
        report_log.contains("30 of 30 runs finished"),
        "{report_log}"
    );
    let table = std::fs::read_to_string(sweep.join("runs.csv")).unwrap();
    assert_eq!(table.lines().count(), 31);
    assert!(sweep.join("report/report.json").is_file());
}
