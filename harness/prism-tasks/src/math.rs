//! The math run (issue 27): subsets of a GSM-Symbolic pool under the math controls, every
//! metric on problem + worked solution (G-Vendi with the worked solution as the proxy's
//! completion), and a SmolLM2 student fine-tuned per subset and scored by
//! [`prism_models::lm_protocol`]. Everything pool-level is computed once per sweep: the
//! subsets, the embeddings and gradient features, the student's frozen-block states of every
//! used pool problem and of every evaluation set, and the untuned student's scores.
//!
//! **Controls.** The subset machinery of `prism_data::subset` stratifies by an example's
//! label; a math problem's stratum is its difficulty (reasoning steps, binned:
//! [`difficulty_stratum`]), and its length is question + solution words, so every subset has
//! the pool's difficulty distribution and, within each difficulty, its length distribution.
//! `groups` picks whole templates (the ground-truth diversity axis).
//!
//! **The runs table.** Each evaluation set's `accuracy` column holds the student's *negative*
//! mean per-token NLL of the gold completion (higher is better), and its `majority` column the
//! untuned student's, so the report's headroom reads as "better than the untuned model". The
//! multiple-choice and short-answer accuracies are in each run's `eval.json`
//! (`task_accuracy`, with `untuned_task_accuracy`).

use crate::pool_scores::{PoolScores, SubsetView, chosen_metrics, pool_embeddings, pool_gradients};
use crate::prepared::{
    BuiltSubsets, build_subsets, cached_report, data_and_proxy_hashes, repaired_shard_events,
    rows_of, subset_of, train_cache_file, used_ids,
};
use anyhow::{Context, Result, bail};
use prism_core::Session;
use prism_core::config::schema::TrainConfig;
use prism_data::catalog::Role;
use prism_data::math::{MathExample, MathTable, math_dataset};
use prism_data::project::dataset_path;
use prism_data::subset::Pool;
use prism_data::{Example, Table};
use prism_features::GradientExample;
use prism_features::experiment::model_fingerprint;
use prism_metrics::Need;
use prism_models::LanguageModel;
use prism_models::lm_protocol::{ScoredSet, SetResult, training_pair};
use prism_models::lm_student::{LmStudent, LowerStates};
use prism_models::lm_tokenizer::ChatTokens;
use prism_sweep::{PlannedRun, PreparedRuns, RunKind};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

/// The math ID test: fresh instances of the pool's templates.
pub const MATH_ID_TEST: &str = "gsm_symbolic_id_test";

/// The math task: GSM-Symbolic problems with worked solutions, a causal-LM student, the ID
/// test and the math benchmarks of `data.benchmarks`.
pub struct Math;

impl RunKind for Math {
    fn input_hashes(&self, session: &Session) -> Result<serde_json::Value> {
        let cfg = &session.config.value;
        let mut inputs = data_and_proxy_hashes(session, MATH_ID_TEST)?;
        let student = prism_models::language_model::resolve_model(
            &cfg.student.model,
            &session.cache().model(""),
        )?;
        inputs.insert("student".into(), model_fingerprint(&student)?.into());
        Ok(serde_json::Value::Object(inputs))
    }

    fn code_versions(&self) -> serde_json::Value {
        prism_data::subset::with_subsets_version(serde_json::json!({
            "lm_student": prism_models::lm_student::LM_STUDENT_VERSION,
            "features": prism_features::store::FEATURES_VERSION,
        }))
    }

    fn id_test(&self) -> &str {
        MATH_ID_TEST
    }

    fn report_terms(&self) -> prism_report::Terms {
        prism_report::Terms {
            score: "score (−NLL)".into(),
            baseline: "untuned student".into(),
            groups: "templates".into(),
            strata: "difficulty".into(),
        }
    }

    fn prepare<'a>(
        &'a self,
        session: &'a Session,
        pending: &[&PlannedRun],
        cache_dir: &Path,
        inputs: &serde_json::Value,
    ) -> Result<Box<dyn PreparedRuns + 'a>> {
        Ok(Box::new(MathSweep::prepare(
            session, pending, cache_dir, inputs,
        )?))
    }
}

/// A problem's stratum for the subset controls: its reasoning steps, binned so that every bin
/// holds a sizeable share of the GSM-Symbolic pool.
pub fn difficulty_stratum(steps: u32) -> String {
    match steps {
        0..=2 => "steps-1-2".into(),
        3 => "steps-3".into(),
        4 => "steps-4".into(),
        _ => "steps-5+".into(),
    }
}

