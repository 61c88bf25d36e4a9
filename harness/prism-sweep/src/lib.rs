//! The sweep runner: an experiment's run matrix executed resumably, whatever the task.
//!
//! - [`plan`]: the run matrix and run ids (a hash of everything that shapes a run's result);
//! - [`ledger`]: run folders, their status, locks, heartbeats and recorded output hashes;
//! - [`kind`]: the [`RunKind`] trait, the one thing a task implements;
//! - [`options`]: what the person running a sweep chooses (reruns, workers, the end);
//! - [`executor`]: one run's attempts under its lock, and the local worker pool;
//! - [`launcher`]: where runs execute ([`Local`] threads, [`Slurm`] arrays);
//! - [`runner`]: a sweep from plan to report ([`Sweep`]);
//! - [`collect`]: the runs table rebuilt from the run folders;
//! - [`status`], [`export`]: what a sweep's folders say, for people and for MLflow;
//! - [`events`]: the sweep's event log and each run's log.
//!
//! No maths and no task details live here, and no burn: the crate builds and tests in seconds.

pub mod collect;
pub mod error;
pub mod events;
pub mod executor;
pub mod export;
pub mod kind;
pub mod launcher;
pub mod ledger;
pub mod options;
pub mod plan;
pub mod runner;
pub mod slurm;
pub mod status;

pub use error::SweepError;
pub use kind::{PreparedRuns, RunKind};
pub use launcher::{LaunchContext, Launched, Launcher, Local};
pub use options::{Selection, SweepOptions};
pub use plan::PlannedRun;
pub use runner::{Sweep, SweepOutcome};
pub use slurm::{Slurm, SlurmSettings};
