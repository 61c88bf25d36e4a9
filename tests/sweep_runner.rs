//! The sweep runner on a real, cheap metrics-only sweep of the fetched VitaminC pool (no
//! student): resume after `kill -9`, two concurrent sweeps, and a rerun that does nothing.
//! Needs `prism data fetch` (which `just test` runs first).

mod common;

use common::{cache, experiment_file, prism, stderr};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A metrics-only experiment of 120 runs writing into `dir/results`.
fn experiment(dir: &Path) -> PathBuf {
    experiment_file(
        dir,
        "runner",
        r#"[data]
pool = "vitaminc"
pool_size = 400
[subsets]
sizes = [30, 60, 90, 120]
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
[[subsets.strategies]]
kind = "random"
[[subsets.strategies]]
kind = "max-diversity"
[sweep]
train = false
metrics = ["distinct-2", "compression-ratio", "ngram-entropy-2", "ngram-vendi", "label-entropy"]
"#,
    )
}

fn sweep_command(exp: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prism"));
    cmd.args(["sweep", exp.to_str().unwrap(), "--no-report"])
        .env("PRISM_CACHE", cache())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

fn run_to_end(exp: &Path) {
    let dir = exp.parent().unwrap();
    let out = prism(
        dir,
        &["sweep", exp.to_str().unwrap(), "--no-report"],
        &[("PRISM_CACHE", cache().to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Every run folder of a finished sweep: its JSON files parse and its ids file is whole.
fn check_files(sweep: &Path) -> usize {
    let mut runs = 0;
    for e in std::fs::read_dir(sweep).unwrap().flatten() {
        let p = e.path();
        if !p.join("run.json").is_file() {
            continue;
        }
        runs += 1;
        for f in ["run.json", "status.json", "metrics.json", "subset.json"] {
            let text = std::fs::read_to_string(p.join(f))
                .unwrap_or_else(|e| panic!("{}/{f}: {e}", p.display()));
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|e| panic!("{}/{f} is corrupt: {e}", p.display()));
        }
        let run: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p.join("run.json")).unwrap()).unwrap();
        let ids = std::fs::read_to_string(p.join("subset.ids")).unwrap();
        assert_eq!(
            ids.lines().count() as u64,
            run["size"].as_u64().unwrap(),
            "{}",
            p.display()
        );
    }
    runs
}

/// How many times each run started, from the run logs.
fn starts(sweep: &Path) -> Vec<usize> {
    std::fs::read_dir(sweep)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("run.json").is_file())
        .map(|e| {
            std::fs::read_to_string(e.path().join("log.txt"))
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains(" started"))
                .count()
        })
        .collect()
}

#[test]
fn a_sweep_killed_three_times_finishes_with_the_results_of_an_uninterrupted_one() {
    if !common::vitaminc_is_fetched() {
        return;
    }
    let whole = tempfile::tempdir().unwrap();
    let exp = experiment(whole.path());
    run_to_end(&exp);
    let sweep = whole.path().join("results/runner");
    assert_eq!(check_files(&sweep), 120);

    let killed = tempfile::tempdir().unwrap();
    let exp_k = experiment(killed.path());
    let sweep_k = killed.path().join("results/runner");
    let started = |d: &Path| {
        std::fs::read_dir(d)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().join("status.json").is_file())
                    .count()
            })
            .unwrap_or(0)
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for _ in 0..3 {
        // Kill at a random point while runs are executing: after 5 to 30 more runs started.
        let target = started(&sweep_k) + rng.random_range(5..30);
        let mut child = sweep_command(&exp_k).spawn().unwrap();
        while started(&sweep_k) < target && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(rng.random_range(1..20)));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        eprintln!("killed with {} runs started", started(&sweep_k));
    }
    run_to_end(&exp_k);
    assert_eq!(check_files(&sweep_k), 120);
    let table = |d: &Path| std::fs::read_to_string(d.join("runs.csv")).unwrap();
    assert_eq!(
        table(&sweep),
        table(&sweep_k),
        "the killed sweep's runs table differs"
    );
}