/// A math problem as the subset machinery and the metrics see it: the question as the
/// premise, the worked solution as the hypothesis, the difficulty stratum as the label, the
/// template as the group.
fn as_example(e: &MathExample) -> Example {
    Example {
        id: e.id.clone(),
        premise: e.question.clone(),
        hypothesis: e.solution.clone(),
        label: difficulty_stratum(e.difficulty),
        source: e.source.clone(),
        group: e.group.clone(),
        split: e.split.clone(),
    }
}

/// The math pool as the subset machinery sees it (see [`as_example`]).
pub fn subset_table(pool: &[MathExample]) -> Table {
    Table {
        examples: pool.iter().map(as_example).collect(),
    }
}

/// The text the surface metrics read for one problem: question and worked solution.
pub fn math_metric_text(e: &MathExample) -> String {
    format!("{} {}", e.question, e.solution)
}

/// What the G-Vendi proxy sees of a math problem: the question as the user turn and the worked
/// solution as the completion, so the loss falls on the reasoning.
pub fn gradient_example(e: &MathExample) -> GradientExample {
    GradientExample {
        id: e.id.clone(),
        prompt: e.question.clone(),
        completion: e.solution.clone(),
    }
}

/// The experiment's math pool: `data.pool`, a seeded sample of `data.pool_size` problems
/// (by `data.split_seed`; 0 = all), in table order.
pub fn math_pool(session: &Session) -> Result<Vec<MathExample>> {
    let data = &session.config.value.data;
    let info = math_dataset(&data.pool)
        .filter(|d| d.role == Role::Pool)
        .with_context(|| {
            format!(
                "data.pool = `{}` is not a math pool (the math task's pool is `gsm_symbolic`)",
                data.pool
            )
        })?;
    let table = MathTable::read_parquet(&dataset_path(session, info.name)?)?;
    Ok(seeded_sample(
        table.examples,
        data.pool_size,
        data.split_seed,
    ))
}

/// A seeded sample of at most `n` of `examples` (0 = all), in their order.
pub fn seeded_sample<T>(examples: Vec<T>, n: usize, seed: u64) -> Vec<T> {
    if n == 0 || n >= examples.len() {
        return examples;
    }
    let mut idx: Vec<usize> = (0..examples.len()).collect();
    idx.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    let keep: HashSet<usize> = idx.into_iter().take(n).collect();
    examples
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, e)| e)
        .collect()
}

/// What every run of a math sweep shares.
struct MathSweep<'a> {
    session: &'a Session,
    /// The (sampled) pool.
    pool: Vec<MathExample>,
    row_of: HashMap<String, usize>,
    scores: PoolScores,
    subsets: BuiltSubsets,
    inputs: serde_json::Value,
    repaired_shards: Vec<String>,
    /// The student (frozen lower blocks, pretrained top), loaded once.
    student: LmStudent,
    /// Each used pool row's tokens and frozen-block states: `(row → index)`, sequences, states.
    train_index: HashMap<usize, usize>,
    train_sequences: Vec<ChatTokens>,
    train_states: LowerStates,
    /// The ID test and benchmarks, through the frozen blocks once.
    eval_sets: Vec<ScoredSet>,
    /// The untuned student's figures on each set (its baseline).
    untuned: Vec<SetResult>,
}

/// The student's share of a math sweep's preparation: the model, the used pool problems'
/// tokens and frozen-block states, and the evaluation sets with the untuned scores.
struct StudentSide {
    student: LmStudent,
    train_sequences: Vec<ChatTokens>,
    train_states: LowerStates,
    eval_sets: Vec<ScoredSet>,
    untuned: Vec<SetResult>,
}

impl StudentSide {
    /// Loads the student and runs its frozen blocks over the pool rows `used_rows` and the
    /// evaluation sets (read from the states store when they are there).
    fn prepare(session: &Session, pool: &[MathExample], used_rows: &[usize]) -> Result<Self> {
        let cfg = &session.config.value;
        let start = Instant::now();
        let student = load_student(session)?;
        let max_tokens = batch_tokens(session);
        let train_pairs: Vec<(String, String)> =
            used_rows.iter().map(|&r| training_pair(&pool[r])).collect();
        let train_sequences = student.encode(&train_pairs, cfg.train.max_len)?;
        eprintln!(
            "student: {} pool problems through the {} frozen blocks",
            train_sequences.len(),
            student.frozen_blocks
        );
        let store = StatesStore::new(session, &student)?;
        let train_states = store.states(&student, &train_sequences)?;
        let eval_sets = eval_sets(session, &student, &store, cfg.sweep.eval_limit)?;
        let untuned = eval_sets
            .iter()
            .map(|s| s.evaluate(&student, student.pretrained_top(), max_tokens))
            .collect::<Result<Vec<_>, _>>()?;
        eprintln!(
            "student: frozen-block states and untuned scores in {:.1} s",
            start.elapsed().as_secs_f64()
        );
        Ok(Self {
            student,
            train_sequences,
            train_states,
            eval_sets,
            untuned,
        })
    }
}

