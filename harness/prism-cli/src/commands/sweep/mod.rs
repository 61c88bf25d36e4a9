//! `prism sweep` and `prism status`: run an experiment's matrix (subset → metrics → train →
//! evaluate per run), resumably, then rebuild the runs table and write the report.

pub mod export;
pub mod ledger;
mod nli;
mod plan;
mod slurm;

use crate::context::{ConfigArgs, Session};
use crate::exit::UsageError;
use anyhow::{Context, Result, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use ledger::{
    Heartbeat, OUTPUTS, OutputsCheck, RunDir, RunState, RunStatus, host, now, peak_rss_mb,
};
use plan::PlannedRun;
use prism_core::config::schema::StrategySpec;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Experiment name (`experiments/<name>.toml`) or path.
    experiment: Option<String>,
    /// Print the run matrix without running it.
    #[arg(long)]
    dry_run: bool,
    /// With --dry-run: a JSON array, one object per run with its id.
    #[arg(long)]
    json: bool,
    /// Runs executed at once (default: sweep.workers).
    #[arg(long)]
    workers: Option<usize>,
    /// Rerun runs recorded as failed.
    #[arg(long)]
    retry_failed: bool,
    /// Rerun every run, finished or not.
    #[arg(long)]
    rerun: bool,
    /// Stop at the first failed run.
    #[arg(long)]
    fail_fast: bool,
    /// Execute only run INDEX of the matrix (a Slurm array task); no ledger or report.
    #[arg(long)]
    index: Option<usize>,
    /// Do not write the report at the end.
    #[arg(long)]
    no_report: bool,
    /// Move run folders that no run of the current plan names (results of older code or
    /// config, which the report no longer reads) into `<sweep>/stale/`, kept, out of the way.
    #[arg(long, conflicts_with = "index")]
    prune: bool,
    /// Execute nothing: rebuild the runs table from the run folders and write the report
    /// (what the Slurm report job does).
    #[arg(long, conflicts_with_all = ["index", "dry_run"])]
    collect: bool,
    /// Where runs execute: `local` (worker threads in this process) or `slurm` (one sbatch
    /// array over the pending runs, then a report job).
    #[arg(long, value_enum, default_value_t = Launcher::Local)]
    launcher: Launcher,
    #[command(flatten)]
    slurm: slurm::SlurmArgs,
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Experiment name or path (its results folder is the sweep), or a sweep folder.
    sweep: String,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Where a sweep's runs execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Launcher {
    /// Worker threads in this process.
    Local,
    /// A Slurm array job, one task per pending run, and a report job after it.
    Slurm,
}

impl SweepArgs {
    /// Whether a run with this status is to be executed: never started, interrupted (its
    /// process died while running), failed with `--retry-failed`, or anything with `--rerun`.
    fn wants(&self, status: Option<&RunStatus>) -> bool {
        match status {
            None => true,
            Some(s) => {
                self.rerun
                    || s.state == RunState::Running
                    || (s.state == RunState::Failed && self.retry_failed)
            }
        }
    }
}

/// Appends one JSON line to the sweep's event log (`events.jsonl`; O_APPEND writes of one
/// short line do not interleave between processes).
fn event(sweep_dir: &Path, value: serde_json::Value) {
    let line = serde_json::json!({"time": now(), "host": host(), "pid": std::process::id(), "event": value});
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(sweep_dir.join("events.jsonl"))
    {
        // One write call per line: O_APPEND then keeps lines of concurrent processes whole.
        let _ = f.write_all(format!("{line}\n").as_bytes());
    }
}

/// In a Slurm task (`--index`): on SIGTERM or SIGUSR1 (the pre-timeout signal, forwarded by
/// the batch script) record the preemption in the run's log and the sweep's event log, then
/// exit with 143. Everything the run finished so far (its subset, its metrics) is already on
/// disk, and its lock dies with the process, so the requeued task reclaims the run and
/// resumes from the first unfinished stage.
fn stop_on_signal(sweep_dir: &Path, index: usize, run_id: &str) -> Result<()> {
    use signal_hook::consts::{SIGTERM, SIGUSR1};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGUSR1])?;
    let (sweep_dir, run_id) = (sweep_dir.to_path_buf(), run_id.to_string());
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let name = if sig == SIGUSR1 { "SIGUSR1" } else { "SIGTERM" };
            log(
                &RunDir::new(&sweep_dir, &run_id),
                &format!("preempted by {name}: stopping for requeue"),
            );
            event(
                &sweep_dir,
                serde_json::json!({"run": run_id, "index": index, "state": "preempted", "signal": name}),
            );
            std::process::exit(143);
        }
    });
    Ok(())
}

