//! The extension point for tasks: a [`RunKind`] says what a run of one task does, and the
//! runner does the rest (which runs are pending, locks, retries, the run folder, the runs
//! table). Adding a task (math next to NLI) is one implementation of these two traits.
//!
//! A run's folder has one layout whatever the task, which is what lets the runner resume a
//! run stage by stage and build the runs table without knowing the task:
//! `subset.ids` (one example id per line) and `subset.json` (its manifest, with the measured
//! `controls`), `metrics.json` (`{"values": {metric: value|null}, "errors": {metric: why}}`)
//! and, when the sweep trains, `eval.json` (`{"eval": {set: {"accuracy", "majority", ...}},
//! "train_seconds", ...}`).

use crate::plan::PlannedRun;
use anyhow::Result;
use prism_core::Session;
use std::path::Path;

/// What a run of one task does, before any run: the identity of its inputs and code, and the
/// pool-level work every pending run shares.
pub trait RunKind: Sync {
    /// Content hashes of the files every run reads (data tables, model weights): part of each
    /// run's id, so a changed input makes new runs instead of mixing with old results.
    fn input_hashes(&self, session: &Session) -> Result<serde_json::Value>;

    /// Versions of the code that computes a run's numbers (encoder, trainer, features): part
    /// of each run's id for the same reason.
    fn code_versions(&self) -> serde_json::Value;

    /// The in-distribution test set's name (the runs table's `id_acc`); every other set in
    /// `eval.json` is a benchmark.
    fn id_test(&self) -> &str;

    /// What the report calls this task's score, baseline and ground-truth groups (default:
    /// NLI's accuracy, majority rate and pages).
    fn report_terms(&self) -> prism_report::Terms {
        prism_report::Terms::default()
    }

    /// Builds the pending runs' subsets and computes the pool-level inputs they need (cached
    /// under `cache_dir` or in the task's stores: a rerun reuses them).
    fn prepare<'a>(
        &'a self,
        session: &'a Session,
        pending: &[&PlannedRun],
        cache_dir: &Path,
        inputs: &serde_json::Value,
    ) -> Result<Box<dyn PreparedRuns + 'a>>;
}

/// One task's shared inputs, ready for the runs: the runner calls each stage whose output the
/// run's folder lacks, in order, from worker threads.
pub trait PreparedRuns: Sync {
    /// The run's subset: its example ids, in order, and its manifest (`subset.json`).
    fn subset(&self, run: &PlannedRun) -> Result<(Vec<String>, serde_json::Value)>;

    /// Every metric on the subset `ids` (`metrics.json`); a metric that cannot be computed is
    /// recorded as null with its reason, and the run goes on.
    fn metrics(&self, run: &PlannedRun, ids: &[String]) -> Result<serde_json::Value>;

    /// Trains and evaluates the run's student on `ids`: the exact bytes of `eval.json`.
    /// `stage` is told a sub-stage worth showing (`train (cached)`).
    fn train_and_evaluate(
        &self,
        run: &PlannedRun,
        ids: &[String],
        stage: &dyn Fn(&str) -> Result<()>,
    ) -> Result<Vec<u8>>;

    /// Things found while preparing that the sweep's event log records (e.g. a damaged
    /// feature shard moved aside and featurised again), one JSON object each.
    fn events(&self) -> Vec<serde_json::Value> {
        Vec::new()
    }
}
