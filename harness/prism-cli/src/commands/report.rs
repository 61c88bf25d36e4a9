//! `prism report`: Spearman correlations of every metric with OOD accuracy.

use crate::exit::UsageError;
use anyhow::Result;
use prism_report::{ReportOptions, render};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A sweep folder (holding `runs.parquet` or `runs.csv`) or a runs table (.csv / .parquet).
    input: PathBuf,
    /// Output folder (default: `<sweep>/report`, or `report/` beside the table).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Bootstrap resamples for the confidence interval of ρ.
    #[arg(long, default_value_t = 2000)]
    bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The declared OOD aggregate: `ood_mean` becomes the mean of these benchmarks
    /// (comma-separated `bench.<name>` names). Default: the table's `ood_mean` column, or
    /// every benchmark when it has none.
    #[arg(long, value_delimiter = ',')]
    ood: Vec<String>,
}

fn locate(input: &Path) -> Result<(PathBuf, PathBuf)> {
    if input.is_dir() {
        for name in ["runs.parquet", "runs.csv"] {
            let table = input.join(name);
            if table.is_file() {
                return Ok((table, input.join("report")));
            }
        }
        return Err(UsageError(format!(
            "`{}` holds no runs.parquet or runs.csv",
            input.display()
        ))
        .into());
    }
    if !input.is_file() {
        return Err(UsageError(format!("`{}`: no such file or folder", input.display())).into());
    }
    let parent = input.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok((input.to_path_buf(), parent.join("report")))
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    let (table_path, default_out) = locate(&args.input)?;
    let out = args.out.unwrap_or(default_out);
    let ood = (!args.ood.is_empty()).then_some(args.ood.as_slice());
    let options = ReportOptions {
        bootstrap_reps: args.bootstrap,
        seed: args.seed,
        ..Default::default()
    };
    let report = prism_report::write_report(&table_path, &out, &options, ood)?;
    print!("{}", render::markdown(&report));
    eprintln!(
        "wrote report.json, report.csv, report.md, report.html and plots/ to `{}`",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
