//! The state of a sweep as its run folders tell it: how many runs are in each state (running
//! ones told apart from interrupted and stale ones by their lock and heartbeat), the failed
//! runs with their reasons, and the slowest finished runs.

use crate::error::SweepError;
use crate::ledger::{RunDir, RunState, now};
use anyhow::Result;
use prism_core::Session;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The sweep folder `sweep` names (a folder holding `config.json`, an experiment whose
/// results folder it is, or the name of a results folder) and the heartbeat age after which a
/// running run counts as stale.
pub fn locate(sweep: &str, overrides: &[String]) -> Result<(PathBuf, u64)> {
    let dir = PathBuf::from(sweep);
    if dir.join("config.json").is_file() {
        return Ok((dir, 300));
    }
    match Session::load(Some(sweep), overrides) {
        Ok(session) => {
            let stale = session.config.value.sweep.stale_seconds;
            Ok((session.results(), stale))
        }
        Err(not_an_experiment) => {
            // A sweep run under another name (`--set name=nli-seeds`) has a results folder
            // but no experiment file of that name.
            if let Ok(defaults) = Session::load(None, overrides) {
                let dir = defaults
                    .resolve_path(&defaults.config.value.paths.results)
                    .join(sweep);
                if dir.join("config.json").is_file() {
                    return Ok((dir, defaults.config.value.sweep.stale_seconds));
                }
            }
            Err(not_an_experiment.into())
        }
    }
}

/// What [`summarize`] found.
pub struct SweepStatus {
    /// Runs per state label (`done`, `failed`, `running`, `running (stale heartbeat)`,
    /// `interrupted`, `not started`).
    pub counts: BTreeMap<String, usize>,
    /// Failed runs: id and reason.
    pub failed: Vec<(String, String)>,
    /// Finished runs: seconds and id, slowest first.
    pub slowest: Vec<(f64, String)>,
}

/// Reads every run folder of `sweep_dir`; a running run whose heartbeat is older than
/// `stale_seconds` is flagged.
pub fn summarize(sweep_dir: &Path, stale_seconds: u64) -> Result<SweepStatus> {
    if !sweep_dir.is_dir() {
        return Err(SweepError::Usage(format!("`{}` has no runs yet", sweep_dir.display())).into());
    }
    let mut counts = BTreeMap::new();
    let mut failed = Vec::new();
    let mut timed = Vec::new();
    for entry in fs_err::read_dir(sweep_dir)? {
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
                    if now().saturating_sub(s.heartbeat) > stale_seconds {
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
    timed.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(SweepStatus {
        counts,
        failed,
        slowest: timed,
    })
}
