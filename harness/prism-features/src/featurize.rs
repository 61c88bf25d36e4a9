//! From (prompt, completion) examples to projected per-example loss gradients of a proxy LM,
//! in the modes of method.md §1 behind one trait: `factored` (fast, batched), `dense`
//! (paper-exact, batch of one) and, as a test oracle, `exact` (the n × n kernel of the full
//! gradients).
//!
//! The loss is the proxy's mean cross-entropy over the completion's tokens and the end-of-turn
//! token, with (prompt, completion) laid out by the proxy's chat template (user, assistant).

use crate::dense::DenseProjector;
use crate::error::FeatureError;
use crate::factored::FactoredProjector;
use burn::prelude::*;
use prism_models::LanguageModel;
use prism_models::causal_lm::{BlockGradient, GradTap};
use prism_models::lm_tokenizer::ChatTokens;
use rayon::prelude::*;
use std::fmt;
use std::str::FromStr;

/// How gradients become features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Kernel-free Kronecker-factored projections from batched backward passes (default).
    Factored,
    /// The paper's Rademacher projection of the flat gradient, one example at a time.
    Dense,
    /// No projection: the cosine kernel of the full gradients (small n only).
    Exact,
}

impl FromStr for Mode {
    type Err = FeatureError;
    fn from_str(s: &str) -> Result<Self, FeatureError> {
        match s {
            "factored" => Ok(Self::Factored),
            "dense" => Ok(Self::Dense),
            "exact" => Ok(Self::Exact),
            _ => Err(FeatureError::Invalid(format!(
                "unknown mode `{s}`; expected factored, dense or exact"
            ))),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Factored => "factored",
            Self::Dense => "dense",
            Self::Exact => "exact",
        })
    }
}

/// One example to featurise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradientExample {
    /// Stable id (from the dataset).
    pub id: String,
    /// The user turn.
    pub prompt: String,
    /// The assistant turn whose tokens carry the loss.
    pub completion: String,
}

impl GradientExample {
    /// sha256 of the content (the store's key: the same text is never featurised twice).
    pub fn content_hash(&self) -> String {
        prism_core::hash::sha256_hex(format!("{}\0{}", self.prompt, self.completion).as_bytes())
    }
}

/// One example's projected gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleGradient {
    /// `ĝ`, before L2 normalisation.
    pub projected: Vec<f32>,
    /// The completion-only loss.
    pub loss: f32,
    /// `‖g‖` of the full gradient (dense), or its JL estimate `‖ĝ‖` (factored).
    pub grad_norm: f32,
}

/// A way of turning tokenised examples into projected gradients (one per mode). `Sync`:
/// batches may be featurised on several threads at once (`gvendi.workers`).
pub trait GradientProjection: Sync {
    /// The mode, part of the store's key.
    fn mode(&self) -> Mode;
    /// Output dimension d.
    fn dim(&self) -> usize;
    /// Projected gradients of `batch`, in order.
    fn featurize(
        &self,
        lm: &LanguageModel,
        batch: &[ChatTokens],
    ) -> Result<Vec<ExampleGradient>, FeatureError>;
}

fn to_vec(t: Tensor<1>) -> Result<Vec<f32>, FeatureError> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| FeatureError::Invalid(format!("reading a tensor: {e:?}")))
}

fn norm(v: &[f32]) -> f32 {
    // Partial sums in chunk order, then a sequential total: the same bits whatever the
    // thread schedule.
    let partial: Vec<f64> = v
        .par_chunks(1 << 16)
        .map(|c| c.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>())
        .collect();
    partial.iter().sum::<f64>().sqrt() as f32
}

/// Loads the proxy for featurisation on an autodiff `device`: in factored mode its parameters
/// take no gradients (only the probes do), in the others every parameter does.
pub fn load_proxy(
    path: &std::path::Path,
    device: &Device,
    mode: Mode,
) -> Result<LanguageModel, FeatureError> {
    let device = device.clone().autodiff();
    let mut lm = LanguageModel::load_path(path, &device)?;
    if mode == Mode::Factored {
        lm.model = lm.model.frozen();
    }
    Ok(lm)
}

/// The factored mode.
#[derive(Debug, Clone)]
pub struct FactoredFeatures {
    projector: FactoredProjector,
}

impl FactoredFeatures {
    /// k × k per weight block, then `dim`, under `seed`, for `lm`'s shape.
    pub fn new(lm: &LanguageModel, k: usize, dim: usize, seed: u64) -> Self {
        let device = lm.device.clone().inner();
        Self {
            projector: FactoredProjector::new(lm.model.grad_blocks(), k, dim, seed, &device),
        }
    }

    /// The projection (its matrices, for tests).
    pub fn projector(&self) -> &FactoredProjector {
        &self.projector
    }
}

