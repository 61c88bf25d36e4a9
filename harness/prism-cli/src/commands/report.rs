//! `prism report`: Spearman correlations of every metric with OOD accuracy.

use crate::exit::UsageError;
use anyhow::{Context, Result};
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
    /// (comma-separated `bench.<name>` names). Default: the experiment's `[report] ood` (from
    /// the sweep's `config.json`), else the table's `ood_mean` column, or every benchmark when
    /// it has none.
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

/// The experiment whose sweep wrote `table_path`, from the sweep's `config.json` beside it:
/// its task's report terms and its declared OOD aggregate, so that `prism report <sweep>`
/// matches the report the sweep wrote. `None` for a runs table on its own.
fn sweep_config(table_path: &Path) -> Result<Option<(prism_report::Terms, Vec<String>)>> {
    let path = table_path.with_file_name("config.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let config: prism_core::config::schema::ExperimentConfig = serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not a sweep's config", path.display()))?;
    let kind = prism_tasks::find(&config.task).ok_or_else(|| {
        UsageError(format!(
            "`{}`: task = `{}` is not one of {:?}",
            path.display(),
            config.task,
            prism_tasks::TASKS
        ))
    })?;
    Ok(Some((kind.report_terms(), config.ood_aggregate())))
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    let (table_path, default_out) = locate(&args.input)?;
    let out = args.out.unwrap_or(default_out);
    let (terms, declared) = sweep_config(&table_path)?.unwrap_or_default();
    let ood = if args.ood.is_empty() {
        (!declared.is_empty()).then_some(declared.as_slice())
    } else {
        Some(args.ood.as_slice())
    };
    let options = ReportOptions {
        bootstrap_reps: args.bootstrap,
        seed: args.seed,
        terms,
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

#[cfg(test)]
mod tests {
    use super::*;
    use prism_core::config::ConfigLayers;
    use prism_core::config::schema::{DEFAULTS_TOML, ExperimentConfig};

    fn write_config(dir: &Path, overrides: &[&str]) {
        let config = ConfigLayers {
            embedded_defaults: Some(DEFAULTS_TOML),
            overrides: overrides.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
        .resolve::<ExperimentConfig>()
        .unwrap()
        .value;
        std::fs::write(
            dir.join("config.json"),
            serde_json::to_vec(&config).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn a_sweeps_config_gives_its_task_terms_and_declared_aggregate() {
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("runs.csv");
        assert!(sweep_config(&table).unwrap().is_none(), "no config.json");
        write_config(
            dir.path(),
            &[
                "task=math",
                "data.benchmarks=[\"gsm8k\", \"mathqa\"]",
                "report.ood=[\"gsm8k\"]",
            ],
        );
        let (terms, ood) = sweep_config(&table).unwrap().unwrap();
        assert_eq!(terms.groups, "templates");
        assert!(terms.score.contains("NLL"), "{}", terms.score);
        assert_eq!(ood, ["gsm8k"]);
        write_config(dir.path(), &["task=nli"]);
        let (terms, ood) = sweep_config(&table).unwrap().unwrap();
        assert_eq!(terms, prism_report::Terms::default());
        assert_eq!(
            ood.len(),
            5,
            "every benchmark when none is declared: {ood:?}"
        );
        std::fs::write(dir.path().join("config.json"), "{ not json").unwrap();
        let err = sweep_config(&table).unwrap_err().to_string();
        assert!(err.contains("config.json"), "{err}");
    }
}
