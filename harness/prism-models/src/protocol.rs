//! The evaluation protocol: fine-tune the experiment's student on a subset, then score it on
//! the in-distribution test and every OOD benchmark, each a seeded sample of at most
//! `eval_limit` examples. `prism train` and every sweep run go through [`train_and_evaluate`],
//! so a number in a runs table and one from `prism train` mean the same thing.

use crate::eval::{Scores, map_prediction, score};
use crate::prefix::FrozenPrefix;
use crate::tokenize::EncodedPairs;
use crate::train::{
    FrozenPart, StepReport, TrainSummary, fine_tune, frozen_features, predict,
    predict_from_features, predict_from_prefix,
};
use crate::{Backend, Classifier, EncoderFiles, LabeledPair, ModelError, TrainConfig};
use prism_core::Session;
use prism_core::hash::sha256_hex;
use prism_core::once_map::OnceMap;
use prism_data::Example;
use prism_data::project::{dataset_table, gold_label};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Instant;

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

/// A pool example as a training pair in the pool's label space (an unknown label is an error
/// naming the example).
pub fn labeled_pair(e: &Example, two_way: bool) -> Result<LabeledPair, ModelError> {
    Ok(LabeledPair {
        premise: e.premise.clone(),
        hypothesis: e.hypothesis.clone(),
        label: gold_label(e, two_way, "pool")?,
    })
}

/// One evaluation set as every student is scored on it: a seeded sample of its examples and
/// their gold labels in the set's label space.
pub struct EvalSample {
    /// Dataset name (the ID test first, then `data.benchmarks` in order).
    pub name: String,
    /// The sampled examples.
    pub examples: Vec<Example>,
    /// Gold label of each example.
    pub gold: Vec<usize>,
    /// Classes of the set's label space (2 or 3).
    pub classes: usize,
}

/// The ID test and every `data.benchmarks` set, each a sample of at most `eval_limit`
/// examples (0 = all) drawn with the data's seed, not the training seed: students trained with
/// different seeds, and students of either kind, are scored on the same examples.
pub fn eval_samples(session: &Session, eval_limit: usize) -> Result<Vec<EvalSample>, ModelError> {
    let cfg = &session.config.value;
    let mut names = vec![prism_data::catalog::id_test().to_string()];
    names.extend(cfg.data.benchmarks.iter().cloned());
    names
        .into_iter()
        .map(|name| {
            let set = dataset_table(session, &name)?;
            let two_way = set.two_way;
            let classes = set.classes();
            let mut examples = set.table.examples;
            if eval_limit > 0 && examples.len() > eval_limit {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.data.split_seed);
                examples.shuffle(&mut rng);
                examples.truncate(eval_limit);
            }
            let gold = examples
                .iter()
                .map(|e| gold_label(e, two_way, &format!("`{name}`")))
                .collect::<Result<_, _>>()?;
            Ok(EvalSample {
                name,
                examples,
                gold,
                classes,
            })
        })
        .collect()
}