impl GradientProjection for FactoredFeatures {
    fn mode(&self) -> Mode {
        Mode::Factored
    }
    fn dim(&self) -> usize {
        self.projector.dim()
    }
    fn featurize(
        &self,
        lm: &LanguageModel,
        batch: &[ChatTokens],
    ) -> Result<Vec<ExampleGradient>, FeatureError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let (ids, mask) = lm.loss_batch(batch);
        let mut tap = GradTap::default();
        let losses = lm.model.masked_loss_tapped(ids, mask, Some(&mut tap));
        let grads = losses.clone().sum().backward();
        let projected = self.projector.project(&tap, &grads, batch.len())?;
        let d = self.dim();
        let flat = to_vec(projected.reshape([batch.len() * d]))?;
        let losses = to_vec(losses.inner())?;
        Ok(flat
            .chunks_exact(d)
            .zip(losses)
            .map(|(v, loss)| ExampleGradient {
                grad_norm: norm(v),
                projected: v.to_vec(),
                loss,
            })
            .collect())
    }
}

/// One example's loss and flat gradient over all parameters: the weight blocks of
/// `CausalLm::grad_blocks` (row-major, HF orientation, biases as last column), then the
/// RMSNorm gains.
pub fn flat_gradient(
    lm: &LanguageModel,
    chat: &ChatTokens,
) -> Result<(Vec<f32>, f32), FeatureError> {
    let mut flat = Vec::new();
    let loss = flat_gradient_into(lm, chat, &mut flat)?;
    Ok((flat, loss))
}

/// [`flat_gradient`] into `flat` (resized to the parameter count; every element written), so
/// that a caller featurising many examples reuses one 0.5 GB buffer instead of faulting in a
/// fresh one each time. The HF layout is written on the host straight from burn's gradient
/// buffers: weights are transposed tile by tile in parallel, with no device-side copy.
pub fn flat_gradient_into(
    lm: &LanguageModel,
    chat: &ChatTokens,
    flat: &mut Vec<f32>,
) -> Result<f32, FeatureError> {
    let (ids, mask) = lm.loss_batch(std::slice::from_ref(chat));
    let loss = lm.model.masked_loss(ids, mask);
    let grads = loss.clone().sum().backward();
    let missing = || {
        FeatureError::Invalid(
            "the proxy's parameters take no gradient: load it with `load_proxy` in dense or exact mode"
                .into(),
        )
    };
    let blocks = lm.model.block_gradients(&grads).ok_or_else(missing)?;
    let norms = lm.model.norm_gradients(&grads).ok_or_else(missing)?;
    drop(grads);
    // `grad_blocks` gives each block's flat size, in the order `block_gradients` returns them.
    let sizes: Vec<usize> = lm
        .model
        .grad_blocks()
        .iter()
        .map(|b| b.rows * b.cols)
        .collect();
    let total = sizes.iter().sum::<usize>() + norms.iter().map(|n| n.dims()[0]).sum::<usize>();
    flat.resize(total, 0.0);
    let mut rest = flat.as_mut_slice();
    for (block, size) in blocks.into_iter().zip(sizes) {
        let (out, tail) = rest.split_at_mut(size);
        write_hf_layout(block, out)?;
        rest = tail;
    }
    for n in norms {
        let (out, tail) = rest.split_at_mut(n.dims()[0]);
        out.copy_from_slice(&to_vec(n)?);
        rest = tail;
    }
    Ok(to_vec(loss.inner())?[0])
}

/// Side of the square tiles of the host transpose (a tile of both sides stays in L1).
const TILE: usize = 32;

/// Writes one block's gradient into `out` in the flat (HF) layout of [`BlockGradient`].
fn write_hf_layout(block: BlockGradient, out: &mut [f32]) -> Result<(), FeatureError> {
    match block {
        BlockGradient::Table(t) => {
            let data = t.into_data();
            out.copy_from_slice(slice_of(&data)?);
        }
        BlockGradient::Linear { weight, bias } => {
            let [d_in, d_out] = weight.dims();
            let width = d_in + usize::from(bias.is_some());
            assert_eq!(out.len(), d_out * width, "a gradient block's size changed");
            let weight = weight.into_data();
            let w = slice_of(&weight)?;
            let bias = bias.map(to_vec).transpose()?;
            // Output row o = (w[·, o], bias[o]); TILE output rows per task.
            out.par_chunks_mut(TILE * width)
                .enumerate()
                .for_each(|(task, rows)| {
                    let o0 = task * TILE;
                    let n_rows = rows.len() / width;
                    for i0 in (0..d_in).step_by(TILE) {
                        for i in i0..(i0 + TILE).min(d_in) {
                            let src = &w[i * d_out + o0..i * d_out + o0 + n_rows];
                            for (r, &v) in src.iter().enumerate() {
                                rows[r * width + i] = v;
                            }
                        }
                    }
                    if let Some(b) = &bias {
                        for r in 0..n_rows {
                            rows[r * width + d_in] = b[o0 + r];
                        }
                    }
                });
        }
    }
    Ok(())
}

