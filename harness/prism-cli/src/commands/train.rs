//! `prism train`: fine-tune the student on one subset, then score it on the in-distribution
//! test and every OOD benchmark of the experiment; write the metrics as JSON.

use crate::context::{ConfigArgs, Session};
use crate::exit::UsageError;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use prism_core::atomic::write_json_atomic;
use prism_core::config::schema::{ExperimentConfig, TrainConfig};
use prism_core::hash::sha256_file;
use prism_core::hash::sha256_hex;
use prism_core::once_map::OnceMap;
use prism_data::catalog::{THREE_WAY, TWO_WAY};
use prism_data::{Example, Table};
use prism_models::eval::{Scores, map_prediction, score};
use prism_models::prefix::FrozenPrefix;
use prism_models::tokenize::EncodedPairs;
use prism_models::train::{
    FrozenPart, TrainSummary, fine_tune, frozen_features, predict, predict_from_features,
    predict_from_prefix,
};
use prism_models::{Backend, Classifier, EncoderFiles, LabeledPair};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Experiment name (`experiments/<name>.toml`) or path: its `[student]` and `[train]`
    /// sections set the model and hyper-parameters, `[data]` the pool and benchmarks.
    experiment: Option<String>,
    /// Ids of the training subset, one per line (e.g. `results/nli/subsets/<subset>.ids`).
    #[arg(long)]
    ids: PathBuf,
    /// Where to write the metrics JSON (default: next to the ids, `<subset>.train.json`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Score at most this many examples of each evaluation set (a seeded sample); 0 = all.
    #[arg(long, default_value_t = 0)]
    eval_limit: usize,
    #[command(flatten)]
    config: ConfigArgs,
}

/// What `prism train` writes.
#[derive(Debug, Serialize)]
pub struct TrainReport {
    /// The subset's ids file and its sha256.
    pub subset: String,
    /// sha256 of the ids file.
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

fn label_index(label: &str, two_way: bool) -> Option<usize> {
    let space: &[&str] = if two_way { &TWO_WAY } else { &THREE_WAY };
    space.iter().position(|l| *l == label)
}

/// The table of a dataset named in the config: a cache name or a parquet path.
pub fn dataset_table(session: &Session, name: &str) -> Result<(Table, bool)> {
    let path = session.dataset_path(name)?;
    let table = Table::read_parquet(&path)?;
    let two_way = table
        .examples
        .iter()
        .all(|e| label_index(&e.label, true).is_some());
    Ok((table, two_way))
}

/// The experiment's pool: `data.pool`, sampled to `data.pool_size` examples by whole pages
/// (seeded by `data.split_seed`); every command that subsets or trains reads it this way.
pub fn pool_table(session: &Session) -> Result<(Table, bool)> {
    let cfg = &session.config.value;
    let (table, two_way) = dataset_table(session, &cfg.data.pool)?;
    Ok((
        table.sample_groups(cfg.data.pool_size, cfg.data.split_seed),
        two_way,
    ))
}

/// A pool example as a training pair in the pool's label space (an unknown label is a usage
/// error naming the example).
pub fn labeled_pair(e: &Example, two_way: bool) -> Result<LabeledPair> {
    let label = label_index(&e.label, two_way)
        .ok_or_else(|| UsageError(format!("pool example `{}` has label `{}`", e.id, e.label)))?;
    Ok(LabeledPair {
        premise: e.premise.clone(),
        hypothesis: e.hypothesis.clone(),
        label,
    })
}

/// The pool's examples named by `ids`, as labelled pairs; an unknown id is an error naming
/// the file and line.
pub fn training_pairs(pool: &Table, ids_file: &Path, two_way: bool) -> Result<Vec<LabeledPair>> {
    let pairs: Vec<LabeledPair> = crate::ids::select(ids_file, &pool.examples, "the pool")?
        .into_iter()
        .map(|i| labeled_pair(&pool.examples[i], two_way))
        .collect::<Result<_>>()?;
    if pairs.is_empty() {
        return Err(UsageError(format!("`{}` lists no ids", ids_file.display())).into());
    }
    Ok(pairs)
}

/// The student's folder: a cache model name or a path.
pub fn student_dir(session: &Session, cfg: &ExperimentConfig) -> PathBuf {
    if cfg.student.model.contains('/') {
        session.resolve_path(&cfg.student.model)
    } else {
        session.cache().model(&cfg.student.model)
    }
}

/// A bar with examples/s and ETA, drawn on stderr only when it is a terminal.
pub fn progress_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{what} {{bar:30}} {{pos}}/{{len}} [{{elapsed_precise}} < {{eta_precise}}, {{per_sec}}] {{msg}}"
        ))
        .expect("valid template"),
    );
    bar
}

/// The frozen encoder's features of evaluation sets, by a hash of (student, max length,
/// pairing, backend, pairs): a head-only student never changes its encoder, so every run of a
/// sweep in this process reads the same features and only the first computes them.
static FROZEN_EVAL: LazyLock<OnceMap<(Vec<f32>, usize)>> = LazyLock::new(OnceMap::default);

/// The states of evaluation sets after a last-k student's frozen blocks, keyed like
/// [`FROZEN_EVAL`] and by the number of blocks: every run of a sweep runs only its top blocks.
static FROZEN_PREFIX: LazyLock<OnceMap<FrozenPrefix>> = LazyLock::new(OnceMap::default);

/// One fine-tuned and evaluated student.
pub struct StudentRun {
    /// Loss summary.
    pub summary: TrainSummary,
    /// Seconds spent fine-tuning.
    pub train_seconds: f64,
    /// Seconds spent evaluating.
    pub eval_seconds: f64,
    /// Scores per evaluation set.
    pub eval: BTreeMap<String, Scores>,
    /// Backend that ran it.
    pub backend: Backend,
}

