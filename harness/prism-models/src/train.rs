//! Fine-tuning the encoder student on labelled pairs: AdamW, linear warm-up then linear decay,
//! global gradient-norm clipping, length-bucketed batches with dynamic padding, and one seed
//! for the head's initialisation, the shuffle and dropout.

use crate::encoder::{Classifier, FeatureScaler, eval_in_batches, eval_rows};
use crate::error::ModelError;
use crate::prefix::FrozenPrefix;
use crate::tokenize::{EncodedPairs, EncoderTokenizer};
use burn::module::{ModuleVisitor, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::*;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

pub use prism_core::config::schema::{Pairing, TrainConfig, TrainLayers};

/// A (premise, hypothesis) pair with its label index in the model's label space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabeledPair {
    /// The premise (evidence).
    pub premise: String,
    /// The hypothesis (claim).
    pub hypothesis: String,
    /// Index of the gold label.
    pub label: usize,
}

/// What one optimiser step reports to the caller's progress hook.
#[derive(Debug, Clone, Copy)]
pub struct StepReport {
    /// 0-based step.
    pub step: usize,
    /// Steps in the whole run.
    pub total: usize,
    /// Mean cross-entropy of the batch.
    pub loss: f32,
    /// Learning rate used.
    pub learning_rate: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f32,
}

/// Summary of a finished run.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    /// Optimiser steps taken.
    pub steps: usize,
    /// Examples seen (epochs × training-set size; `TrainConfig::epochs_for` gives the epochs).
    pub examples: usize,
    /// Mean loss over the first 10% of steps.
    pub first_loss: f32,
    /// Mean loss over the last 10% of steps.
    pub last_loss: f32,
}

impl TrainSummary {
    /// The summary of a run whose steps had `losses` (at least one) over `examples` example
    /// passes.
    pub fn from_losses(losses: &[f32], examples: usize) -> Self {
        let tenth = (losses.len() / 10).max(1);
        let mean = |s: &[f32]| s.iter().sum::<f32>() / s.len() as f32;
        Self {
            steps: losses.len(),
            examples,
            first_loss: mean(&losses[..tenth]),
            last_loss: mean(&losses[losses.len() - tenth..]),
        }
    }
}

/// Batches of training indices for one epoch: a seeded shuffle, then within windows of 50
/// batches the examples are sorted by length (little padding), and the batch order is
/// shuffled again so lengths do not trend through the epoch.
pub fn bucketed_batches(
    lengths: &[usize],
    batch_size: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.shuffle(rng);
    let mut batches = Vec::new();
    for window in order.chunks(batch_size * 50) {
        let mut w = window.to_vec();
        w.sort_by_key(|&i| lengths[i]);
        batches.extend(w.chunks(batch_size).map(<[usize]>::to_vec));
    }
    batches.shuffle(rng);
    batches
}

/// Sum of squared gradient entries over the module's parameters, as one scalar per tensor
/// (each parameter's gradient is in at most one of the sets).
struct SquaredNorms<'a> {
    grads: &'a [GradientsParams],
    parts: Vec<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorms<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        for set in self.grads {
            if let Some(g) = set.get::<D>(param.id) {
                self.parts.push(g.square().sum());
            }
        }
    }
}

/// Multiplies every gradient by `factor`.
struct ScaleGrads<'a> {
    grads: &'a mut [GradientsParams],
    factor: f64,
}

impl ModuleVisitor for ScaleGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        for set in self.grads.iter_mut() {
            if let Some(g) = set.remove::<D>(param.id) {
                set.register(param.id, g.mul_scalar(self.factor));
            }
        }
    }
}

/// The optimiser every trainer uses: AdamW with the config's weight decay and ε = 1e-8 (the
/// learning rate is given at each step: [`TrainConfig::learning_rate_at`]).
pub(crate) fn adamw(config: &TrainConfig) -> AdamWConfig {
    AdamWConfig::new()
        .with_weight_decay(config.weight_decay as f32)
        .with_epsilon(1e-8)
}

