//! The runs table of a sweep, rebuilt from its run folders (the folders are the truth; the
//! table is a view). Each finished run's outputs are checked against the hashes recorded when
//! it finished, then read into a [`RunRecord`]; `prism-report` lays the records out.

use crate::ledger::{OutputsCheck, RunDir, RunState};
use crate::plan::PlannedRun;
use anyhow::{Context, Result, bail};
use prism_core::config::schema::{ExperimentConfig, StrategySpec};
use prism_report::{RunRecord, RunsSchema, write_runs};
use std::collections::BTreeMap;
use std::path::Path;

/// One finished run's row, read from its folder (`metrics.json`, `eval.json`, `subset.json`).
fn record(run: &PlannedRun, dir: &RunDir, train: bool) -> Result<RunRecord> {
    let read = |f: &str| -> Result<serde_json::Value> {
        let p = dir.file(f);
        if f == "eval.json" && !train {
            return Ok(serde_json::json!({}));
        }
        serde_json::from_str(&fs_err::read_to_string(&p)?)
            .with_context(|| format!("`{}`", p.display()))
    };
    let (metrics, eval, subset) = (
        read("metrics.json")?,
        read("eval.json")?,
        read("subset.json")?,
    );
    let per_set = |field: &str| -> BTreeMap<String, Option<f64>> {
        eval["eval"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(set, scores)| (set.clone(), scores[field].as_f64()))
            .collect()
    };
    Ok(RunRecord {
        run_id: run.id.clone(),
        scale: run.size,
        strategy: run.strategy.clone(),
        seed: run.seed,
        train_seed: run.train_seed,
        subset: run.subset.clone(),
        metrics: metrics["values"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, v)| (name.clone(), v.as_f64()))
            .collect(),
        accuracy: per_set("accuracy"),
        majority: per_set("majority"),
        train_seconds: eval["train_seconds"].as_f64(),
        // The subset's distinct pages (or claims), as measured when it was built.
        distinct_groups: subset["controls"]["distinct_groups"].as_f64(),
        // The ground-truth diversity axis: pages (or claims) a `groups` subset is drawn from.
        groups_k: match run.spec {
            StrategySpec::Groups { k, .. } => Some(k),
            _ => None,
        },
        // Members the gradient metrics read, when they read a draw of the subset.
        gradient_rows: metrics["gradient_rows"].as_u64().map(|n| n as usize),
    })
}

/// Rebuilds `runs.csv` and `runs.parquet` in `sweep_dir` from the folders of `runs`
/// (finished runs only; a finished run whose outputs no longer match their hashes is an error
/// naming the file); returns how many runs it holds.
pub fn write_runs_table(
    cfg: &ExperimentConfig,
    id_test: &str,
    runs: &[PlannedRun],
    sweep_dir: &Path,
) -> Result<usize> {
    let mut records = Vec::new();
    for run in runs {
        let dir = RunDir::new(sweep_dir, &run.id);
        if let Some(status) = dir.status().filter(|s| s.state == RunState::Done) {
            if let OutputsCheck::Damaged(errors) = dir.check_outputs(&status) {
                bail!(
                    "run {} ({}): {}\nhint: `prism sweep` (without --collect) executes it again",
                    run.id,
                    run.subset,
                    errors[0]
                );
            }
            records.push(record(run, &dir, cfg.sweep.train)?);
        }
    }
    let ood = cfg.ood_aggregate();
    let schema = RunsSchema {
        benchmarks: &cfg.data.benchmarks,
        id_test,
        ood: &ood,
    };
    write_runs(
        &records,
        &schema,
        &sweep_dir.join("runs.csv"),
        &sweep_dir.join("runs.parquet"),
    )
    .with_context(|| format!("writing the runs table in `{}`", sweep_dir.display()))?;
    Ok(records.len())
}