impl<'a> MathSweep<'a> {
    fn prepare(
        session: &'a Session,
        pending: &[&PlannedRun],
        cache_dir: &Path,
        inputs: &serde_json::Value,
    ) -> Result<Self> {
        let cfg = &session.config.value;
        let pool = math_pool(session)?;
        let table = subset_table(&pool);
        let subset_pool = Pool::new(&table, cfg.subsets.length_bins);
        let subsets = build_subsets(&subset_pool, pending);
        let row_of: HashMap<String, usize> = pool
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.clone(), i))
            .collect();
        let used_rows: Vec<usize> = {
            let used = used_ids(&subsets);
            (0..pool.len())
                .filter(|&r| used.contains(pool[r].id.as_str()))
                .collect()
        };

        let metrics = chosen_metrics(session)?;
        let wants = |need: Need| PoolScores::wants(&metrics, need);
        if wants(Need::Skills) {
            bail!(
                "sweep.metrics: `skill-entropy` labels NLI pairs; the math task has no skill prompt"
            );
        }
        let pairs: Vec<(&str, &str)> = pool
            .iter()
            .map(|e| (e.question.as_str(), e.solution.as_str()))
            .collect();
        let texts: Vec<String> = pool.iter().map(math_metric_text).collect();
        let ids: Vec<&str> = pool.iter().map(|e| e.id.as_str()).collect();
        let (embeddings, static_embeddings) =
            pool_embeddings(session, &metrics, cache_dir, inputs, &ids, &pairs, &texts)?;
        // The proxy's features and the student's frozen-block states are independent, and each
        // keeps the cores only partly busy (about 1.3 of 2: allocation, tokenising, serial
        // reductions), so they run side by side. Neither result depends on the other or on
        // thread timing (a feature's bits follow from its batch alone, docs/performance.md).
        let wants_gradients = wants(Need::GradientFeatures) || wants(Need::ProxyLosses);
        let (gradients, student_side) = std::thread::scope(|scope| {
            let gradients = scope.spawn(|| -> Result<_> {
                if !wants_gradients {
                    return Ok(None);
                }
                let examples: Vec<GradientExample> = used_rows
                    .iter()
                    .map(|&r| gradient_example(&pool[r]))
                    .collect();
                Ok(Some(pool_gradients(session, used_rows.clone(), &examples)?))
            });
            let student_side = StudentSide::prepare(session, &pool, &used_rows);
            let gradients = gradients
                .join()
                .map_err(|_| anyhow::anyhow!("the gradient-feature thread panicked"))?;
            Ok::<_, anyhow::Error>((gradients?, student_side?))
        })?;
        let (gradients, repaired_shards) = match gradients {
            Some((gradients, repaired)) => (Some(gradients), repaired),
            None => (None, Vec::new()),
        };
        let StudentSide {
            student,
            train_sequences,
            train_states,
            eval_sets,
            untuned,
        } = student_side;
        Ok(Self {
            session,
            train_index: used_rows.iter().enumerate().map(|(i, &r)| (r, i)).collect(),
            pool,
            row_of,
            scores: PoolScores {
                metrics,
                embeddings,
                static_embeddings,
                gradients,
                skills: None,
            },
            subsets,
            inputs: inputs.clone(),
            repaired_shards,
            student,
            train_sequences,
            train_states,
            eval_sets,
            untuned,
        })
    }

    fn rows(&self, ids: &[String]) -> Result<Vec<usize>> {
        rows_of(&self.row_of, ids)
    }

    /// Where the train-and-evaluate result of a student trained on `rows` with `train` is
    /// cached: a hash of everything that result depends on.
    fn train_cache_path(&self, rows: &[usize], train: &TrainConfig) -> std::path::PathBuf {
        let cfg = &self.session.config.value;
        let examples: Vec<_> = rows
            .iter()
            .map(|&r| [&self.pool[r].question, &self.pool[r].solution])
            .collect();
        let key = serde_json::json!({
            "task": "math", "examples": examples, "data": cfg.data, "student": cfg.student,
            "train": train, "eval_limit": cfg.sweep.eval_limit,
            "max_batch_tokens": batch_tokens(self.session), "inputs": self.inputs,
            "lm_student": prism_models::lm_student::LM_STUDENT_VERSION,
        });
        train_cache_file(self.session, &key)
    }
}