/// The loss of step `step` as a number, or [`ModelError::NonFiniteLoss`] when it is NaN or
/// infinite: a run that diverged stops instead of writing numbers.
pub(crate) fn finite_loss(step: usize, loss: Tensor<1>) -> Result<f32, ModelError> {
    let value = loss.into_scalar::<f32>();
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ModelError::NonFiniteLoss { step, loss: value })
    }
}

/// Clips the global L2 norm of the gradients in `grads` (all sets together) to `max_norm`
/// (PyTorch's `clip_grad_norm_`), returning the norm before clipping.
pub(crate) fn clip_global_norm<M: Module>(
    model: &M,
    grads: &mut [GradientsParams],
    max_norm: f64,
) -> f32 {
    let mut norms = SquaredNorms {
        grads,
        parts: Vec::new(),
    };
    model.visit(&mut norms);
    if norms.parts.is_empty() {
        return 0.0;
    }
    let total = Tensor::cat(norms.parts, 0)
        .sum()
        .into_scalar::<f32>()
        .sqrt();
    if max_norm > 0.0 && f64::from(total) > max_norm {
        let factor = max_norm / (f64::from(total) + 1e-6);
        model.visit(&mut ScaleGrads { grads, factor });
    }
    total
}

/// Bumped whenever the same config and data would train a different student (version 2:
/// dropout masks from the host stream of [`crate::dropout`]; version 3: head-only runs read the
/// frozen encoder's features, computed once without dropout; version 4: the encoder's version 2,
/// [`crate::bert::ENCODER_VERSION`]; version 5: last-k runs read the frozen blocks' states,
/// computed once without dropout ([`crate::prefix`])), so that cached results of an older
/// trainer are not reused.
pub const TRAINER_VERSION: u32 = 5;

/// What of `model`'s encoder `layers` leaves frozen, which decides what a run computes once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrozenPart {
    /// Every block trains: nothing is computed once.
    Nothing,
    /// The embeddings and this many blocks below the trainable ones: their states are
    /// computed once ([`FrozenPrefix`]).
    Blocks(usize),
    /// The whole encoder: the head's input is computed once ([`frozen_features`]).
    Encoder,
}

impl FrozenPart {
    /// The frozen part of `model` under `layers` (a `last-k` with `k` ≥ the encoder's blocks
    /// trains everything above the embeddings, which its forward pass computes every step).
    /// A frozen encoder under an aligned student keeps the token states its comparator reads
    /// (after [`Classifier::align_after`] blocks), not pooled features.
    pub fn of(model: &Classifier, layers: TrainLayers) -> Self {
        let n = model.encoder_layers();
        if model.pairing() == Pairing::Aligned && layers == TrainLayers::HeadOnly {
            return Self::Blocks(model.align_after());
        }
        let blocks = match layers {
            TrainLayers::All => 0,
            TrainLayers::LastK { k } => n.saturating_sub(k),
            TrainLayers::HeadOnly => n,
        };
        match blocks {
            0 => Self::Nothing,
            b if b == n => Self::Encoder,
            b => Self::Blocks(b),
        }
    }
}

/// The head's input for every pair of `encoded` under the pretrained (or frozen) encoder, in
/// evaluation mode (no dropout): row-major `pairs × width`, in input order.
pub fn frozen_features(
    model: &Classifier,
    tokenizer: &EncoderTokenizer,
    encoded: &EncodedPairs,
    batch_size: usize,
    device: &Device,
) -> Result<(Vec<f32>, usize), ModelError> {
    let batches = encoded.length_sorted_batches(batch_size);
    eval_rows(
        model,
        device,
        encoded.len(),
        batches,
        |model, chunk, device| model.features(&encoded.batch(tokenizer, chunk, device)),
    )
}

