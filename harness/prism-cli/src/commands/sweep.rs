//! `prism sweep` and `prism status`: the command line of the sweep runner (`prism-sweep`),
//! with the task picked from `prism-tasks`.

use crate::context::{ConfigArgs, Session};
use crate::exit::UsageError;
use anyhow::Result;
use prism_sweep::{
    Launcher, Local, Selection, Slurm, SlurmSettings, Sweep, SweepOptions, SweepOutcome,
};
use std::process::ExitCode;

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
    #[arg(long, value_enum, default_value_t = LauncherArg::Local)]
    launcher: LauncherArg,
    #[command(flatten)]
    slurm: SlurmArgs,
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
pub enum LauncherArg {
    /// Worker threads in this process.
    Local,
    /// A Slurm array job, one task per pending run, and a report job after it.
    Slurm,
}

/// Slurm settings of `prism sweep --launcher slurm`.
#[derive(Debug, Clone, clap::Args)]
pub struct SlurmArgs {
    /// Slurm: array tasks running at once (`--array=...%P`).
    #[arg(long, default_value_t = 8)]
    pub slurm_parallel: usize,
    /// Slurm: CPUs per task.
    #[arg(long, default_value_t = 2)]
    pub slurm_cpus: usize,
    /// Slurm: time limit per task (`--time`).
    #[arg(long, default_value = "04:00:00")]
    pub slurm_time: String,
    /// Slurm: seconds before the time limit at which a task is told to stop for requeue.
    #[arg(long, default_value_t = 120)]
    pub slurm_grace: u64,
    /// Slurm: partition (the cluster's default when not given).
    #[arg(long)]
    pub slurm_partition: Option<String>,
}

impl From<SlurmArgs> for SlurmSettings {
    fn from(a: SlurmArgs) -> Self {
        SlurmSettings {
            slurm_parallel: a.slurm_parallel,
            slurm_cpus: a.slurm_cpus,
            slurm_time: a.slurm_time,
            slurm_grace: a.slurm_grace,
            slurm_partition: a.slurm_partition,
        }
    }
}

pub fn sweep(args: SweepArgs) -> Result<ExitCode> {
    let experiment = args.experiment.clone().unwrap_or_else(|| "nli".into());
    let session = Session::load(Some(&experiment), &args.config.overrides)?;
    let cfg = &session.config.value;
    let kind = prism_tasks::find(&cfg.task).ok_or_else(|| {
        UsageError(format!(
            "task `{}` is not one prism knows (known: {})",
            cfg.task,
            prism_tasks::TASKS.join(", ")
        ))
    })?;
    let sweep = Sweep::plan(&session, kind.as_ref())?;
    if args.dry_run {
        let runs = &sweep.runs;
        if args.json {
            println!("{}", serde_json::to_string_pretty(runs)?);
        } else {
            println!(
                "{:>5}  {:<12}  {:<40} {:>6} {:>5} {:>10}",
                "index", "run id", "subset", "size", "seed", "train seed"
            );
            for r in runs {
                println!(
                    "{:>5}  {:<12}  {:<40} {:>6} {:>5} {:>10}",
                    r.index, r.id, r.subset, r.size, r.seed, r.train_seed
                );
            }
            println!("{} runs in `{}`", runs.len(), sweep.dir.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let options = SweepOptions {
        selection: Selection {
            rerun: args.rerun,
            retry_failed: args.retry_failed,
        },
        workers: args.workers,
        fail_fast: args.fail_fast,
        index: args.index,
        report: !args.no_report,
        prune: args.prune,
        collect: args.collect,
    };
    let launcher: Box<dyn Launcher> = match args.launcher {
        LauncherArg::Local => Box::new(Local),
        LauncherArg::Slurm => Box::new(Slurm {
            experiment,
            overrides: args.config.overrides.clone(),
            settings: args.slurm.clone().into(),
        }),
    };
    let failed = match sweep.run(&options, launcher.as_ref())? {
        SweepOutcome::Submitted => return Ok(ExitCode::SUCCESS),
        SweepOutcome::Task(failed) => {
            return Ok(if failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        SweepOutcome::Finished { failed, report, .. } => {
            if let Some(report) = report {
                let (report, out) = *report;
                print!("{}", prism_report::render::markdown(&report));
                eprintln!("report in `{}`", out.display());
            }
            failed
        }
    };
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

pub fn status(args: StatusArgs) -> Result<ExitCode> {
    let (sweep_dir, stale) = prism_sweep::status::locate(&args.sweep, &args.config.overrides)?;
    let status = prism_sweep::status::summarize(&sweep_dir, stale)?;
    println!("sweep `{}`", sweep_dir.display());
    for (state, n) in &status.counts {
        println!("  {state:<28} {n}");
    }
    for (id, why) in &status.failed {
        println!("failed {id}: {why}");
    }
    if !status.slowest.is_empty() {
        println!("slowest runs:");
        for (secs, id) in status.slowest.iter().take(5) {
            println!("  {id}  {secs:.0} s");
        }
    }
    Ok(ExitCode::SUCCESS)
}
