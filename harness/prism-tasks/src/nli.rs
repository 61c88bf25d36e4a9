//! The NLI run: build the subset, score it with every metric (G-Vendi from the pool's gradient
//! store, baselines from the pool's cached embeddings), fine-tune and evaluate the student.
//! Everything pool-level is computed once per sweep, before any run.
//!
//! The train-and-evaluate stage (the expensive one) is also cached across runs and sweeps by
//! content: its key hashes the training pairs (text and order), the student, training, data
//! and evaluation settings and the input files' hashes, so a run whose id changed for another
//! reason (a metric added to the sweep, a new sweep name) reuses the student already trained
//! on the same subset (`<cache>/stages/train-eval/<key>.json`).

use crate::pool_scores::{PoolScores, SubsetView, chosen_metrics, pool_embeddings, pool_gradients};
use crate::prepared::{
    BuiltSubsets, build_subsets, cached_report, data_and_proxy_hashes, repaired_shard_events,
    rows_of, subset_of, train_cache_file, used_ids,
};
use anyhow::{Context, Result};
use prism_core::Session;
use prism_core::config::schema::TrainConfig;
use prism_data::Table;
use prism_data::project::{LabeledTable, pool_table};
use prism_data::subset::Pool;
use prism_features::experiment::{model_fingerprint, table_examples};
use prism_metrics::Need;
use prism_models::LabeledPair;
use prism_models::protocol::{StudentRun, labeled_pair, train_and_evaluate};
use prism_sweep::{PlannedRun, PreparedRuns, RunKind};
use std::collections::HashMap;
use std::path::Path;

/// The NLI task: premise–hypothesis pairs from the experiment's pool, a BERT student, the ID
/// test and the OOD benchmarks of `data.benchmarks`.
pub struct Nli;

impl RunKind for Nli {
    fn input_hashes(&self, session: &Session) -> Result<serde_json::Value> {
        input_hashes(session)
    }

    fn code_versions(&self) -> serde_json::Value {
        let versions = serde_json::json!({
            "encoder": prism_models::bert::ENCODER_VERSION,
            "trainer": prism_models::train::TRAINER_VERSION,
            "features": prism_features::store::FEATURES_VERSION,
        });
        // The causal-LM student's version is part of its runs' inputs instead
        // ([`input_hashes`]), so that a classifier run's id does not move with it.
        prism_data::subset::with_subsets_version(versions)
    }

    fn id_test(&self) -> &str {
        prism_data::catalog::id_test()
    }

    fn prepare<'a>(
        &'a self,
        session: &'a Session,
        pending: &[&PlannedRun],
        cache_dir: &Path,
        inputs: &serde_json::Value,
    ) -> Result<Box<dyn PreparedRuns + 'a>> {
        Ok(Box::new(NliSweep::prepare(
            session, pending, cache_dir, inputs,
        )?))
    }
}

/// What every run of an NLI sweep shares.
struct NliSweep<'a> {
    session: &'a Session,
    /// The (sampled) pool and its label space.
    pool: LabeledTable,
    row_of: HashMap<String, usize>,
    /// The metrics and their pool-level inputs (embeddings, gradient features, skills).
    scores: PoolScores,
    /// The pending runs' subsets (ids and manifest), or why one could not be built, by
    /// [`PlannedRun::subset_key`].
    subsets: BuiltSubsets,
    /// Content hashes of the input files (part of every stage key).
    inputs: serde_json::Value,
    /// Feature shards found damaged while preparing (moved aside and featurised again), each
    /// as its error's text: the sweep records them in its event log.
    repaired_shards: Vec<String>,
}

/// Content hashes of the sweep's inputs (part of every run's identity).
fn input_hashes(session: &Session) -> Result<serde_json::Value> {
    let cfg = &session.config.value;
    let mut inputs = data_and_proxy_hashes(session, prism_data::catalog::id_test())?;
    let student = session.model_dir(&cfg.student.model);
    inputs.insert(
        "student".into(),
        model_fingerprint(&student)
            .with_context(|| format!("hashing the student `{}`", student.display()))?
            .into(),
    );
    // A causal-LM student's prompt and code version (absent for a classifier, whose run ids
    // stay as they were).
    if let Some(lm) = prism_models::nli_lm::identity(session) {
        inputs.insert("causal_lm".into(), lm);
    }
    Ok(serde_json::Value::Object(inputs))
}