/// Where the student's frozen-block states are kept between invocations, so that a second
/// training seed, a resumed or collected sweep, a repeated `prism math student` or another
/// experiment with the same evaluation sample reads them instead of running the frozen blocks
/// again. Made once per invocation: the student's weights are hashed here, not per list.
pub struct StatesStore {
    dir: std::path::PathBuf,
    /// Everything a list's states depend on besides its token ids.
    key: serde_json::Value,
    max_tokens: usize,
}

impl StatesStore {
    /// The store of `student` as the experiment loads it (`student.model`, `student.backend`,
    /// its cut), computing in batches of [`batch_tokens`].
    pub fn new(session: &Session, student: &LmStudent) -> Result<Self> {
        let cfg = &session.config.value;
        let max_tokens = batch_tokens(session);
        let models = session.cache().model("");
        let weights = prism_models::language_model::resolve_model(&cfg.student.model, &models)?;
        Ok(Self {
            dir: session.cache().root().join("stages/lm-states"),
            key: serde_json::json!({
                "student": model_fingerprint(&weights)?, "frozen_blocks": student.frozen_blocks,
                "backend": cfg.student.backend, "max_batch_tokens": max_tokens,
                // Named `lm_student` as before the two versions split, so that states kept
                // then are found again.
                "lm_student": prism_models::lm_student::LM_STATES_VERSION,
            }),
            max_tokens,
        })
    }

    /// The frozen-block states of `sequences`: read when this exact list went through the same
    /// student before, else computed and kept. The key holds the weights, the cut, the
    /// backend, the batch budget, the code version and every token id in order, so a hit is
    /// bit for bit what computing would give (batching is in the key because it could change
    /// the last bits). A damaged entry is moved aside and computed again.
    pub fn states(&self, student: &LmStudent, sequences: &[ChatTokens]) -> Result<LowerStates> {
        let ids: Vec<&[u32]> = sequences.iter().map(|s| s.ids.as_slice()).collect();
        let mut key = self.key.clone();
        key["ids"] = serde_json::json!(ids);
        let hash = prism_core::hash::sha256_hex(key.to_string().as_bytes());
        let path = self.dir.join(format!("{}.bin", &hash[..32]));
        if let Some(bytes) =
            prism_core::integrity::read_cached_or_discard(&path, "computing them again")?
        {
            eprintln!(
                "student: frozen-block states of {} sequences read from `{}`",
                sequences.len(),
                path.display()
            );
            return Ok(LowerStates::from_bytes(&bytes)?);
        }
        let bar = prism_core::progress::bar(sequences.len() as u64, "frozen blocks");
        let states =
            student.lower_states(sequences, self.max_tokens, &mut |n| bar.inc(n as u64))?;
        bar.finish_and_clear();
        prism_core::integrity::write_cached(&path, &states.to_bytes())
            .with_context(|| format!("keeping frozen-block states in `{}`", path.display()))?;
        Ok(states)
    }
}

/// The experiment's student (`student.model` on `student.backend`, with autodiff), cut as
/// `train.layers` says.
pub fn load_student(session: &Session) -> Result<LmStudent> {
    let cfg = &session.config.value;
    let backend: prism_models::Backend = cfg.student.backend.parse()?;
    let model_path = prism_models::language_model::resolve_model(
        &cfg.student.model,
        &session.cache().model(""),
    )?;
    let lm = LanguageModel::load_path(&model_path, &backend.device()?.autodiff())?;
    Ok(LmStudent::new(lm, cfg.train.layers)?)
}

/// The ID test and every `data.benchmarks` set, each a sample of at most `eval_limit`
/// problems (seeded by `data.split_seed`; 0 = all), through `student`'s frozen blocks (kept
/// in `store`).
pub fn eval_sets(
    session: &Session,
    student: &LmStudent,
    store: &StatesStore,
    eval_limit: usize,
) -> Result<Vec<ScoredSet>> {
    let cfg = &session.config.value;
    let mut names = vec![MATH_ID_TEST.to_string()];
    names.extend(cfg.data.benchmarks.iter().cloned());
    let mut sets = Vec::with_capacity(names.len());
    for name in &names {
        let info = math_dataset(name)
            .with_context(|| format!("data.benchmarks: `{name}` is not a math dataset"))?;
        let table = MathTable::read_parquet(&dataset_path(session, name)?)?;
        let examples = seeded_sample(table.examples, eval_limit, cfg.data.split_seed);
        eprintln!(
            "student: {name}, {} problems through the frozen blocks",
            examples.len()
        );
        sets.push(ScoredSet::new(
            student,
            name,
            info.scoring,
            &examples,
            cfg.train.max_len,
            &mut |sequences| {
                store
                    .states(student, sequences)
                    .map_err(|e| prism_models::ModelError::Invalid(format!("{e:#}")))
            },
        )?);
    }
    Ok(sets)
}