/// Trains on `pairs` with `train` (the experiment's, or a sweep run's with its own seed) and
/// evaluates on the ID test and the benchmarks; `on_step` is told (examples done, total,
/// loss) after every optimiser step.
pub fn train_and_evaluate(
    session: &Session,
    train: &TrainConfig,
    pairs: &[LabeledPair],
    classes: usize,
    eval_limit: usize,
    on_step: &mut dyn FnMut(usize, usize, f32),
) -> Result<StudentRun, ModelError> {
    let cfg = &session.config.value;
    let backend = Backend::from_str(&cfg.student.backend)?;
    let device = backend.device()?.autodiff();
    let shape = RunShape {
        session,
        backend,
        train,
        pairs: pairs.len(),
        classes,
        eval_limit,
    };
    if let Some(lm) = crate::nli_lm::causal_lm_student(session) {
        return crate::nli_lm::train_and_evaluate(&shape, &device, &lm, pairs, on_step);
    }
    let dir = session.model_dir(&cfg.student.model);
    let (bert, bert_config, tokenizer) =
        EncoderFiles::in_dir(&dir)?.load(train.max_len, &device)?;
    // The head's initial weights come from the run's seed alone, whatever other workers draw.
    let model = crate::device::seeded_module(&device, train.seed, || {
        Classifier::with_pairing(bert, &bert_config, classes, cfg.student.pairing, &device)
            .with_align_blocks(cfg.student.align_blocks)
    });
    shape.run(
        on_step,
        |on_report| fine_tune(model, &tokenizer, pairs, train, &device, on_report),
        |model, sample| {
            let name = &sample.name;
            let pairs: Vec<(&str, &str)> = sample
                .examples
                .iter()
                .map(|e| (e.premise.as_str(), e.hypothesis.as_str()))
                .collect();
            let key = |after_layers: usize| {
                let key = serde_json::json!({
                    "student": dir, "max_len": train.max_len, "pairing": cfg.student.pairing,
                    "backend": backend.to_string(), "after_layers": after_layers, "pairs": pairs,
                });
                sha256_hex(key.to_string().as_bytes())
            };
            let encoded = || {
                EncodedPairs::new(&tokenizer, &pairs, model.pairing()).map_err(|e| e.to_string())
            };
            let failed = |what: &str| {
                let name = name.clone();
                let what = what.to_string();
                move |message: String| {
                    ModelError::Invalid(format!("encoding `{name}` with the {what}: {message}"))
                }
            };
            let batch_size = train.eval_batch_size;
            Ok(match FrozenPart::of(model, train.layers) {
                FrozenPart::Encoder => {
                    let features = FROZEN_EVAL
                        .get_or_compute(key(model.encoder_layers()), || {
                            frozen_features(model, &tokenizer, &encoded()?, batch_size, &device)
                                .map_err(|e| e.to_string())
                        })
                        .map_err(failed("frozen student"))?;
                    let (values, width) = &*features;
                    predict_from_features(model, values, *width, batch_size, &device)?
                }
                FrozenPart::Blocks(frozen_blocks) => {
                    let prefix = FROZEN_PREFIX
                        .get_or_compute(key(frozen_blocks), || {
                            let encoded = encoded()?;
                            FrozenPrefix::compute(
                                model,
                                &tokenizer,
                                &encoded,
                                frozen_blocks,
                                batch_size,
                                &device,
                            )
                            .map_err(|e| e.to_string())
                        })
                        .map_err(failed("student's frozen blocks"))?;
                    predict_from_prefix(model, &prefix, batch_size, &device)?
                }
                FrozenPart::Nothing => predict(model, &tokenizer, &pairs, batch_size, &device)?,
            })
        },
    )
}

/// What the runs of every NLI student share: the session, the training settings, the training
/// set's size and label space, and the evaluation samples' size.
pub(crate) struct RunShape<'a> {
    pub session: &'a Session,
    pub backend: Backend,
    pub train: &'a TrainConfig,
    pub pairs: usize,
    pub classes: usize,
    pub eval_limit: usize,
}

impl RunShape<'_> {
    /// The protocol's skeleton: `fit` trains (timed; `on_step` is told examples done, total
    /// and loss after every step), then `predict` labels each evaluation sample in the
    /// student's label space (timed), mapped to the set's and scored.
    pub(crate) fn run<M>(
        &self,
        on_step: &mut dyn FnMut(usize, usize, f32),
        fit: impl FnOnce(&mut dyn FnMut(StepReport)) -> Result<(M, TrainSummary), ModelError>,
        mut predict: impl FnMut(&M, &EvalSample) -> Result<Vec<usize>, ModelError>,
    ) -> Result<StudentRun, ModelError> {
        let total = self.pairs * self.train.epochs_for(self.pairs);
        let mut done = 0;
        let start = Instant::now();
        let (model, summary) = fit(&mut |s| {
            done += self.train.batch_size.min(self.pairs);
            on_step(done, total, s.loss);
        })?;
        let train_seconds = start.elapsed().as_secs_f64();

        let start = Instant::now();
        let mut eval = BTreeMap::new();
        for sample in eval_samples(self.session, self.eval_limit)? {
            let predicted: Vec<usize> = predict(&model, &sample)?
                .into_iter()
                .map(|p| map_prediction(p, self.classes, sample.classes))
                .collect();
            let scores = score(&sample.gold, &predicted, sample.classes);
            eval.insert(sample.name, scores);
        }
        Ok(StudentRun {
            summary,
            train_seconds,
            eval_seconds: start.elapsed().as_secs_f64(),
            eval,
            backend: self.backend,
        })
    }
}
