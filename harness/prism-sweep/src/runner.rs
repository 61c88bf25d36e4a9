//! A sweep from start to end, whatever the task: plan the matrix, pick the pending runs,
//! launch them, rebuild the runs table from the run folders and write the report. The task
//! comes in as a [`RunKind`], the place of execution as a [`Launcher`].

use crate::collect::write_runs_table;
use crate::error::SweepError;
use crate::kind::RunKind;
use crate::launcher::{LaunchContext, Launched, Launcher};
use crate::ledger::{OutputsCheck, RunDir, RunState};
use crate::options::{Selection, SweepOptions};
use crate::plan::{PlannedRun, plan};
use anyhow::Result;
use prism_core::Session;
use std::path::{Path, PathBuf};

/// What became of a sweep.
pub enum SweepOutcome {
    /// One run of the matrix (`index`) was executed; the failed runs.
    Task(Vec<(String, String)>),
    /// The pending runs were submitted to a scheduler.
    Submitted,
    /// The sweep ran here and was collected.
    Finished {
        /// Finished runs in the runs table.
        done: usize,
        /// Failed runs: id and reason.
        failed: Vec<(String, String)>,
        /// The report and its folder, when written.
        report: Option<Box<(prism_report::Report, PathBuf)>>,
    },
}

/// A planned sweep: the experiment's session, its task, its folder and its run matrix.
pub struct Sweep<'a> {
    /// The experiment's session.
    pub session: &'a Session,
    /// What a run of this experiment's task does.
    pub kind: &'a dyn RunKind,
    /// The sweep's folder (`results/<name>`).
    pub dir: PathBuf,
    /// Content hashes of the inputs (part of every run's id).
    pub inputs: serde_json::Value,
    /// The run matrix.
    pub runs: Vec<PlannedRun>,
}

impl<'a> Sweep<'a> {
    /// Plans the sweep of `session`'s experiment for the task `kind`.
    pub fn plan(session: &'a Session, kind: &'a dyn RunKind) -> Result<Self> {
        let inputs = kind.input_hashes(session)?;
        let runs = plan(&session.config.value, &inputs, &kind.code_versions());
        Ok(Sweep {
            session,
            kind,
            dir: session.results(),
            inputs,
            runs,
        })
    }

    /// Runs the sweep: the pending runs are launched, then (unless one `index` was asked for
    /// or the runs were submitted) the runs table is rebuilt and the report written.
    pub fn run(&self, options: &SweepOptions, launcher: &dyn Launcher) -> Result<SweepOutcome> {
        let selected: Vec<&PlannedRun> = match options.index {
            Some(i) => vec![self.runs.get(i).ok_or_else(|| {
                SweepError::Usage(format!(
                    "--index {i}: the matrix has {} runs",
                    self.runs.len()
                ))
            })?],
            None => self.runs.iter().collect(),
        };
        if options.index.is_none() {
            self.report_stale(options.prune)?;
        }
        let pending = if options.collect {
            Vec::new()
        } else {
            self.pending(selected, options.selection)?
        };
        fs_err::create_dir_all(&self.dir)?;
        prism_core::atomic::write_json_atomic(
            &self.dir.join("config.json"),
            &self.session.config.value,
        )?;
        let context = LaunchContext {
            session: self.session,
            kind: self.kind,
            dir: &self.dir,
            inputs: &self.inputs,
            planned: self.runs.len(),
        };
        let failed = match launcher.launch(&context, &pending, options)? {
            Launched::Submitted => return Ok(SweepOutcome::Submitted),
            Launched::Executed(failed) => failed,
        };
        if options.index.is_some() {
            return Ok(SweepOutcome::Task(failed));
        }
        let cfg = &self.session.config.value;
        let done = write_runs_table(cfg, self.kind.id_test(), &self.runs, &self.dir)?;
        eprintln!(
            "{done} of {} runs finished; runs table `{}`",
            self.runs.len(),
            self.dir.join("runs.csv").display()
        );
        let report = if options.report && done >= 3 {
            let out = self.dir.join("report");
            let report = prism_report::write_report(
                &self.dir.join("runs.csv"),
                &out,
                &prism_report::ReportOptions {
                    bootstrap_reps: 2000,
                    seed: 0,
                    terms: self.kind.report_terms(),
                    ..Default::default()
                },
                Some(&cfg.ood_aggregate()),
            )?;
            Some(Box::new((report, out)))
        } else {
            None
        };
        Ok(SweepOutcome::Finished {
            done,
            failed,
            report,
        })
    }

    /// The runs of `selected` to execute: not finished, or finished with damaged outputs, as
    /// `selection` asks. Finished runs from before prism recorded output hashes get them now.
    fn pending<'r>(
        &self,
        selected: Vec<&'r PlannedRun>,
        selection: Selection,
    ) -> Result<Vec<&'r PlannedRun>> {
        let mut recorded = 0;
        let pending = selected
            .into_iter()
            .map(|r| -> Result<Option<&PlannedRun>> {
                let dir = RunDir::new(&self.dir, &r.id);
                let status = dir.status();
                Ok(match status {
                    Some(s) if s.state == RunState::Done && !selection.rerun => {
                        match dir.check_outputs(&s) {
                            OutputsCheck::Intact => None,
                            OutputsCheck::Damaged(_) => Some(r),
                            OutputsCheck::Unrecorded => {
                                recorded += usize::from(dir.record_outputs(s)?);
                                None
                            }
                        }
                    }
                    status => selection.wants(status.as_ref()).then_some(r),
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
        Ok(pending)
    }

    /// Says how many run folders belong to no run of this plan, or with `prune` moves them
    /// into `stale/`.
    fn report_stale(&self, prune: bool) -> Result<()> {
        let stale = stale_run_dirs(&self.dir, &self.runs)?;
        if prune {
            let moved = prune_stale(&self.dir, &stale)?;
            eprintln!(
                "moved {moved} run folders of an older plan to `{}`",
                self.dir.join("stale").display()
            );
        } else if !stale.is_empty() {
            eprintln!(
                "note: {} run folders in `{}` belong to no run of this plan (older code or \
                 config; the report skips them); `--prune` moves them to `stale/`",
                stale.len(),
                self.dir.display()
            );
        }
        Ok(())
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