/// Padded tokens per batch through the student (`gvendi.max_batch_tokens`, at least one
/// sequence of `train.max_len`).
pub fn batch_tokens(session: &Session) -> usize {
    let cfg = &session.config.value;
    cfg.gvendi.max_batch_tokens.max(cfg.train.max_len)
}

impl PreparedRuns for MathSweep<'_> {
    fn subset(&self, run: &PlannedRun) -> Result<(Vec<String>, serde_json::Value)> {
        subset_of(&self.subsets, run)
    }

    fn metrics(&self, _run: &PlannedRun, ids: &[String]) -> Result<serde_json::Value> {
        let rows = self.rows(ids)?;
        let examples: Vec<&MathExample> = rows.iter().map(|&r| &self.pool[r]).collect();
        self.scores.metrics_of(&SubsetView {
            rows: &rows,
            ids: examples.iter().map(|e| e.id.as_str()).collect(),
            texts: examples.iter().map(|e| math_metric_text(e)).collect(),
            labels: examples
                .iter()
                .map(|e| difficulty_stratum(e.difficulty))
                .collect(),
        })
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
            let index: Vec<usize> = rows
                .iter()
                .map(|r| {
                    self.train_index
                        .get(r)
                        .copied()
                        .with_context(|| format!("pool row {r} has no frozen-block states"))
                })
                .collect::<Result<_>>()?;
            let sequences: Vec<ChatTokens> = index
                .iter()
                .map(|&i| self.train_sequences[i].clone())
                .collect();
            let states = self.train_states.select(&index);
            let bar = prism_core::progress::bar(0, "train");
            let mut on_loss = prism_core::progress::with_loss(&bar);
            let t = Instant::now();
            let (top, summary) = self
                .student
                .fine_tune(&sequences, &states, &train, &mut |r| {
                    on_loss(r.step + 1, r.total, r.loss)
                })?;
            let train_seconds = t.elapsed().as_secs_f64();
            bar.finish_and_clear();
            let t = Instant::now();
            let max_tokens = batch_tokens(self.session);
            let mut eval = serde_json::Map::new();
            for (set, untuned) in self.eval_sets.iter().zip(&self.untuned) {
                let r = set.evaluate(&self.student, &top, max_tokens)?;
                eval.insert(
                    r.name.clone(),
                    serde_json::json!({
                        "n": r.n, "scoring": r.scoring,
                        "accuracy": -r.nll, "majority": -untuned.nll,
                        "nll": r.nll, "untuned_nll": untuned.nll,
                        "task_accuracy": r.accuracy, "untuned_task_accuracy": untuned.accuracy,
                    }),
                );
            }
            let report = serde_json::json!({
                "n_train": sequences.len(), "backend": cfg.student.backend,
                "frozen_blocks": self.student.frozen_blocks,
                "summary": summary, "train_seconds": train_seconds,
                "eval_seconds": t.elapsed().as_secs_f64(),
                "score": "accuracy = -(mean per-token NLL of the gold completion); majority = the untuned student's",
                "eval": eval,
            });
            Ok(report)
        })
    }

    fn events(&self) -> Vec<serde_json::Value> {
        repaired_shard_events(&self.repaired_shards)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strata_bin_reasoning_steps() {
        let bins: Vec<String> = [1, 2, 3, 4, 5, 9].map(difficulty_stratum).to_vec();
        assert_eq!(
            bins,
            [
                "steps-1-2",
                "steps-1-2",
                "steps-3",
                "steps-4",
                "steps-5+",
                "steps-5+"
            ]
        );
    }

    #[test]
    fn seeded_samples_keep_table_order_and_repeat() {
        let rows: Vec<MathExample> = (0..50)
            .map(|i| MathExample {
                id: format!("p{i:02}"),
                question: "q".into(),
                solution: String::new(),
                answer: "1".into(),
                choices: vec![],
                source: "t".into(),
                group: "g".into(),
                difficulty: 1,
                split: "train".into(),
            })
            .collect();
        let a = seeded_sample(rows.clone(), 10, 3);
        assert_eq!(a, seeded_sample(rows.clone(), 10, 3));
        assert_eq!(a.len(), 10);
        assert!(a.windows(2).all(|w| w[0].id < w[1].id));
        assert_ne!(a, seeded_sample(rows.clone(), 10, 4));
        assert_eq!(seeded_sample(rows.clone(), 0, 3).len(), 50);
    }
}
