//! Executing runs: one run's attempts under its lock (claim, heartbeat, stages, retries of
//! transient failures, outputs recorded), and the local worker pool that executes the pending
//! runs of a sweep on threads of this process.

use crate::events::{event, log};
use crate::kind::PreparedRuns;
use crate::ledger::{
    Heartbeat, OUTPUTS, OutputsCheck, RunDir, RunState, RunStatus, host, now, peak_rss_mb,
};
use crate::options::Selection;
use crate::plan::PlannedRun;
use anyhow::{Result, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use prism_core::atomic::{write_atomic, write_json_atomic};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// How runs are executed.
#[derive(Debug, Clone, Copy)]
pub struct Execution {
    /// Which recorded runs are executed again.
    pub selection: Selection,
    /// Attempts per run when a failure is transient (I/O trouble).
    pub max_attempts: usize,
    /// Whether runs train and evaluate a student (`sweep.train`), or stop after the metrics.
    pub train: bool,
    /// Stop starting runs after the first failure.
    pub fail_fast: bool,
}

/// Whether an error is worth retrying at once (I/O trouble), as opposed to a deterministic
/// failure (bad data, NaN loss) that would fail again.
fn transient(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|c| c.downcast_ref::<std::io::Error>().is_some())
}

/// Outcome of trying one run.
pub enum Outcome {
    /// The run finished.
    Done,
    /// The run failed, for this reason.
    Failed(String),
    /// Nothing to do: finished, or another process holds it.
    Skipped,
}

/// The stages of one run, each skipped when its output is in the run's folder.
fn stages(
    prepared: &dyn PreparedRuns,
    run: &PlannedRun,
    dir: &RunDir,
    train: bool,
    stage: &dyn Fn(&str) -> Result<()>,
) -> Result<()> {
    stage("subset")?;
    let ids_path = dir.file("subset.ids");
    if !ids_path.is_file() {
        let (ids, manifest) = prepared.subset(run)?;
        write_json_atomic(&dir.file("subset.json"), &manifest)?;
        write_atomic(&ids_path, (ids.join("\n") + "\n").as_bytes())?;
    }
    let ids: Vec<String> = fs_err::read_to_string(&ids_path)?
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();

    stage("metrics")?;
    let metrics_path = dir.file("metrics.json");
    if !metrics_path.is_file() {
        let values = prepared.metrics(run, &ids)?;
        write_json_atomic(&metrics_path, &values)?;
    }

    if !train {
        return Ok(());
    }
    stage("train")?;
    let eval_path = dir.file("eval.json");
    if !eval_path.is_file() {
        let report = prepared.train_and_evaluate(run, &ids, stage)?;
        write_atomic(&eval_path, &report)?;
    }
    Ok(())
}