/// Fine-tunes `model` (on an autodiff device) on `data`, calling `on_step` after every step.
/// A NaN or infinite loss stops the run with [`ModelError::NonFiniteLoss`].
///
/// A siamese model first gets its [`FeatureScaler`] from the training set's features under
/// the pretrained encoder. Frozen blocks never change, so they run once per example: with
/// [`TrainLayers::HeadOnly`] every step trains the head on the encoder's features computed
/// once, and with [`TrainLayers::LastK`] every step runs the top `k` blocks on the states a
/// [`FrozenPrefix`] computed once (both without dropout in the frozen part). The encoder's
/// trainable blocks follow [`TrainConfig::encoder_peak_rate`], the head `learning_rate`.
pub fn fine_tune(
    model: Classifier,
    tokenizer: &EncoderTokenizer,
    data: &[LabeledPair],
    config: &TrainConfig,
    device: &Device,
    on_step: &mut dyn FnMut(StepReport),
) -> Result<(Classifier, TrainSummary), ModelError> {
    config
        .validate()
        .map_err(|(key, why)| ModelError::Invalid(format!("{key}: {why}")))?;
    if data.is_empty() {
        return Err(ModelError::Invalid("the training set is empty".into()));
    }
    if !device.is_autodiff() {
        return Err(ModelError::Invalid(
            "fine_tune needs an autodiff device".into(),
        ));
    }
    let pairs: Vec<(&str, &str)> = data
        .iter()
        .map(|p| (p.premise.as_str(), p.hypothesis.as_str()))
        .collect();
    let encoded = EncodedPairs::new(tokenizer, &pairs, model.pairing())?;
    let lengths = encoded.lengths();

    let frozen_part = FrozenPart::of(&model, config.layers);
    let head_only = frozen_part == FrozenPart::Encoder;
    let prefix = match frozen_part {
        FrozenPart::Blocks(blocks) => Some(FrozenPrefix::compute(
            &model,
            tokenizer,
            &encoded,
            blocks,
            config.eval_batch_size,
            device,
        )?),
        FrozenPart::Nothing | FrozenPart::Encoder => None,
    };
    let needs_scaler = model.pairing() == Pairing::Siamese;
    // The pretrained encoder's features of the training set: a siamese model's scaler is
    // fitted to them, and a head-only run trains on them (on the device once).
    let frozen = if head_only || needs_scaler {
        Some(match &prefix {
            Some(prefix) => prefix.features(&model, config.eval_batch_size, device)?,
            None => frozen_features(&model, tokenizer, &encoded, config.eval_batch_size, device)?,
        })
    } else {
        None
    };
    let mut model = model;
    if let (Some((values, width)), true) = (&frozen, needs_scaler) {
        model = model.with_scaler(FeatureScaler::fit(values, *width));
    }
    let cached = frozen.filter(|_| head_only).map(|(values, width)| {
        Tensor::<2>::from_data(TensorData::new(values, [data.len(), width]), device)
    });

    model = match config.layers {
        TrainLayers::All => model,
        TrainLayers::LastK { k } => model.train_last_layers(k),
        TrainLayers::HeadOnly => model.train_last_layers(0),
    };
    // One AdamW per learning rate; each keeps the state of its own parameters only.
    let (mut encoder_optim, mut head_optim) = (adamw(config).init(), adamw(config).init());
    let encoder_scale = config.encoder_peak_rate() / config.learning_rate;
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    model.seed_dropout(config.seed);
    let epochs = config.epochs_for(data.len());
    let steps_per_epoch = data.len().div_ceil(config.batch_size);
    let total = steps_per_epoch * epochs;
    let mut losses = Vec::with_capacity(total);
    let mut step = 0;
    for _ in 0..epochs {
        for batch_idx in bucketed_batches(&lengths, config.batch_size, &mut rng) {
            let rows = |values: Vec<i64>| {
                Tensor::<1, Int>::from_data(TensorData::new(values, [batch_idx.len()]), device)
            };
            let targets = rows(batch_idx.iter().map(|&i| data[i].label as i64).collect());
            let logits = match (&cached, &prefix) {
                (Some(features), _) => model.classify(
                    features
                        .clone()
                        .select(0, rows(batch_idx.iter().map(|&i| i as i64).collect())),
                ),
                (None, Some(prefix)) => model.forward_from(&prefix.batch(&batch_idx, device)),
                (None, None) => model.forward(&encoded.batch(tokenizer, &batch_idx, device)),
            };
            let loss = loss_fn.forward(logits, targets);
            let loss_value = finite_loss(step, loss.clone())?;
            let mut raw = loss.backward();
            let mut grads = [
                GradientsParams::from_module(&mut raw, model.encoder()),
                GradientsParams::from_module(&mut raw, model.head()),
            ];
            let grad_norm = clip_global_norm(&model, &mut grads, config.max_grad_norm);
            let lr = config.learning_rate_at(step, total);
            let [encoder_grads, head_grads] = grads;
            if !encoder_grads.is_empty() {
                model = encoder_optim.step(lr * encoder_scale, model, encoder_grads);
            }
            model = head_optim.step(lr, model, head_grads);
            losses.push(loss_value);
            on_step(StepReport {
                step,
                total,
                loss: loss_value,
                learning_rate: lr,
                grad_norm,
            });
            step += 1;
        }
    }
    let summary = TrainSummary::from_losses(&losses, data.len() * epochs);
    Ok((model, summary))
}