/// The `f32` contents of host tensor data, without a copy.
fn slice_of(data: &TensorData) -> Result<&[f32], FeatureError> {
    data.as_slice::<f32>()
        .map_err(|e| FeatureError::Invalid(format!("reading a gradient: {e:?}")))
}

thread_local! {
    /// The dense mode's flat-gradient buffers (one per example of a batch, 0.5 GB each for
    /// SmolLM2-135M), kept between batches: refilling memory already faulted in is several
    /// times cheaper than a fresh allocation of that size.
    static FLAT_BUFFERS: std::cell::RefCell<Vec<Vec<f32>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The dense (paper-exact) mode.
#[derive(Debug, Clone, Copy)]
pub struct DenseFeatures {
    projector: DenseProjector,
}

impl DenseFeatures {
    /// Projection to `dim` under `seed`.
    pub fn new(dim: usize, seed: u64) -> Self {
        Self {
            projector: DenseProjector::new(seed, dim),
        }
    }
}

impl GradientProjection for DenseFeatures {
    fn mode(&self) -> Mode {
        Mode::Dense
    }
    fn dim(&self) -> usize {
        self.projector.dim()
    }
    /// Each example's backward runs alone; the projections of the whole batch share one pass
    /// of sign generation.
    fn featurize(
        &self,
        lm: &LanguageModel,
        batch: &[ChatTokens],
    ) -> Result<Vec<ExampleGradient>, FeatureError> {
        FLAT_BUFFERS.with_borrow_mut(|buffers| {
            if buffers.len() < batch.len() {
                buffers.resize_with(batch.len(), Vec::new);
            }
            let losses = batch
                .iter()
                .zip(buffers.iter_mut())
                .map(|(c, flat)| flat_gradient_into(lm, c, flat))
                .collect::<Result<Vec<f32>, _>>()?;
            let refs: Vec<&[f32]> = buffers[..batch.len()].iter().map(Vec::as_slice).collect();
            let projected = self.projector.project(&refs);
            Ok(projected
                .into_iter()
                .zip(losses.into_iter().zip(&refs))
                .map(|(projected, (loss, g))| ExampleGradient {
                    projected,
                    loss,
                    grad_norm: norm(g),
                })
                .collect())
        })
    }
}

/// The exact mode's result: the cosine kernel of the full flat gradients.
#[derive(Debug, Clone)]
pub struct ExactKernel {
    /// n × n, row-major, unit diagonal.
    pub kernel: Vec<f64>,
    /// Losses, in order.
    pub losses: Vec<f32>,
    /// Full gradient norms, in order.
    pub grad_norms: Vec<f32>,
}

/// The cosine kernel of the full gradients of `chats` (holds all n gradients in memory: about
/// 0.5 GB each for SmolLM2-135M).
pub fn exact_kernel(lm: &LanguageModel, chats: &[ChatTokens]) -> Result<ExactKernel, FeatureError> {
    let flats: Vec<(Vec<f32>, f32)> = chats
        .iter()
        .map(|c| flat_gradient(lm, c))
        .collect::<Result<_, _>>()?;
    let n = flats.len();
    let dot = |a: &[f32], b: &[f32]| -> f64 {
        a.par_chunks(1 << 16)
            .zip(b.par_chunks(1 << 16))
            .map(|(x, y)| {
                x.iter()
                    .zip(y)
                    .map(|(p, q)| f64::from(*p) * f64::from(*q))
                    .sum::<f64>()
            })
            .sum()
    };
    let mut gram = vec![0f64; n * n];
    for i in 0..n {
        for j in 0..=i {
            let v = dot(&flats[i].0, &flats[j].0);
            gram[i * n + j] = v;
            gram[j * n + i] = v;
        }
    }
    let norms: Vec<f64> = (0..n).map(|i| gram[i * n + i].sqrt()).collect();
    let kernel = (0..n * n)
        .map(|ij| {
            let (i, j) = (ij / n, ij % n);
            if norms[i] == 0.0 || norms[j] == 0.0 {
                0.0
            } else {
                gram[ij] / (norms[i] * norms[j])
            }
        })
        .collect();
    Ok(ExactKernel {
        kernel,
        losses: flats.iter().map(|(_, l)| *l).collect(),
        grad_norms: norms.iter().map(|v| *v as f32).collect(),
    })
}
