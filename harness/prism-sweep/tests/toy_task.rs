//! The runner with a task it has never heard of: a toy `RunKind` whose "student" scores the
//! share of even ids in its subset. No model, no data files: what is tested is the runner
//! alone (plan, stages, resume, failures, the runs table).

use anyhow::{Result, bail};
use prism_core::Session;
use prism_sweep::{Local, PlannedRun, PreparedRuns, RunKind, Sweep, SweepOptions, SweepOutcome};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts the stages it computes, and fails every run of size `fail_size`.
struct Toy {
    fail_size: Option<usize>,
    computed: AtomicUsize,
}

impl RunKind for Toy {
    fn input_hashes(&self, _: &Session) -> Result<serde_json::Value> {
        Ok(serde_json::json!({"toy": "v1"}))
    }
    fn code_versions(&self) -> serde_json::Value {
        serde_json::json!({"toy": 1})
    }
    fn id_test(&self) -> &str {
        "toy_id"
    }
    fn prepare<'a>(
        &'a self,
        _: &'a Session,
        _: &[&PlannedRun],
        _: &Path,
        _: &serde_json::Value,
    ) -> Result<Box<dyn PreparedRuns + 'a>> {
        Ok(Box::new(ToyRuns(self)))
    }
}

struct ToyRuns<'a>(&'a Toy);

impl PreparedRuns for ToyRuns<'_> {
    fn subset(&self, run: &PlannedRun) -> Result<(Vec<String>, serde_json::Value)> {
        self.0.computed.fetch_add(1, Ordering::SeqCst);
        let ids: Vec<String> = (0..run.size)
            .map(|i| format!("ex{}", i as u64 * (run.seed + 1)))
            .collect();
        let manifest = serde_json::json!({"controls": {"distinct_groups": run.size / 2}});
        Ok((ids, manifest))
    }
    fn metrics(&self, _: &PlannedRun, ids: &[String]) -> Result<serde_json::Value> {
        self.0.computed.fetch_add(1, Ordering::SeqCst);
        Ok(
            serde_json::json!({"values": {"count": ids.len(), "broken": null}, "errors": {"broken": "no input"}}),
        )
    }
    fn train_and_evaluate(
        &self,
        run: &PlannedRun,
        ids: &[String],
        _: &dyn Fn(&str) -> Result<()>,
    ) -> Result<Vec<u8>> {
        self.0.computed.fetch_add(1, Ordering::SeqCst);
        if Some(run.size) == self.0.fail_size {
            bail!("the toy student diverged");
        }
        let even = ids
            .iter()
            .filter(|id| id.trim_start_matches("ex").parse::<u64>().unwrap() % 2 == 0)
            .count() as f64
            / ids.len() as f64;
        let eval = serde_json::json!({
            "train_seconds": 1.5,
            "eval": {
                "toy_id": {"accuracy": even, "majority": 0.5},
                "bench_a": {"accuracy": even / 2.0, "majority": 0.25},
            }
        });
        Ok(serde_json::to_vec_pretty(&eval)?)
    }
}

fn session(results: &Path) -> Session {
    let overrides = [
        "name=toy".to_string(),
        format!("paths.results={}", results.display()),
        "data.benchmarks=[\"bench_a\"]".into(),
        "subsets.sizes=[4,6,8]".into(),
        "subsets.seeds=[0,1]".into(),
        "sweep.workers=2".into(),
    ];
    Session::load(None, &overrides).expect("the toy config resolves")
}

fn options() -> SweepOptions {
    SweepOptions {
        report: false,
        ..Default::default()
    }
}

#[test]
fn a_task_the_runner_does_not_know_runs_resumes_and_fills_the_runs_table() {
    let dir = tempfile::tempdir().unwrap();
    let session = session(dir.path());
    let broken = Toy {
        fail_size: Some(8),
        computed: AtomicUsize::new(0),
    };
    let sweep = Sweep::plan(&session, &broken).unwrap();
    assert_eq!(sweep.runs.len(), 6, "3 sizes × 2 seeds");
    let SweepOutcome::Finished { done, failed, .. } = sweep.run(&options(), &Local).unwrap() else {
        panic!("a local sweep finishes here");
    };
    assert_eq!((done, failed.len()), (4, 2), "the failing runs fail alone");
    assert!(failed.iter().all(|(_, why)| why.contains("diverged")));
    assert_eq!(broken.computed.load(Ordering::SeqCst), 6 * 3);

    // Resumed with the fault gone: only the failed runs' missing stage is computed again (their
    // subsets and metrics are on disk), and only with --retry-failed.
    let fixed = Toy {
        fail_size: None,
        computed: AtomicUsize::new(0),
    };
    let sweep = Sweep::plan(&session, &fixed).unwrap();
    sweep.run(&options(), &Local).unwrap();
    assert_eq!(
        fixed.computed.load(Ordering::SeqCst),
        0,
        "failed runs wait for --retry-failed"
    );
    let mut retry = options();
    retry.selection.retry_failed = true;
    let SweepOutcome::Finished { done, failed, .. } = sweep.run(&retry, &Local).unwrap() else {
        panic!("a local sweep finishes here");
    };
    assert_eq!((done, failed.len()), (6, 0));
    assert_eq!(
        fixed.computed.load(Ordering::SeqCst),
        2,
        "one train stage per failed run"
    );

    // The runs table: the runner's columns, read back by the report's reader.
    let table = prism_report::RunsTable::read(&dir.path().join("toy/runs.csv")).unwrap();
    assert_eq!(table.len(), 6);
    assert_eq!(table.metrics["count"], table.scale);
    assert!(
        table.metrics["broken"].iter().all(|v| v.is_nan()),
        "a failed metric is NA"
    );
    for i in 0..6 {
        assert_eq!(table.ood_mean[i], table.benches["bench_a"][i]);
        assert_eq!(table.id_acc[i] / 2.0, table.benches["bench_a"][i]);
        assert_eq!(table.distinct_groups[i], (table.scale[i] / 2.0).floor());
    }
    // Seed 0 uses ids 0..n (half even); seed 1 uses even ids only.
    let seed1: Vec<f64> = (0..6)
        .filter(|&i| table.seed[i] == "1")
        .map(|i| table.id_acc[i])
        .collect();
    assert_eq!(seed1, [1.0, 1.0, 1.0]);
}

#[test]
fn an_index_outside_the_matrix_is_the_users_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let session = session(dir.path());
    let toy = Toy {
        fail_size: None,
        computed: AtomicUsize::new(0),
    };
    let sweep = Sweep::plan(&session, &toy).unwrap();
    let mut one = options();
    one.index = Some(6);
    let err = sweep.run(&one, &Local).err().expect("index 6 of 6 runs");
    let typed = err
        .downcast_ref::<prism_sweep::SweepError>()
        .expect("typed");
    assert_eq!(typed.to_string(), "--index 6: the matrix has 6 runs");
    one.index = Some(5);
    assert!(matches!(sweep.run(&one, &Local).unwrap(), SweepOutcome::Task(f) if f.is_empty()));
    assert_eq!(
        toy.computed.load(Ordering::SeqCst),
        3,
        "one run, three stages"
    );
}