/// Predicted label indices of `model` (used in evaluation mode: no dropout, no autodiff)
/// for `pairs`, batched by length.
pub fn predict(
    model: &Classifier,
    tokenizer: &EncoderTokenizer,
    pairs: &[(&str, &str)],
    batch_size: usize,
    device: &Device,
) -> Result<Vec<usize>, ModelError> {
    let encoded = EncodedPairs::new(tokenizer, pairs, model.pairing())?;
    let batches = encoded.length_sorted_batches(batch_size);
    predict_in_batches(
        model,
        device,
        encoded.len(),
        batches,
        |model, chunk, device| model.forward(&encoded.batch(tokenizer, chunk, device)),
    )
}

/// The argmax of `forward`'s logits for every index of `batches` (which cover `0..n`), with
/// `model` in evaluation mode on `device` without autodiff, in input order.
fn predict_in_batches(
    model: &Classifier,
    device: &Device,
    n: usize,
    batches: Vec<Vec<usize>>,
    forward: impl Fn(&Classifier, &[usize], &Device) -> Tensor<2>,
) -> Result<Vec<usize>, ModelError> {
    eval_in_batches(model, device, n, batches, |model, chunk, device| {
        argmax(forward(model, chunk, device))
    })
}

/// Like [`predict`] from the head's input already computed by [`frozen_features`] (a
/// head-only student: the encoder's features of an evaluation set are the same in every run).
pub fn predict_from_features(
    model: &Classifier,
    features: &[f32],
    width: usize,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<usize>, ModelError> {
    let n = features.len() / width.max(1);
    let batches = (0..n)
        .collect::<Vec<_>>()
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect();
    predict_in_batches(model, device, n, batches, |model, chunk, device| {
        // Each batch is a contiguous run of rows.
        let rows = &features[chunk[0] * width..][..chunk.len() * width];
        model.classify(Tensor::from_data(
            TensorData::new(rows.to_vec(), [chunk.len(), width]),
            device,
        ))
    })
}

/// Like [`predict`] from the states a [`FrozenPrefix`] computed (a last-k student: the
/// frozen blocks' output for an evaluation set is the same in every run).
pub fn predict_from_prefix(
    model: &Classifier,
    prefix: &FrozenPrefix,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<usize>, ModelError> {
    let batches = prefix.length_sorted_batches(batch_size);
    predict_in_batches(
        model,
        device,
        prefix.len(),
        batches,
        |model, chunk, device| model.forward_from(&prefix.batch(chunk, device)),
    )
}

/// The index of each row's largest logit.
fn argmax(logits: Tensor<2>) -> Result<Vec<usize>, ModelError> {
    let values: Vec<i64> = logits
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .map_err(|e| ModelError::Invalid(format!("reading predictions: {e:?}")))?;
    Ok(values.into_iter().map(|p| p as usize).collect())
}
