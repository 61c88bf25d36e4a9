//! `prism sweep --launcher slurm`: the pending runs of a sweep as one Slurm array job, and a
//! report job after it.
//!
//! Task i of the array runs `prism sweep <experiment> --index i`, i.e. run i of the matrix;
//! the run folders stay the ledger, so a task whose run is already finished does nothing, and
//! two tasks (or a task and a local sweep) never execute the same run (the run lock). Before
//! the time limit Slurm sends the batch shell SIGUSR1 (`--signal=B:USR1@<grace>`); the script
//! forwards SIGTERM to prism, which records the preemption and exits, and then requeues the
//! task, which resumes the run from its first unfinished stage. The report job
//! (`--dependency=afterany:<array>`) rebuilds the runs table and writes the report
//! (`prism sweep <experiment> --collect`), whatever became of the tasks.
//!
//! Written to `<sweep>/slurm/`: `manifest.json` (the submitted runs by array index),
//! `array.sbatch`, `report.sbatch`, `jobs.json` (the job ids) and one log per task.

use crate::events::event;
use crate::launcher::{LaunchContext, Launched, Launcher};
use crate::options::SweepOptions;
use crate::plan::PlannedRun;
use anyhow::{Context, Result, bail};
use prism_core::Session;
use std::path::Path;
use std::process::Command;

/// Slurm settings of a sweep (`prism sweep --launcher slurm --slurm-*`).
#[derive(Debug, Clone)]
pub struct SlurmSettings {
    /// Array tasks running at once (`--array=...%P`).
    pub slurm_parallel: usize,
    /// CPUs per task.
    pub slurm_cpus: usize,
    /// Time limit per task (`--time`).
    pub slurm_time: String,
    /// Seconds before the time limit at which a task is told to stop for requeue.
    pub slurm_grace: u64,
    /// Partition (the cluster's default when not given).
    pub slurm_partition: Option<String>,
}

/// One sbatch array over the pending runs, then a report job: each task runs `prism sweep
/// <experiment> --index i` with the same `--set` overrides.
pub struct Slurm {
    /// The experiment as the user named it (a name, or a path made absolute here).
    pub experiment: String,
    /// The `--set` overrides, passed on to every job.
    pub overrides: Vec<String>,
    /// The Slurm settings.
    pub settings: SlurmSettings,
}

impl Launcher for Slurm {
    fn launch(
        &self,
        sweep: &LaunchContext,
        pending: &[&PlannedRun],
        options: &SweepOptions,
    ) -> Result<Launched> {
        submit(self, sweep.session, options, pending, sweep.dir)?;
        Ok(Launched::Submitted)
    }
}

