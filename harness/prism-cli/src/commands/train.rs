//! `prism train`: fine-tune the student on one subset, then score it on the in-distribution
//! test and every OOD benchmark of the experiment (the protocol of
//! [`prism_models::protocol`]); write the metrics as JSON.

use crate::context::{ConfigArgs, Session};
use crate::exit::UsageError;
use anyhow::{Context, Result};
use prism_core::atomic::write_json_atomic;
use prism_core::hash::sha256_file;
use prism_data::Table;
use prism_models::LabeledPair;
use prism_models::eval::Scores;
use prism_models::protocol::{StudentRun, labeled_pair, train_and_evaluate};
use prism_models::train::TrainSummary;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Experiment name (`experiments/<name>.toml`) or path: its `[student]` and `[train]`
    /// sections set the model and hyper-parameters, `[data]` the pool and benchmarks.
    experiment: Option<String>,
    /// Ids of the training subset, one per line (e.g. `results/nli/subsets/<subset>.ids`).
    #[arg(
        long,
        required_unless_present = "train_jsonl",
        conflicts_with = "train_jsonl"
    )]
    ids: Option<PathBuf>,
    /// Train on these pairs instead of pool ids: a JSONL file with `premise`, `hypothesis` and
    /// `label` per line, as `prism synth` writes in `kept.jsonl` (labels in the pool's space).
    #[arg(long, value_name = "JSONL")]
    train_jsonl: Option<PathBuf>,
    /// Where to write the metrics JSON (default: next to the ids or the JSONL,
    /// `<name>.train.json`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Score at most this many examples of each evaluation set (a seeded sample); 0 = all.
    #[arg(long, default_value_t = 0)]
    eval_limit: usize,
    #[command(flatten)]
    config: ConfigArgs,
}

/// The labelled pairs of a JSONL file (`premise`, `hypothesis`, `label` per line); an error names
/// the file and the line.
fn jsonl_pairs(path: &Path, two_way: bool) -> Result<Vec<LabeledPair>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading `{}`", path.display()))?;
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("`{}` line {}", path.display(), i + 1);
        let row: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| UsageError(format!("{at}: not a JSON object ({e})")))?;
        let pair = prism_tasks::equal_size::labeled_pair_of(&row, two_way)
            .map_err(|e| UsageError(format!("{at}: {e:#}")))?;
        pairs.push(pair);
    }
    if pairs.is_empty() {
        return Err(UsageError(format!("`{}` holds no pairs", path.display())).into());
    }
    Ok(pairs)
}

/// What `prism train` writes.
#[derive(Debug, Serialize)]
pub struct TrainReport {
    /// The subset's ids file (or the JSONL of pairs trained on).
    pub subset: String,
    /// sha256 of that file.
    pub subset_sha256: String,
    /// Training examples.
    pub n_train: usize,
    /// Student model folder.
    pub model: String,
    /// Backend that ran it.
    pub backend: String,
    /// The hyper-parameters used.
    pub train: prism_models::TrainConfig,
    /// Loss summary.
    pub summary: TrainSummary,
    /// Seconds spent fine-tuning.
    pub train_seconds: f64,
    /// Training examples per second.
    pub train_examples_per_second: f64,
    /// Seconds spent evaluating.
    pub eval_seconds: f64,
    /// Scores per evaluation set: the ID test first, then the benchmarks.
    pub eval: BTreeMap<String, Scores>,
}

/// The pool's examples named by `ids`, as labelled pairs; an unknown id is an error naming
/// the file and line.
fn training_pairs(pool: &Table, ids_file: &Path, two_way: bool) -> Result<Vec<LabeledPair>> {
    let pairs: Vec<LabeledPair> = crate::ids::select(ids_file, &pool.examples, "the pool")?
        .into_iter()
        .map(|i| labeled_pair(&pool.examples[i], two_way))
        .collect::<Result<_, _>>()?;
    if pairs.is_empty() {
        return Err(UsageError(format!("`{}` lists no ids", ids_file.display())).into());
    }
    Ok(pairs)
}

pub fn run(args: TrainArgs) -> Result<ExitCode> {
    let session = Session::load(args.experiment.as_deref(), &args.config.overrides)?;
    let cfg = &session.config.value;
    let pool = prism_data::pool_table(&session)?;
    let (source, pairs) = match (&args.ids, &args.train_jsonl) {
        (Some(ids), _) => (ids, training_pairs(&pool.table, ids, pool.two_way)?),
        (None, Some(jsonl)) => (jsonl, jsonl_pairs(jsonl, pool.two_way)?),
        (None, None) => unreachable!("clap requires --ids or --train-jsonl"),
    };
    let bar = prism_core::progress::bar(0, "train");
    let StudentRun {
        summary,
        train_seconds,
        eval_seconds,
        eval,
        backend,
    } = train_and_evaluate(
        &session,
        &cfg.train,
        &pairs,
        pool.classes(),
        args.eval_limit,
        &mut prism_core::progress::with_loss(&bar),
    )?;
    bar.finish_and_clear();
    let report = TrainReport {
        subset: source.display().to_string(),
        subset_sha256: sha256_file(source)
            .with_context(|| format!("hashing `{}`", source.display()))?,
        n_train: pairs.len(),
        model: session.model_dir(&cfg.student.model).display().to_string(),
        backend: backend.to_string(),
        train: cfg.train.clone(),
        train_examples_per_second: summary.examples as f64 / train_seconds,
        summary,
        train_seconds,
        eval_seconds,
        eval,
    };
    let out = args
        .out
        .unwrap_or_else(|| source.with_extension("train.json"));
    write_json_atomic(&out, &report).with_context(|| format!("writing `{}`", out.display()))?;
    println!(
        "trained on {} examples in {:.1} s ({:.1} examples/s); loss {:.3} → {:.3}",
        report.n_train,
        report.train_seconds,
        report.train_examples_per_second,
        report.summary.first_loss,
        report.summary.last_loss
    );
    println!(
        "{:<26} {:>6} {:>9} {:>9} {:>9}",
        "set", "n", "accuracy", "macro-F1", "majority"
    );
    for (name, s) in &report.eval {
        println!(
            "{:<26} {:>6} {:>9.4} {:>9.4} {:>9.4}",
            name, s.n, s.accuracy, s.macro_f1, s.majority
        );
    }
    println!("metrics: {}", out.display());
    Ok(ExitCode::SUCCESS)
}