impl<'a> NliSweep<'a> {
    /// Builds the subsets of `pending` runs and computes the pool-level inputs they need
    /// (cached in `cache_dir` and the feature store: a rerun reuses them).
    fn prepare(
        session: &'a Session,
        pending: &[&PlannedRun],
        cache_dir: &Path,
        inputs: &serde_json::Value,
    ) -> Result<Self> {
        let cfg = &session.config.value;
        let labeled = pool_table(session)?;
        let table = &labeled.table;
        let pool = Pool::new(table, cfg.subsets.length_bins);
        let subsets = build_subsets(&pool, pending);
        let row_of: HashMap<String, usize> = table
            .examples
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.clone(), i))
            .collect();
        let metrics = chosen_metrics(session)?;
        let wants = |need: Need| PoolScores::wants(&metrics, need);
        let pairs: Vec<(&str, &str)> = table
            .examples
            .iter()
            .map(|e| (e.premise.as_str(), e.hypothesis.as_str()))
            .collect();
        let texts: Vec<String> = table.examples.iter().map(metric_text).collect();
        let ids: Vec<&str> = table.examples.iter().map(|e| e.id.as_str()).collect();
        let (embeddings, static_embeddings) =
            pool_embeddings(session, &metrics, cache_dir, inputs, &ids, &pairs, &texts)?;
        // Only examples some pending run uses are labelled and featurised.
        let used = used_ids(&subsets);
        let skills = if wants(Need::Skills) {
            let rows: Vec<usize> = (0..table.examples.len())
                .filter(|&r| used.contains(table.examples[r].id.as_str()))
                .collect();
            let labels = skill_labels(session, table, &rows)?;
            Some(rows.into_iter().zip(labels).collect())
        } else {
            None
        };
        let mut repaired_shards = Vec::new();
        let gradients = if wants(Need::GradientFeatures) || wants(Need::ProxyLosses) {
            let (pool_rows, examples): (Vec<usize>, Vec<_>) = table_examples(table, &cfg.gvendi)?
                .into_iter()
                .enumerate()
                .filter(|(_, e)| used.contains(e.id.as_str()))
                .unzip();
            let (gradients, repaired) = pool_gradients(session, pool_rows, &examples)?;
            repaired_shards.extend(repaired);
            Some(gradients)
        } else {
            None
        };
        Ok(Self {
            session,
            pool: labeled,
            row_of,
            scores: PoolScores {
                metrics,
                embeddings,
                static_embeddings,
                gradients,
                skills,
            },
            subsets,
            inputs: inputs.clone(),
            repaired_shards,
        })
    }

    /// The pool rows of the subset `ids`.
    fn rows(&self, ids: &[String]) -> Result<Vec<usize>> {
        rows_of(&self.row_of, ids)
    }

    /// Where the train-and-evaluate result of a student trained on the pool rows `rows` is
    /// cached with the training settings `train`: a hash of everything that result depends on,
    /// and of nothing else.
    fn train_cache_path(&self, rows: &[usize], train: &TrainConfig) -> std::path::PathBuf {
        let cfg = &self.session.config.value;
        let examples: Vec<_> = rows
            .iter()
            .map(|&r| {
                let e = &self.pool.table.examples[r];
                [&e.premise, &e.hypothesis, &e.label]
            })
            .collect();
        let mut key = serde_json::json!({
            "examples": examples, "two_way": self.pool.two_way, "data": cfg.data,
            "student": cfg.student, "train": train, "eval_limit": cfg.sweep.eval_limit,
            "inputs": self.inputs, "trainer": prism_models::train::TRAINER_VERSION,
        });
        if let Some(lm) = prism_models::nli_lm::identity(self.session) {
            key["causal_lm"] = lm;
        }
        train_cache_file(self.session, &key)
    }

    /// Every metric on the pool rows `rows` ([`PoolScores::metrics_of`]).
    fn metrics_of(&self, rows: &[usize]) -> Result<serde_json::Value> {
        let examples: Vec<_> = rows.iter().map(|&r| &self.pool.table.examples[r]).collect();
        self.scores.metrics_of(&SubsetView {
            rows,
            ids: examples.iter().map(|e| e.id.as_str()).collect(),
            texts: examples.iter().map(|e| metric_text(e)).collect(),
            labels: examples.iter().map(|e| e.label.clone()).collect(),
        })
    }
}