/// Executes `run` if it is to be (see [`Selection::wants`]; a finished run whose outputs were
/// damaged is executed again after they are moved aside), under its lock, with retries.
pub fn execute_one(
    prepared: &dyn PreparedRuns,
    run: &PlannedRun,
    sweep_dir: &Path,
    execution: &Execution,
    bar: &ProgressBar,
) -> Result<Outcome> {
    let selection = execution.selection;
    let dir = RunDir::new(sweep_dir, &run.id);
    let Some(_claim) = dir.try_claim()? else {
        log(&dir, "skipped: another process holds the run");
        return Ok(Outcome::Skipped);
    };
    let previous = dir.status();
    // Checked again under the lock: another process may have finished it meanwhile.
    let damaged = match previous.as_ref() {
        Some(p) if p.state == RunState::Done && !selection.rerun => match dir.check_outputs(p) {
            OutputsCheck::Damaged(errors) => errors,
            _ => return Ok(Outcome::Skipped),
        },
        _ => Vec::new(),
    };
    if !damaged.is_empty() {
        let mut files = Vec::new();
        for e in &damaged {
            let path = e.path();
            if path.is_file() {
                prism_core::integrity::quarantine(path)?;
            }
            log(&dir, &format!("damaged output, executing again: {e}"));
            files.push(
                path.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        eprintln!(
            "warning: run {} ({}): {} output(s) damaged or lost since it finished ({}); moved aside to `*.corrupt` and executing it again",
            run.id,
            run.subset,
            files.len(),
            files.join(", ")
        );
        event(
            sweep_dir,
            serde_json::json!({"run": run.id, "state": "damaged", "files": files}),
        );
    } else if !selection.wants(previous.as_ref()) {
        return Ok(Outcome::Skipped);
    }
    if let Some(p) = &previous
        && p.state == RunState::Running
    {
        log(
            &dir,
            &format!(
                "reclaiming: attempt {} died at stage {}",
                p.attempts, p.stage
            ),
        );
    }
    if selection.rerun && previous.as_ref().is_some_and(|p| p.state == RunState::Done) {
        for f in OUTPUTS {
            let _ = std::fs::remove_file(dir.file(f));
        }
    }
    write_json_atomic(&dir.file("run.json"), run)?;
    let mut attempts = previous.as_ref().map_or(0, |p| p.attempts);
    loop {
        attempts += 1;
        let status = RunStatus {
            state: RunState::Running,
            attempts,
            stage: "start".into(),
            heartbeat: now(),
            started: now(),
            seconds: None,
            host: host(),
            pid: std::process::id(),
            error: None,
            outputs: None,
        };
        let beat = Heartbeat::start(dir.clone(), status, Duration::from_secs(15))?;
        log(&dir, &format!("attempt {attempts} started"));
        event(
            sweep_dir,
            serde_json::json!({"run": run.id, "subset": run.subset, "state": "started", "attempt": attempts}),
        );
        let stage = |s: &str| {
            bar.set_message(format!("{} {s}", run.subset));
            log(&dir, &format!("stage {s}"));
            beat.stage(s)
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            stages(prepared, run, &dir, execution.train, &stage)
        }))
        .unwrap_or_else(|panic| {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(anyhow::anyhow!("panic: {why}"))
        });
        match result {
            Ok(()) => {
                let st = beat.finish(RunState::Done, None)?;
                let peak = peak_rss_mb();
                log(
                    &dir,
                    &format!("done (process peak RSS {} MB)", peak.unwrap_or(0)),
                );
                event(
                    sweep_dir,
                    serde_json::json!({"run": run.id, "state": "done", "seconds": st.seconds, "peak_rss_mb": peak}),
                );
                return Ok(Outcome::Done);
            }
            Err(e) => {
                let why = format!("{e:#}");
                let retry = transient(&e) && (attempts as usize) < execution.max_attempts;
                log(&dir, &format!("attempt {attempts} failed: {why}"));
                if retry {
                    drop(beat);
                    std::thread::sleep(Duration::from_secs(2u64.pow(attempts.min(5))));
                    continue;
                }
                beat.finish(RunState::Failed, Some(why.clone()))?;
                event(
                    sweep_dir,
                    serde_json::json!({"run": run.id, "state": "failed", "error": why}),
                );
                return Ok(Outcome::Failed(why));
            }
        }
    }
}

/// Executes `pending` on `workers` threads of this process (0: one per 8 cores), with a
/// progress bar per worker; returns the failed runs' ids and reasons. A run whose bookkeeping
/// cannot even be written (a full disk) fails alone: the pool goes on, and its status, if left
/// `running`, makes the next sweep reclaim it.
pub fn run_pool(
    prepared: &dyn PreparedRuns,
    pending: &[&PlannedRun],
    sweep_dir: &Path,
    execution: &Execution,
    workers: usize,
) -> Result<Vec<(String, String)>> {
    let workers = if workers == 0 {
        (std::thread::available_parallelism()
            .map(|p| p.get())
            .unwrap_or(1)
            / 8)
        .max(1)
    } else {
        workers
    };
    let multi = MultiProgress::new();
    let total = multi.add(ProgressBar::new(pending.len() as u64));
    total.set_style(
        ProgressStyle::with_template(
            "runs {bar:30} {pos}/{len} [{elapsed_precise} < {eta_precise}]",
        )
        .expect("template"),
    );
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = (0..workers.min(pending.len()))
            .map(|w| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_prefix(format!("worker {w}"));
                let (next, stop, failures, total) = (&next, &stop, &failures, &total);
                scope.spawn(move || {
                    loop {
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(run) = pending.get(i) else {
                            return;
                        };
                        let outcome = execute_one(prepared, run, sweep_dir, execution, &bar)
                            .unwrap_or_else(|e| Outcome::Failed(format!("{e:#}")));
                        if let Outcome::Failed(why) = outcome {
                            eprintln!("run {} ({}) failed: {why}", run.id, run.subset);
                            failures.lock().expect("lock").push((run.id.clone(), why));
                            if execution.fail_fast {
                                stop.store(true, Ordering::SeqCst);
                            }
                        }
                        total.inc(1);
                    }
                })
            })
            .collect();
        for h in handles {
            if h.join().is_err() {
                bail!("a worker panicked");
            }
        }
        Ok(())
    })?;
    total.finish_and_clear();
    Ok(failures.into_inner().expect("lock"))
}