/// Appends a line to a run's `log.txt`.
fn log(dir: &RunDir, message: &str) {
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.file("log.txt"))
    {
        let _ = f.write_all(format!("{} pid {} {message}\n", now(), std::process::id()).as_bytes());
    }
}

/// Whether an error is worth retrying at once (I/O trouble), as opposed to a deterministic
/// failure (bad data, NaN loss) that would fail again.
fn transient(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|c| c.downcast_ref::<std::io::Error>().is_some())
}

/// Outcome of trying one run.
enum Outcome {
    Done,
    Failed(String),
    Skipped,
}

fn execute_one(
    sweep: &nli::NliSweep,
    run: &PlannedRun,
    sweep_dir: &Path,
    args: &SweepArgs,
    max_attempts: usize,
    bar: &ProgressBar,
) -> Result<Outcome> {
    let dir = RunDir::new(sweep_dir, &run.id);
    let Some(_claim) = dir.try_claim()? else {
        log(&dir, "skipped: another process holds the run");
        return Ok(Outcome::Skipped);
    };
    let previous = dir.status();
    // Checked again under the lock: another process may have finished it meanwhile.
    let damaged = match previous.as_ref() {
        Some(p) if p.state == RunState::Done && !args.rerun => match dir.check_outputs(p) {
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
    } else if !args.wants(previous.as_ref()) {
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
    if args.rerun && previous.as_ref().is_some_and(|p| p.state == RunState::Done) {
        for f in OUTPUTS {
            let _ = std::fs::remove_file(dir.file(f));
        }
    }
    prism_core::atomic::write_json_atomic(&dir.file("run.json"), run)?;
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
            sweep.execute(run, &dir, &stage)
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
                let retry = transient(&e) && (attempts as usize) < max_attempts;
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

/// Run folders in `sweep_dir` that no run of `runs` names. A run's id hashes its subset,
/// config and the code versions that shape its results, so these hold results of an older
/// plan: the runs table and the report skip them.
fn stale_run_dirs(sweep_dir: &Path, runs: &[PlannedRun]) -> Result<Vec<PathBuf>> {
    let planned: std::collections::HashSet<&str> = runs.iter().map(|r| r.id.as_str()).collect();
    let mut stale = Vec::new();
    if sweep_dir.is_dir() {
        for entry in fs_err::read_dir(sweep_dir)? {
            let path = entry?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if RunDir::is_run(&path) && !name.is_some_and(|n| planned.contains(n.as_str())) {
                stale.push(path);
            }
        }
    }
    stale.sort();
    Ok(stale)
}

/// Moves `stale` run folders into `<sweep_dir>/stale/` (a rename: nothing is copied or
/// deleted), leaving any that a process still holds; returns how many moved.
fn prune_stale(sweep_dir: &Path, stale: &[PathBuf]) -> Result<usize> {
    let target = sweep_dir.join("stale");
    let mut moved = 0;
    for path in stale {
        if (RunDir { path: path.clone() }).is_locked() {
            eprintln!("left `{}`: a process holds it", path.display());
            continue;
        }
        fs_err::create_dir_all(&target)?;
        let name = path.file_name().expect("a run folder has a name");
        fs_err::rename(path, target.join(name))?;
        moved += 1;
    }
    Ok(moved)
}

/// Rebuilds `runs.csv` and `runs.parquet` from the run folders of `runs` (finished runs only).
fn write_ledger(session: &Session, runs: &[PlannedRun], sweep_dir: &Path) -> Result<usize> {
    let cfg = &session.config.value;
    let id_test = prism_data::catalog::id_test();
    let num = |v: &serde_json::Value| v.as_f64().map(|x| x.to_string()).unwrap_or_default();
    let mut rows: Vec<(&PlannedRun, serde_json::Value, serde_json::Value)> = Vec::new();
    let mut pages: Vec<String> = Vec::new();
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
            let read = |f: &str| -> Result<serde_json::Value> {
                let p = dir.file(f);
                if f == "eval.json" && !cfg.sweep.train {
                    return Ok(serde_json::json!({}));
                }
                serde_json::from_str(&fs_err::read_to_string(&p)?)
                    .with_context(|| format!("`{}`", p.display()))
            };
            rows.push((run, read("metrics.json")?, read("eval.json")?));
            // The subset's distinct pages (or claims), as measured when it was built.
            let subset = read("subset.json")?;
            pages.push(num(&subset["controls"]["distinct_groups"]));
        }
    }
    let mut metric_names: Vec<String> = rows
        .iter()
        .flat_map(|(_, m, _)| {
            m["values"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone())
        })
        .collect();
    metric_names.sort();
    metric_names.dedup();
    let mut columns: Vec<(String, Vec<String>)> = vec![
        (
            "run_id".into(),
            rows.iter().map(|(r, _, _)| r.id.clone()).collect(),
        ),
        (
            "scale".into(),
            rows.iter().map(|(r, _, _)| r.size.to_string()).collect(),
        ),
        (
            "strategy".into(),
            rows.iter().map(|(r, _, _)| r.strategy.clone()).collect(),
        ),
        (
            "seed".into(),
            rows.iter().map(|(r, _, _)| r.seed.to_string()).collect(),
        ),
        (
            "train_seed".into(),
            rows.iter()
                .map(|(r, _, _)| r.train_seed.to_string())
                .collect(),
        ),
        (
            "subset".into(),
            rows.iter().map(|(r, _, _)| r.subset.clone()).collect(),
        ),
    ];
    for m in &metric_names {
        columns.push((
            format!("metric.{m}"),
            rows.iter().map(|(_, v, _)| num(&v["values"][m])).collect(),
        ));
    }
    for b in &cfg.data.benchmarks {
        columns.push((
            format!("bench.{b}"),
            rows.iter()
                .map(|(_, _, e)| num(&e["eval"][b]["accuracy"]))
                .collect(),
        ));
    }
    columns.push((
        "id_acc".into(),
        rows.iter()
            .map(|(_, _, e)| num(&e["eval"][id_test]["accuracy"]))
            .collect(),
    ));
    // The declared aggregate (`report.ood`): a run missing one of its benchmarks has no
    // `ood_mean` (an empty cell the report counts as missing), never a mean of fewer sets.
    let declared = cfg.ood_aggregate();
    columns.push((
        "ood_mean".into(),
        rows.iter()
            .map(|(_, _, e)| {
                prism_report::runs::ood_mean(
                    declared.iter().map(|b| e["eval"][b]["accuracy"].as_f64()),
                )
                .map(|m| m.to_string())
                .unwrap_or_default()
            })
            .collect(),
    ));
    columns.push((
        "train_seconds".into(),
        rows.iter()
            .map(|(_, _, e)| num(&e["train_seconds"]))
            .collect(),
    ));
    // Each evaluation sample's majority-class rate (the same in every run: a seeded sample),
    // so the report can say which benchmarks the students beat at all.
    for b in &cfg.data.benchmarks {
        columns.push((
            format!("majority.{b}"),
            rows.iter()
                .map(|(_, _, e)| num(&e["eval"][b]["majority"]))
                .collect(),
        ));
    }
    columns.push((
        "id_majority".into(),
        rows.iter()
            .map(|(_, _, e)| num(&e["eval"][id_test]["majority"]))
            .collect(),
    ));
    columns.push(("distinct_groups".into(), pages));
    // The ground-truth diversity axis: pages (or claims) a `groups` subset is drawn from.
    if rows
        .iter()
        .any(|(r, _, _)| matches!(r.spec, StrategySpec::Groups { .. }))
    {
        columns.push((
            "groups_k".into(),
            rows.iter()
                .map(|(r, _, _)| match r.spec {
                    StrategySpec::Groups { k, .. } => k.to_string(),
                    _ => String::new(),
                })
                .collect(),
        ));
    }
    prism_report::runs::write_columns(
        &columns,
        &sweep_dir.join("runs.csv"),
        &sweep_dir.join("runs.parquet"),
    )
    .with_context(|| format!("writing the runs table in `{}`", sweep_dir.display()))?;
    Ok(rows.len())
}

pub fn sweep(args: SweepArgs) -> Result<ExitCode> {
    let session = Session::load(
        Some(args.experiment.as_deref().unwrap_or("nli")),
        &args.config,
    )?;
    let cfg = &session.config.value;
    let sweep_dir = session.results();
    let inputs = nli::input_hashes(&session)?;
    let runs = plan::plan(cfg, &inputs);
    if args.dry_run {
        if args.json {
            println!("{}", serde_json::to_string_pretty(&runs)?);
        } else {
            println!(
                "{:>5}  {:<12}  {:<40} {:>6} {:>5} {:>10}",
                "index", "run id", "subset", "size", "seed", "train seed"
            );
            for r in &runs {
                println!(
                    "{:>5}  {:<12}  {:<40} {:>6} {:>5} {:>10}",
                    r.index, r.id, r.subset, r.size, r.seed, r.train_seed
                );
            }
            println!("{} runs in `{}`", runs.len(), sweep_dir.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let selected: Vec<&PlannedRun> = match args.index {
        Some(i) => vec![runs.get(i).ok_or_else(|| {
            UsageError(format!("--index {i}: the matrix has {} runs", runs.len()))
        })?],
        None => runs.iter().collect(),
    };
    if args.index.is_none() {
        let stale = stale_run_dirs(&sweep_dir, &runs)?;
        if args.prune {
            let moved = prune_stale(&sweep_dir, &stale)?;
            eprintln!(
                "moved {moved} run folders of an older plan to `{}`",
                sweep_dir.join("stale").display()
            );
        } else if !stale.is_empty() {
            eprintln!(
                "note: {} run folders in `{}` belong to no run of this plan (older code or \
                 config; the report skips them); `--prune` moves them to `stale/`",
                stale.len(),
                sweep_dir.display()
            );
        }
    }
    let pending: Vec<&PlannedRun> = if args.collect {
        Vec::new()
    } else {
        let mut recorded = 0;
        let pending = selected
            .into_iter()
            .map(|r| -> Result<Option<&PlannedRun>> {
                let dir = RunDir::new(&sweep_dir, &r.id);
                let status = dir.status();
                Ok(match status {
                    Some(s) if s.state == RunState::Done && !args.rerun => {
                        match dir.check_outputs(&s) {
                            OutputsCheck::Intact => None,
                            OutputsCheck::Damaged(_) => Some(r),
                            OutputsCheck::Unrecorded => {
                                recorded += usize::from(dir.record_outputs(s)?);
                                None
                            }
                        }
                    }
                    status => args.wants(status.as_ref()).then_some(r),
                })
            })
            .filter_map(Result::transpose)
            .collect::<Result<Vec<_>>>()?;
        if recorded > 0 {
            eprintln!(
                "note: recorded the output hashes of {recorded} runs that finished before prism \
                 recorded them (their outputs could not be checked this once)"
            );
        }
        pending
    };
    fs_err::create_dir_all(&sweep_dir)?;
    prism_core::atomic::write_json_atomic(&sweep_dir.join("config.json"), cfg)?;
    if args.launcher == Launcher::Slurm {
        let experiment = args.experiment.as_deref().unwrap_or("nli");
        slurm::submit(&session, experiment, &args, &pending, &sweep_dir)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(i) = args.index
        && let Some(run) = pending.first()
    {
        stop_on_signal(&sweep_dir, i, &run.id)?;
    }
    let mut failed: Vec<(String, String)> = Vec::new();
    if !pending.is_empty() {
        eprintln!(
            "{} of {} runs to do in `{}`",
            pending.len(),
            runs.len(),
            sweep_dir.display()
        );
        let prepared =
            nli::NliSweep::prepare(&session, &pending, &sweep_dir.join("cache"), &inputs)?;
        for damage in &prepared.repaired_shards {
            event(
                &sweep_dir,
                serde_json::json!({"state": "feature-shard-damaged", "error": damage, "action": "moved aside, featurised again"}),
            );
        }
        let workers = args.workers.unwrap_or(cfg.sweep.workers);
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
                    let (next, stop, failures, prepared, sweep_dir, args, total, pending) = (
                        &next, &stop, &failures, &prepared, &sweep_dir, &args, &total, &pending,
                    );
                    scope.spawn(move || -> Result<()> {
                        loop {
                            if stop.load(Ordering::SeqCst) {
                                return Ok(());
                            }
                            let i = next.fetch_add(1, Ordering::SeqCst);
                            let Some(run) = pending.get(i) else {
                                return Ok(());
                            };
                            // A run whose bookkeeping cannot even be written (a full disk)
                            // fails alone: the sweep goes on, and its status, if left
                            // `running`, makes the next sweep reclaim it.
                            let outcome = execute_one(
                                prepared,
                                run,
                                sweep_dir,
                                args,
                                cfg.sweep.max_attempts,
                                &bar,
                            )
                            .unwrap_or_else(|e| Outcome::Failed(format!("{e:#}")));
                            match outcome {
                                Outcome::Failed(why) => {
                                    eprintln!("run {} ({}) failed: {why}", run.id, run.subset);
                                    failures.lock().expect("lock").push((run.id.clone(), why));
                                    if args.fail_fast {
                                        stop.store(true, Ordering::SeqCst);
                                    }
                                }
                                Outcome::Done | Outcome::Skipped => {}
                            }
                            total.inc(1);
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join()
                    .map_err(|_| anyhow::anyhow!("a worker panicked"))??;
            }
            Ok(())
        })?;
        total.finish_and_clear();
        failed = failures.into_inner().expect("lock");
    }
    if args.index.is_some() {
        return Ok(if failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let done = write_ledger(&session, &runs, &sweep_dir)?;
    eprintln!(
        "{done} of {} runs finished; runs table `{}`",
        runs.len(),
        sweep_dir.join("runs.csv").display()
    );
    if !args.no_report && done >= 3 {
        let out = sweep_dir.join("report");
        let report = crate::commands::report::write_report(
            &sweep_dir.join("runs.csv"),
            &out,
            2000,
            0,
            Some(&cfg.ood_aggregate()),
        )?;
        print!("{}", prism_report::render::markdown(&report));
        eprintln!("report in `{}`", out.display());
    }
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: {} runs failed (see `prism status {}`)",
            failed.len(),
            cfg.name
        );
        Ok(ExitCode::from(1))
    }
}

/// The sweep folder `sweep` names (a folder holding `config.json`, an experiment whose
/// results folder it is, or the name of a results folder) and the heartbeat age after which a
/// running run counts as stale.
fn resolve_sweep_dir(sweep: &str, config: &ConfigArgs) -> Result<(PathBuf, u64)> {
    let dir = PathBuf::from(sweep);
    if dir.join("config.json").is_file() {
        return Ok((dir, 300));
    }
    match Session::load(Some(sweep), config) {
        Ok(session) => {
            let stale = session.config.value.sweep.stale_seconds;
            Ok((session.results(), stale))
        }
        Err(not_an_experiment) => {
            // A sweep run under another name (`--set name=nli-seeds`) has a results folder
            // but no experiment file of that name.
            if let Ok(defaults) = Session::load(None, config) {
                let dir = defaults
                    .resolve_path(&defaults.config.value.paths.results)
                    .join(sweep);
                if dir.join("config.json").is_file() {
                    return Ok((dir, defaults.config.value.sweep.stale_seconds));
                }
            }
            Err(not_an_experiment)
        }
    }
}

pub fn status(args: StatusArgs) -> Result<ExitCode> {
    let (sweep_dir, stale) = resolve_sweep_dir(&args.sweep, &args.config)?;
    if !sweep_dir.is_dir() {
        return Err(UsageError(format!("`{}` has no runs yet", sweep_dir.display())).into());
    }
    let mut counts = std::collections::BTreeMap::new();
    let mut failed = Vec::new();
    let mut timed = Vec::new();
    for entry in fs_err::read_dir(&sweep_dir)? {
        let path = entry?.path();
        if !RunDir::is_run(&path) {
            continue;
        }
        let dir = RunDir { path: path.clone() };
        let id = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let label = match dir.status() {
            None => "not started".to_string(),
            Some(s) => match s.state {
                RunState::Running if dir.is_locked() => {
                    if now().saturating_sub(s.heartbeat) > stale {
                        "running (stale heartbeat)".into()
                    } else {
                        "running".into()
                    }
                }
                RunState::Running => "interrupted".into(),
                RunState::Done => {
                    timed.push((s.seconds.unwrap_or(0.0), id.clone()));
                    "done".into()
                }
                RunState::Failed => {
                    failed.push((id.clone(), s.error.unwrap_or_default()));
                    "failed".into()
                }
            },
        };
        *counts.entry(label).or_insert(0usize) += 1;
    }
    println!("sweep `{}`", sweep_dir.display());
    for (state, n) in &counts {
        println!("  {state:<28} {n}");
    }
    for (id, why) in &failed {
        println!("failed {id}: {why}");
    }
    timed.sort_by(|a, b| b.0.total_cmp(&a.0));
    if !timed.is_empty() {
        println!("slowest runs:");
        for (secs, id) in timed.iter().take(5) {
            println!("  {id}  {secs:.0} s");
        }
    }
    Ok(ExitCode::SUCCESS)
}