/// Trains on `pairs` with `train` (the experiment's, or a sweep run's with its own seed) and
/// evaluates on the ID test and the benchmarks.
pub fn train_and_evaluate(
    session: &Session,
    train: &TrainConfig,
    pairs: &[LabeledPair],
    classes: usize,
    eval_limit: usize,
) -> Result<StudentRun> {
    let cfg = &session.config.value;
    let backend = Backend::from_str(&cfg.student.backend)?;
    let device = backend.device()?.autodiff();
    device.seed(train.seed);
    let dir = student_dir(session, cfg);
    let (bert, bert_config, tokenizer) =
        EncoderFiles::in_dir(&dir)?.load(train.max_len, &device)?;
    let model = Classifier::with_pairing(bert, &bert_config, classes, cfg.student.pairing, &device);

    let bar = progress_bar(
        (pairs.len() * train.epochs_for(pairs.len())) as u64,
        "train",
    );
    let start = Instant::now();
    let (model, summary) = fine_tune(model, &tokenizer, pairs, train, &device, &mut |s| {
        bar.inc(train.batch_size.min(pairs.len()) as u64);
        bar.set_message(format!("loss {:.3}", s.loss));
    })?;
    bar.finish_and_clear();
    let train_seconds = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let mut eval = BTreeMap::new();
    let mut sets = vec![prism_data::catalog::id_test().to_string()];
    sets.extend(cfg.data.benchmarks.iter().cloned());
    for name in sets {
        let (table, two_way) = dataset_table(session, &name)?;
        let mut examples: Vec<_> = table.examples.iter().collect();
        if eval_limit > 0 && examples.len() > eval_limit {
            // Drawn with the data's seed, not the training seed: students trained with
            // different seeds are scored on the same examples (both are 0 by default).
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.data.split_seed);
            examples.shuffle(&mut rng);
            examples.truncate(eval_limit);
        }
        let pairs: Vec<(&str, &str)> = examples
            .iter()
            .map(|e| (e.premise.as_str(), e.hypothesis.as_str()))
            .collect();
        let set_classes = if two_way { 2 } else { 3 };
        let gold: Vec<usize> = examples
            .iter()
            .map(|e| {
                label_index(&e.label, two_way)
                    .with_context(|| format!("`{name}` example `{}` has label `{}`", e.id, e.label))
            })
            .collect::<Result<_>>()?;
        let key = |after_layers: usize| {
            let key = serde_json::json!({
                "student": dir, "max_len": train.max_len, "pairing": cfg.student.pairing,
                "backend": backend.to_string(), "after_layers": after_layers, "pairs": pairs,
            });
            sha256_hex(key.to_string().as_bytes())
        };
        let encoded =
            || EncodedPairs::new(&tokenizer, &pairs, model.pairing()).map_err(|e| e.to_string());
        let batch_size = train.eval_batch_size;
        let predicted = match FrozenPart::of(&model, train.layers) {
            FrozenPart::Encoder => {
                let features = FROZEN_EVAL
                    .get_or_compute(key(model.encoder_layers()), || {
                        frozen_features(&model, &tokenizer, &encoded()?, batch_size, &device)
                            .map_err(|e| e.to_string())
                    })
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("encoding `{name}` with the frozen student"))?;
                let (values, width) = &*features;
                predict_from_features(&model, values, *width, batch_size, &device)?
            }
            FrozenPart::Blocks(frozen_blocks) => {
                let prefix = FROZEN_PREFIX
                    .get_or_compute(key(frozen_blocks), || {
                        let encoded = encoded()?;
                        FrozenPrefix::compute(
                            &model,
                            &tokenizer,
                            &encoded,
                            frozen_blocks,
                            batch_size,
                            &device,
                        )
                        .map_err(|e| e.to_string())
                    })
                    .map_err(anyhow::Error::msg)
                    .with_context(|| {
                        format!("encoding `{name}` with the student's frozen blocks")
                    })?;
                predict_from_prefix(&model, &prefix, batch_size, &device)?
            }
            FrozenPart::Nothing => predict(&model, &tokenizer, &pairs, batch_size, &device)?,
        };
        let predicted: Vec<usize> = predicted
            .into_iter()
            .map(|p| map_prediction(p, classes, set_classes))
            .collect();
        eval.insert(name, score(&gold, &predicted, set_classes));
    }
    Ok(StudentRun {
        summary,
        train_seconds,
        eval_seconds: start.elapsed().as_secs_f64(),
        eval,
        backend,
    })
}

pub fn run(args: TrainArgs) -> Result<ExitCode> {
    let session = Session::load(args.experiment.as_deref(), &args.config)?;
    let cfg = &session.config.value;
    let (pool, two_way) = pool_table(&session)?;
    let pairs = training_pairs(&pool, &args.ids, two_way)?;
    let classes = if two_way { 2 } else { 3 };
    let StudentRun {
        summary,
        train_seconds,
        eval_seconds,
        eval,
        backend,
    } = train_and_evaluate(&session, &cfg.train, &pairs, classes, args.eval_limit)?;
    let report = TrainReport {
        subset: args.ids.display().to_string(),
        subset_sha256: sha256_file(&args.ids)
            .with_context(|| format!("hashing `{}`", args.ids.display()))?,
        n_train: pairs.len(),
        model: student_dir(&session, cfg).display().to_string(),
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
        .unwrap_or_else(|| args.ids.with_extension("train.json"));
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