/// `0-3,5,7-9` for the sorted indices given.
fn array_ranges(indices: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        let mut end = start;
        while i + 1 < indices.len() && indices[i + 1] == end + 1 {
            i += 1;
            end = indices[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

/// `s` as one single-quoted shell word.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The `prism sweep <experiment> [--set ...]` prefix every job runs.
fn prism_command(experiment: &str, overrides: &[String]) -> Result<String> {
    let exe = std::env::current_exe().context("locating the prism binary")?;
    let mut words = vec![
        shell_quote(&exe.to_string_lossy()),
        "sweep".into(),
        shell_quote(experiment),
    ];
    for o in overrides {
        words.push("--set".into());
        words.push(shell_quote(o));
    }
    Ok(words.join(" "))
}

/// The `#SBATCH` lines shared by both jobs.
fn common_header(session: &Session, args: &SlurmSettings, job_name: &str) -> String {
    let mut h = format!(
        "#!/bin/bash\n#SBATCH --job-name={job_name}\n#SBATCH --chdir={}\n",
        session.root.display()
    );
    if let Some(p) = &args.slurm_partition {
        h.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    h
}

/// Runs `sbatch --parsable <script> [extra]` and returns the job id.
fn sbatch(script: &Path, extra: &[String]) -> Result<String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(extra)
        .arg(script)
        .output()
        .context("running `sbatch` (is Slurm installed and on PATH?)")?;
    if !out.status.success() {
        bail!(
            "sbatch {} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // `--parsable` prints `<id>` or `<id>;<cluster>`.
    Ok(text
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string())
}

/// Writes the manifest and the two batch scripts and submits them.
fn submit(
    launcher: &Slurm,
    session: &Session,
    options: &SweepOptions,
    pending: &[&PlannedRun],
    sweep_dir: &Path,
) -> Result<()> {
    let slurm = &launcher.settings;
    let experiment = launcher.experiment.as_str();
    let dir = sweep_dir.join("slurm");
    fs_err::create_dir_all(&dir)?;
    let dir = std::path::absolute(&dir)?;
    // A path experiment is made absolute: the jobs run in the project root.
    let experiment = if experiment.contains('/') || experiment.ends_with(".toml") {
        std::path::absolute(experiment)?
            .to_string_lossy()
            .into_owned()
    } else {
        experiment.to_string()
    };
    let prism = prism_command(&experiment, &launcher.overrides)?;
    let name = &session.config.value.name;
    let manifest = serde_json::json!({
        "experiment": experiment,
        "overrides": launcher.overrides,
        "runs": pending.iter().map(|r| serde_json::json!({"index": r.index, "id": r.id, "subset": r.subset})).collect::<Vec<_>>(),
    });
    prism_core::atomic::write_json_atomic(&dir.join("manifest.json"), &manifest)?;

    let mut flags: Vec<&str> = Vec::new();
    if options.selection.retry_failed {
        flags.push("--retry-failed");
    }
    if options.selection.rerun {
        flags.push("--rerun");
    }
    let array_job = if pending.is_empty() {
        None
    } else {
        let indices: Vec<usize> = pending.iter().map(|r| r.index).collect();
        let script = format!(
            "{header}#SBATCH --array={ranges}%{parallel}\n#SBATCH --cpus-per-task={cpus}\n\
             #SBATCH --time={time}\n#SBATCH --output={out}/task-%A_%a.out\n\
             #SBATCH --signal=B:USR1@{grace}\n#SBATCH --requeue\n\
             # Task i executes run i of the matrix (see manifest.json); finished runs are skipped.\n\
             {prism} --index \"$SLURM_ARRAY_TASK_ID\" {flags} &\n\
             child=$!\n\
             # Before the time limit: stop the run (its finished stages are kept), then requeue\n\
             # this task; the requeued task resumes the run.\n\
             trap 'kill -TERM \"$child\"; wait \"$child\"; \
             scontrol requeue \"${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}\"; exit 0' USR1\n\
             wait \"$child\"\n",
            header = common_header(session, slurm, &format!("prism-{name}")),
            ranges = array_ranges(&indices),
            parallel = slurm.slurm_parallel.max(1),
            cpus = slurm.slurm_cpus,
            time = slurm.slurm_time,
            out = dir.display(),
            grace = slurm.slurm_grace,
            flags = flags.join(" "),
        );
        let path = dir.join("array.sbatch");
        prism_core::atomic::write_atomic(&path, script.as_bytes())?;
        Some(sbatch(&path, &[])?)
    };
    let report = format!(
        "{header}#SBATCH --cpus-per-task={cpus}\n#SBATCH --output={out}/report-%j.out\n\
         # After the array (whatever its outcome): the runs table and the report.\n\
         exec {prism} --collect\n",
        header = common_header(session, slurm, &format!("prism-{name}-report")),
        cpus = slurm.slurm_cpus,
        out = dir.display(),
    );
    let report_path = dir.join("report.sbatch");
    prism_core::atomic::write_atomic(&report_path, report.as_bytes())?;
    let dependency: Vec<String> = array_job
        .iter()
        .map(|id| format!("--dependency=afterany:{id}"))
        .collect();
    let report_job = sbatch(&report_path, &dependency)?;
    let jobs = serde_json::json!({"array_job": array_job, "report_job": report_job, "tasks": pending.len()});
    prism_core::atomic::write_json_atomic(&dir.join("jobs.json"), &jobs)?;
    event(
        sweep_dir,
        serde_json::json!({"state": "submitted", "launcher": "slurm", "array_job": array_job, "report_job": report_job, "tasks": pending.len()}),
    );
    match &array_job {
        Some(id) => eprintln!(
            "submitted array job {id} ({} runs, {} at once) and report job {report_job} \
             (after it); scripts and logs in `{}`",
            pending.len(),
            slurm.slurm_parallel,
            dir.display()
        ),
        None => eprintln!(
            "every run is finished; submitted report job {report_job} only (`{}`)",
            dir.display()
        ),
    }
    println!("{}", serde_json::to_string(&jobs)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_ranges_compress_consecutive_indices() {
        assert_eq!(array_ranges(&[0, 1, 2, 3]), "0-3");
        assert_eq!(array_ranges(&[0, 2, 3, 4, 7, 9, 10]), "0,2-4,7,9-10");
        assert_eq!(array_ranges(&[5]), "5");
        assert_eq!(array_ranges(&[]), "");
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
