//! Subcommands whose stages have not landed yet. Their arguments are declared so `--help`
//! documents the interface; running one says which issue brings it and exits 1.

use anyhow::{Result, bail};
use std::path::PathBuf;
use std::process::ExitCode;

fn not_yet(command: &str, stage: &str) -> Result<ExitCode> {
    bail!("`prism {command}` is not available yet: it arrives with {stage}")
}

#[derive(Debug, clap::Subcommand)]
pub enum FeaturesCommand {
    /// Projected per-example loss gradients of a proxy LM into a feature store.
    Grad {
        /// Proxy model name or path.
        #[arg(long)]
        model: String,
        /// Examples: a normalised parquet table or JSONL of {id, prompt, completion}.
        #[arg(long)]
        data: PathBuf,
        /// Projection: dense (paper-exact), factored (fast, default), exact (test oracle).
        #[arg(long, default_value = "factored")]
        mode: String,
        /// Projection dimension.
        #[arg(long, default_value_t = 1024)]
        dim: usize,
        /// Feature store folder.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Experiment file.
    experiment: PathBuf,
    /// Print the run matrix without running it.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Sweep folder.
    sweep: PathBuf,
}

pub fn features(_: FeaturesCommand) -> Result<ExitCode> {
    not_yet("features grad", "the G-Vendi engine (issue 5)")
}
pub fn sweep(_: SweepArgs) -> Result<ExitCode> {
    not_yet("sweep", "the sweep runner (issue 7)")
}
pub fn status(_: StatusArgs) -> Result<ExitCode> {
    not_yet("status", "the sweep runner (issue 7)")
}
