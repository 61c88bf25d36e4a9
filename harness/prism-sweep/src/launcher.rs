//! Where a sweep's pending runs execute: the [`Launcher`] trait, with the local launcher
//! (worker threads in this process) here and the Slurm launcher beside it (`slurm.rs`).

use crate::events::{event, stop_on_signal};
use crate::executor::{Execution, run_pool};
use crate::kind::RunKind;
use crate::options::SweepOptions;
use crate::plan::PlannedRun;
use anyhow::Result;
use prism_core::Session;
use std::path::Path;

/// What a launcher is given about the sweep whose runs it launches.
pub struct LaunchContext<'a> {
    /// The experiment's session.
    pub session: &'a Session,
    /// What a run of the experiment's task does.
    pub kind: &'a dyn RunKind,
    /// The sweep's folder.
    pub dir: &'a Path,
    /// Content hashes of the inputs (part of every run's id).
    pub inputs: &'a serde_json::Value,
    /// Runs in the whole matrix.
    pub planned: usize,
}

/// What a launcher did with the pending runs.
pub enum Launched {
    /// They executed here; the failed runs' ids and reasons.
    Executed(Vec<(String, String)>),
    /// They were handed to a scheduler, which also collects the sweep afterwards.
    Submitted,
}

/// Executes or submits the pending runs of a sweep.
pub trait Launcher {
    /// Executes (or submits) `pending`, the runs of the sweep that `options` select.
    fn launch(
        &self,
        sweep: &LaunchContext,
        pending: &[&PlannedRun],
        options: &SweepOptions,
    ) -> Result<Launched>;
}

/// Worker threads in this process: the task prepares the pool-level inputs once, then the
/// pending runs are shared out among the workers.
pub struct Local;

impl Launcher for Local {
    fn launch(
        &self,
        sweep: &LaunchContext,
        pending: &[&PlannedRun],
        options: &SweepOptions,
    ) -> Result<Launched> {
        if let Some(i) = options.index
            && let Some(run) = pending.first()
        {
            stop_on_signal(sweep.dir, i, &run.id)?;
        }
        if pending.is_empty() {
            return Ok(Launched::Executed(Vec::new()));
        }
        eprintln!(
            "{} of {} runs to do in `{}`",
            pending.len(),
            sweep.planned,
            sweep.dir.display()
        );
        let prepared = sweep.kind.prepare(
            sweep.session,
            pending,
            &sweep.dir.join("cache"),
            sweep.inputs,
        )?;
        for e in prepared.events() {
            event(sweep.dir, e);
        }
        let cfg = &sweep.session.config.value;
        let execution = Execution {
            selection: options.selection,
            max_attempts: cfg.sweep.max_attempts,
            train: cfg.sweep.train,
            fail_fast: options.fail_fast,
        };
        let workers = options.workers.unwrap_or(cfg.sweep.workers);
        let failed = run_pool(prepared.as_ref(), pending, sweep.dir, &execution, workers)?;
        Ok(Launched::Executed(failed))
    }
}
