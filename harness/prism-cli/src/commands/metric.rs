//! `prism metric list` and `prism metric compute`.

use crate::exit::UsageError;
use anyhow::{Context, Result};
use prism_data::{Example, Table};
use prism_metrics::{MetricError, MetricInput, Need, registry};
use prism_models::embedders::{minilm_embeddings, static_embeddings};
use prism_tasks::metric_text;
use prism_vendi::Features;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum MetricCommand {
    /// The skill labels `skill-entropy` reads, as the configured annotator assigns them to the
    /// first pool examples (`[skills]`; cached, so a sweep reuses them).
    Skills {
        /// Experiment whose pool and `[skills]` section are used (default: the defaults).
        experiment: Option<String>,
        /// Pool examples to label.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        config: crate::context::ConfigArgs,
    },
    /// List the registered diversity metrics: name, family, needs, direction.
    List {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Compute metrics on a data set (an example's text is premise + hypothesis + label).
    Compute {
        /// A normalised parquet table, or JSONL with `premise`, `hypothesis`, `label` (and an
        /// optional `id`; the line number otherwise).
        #[arg(long)]
        data: PathBuf,
        /// Keep only these ids (one per line), e.g. a subset's `.ids` file.
        #[arg(long)]
        ids: Option<PathBuf>,
        /// Comma-separated metric names (`prism metric list`); default: every metric whose
        /// inputs are available.
        #[arg(long, value_delimiter = ',')]
        metrics: Vec<String>,
        /// Sentence embeddings, `.npy`, one row per example of --data (before --ids); without
        /// it, MiniLM embeddings of each (premise, hypothesis) pair are computed in-process.
        #[arg(long)]
        embeddings: Option<PathBuf>,
        /// Gradient features, `.npy`, one row per example of --data (before --ids).
        #[arg(long)]
        gradients: Option<PathBuf>,
        /// Embeddings of a reference set, `.npy` (any number of rows, the embeddings' width):
        /// what NovelSum measures density against, e.g. the whole pool's.
        #[arg(long)]
        reference_embeddings: Option<PathBuf>,
        /// Seed for metrics that cluster or sample.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Print a JSON object {metric: value}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        config: crate::context::ConfigArgs,
    },
}

pub fn run(cmd: MetricCommand) -> Result<ExitCode> {
    match cmd {
        MetricCommand::Skills {
            experiment,
            limit,
            config,
        } => skills(experiment.as_deref(), limit, &config),
        MetricCommand::List { json } => list(json),
        MetricCommand::Compute {
            data,
            ids,
            metrics,
            embeddings,
            gradients,
            reference_embeddings,
            seed,
            json,
            config,
        } => compute(
            &crate::context::Session::load(None, &config.overrides)?.cache(),
            &data,
            ids.as_deref(),
            &metrics,
            embeddings.as_deref(),
            gradients.as_deref(),
            reference_embeddings.as_deref(),
            seed,
            json,
        ),
    }
}

fn list(json: bool) -> Result<ExitCode> {
    let rows: Vec<serde_json::Value> = registry()
        .iter()
        .map(|m| {
            serde_json::json!({
                "name": m.name(),
                "family": m.family(),
                "needs": m.needs(),
                "direction": m.direction(),
                "description": m.description(),
            })
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<32} {:<10} {:<31} {:<8} description",
        "metric", "family", "needs", "higher"
    );
    for r in rows {
        let needs: Vec<&str> = r["needs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .collect();
        // What a higher value means.
        let higher = match r["direction"].as_str() {
            Some("higher-is-more-diverse") => "diverse",
            Some("lower-is-more-diverse") => "uniform",
            _ => "n/a",
        };
        println!(
            "{:<32} {:<10} {:<31} {:<8} {}",
            r["name"].as_str().unwrap_or_default(),
            r["family"].as_str().unwrap_or_default(),
            needs.join(","),
            higher,
            r["description"].as_str().unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn read_examples(path: &Path) -> Result<Vec<Example>> {
    if path.extension().and_then(|e| e.to_str()) == Some("jsonl") {
        let text = fs_err::read_to_string(path)?;
        let mut out = Vec::new();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let v: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| UsageError(format!("`{}`: line {}: {e}", path.display(), i + 1)))?;
            let field = |k: &str| -> Result<String> {
                v[k].as_str().map(str::to_string).ok_or_else(|| {
                    UsageError(format!(
                        "`{}`: line {}: missing string field `{k}`",
                        path.display(),
                        i + 1
                    ))
                    .into()
                })
            };
            out.push(Example {
                id: v["id"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("line-{}", i + 1)),
                premise: field("premise")?,
                hypothesis: field("hypothesis")?,
                label: field("label")?,
                source: "jsonl".into(),
                group: String::new(),
                split: String::new(),
            });
        }
        return Ok(out);
    }
    if !path.is_file() {
        return Err(UsageError(format!("`{}`: no such file", path.display())).into());
    }
    Ok(Table::read_parquet(path)?.examples)
}

fn load_matrix(path: Option<&Path>, rows: usize, keep: &[usize]) -> Result<Option<Features>> {
    let Some(path) = path else { return Ok(None) };
    let f = prism_vendi::npy::read_npy(path)?;
    if f.n() != rows {
        return Err(UsageError(format!(
            "`{}` has {} rows; --data has {rows} examples",
            path.display(),
            f.n()
        ))
        .into());
    }
    Ok(Some(f.select(keep)))
}

#[allow(clippy::too_many_arguments)]
fn compute(
    cache: &prism_core::cache::Cache,
    data: &Path,
    ids: Option<&Path>,
    names: &[String],
    embeddings: Option<&Path>,
    gradients: Option<&Path>,
    reference: Option<&Path>,
    seed: u64,
    json: bool,
) -> Result<ExitCode> {
    let examples = read_examples(data).with_context(|| format!("reading `{}`", data.display()))?;
    let keep: Vec<usize> = match ids {
        None => (0..examples.len()).collect(),
        Some(path) => crate::ids::select(path, &examples, &format!("`{}`", data.display()))?,
    };
    let texts: Vec<String> = keep.iter().map(|i| metric_text(&examples[*i])).collect();
    let labels: Vec<String> = keep.iter().map(|i| examples[*i].label.clone()).collect();
    let mut emb = load_matrix(embeddings, examples.len(), &keep)?;
    let grad = load_matrix(gradients, examples.len(), &keep)?;
    let reference = reference.map(prism_vendi::npy::read_npy).transpose()?;
    let all = registry();
    // Whether a chosen metric (every metric when none is named) needs `need`.
    let wants = |need: Need| {
        all.iter().any(|m| {
            m.needs().contains(&need) && (names.is_empty() || names.iter().any(|n| n == m.name()))
        })
    };
    if emb.is_none() && wants(Need::Embeddings) {
        let pairs: Vec<(&str, &str)> = keep
            .iter()
            .map(|&i| {
                (
                    examples[i].premise.as_str(),
                    examples[i].hypothesis.as_str(),
                )
            })
            .collect();
        emb = minilm_embeddings(cache, &pairs, names.is_empty())?;
    }
    let static_emb = if wants(Need::StaticEmbeddings) {
        static_embeddings(cache, &texts, names.is_empty())?
    } else {
        None
    };
    let input = MetricInput {
        texts: &texts,
        labels: &labels,
        embeddings: emb.as_ref(),
        static_embeddings: static_emb.as_ref(),
        gradients: grad.as_ref(),
        // Per-example proxy losses live in a feature store; sweeps pass them.
        proxy_losses: None,
        reference_embeddings: reference.as_ref(),
        skills: None,
        seed,
    };

    let chosen: Vec<_> = if names.is_empty() {
        let available = |need: &Need| match need {
            Need::Texts | Need::Labels => true,
            Need::Embeddings => emb.is_some(),
            Need::GradientFeatures => grad.is_some(),
            Need::StaticEmbeddings => static_emb.is_some(),
            Need::ProxyLosses => false,
            Need::ReferenceEmbeddings => reference.is_some(),
            // Skill labels come from an annotator model: `prism metric skills`, or a sweep.
            Need::Skills => false,
        };
        all.iter()
            .filter(|m| m.needs().iter().all(available))
            .collect()
    } else {
        names
            .iter()
            .map(|n| {
                all.iter().find(|m| m.name() == n).ok_or_else(|| {
                    let known: Vec<&str> = all.iter().map(|m| m.name()).collect();
                    anyhow::Error::from(UsageError(format!(
                        "unknown metric `{n}`; known: {}",
                        known.join(", ")
                    )))
                })
            })
            .collect::<Result<_>>()?
    };
    let mut values = serde_json::Map::new();
    for m in chosen {
        let start = std::time::Instant::now();
        let value = m.compute(&input).map_err(|e| match e {
            MetricError::MissingInput { .. } => anyhow::Error::from(UsageError(format!(
                "{e}; pass --embeddings / --gradients (.npy, one row per example) or --reference-embeddings (.npy)"
            ))),
            other => anyhow::Error::from(other),
        })?;
        if !json {
            println!(
                "{:<32} {:>14.6}   ({:.2} s)",
                m.name(),
                value,
                start.elapsed().as_secs_f64()
            );
        }
        values.insert(m.name().to_string(), value.into());
    }
    if json {
        println!("{}", serde_json::Value::Object(values));
    } else {
        eprintln!("{} examples from `{}`", keep.len(), data.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn skills(
    experiment: Option<&str>,
    limit: usize,
    config: &crate::context::ConfigArgs,
) -> Result<ExitCode> {
    let session = crate::context::Session::load(experiment, &config.overrides)?;
    let table = prism_data::pool_table(&session)?.table;
    let rows: Vec<usize> = (0..table.examples.len().min(limit)).collect();
    let started = std::time::Instant::now();
    let labels = prism_tasks::skill_labels(&session, &table, &rows)?;
    for (&r, label) in rows.iter().zip(&labels) {
        let e = &table.examples[r];
        let hypothesis: String = e.hypothesis.chars().take(70).collect();
        println!("{:<24} {:<18} {hypothesis}", e.id, label);
    }
    let mut counts = std::collections::BTreeMap::new();
    for l in &labels {
        *counts.entry(l.as_str()).or_insert(0usize) += 1;
    }
    let counts: Vec<String> = counts.iter().map(|(l, n)| format!("{l} {n}")).collect();
    eprintln!(
        "{} examples labelled in {:.1} s by `{}`: {}",
        labels.len(),
        started.elapsed().as_secs_f64(),
        session.config.value.skills.annotator,
        counts.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}
