//! What the person running a sweep chooses (the command line's flags), apart from the
//! experiment itself: which recorded runs to execute again, how many at once, what to do at
//! the end.

use crate::ledger::{RunState, RunStatus};

/// Which recorded runs are executed again.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection {
    /// Every run, finished or not.
    pub rerun: bool,
    /// Runs recorded as failed.
    pub retry_failed: bool,
}

impl Selection {
    /// Whether a run with this status is to be executed: never started, interrupted (its
    /// process died while running), failed with `retry_failed`, or anything with `rerun`.
    pub fn wants(&self, status: Option<&RunStatus>) -> bool {
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

/// How a sweep is run (the command line's flags).
#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    /// Which recorded runs are executed again.
    pub selection: Selection,
    /// Runs executed at once (default: `sweep.workers`).
    pub workers: Option<usize>,
    /// Stop at the first failed run.
    pub fail_fast: bool,
    /// Execute only run INDEX of the matrix (a Slurm array task); no runs table or report.
    pub index: Option<usize>,
    /// Write the report at the end.
    pub report: bool,
    /// Move run folders of an older plan into `<sweep>/stale/`.
    pub prune: bool,
    /// Execute nothing: rebuild the runs table and write the report.
    pub collect: bool,
}