impl PreparedRuns for NliSweep<'_> {
    fn subset(&self, run: &PlannedRun) -> Result<(Vec<String>, serde_json::Value)> {
        subset_of(&self.subsets, run)
    }

    fn metrics(&self, _run: &PlannedRun, ids: &[String]) -> Result<serde_json::Value> {
        self.metrics_of(&self.rows(ids)?)
    }

    fn train_and_evaluate(
        &self,
        run: &PlannedRun,
        ids: &[String],
        stage: &dyn Fn(&str) -> Result<()>,
    ) -> Result<Vec<u8>> {
        let rows = self.rows(ids)?;
        let cfg = &self.session.config.value;
        let train = cfg.train_with_seed(run.train_seed);
        cached_report(&self.train_cache_path(&rows, &train), stage, || {
            let pairs: Vec<LabeledPair> = rows
                .iter()
                .map(|&r| labeled_pair(&self.pool.table.examples[r], self.pool.two_way))
                .collect::<Result<_, _>>()?;
            let bar = prism_core::progress::bar(0, "train");
            let student: StudentRun = train_and_evaluate(
                self.session,
                &train,
                &pairs,
                self.pool.classes(),
                cfg.sweep.eval_limit,
                &mut prism_core::progress::with_loss(&bar),
            )?;
            bar.finish_and_clear();
            let report = serde_json::json!({
                "n_train": pairs.len(), "backend": student.backend.to_string(),
                "summary": student.summary, "train_seconds": student.train_seconds,
                "eval_seconds": student.eval_seconds, "eval": student.eval,
            });
            Ok(report)
        })
    }

    fn events(&self) -> Vec<serde_json::Value> {
        repaired_shard_events(&self.repaired_shards)
    }
}

/// The skill label of each of the pool `rows` of `table` (`[skills]` of the config), from the
/// annotator model, cached by content under `<cache>/stages/skills/`.
pub fn skill_labels(session: &Session, table: &Table, rows: &[usize]) -> Result<Vec<String>> {
    let cfg = &session.config.value.skills;
    let path =
        prism_models::language_model::resolve_model(&cfg.annotator, &session.cache().model(""))?;
    let backend: prism_models::Backend = cfg.backend.parse()?;
    // The model is loaded only when a label is not in the cache.
    let mut make =
        || -> Result<Box<dyn prism_models::annotate::Annotator>, prism_models::ModelError> {
            let lm = prism_models::LanguageModel::load_path(&path, &backend.device()?)?;
            Ok(Box::new(prism_models::annotate::LmAnnotator(lm)))
        };
    let prompts: Vec<String> = rows
        .iter()
        .map(|&r| {
            let e = &table.examples[r];
            prism_models::annotate::skill_prompt(&e.premise, &e.hypothesis, &cfg.list)
        })
        .collect();
    let file = prism_models::annotate::cache_file(
        &session.cache().root().join("stages/skills"),
        &model_fingerprint(&path)?,
        &cfg.list,
    );
    let bar = prism_core::progress::bar(prompts.len() as u64, "skills");
    let labels = prism_models::annotate::annotate(
        &mut make,
        &prompts,
        &cfg.list,
        &file,
        &mut prism_core::progress::counter(&bar),
    )?;
    bar.finish_and_clear();
    Ok(labels)
}

/// The text the surface metrics read for one example: premise, hypothesis and label.
pub fn metric_text(e: &prism_data::Example) -> String {
    format!("{} {} {}", e.premise, e.hypothesis, e.label)
}