#[test]
fn two_concurrent_sweeps_execute_every_run_exactly_once_and_a_rerun_does_nothing() {
    if !common::vitaminc_is_fetched() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    let a = sweep_command(&exp).spawn().unwrap();
    let b = sweep_command(&exp).spawn().unwrap();
    for mut c in [a, b] {
        assert!(c.wait().unwrap().success());
    }
    let sweep = dir.path().join("results/runner");
    let counts = starts(&sweep);
    assert_eq!(counts.len(), 120);
    assert!(
        counts.iter().all(|&n| n == 1),
        "start counts per run: {counts:?}"
    );
    let pids: std::collections::HashSet<String> =
        std::fs::read_to_string(sweep.join("events.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"started\""))
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["pid"].to_string())
            .collect();
    eprintln!("runs were executed by {} processes", pids.len());

    let t = std::time::Instant::now();
    run_to_end(&exp);
    eprintln!("rerun took {:.1} s", t.elapsed().as_secs_f64());
    assert!(
        starts(&sweep).iter().all(|&n| n == 1),
        "the rerun executed something"
    );
}

/// `prism export mlflow` of a finished sweep: MLflow's file-store layout, one run folder per
/// run with its params, metrics (`<ms> <value> <step>` lines) and tags. (MLflow's own client
/// reads it back in `just test-mlflow`.)
#[test]
fn mlflow_export_writes_a_file_store_with_every_run() {
    if !common::vitaminc_is_fetched() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    run_to_end(&exp);
    let sweep = dir.path().join("results/runner");
    let out = prism(
        dir.path(),
        &["export", "mlflow", sweep.to_str().unwrap()],
        &[("PRISM_CACHE", cache().to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let store = sweep.join("mlruns");
    assert!(store.join("0/meta.yaml").is_file(), "no Default experiment");
    let experiments: Vec<PathBuf> = std::fs::read_dir(&store)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap() != "0")
        .collect();
    assert_eq!(experiments.len(), 1);
    let meta = std::fs::read_to_string(experiments[0].join("meta.yaml")).unwrap();
    assert!(meta.contains("name: 'runner'"), "{meta}");
    let runs: Vec<PathBuf> = std::fs::read_dir(&experiments[0])
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(runs.len(), 120);
    let table = std::fs::read_to_string(sweep.join("runs.csv")).unwrap();
    for run in &runs {
        let read = |f: &str| std::fs::read_to_string(run.join(f)).unwrap();
        assert!(read("meta.yaml").contains("status: 3"), "not FINISHED");
        let id = read("tags/prism.run_id");
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap_or_else(|| panic!("run {id} not in runs.csv"));
        assert!(row.contains(&format!(",{},", read("params/size"))));
        let line = read("metrics/metric.distinct-2");
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.len(), 3, "{line}");
        let value: f64 = fields[1].parse().unwrap();
        assert!((0.0..=1.0).contains(&value));
    }
}

/// Two random 12-example subsets of a 200-example pool sample: the head of the small
/// experiments below.
const TWO_RANDOM_SUBSETS: &str = r#"[data]
pool = "vitaminc"
pool_size = 200
[subsets]
sizes = [12]
seeds = [0, 1]
[[subsets.strategies]]
kind = "random"
"#;

/// A tiny trained sweep `name` in `dir` on random subsets with seeds `subset_seeds`: 1 epoch
/// at batch 4 and length 32, 4 examples per evaluation set; `train` and `sweep` add keys to
/// those sections.
fn tiny_trained_experiment(
    dir: &Path,
    name: &str,
    subset_seeds: &str,
    train: &str,
    sweep: &str,
) -> PathBuf {
    let head = TWO_RANDOM_SUBSETS.replace("seeds = [0, 1]", &format!("seeds = [{subset_seeds}]"));
    experiment_file(
        dir,
        name,
        &format!(
            "{head}[train]\nepochs = 1\nbatch_size = 4\nmax_len = 32\n{train}\n[sweep]\neval_limit = 4\n{sweep}\n"
        ),
    )
}

/// Runs `prism sweep <exp> <flags>` on each experiment in turn, against the shared cache.
fn sweep_each(dir: &Path, experiments: &[&PathBuf], flags: &[&str]) {
    let cache = cache();
    for exp in experiments {
        let mut args = vec!["sweep", exp.to_str().unwrap()];
        args.extend(flags);
        let out = prism(dir, &args, &[("PRISM_CACHE", cache.to_str().unwrap())]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
}

/// The train-and-evaluate stage is cached by content across runs and sweeps: a sweep whose
/// run ids changed only because its metric list did reuses the students already trained on
/// the same subsets, with identical results. (A random training seed keeps the key new on
/// every test run, so the first sweep really trains.)
#[test]
fn a_changed_metric_list_reuses_the_trained_students() {
    if !common::vitaminc_is_fetched() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let seed = common::fresh_seed();
    let write = |name: &str, metrics: &str| {
        tiny_trained_experiment(
            dir.path(),
            name,
            "0, 1",
            &format!("seed = {seed}"),
            &format!("metrics = [{metrics}]"),
        )
    };
    let first = write("first", r#""distinct-2""#);
    let second = write("second", r#""distinct-2", "self-bleu""#);
    sweep_each(dir.path(), &[&first, &second], &["--no-report"]);
    let runs = |name: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir.path().join("results").join(name))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("run.json").is_file())
            .collect();
        v.sort_by_key(|p| std::fs::read_to_string(p.join("subset.ids")).unwrap());
        v
    };
    let (a, b) = (runs("first"), runs("second"));
    assert_eq!((a.len(), b.len()), (2, 2));
    for (ra, rb) in a.iter().zip(&b) {
        assert_ne!(
            ra.file_name(),
            rb.file_name(),
            "the metric list is part of a run's id"
        );
        let log = |p: &Path| std::fs::read_to_string(p.join("log.txt")).unwrap();
        assert!(!log(ra).contains("train (cached)"), "{}", log(ra));
        assert!(log(rb).contains("train (cached)"), "{}", log(rb));
        let eval = |p: &Path| std::fs::read_to_string(p.join("eval.json")).unwrap();
        assert_eq!(eval(ra), eval(rb));
    }
}

/// `sweep.train_seeds`: every subset is built once and trained once per seed; each subset's
/// students share its ids and metrics and differ in training; the runs table has a row per
/// student with its `train_seed`, and the report averages them into one row per subset and
/// states the seed noise. The students of seed 0 are the ones a single-seed sweep trains.
#[test]
fn training_seeds_give_several_students_per_subset_and_the_report_averages_them() {
    if !common::vitaminc_is_fetched() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, train_seeds: &str| {
        let sweep = format!("metrics = [\"distinct-2\"]\n{train_seeds}");
        tiny_trained_experiment(dir.path(), name, "0, 1, 2", "", &sweep)
    };
    let seeded = write("seeded", "train_seeds = [0, 1]");
    let single = write("single", "");
    sweep_each(dir.path(), &[&seeded, &single], &[]);
    let sweep = dir.path().join("results/seeded");
    let read = |run: &str, file: &str| std::fs::read_to_string(sweep.join(run).join(file)).unwrap();
    let table = std::fs::read_to_string(sweep.join("runs.csv")).unwrap();
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 6, "3 subsets x 2 training seeds");
    for pair in rows.chunks(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert_eq!(a[col("subset")], b[col("subset")]);
        assert_eq!(
            (a[col("train_seed")].as_str(), b[col("train_seed")].as_str()),
            ("0", "1")
        );
        let (ra, rb) = (&a[col("run_id")], &b[col("run_id")]);
        assert_eq!(read(ra, "subset.ids"), read(rb, "subset.ids"));
        assert_eq!(a[col("metric.distinct-2")], b[col("metric.distinct-2")]);
        let summary = |run: &str| {
            let eval: serde_json::Value = serde_json::from_str(&read(run, "eval.json")).unwrap();
            eval["summary"].to_string()
        };
        assert_ne!(
            summary(ra),
            summary(rb),
            "another seed trains another student"
        );
    }
    // Seed 0's runs are the single-seed sweep's runs: same ids.
    let single_table = std::fs::read_to_string(dir.path().join("results/single/runs.csv")).unwrap();
    for row in rows.iter().filter(|r| r[col("train_seed")] == "0") {
        assert!(single_table.contains(&row[col("run_id")]), "{single_table}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sweep.join("report/report.json")).unwrap())
            .unwrap();
    assert_eq!(
        (report["runs"].as_u64(), report["students"].as_u64()),
        (Some(3), Some(6))
    );
    assert_eq!(report["seed_noise"]["subsets_with_seeds"], 3);
    // Every evaluation sample's majority rate is in the table, and the report's diagnostics
    // judge each set's headroom with it and state the smallest detectable ρ.
    for b in ["id_majority", "majority.hans", "majority.mnli_matched"] {
        let rates: Vec<&str> = rows.iter().map(|r| r[col(b)].as_str()).collect();
        assert!(rates[0].parse::<f64>().is_ok(), "{b}: {rates:?}");
        assert!(rates.iter().all(|r| *r == rates[0]), "one sample: {b}");
    }
    let diagnostics = &report["diagnostics"];
    assert_eq!(diagnostics["subsets"], 3);
    assert_eq!(diagnostics["headroom"][0]["name"], "id");
    assert!(
        diagnostics["min_detectable_rho"].is_null(),
        "n = 3: undefined"
    );
    assert!(
        diagnostics["headroom"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["majority"].as_f64().is_some()),
        "{diagnostics}"
    );
    // A sweep run under another name is found by that name.
    sweep_each(
        dir.path(),
        &[&single],
        &["--set", "name=renamed", "--no-report"],
    );
    let status = prism(dir.path(), &["status", "renamed"], &[]);
    assert!(status.status.success(), "{}", stderr(&status));
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("results/renamed") && text.contains("done"),
        "{text}"
    );
    assert_eq!(report["metrics"]["distinct-2"]["n"], 3);
    assert_eq!(
        report["metrics"]["distinct-2"]["by_train_seed"]["1"]["n"],
        3
    );
    let md = std::fs::read_to_string(sweep.join("report/report.md")).unwrap();
    assert!(
        md.contains("3 subsets (6 students")
            && md.contains("## Diagnostics: what this sweep can detect")
            && md.contains("Training-seed noise")
            && md.contains("ρ with each training seed's students alone"),
        "{md}"
    );
}

/// Run folders of an older plan (here: another metric list) are reported, then moved aside by
/// `--prune`, not deleted; the current runs stay where they are and nothing is left to report.
#[test]
fn prune_moves_the_run_folders_of_an_older_plan_aside() {
    if !common::vitaminc_is_fetched() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let write = |metrics: &str| {
        experiment_file(
            dir.path(),
            "pruned",
            &format!(
                r#"{TWO_RANDOM_SUBSETS}[sweep]
train = false
metrics = [{metrics}]
"#
            ),
        )
    };
    let cache = cache();
    let env = [("PRISM_CACHE", cache.to_str().unwrap())];
    let sweep = |exp: &Path, extra: &[&str]| {
        let mut args = vec!["sweep", exp.to_str().unwrap(), "--no-report"];
        args.extend(extra);
        let out = prism(dir.path(), &args, &env);
        assert!(out.status.success(), "{}", stderr(&out));
        stderr(&out)
    };
    let results = dir.path().join("results/pruned");
    let runs = |folder: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .flatten()
            .filter(|e| e.path().join("run.json").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    sweep(&write(r#""distinct-2""#), &[]);
    let old = runs(&results);
    assert_eq!(old.len(), 2);
    let exp = write(r#""distinct-2", "compression-ratio""#);
    let said = sweep(&exp, &[]);
    assert!(
        said.contains("2 run folders") && said.contains("--prune"),
        "{said}"
    );
    let current = runs(&results);
    assert_eq!(current.len(), 4);
    let said = sweep(&exp, &["--prune"]);
    assert!(said.contains("moved 2 run folders"), "{said}");
    assert_eq!(runs(&results.join("stale")), old);
    let kept: Vec<String> = current.into_iter().filter(|r| !old.contains(r)).collect();
    assert_eq!(runs(&results), kept);
    // Every finished run logs the process's peak memory so far (which stage grew it).
    let log = std::fs::read_to_string(results.join(&kept[0]).join("log.txt")).unwrap();
    assert!(log.contains("done (process peak RSS "), "{log}");
    let said = sweep(&exp, &[]);
    assert!(!said.contains("belong to no run"), "{said}");
}
