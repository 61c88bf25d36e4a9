//! `prism export mlflow <sweep>`: the sweep as an MLflow file store (see
//! [`prism_sweep::export`]).

use crate::context::ConfigArgs;
use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

/// `prism export ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ExportCommand {
    /// Write the sweep as an MLflow file store (params, metrics, tags per run).
    Mlflow(MlflowArgs),
}

#[derive(Debug, clap::Args)]
pub struct MlflowArgs {
    /// Experiment name or path (its results folder is the sweep), or a sweep folder.
    sweep: String,
    /// Where the file store goes (default: `<sweep>/mlruns`).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArgs,
}

pub fn run(cmd: ExportCommand) -> Result<ExitCode> {
    match cmd {
        ExportCommand::Mlflow(args) => {
            let (sweep_dir, _) = prism_sweep::status::locate(&args.sweep, &args.config.overrides)?;
            let out = args.out.unwrap_or_else(|| sweep_dir.join("mlruns"));
            let n = prism_sweep::export::export_mlflow(&sweep_dir, &out)?;
            eprintln!(
                "{n} runs exported to `{}` (browse: mlflow ui --backend-store-uri {})",
                out.display(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
