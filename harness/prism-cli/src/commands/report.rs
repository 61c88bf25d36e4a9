//! `prism report`: Spearman correlations of every metric with OOD accuracy.

use crate::exit::UsageError;
use anyhow::{Context, Result};
use prism_report::{ReportOptions, RunsTable, analyze, render};
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
    let report = write_report(&table_path, &out, args.bootstrap, args.seed, ood)?;
    print!("{}", render::markdown(&report));
    eprintln!(
        "wrote report.json, report.csv, report.md, report.html and plots/ to `{}`",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Analyses the runs table at `table_path` and writes every report file into `out`; with
/// `ood`, `ood_mean` is the mean of those benchmarks (the experiment's declared aggregate).
pub fn write_report(
    table_path: &Path,
    out: &Path,
    bootstrap: usize,
    seed: u64,
    ood: Option<&[String]>,
) -> Result<prism_report::Report> {
    let mut runs = RunsTable::read(table_path).map_err(|e| UsageError(e.to_string()))?;
    if let Some(ood) = ood {
        runs = runs
            .with_ood_aggregate(ood)
            .map_err(|e| UsageError(format!("`{}`: {e}", table_path.display())))?;
    }
    let options = ReportOptions {
        bootstrap_reps: bootstrap,
        seed,
        ..Default::default()
    };
    let report = analyze(&runs, &options);
    // Students of one subset count once: the report correlates per subset.
    if report.runs < 3 {
        return Err(UsageError(format!(
            "`{}`: {} runs on {} subsets; a correlation needs at least 3 subsets",
            table_path.display(),
            report.students,
            report.runs
        ))
        .into());
    }
    render::write_all(&report, &runs, out)
        .with_context(|| format!("writing the report into `{}`", out.display()))?;
    Ok(report)
}
