//! The log-probability of one target token per row of logits, `log_softmax(logits)[target]`,
//! as one operation with its own gradient.
//!
//! Why: a small causal LM's output layer spans its whole vocabulary (49,152 tokens for
//! SmolLM2), and the loss and the scores read one entry per row. burn's `log_softmax` followed
//! by `gather` writes four row-by-vocabulary tensors forward (the shifted logits, their `exp`,
//! the result and, in training, the gather's scattered gradient) and calls the C library's
//! scalar `expf` once per entry; in a math run that was about a seventh of the time (`perf`:
//! `float_exp` 9.9%, the gather's backward 4.9%; docs/performance.md, 2026-12-05). Here the CPU
//! backend reads each row twice forward (its maximum, then the sum of `exp`, vectorised) and
//! writes nothing of that size, and the backward writes the gradient in one pass:
//! `∂ log p_t / ∂ x_v = [v = t] − softmax(x)_v`. The other backends (libtorch, CUDA) compose
//! burn's own ops, under the same autodiff node.

use crate::activation::exp_nonpositive;
use crate::avx2::with_avx2;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, DType, Flex, TensorMetadata, backend_extension};
use burn::prelude::*;
use burn::tensor::{IndexingUpdateOp, TensorData};
use burn_flex::FlexTensor;
use rayon::prelude::*;

/// `log_softmax(logits)[row, target[row]]` and its gradient, per backend. The defaults compose
/// burn's own ops.
#[backend_extension(
    Flex,
    LibTorch: cfg(feature = "tch"),
    Cube: cfg(feature = "cuda"),
    Autodiff,
)]
pub trait LogProbExt: Backend {
    /// `[rows, vocab]` logits and one target index per row → `[rows]` log-probabilities.
    fn target_log_probs(logits: FloatTensor<Self>, targets: Vec<i64>) -> FloatTensor<Self> {
        log_probs_from_ops::<Self>(logits, targets)
    }

    /// `grad[row] · ([v = target] − softmax(logits[row])_v)`: the gradient of
    /// [`Self::target_log_probs`] with respect to the logits, given the gradient `grad` `[rows]`
    /// of its output.
    fn target_log_probs_backward(
        logits: FloatTensor<Self>,
        targets: Vec<i64>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        backward_from_ops::<Self>(logits, targets, grad)
    }
}

/// The targets as a `[rows, 1]` index tensor on the logits' device.
fn target_index<B: Backend>(logits: &FloatTensor<B>, targets: Vec<i64>) -> B::IntTensorPrimitive {
    let rows = targets.len();
    B::int_from_data(TensorData::new(targets, [rows, 1]), &logits.device())
}

#[cfg(feature = "tch")]
impl LogProbExt for burn::backend::LibTorch {}

#[cfg(feature = "cuda")]
impl LogProbExt for burn::backend::Cube {}

impl LogProbExt for Flex {
    fn target_log_probs(logits: FlexTensor, targets: Vec<i64>) -> FlexTensor {
        if logits.dtype() != DType::F32 {
            return log_probs_from_ops::<Flex>(logits, targets);
        }
        let (values, vocab) = rows_of(&logits, targets.len());
        let x = values.as_slice::<f32>().expect("a contiguous f32 tensor");
        let out: Vec<f32> = targets
            .par_iter()
            .enumerate()
            .map(|(r, &t)| {
                let row = &x[r * vocab..][..vocab];
                row[target_in(t, vocab)] - log_sum_exp(row)
            })
            .collect();
        FlexTensor::from_data(TensorData::new(out, [targets.len()]))
    }

    fn target_log_probs_backward(
        logits: FlexTensor,
        targets: Vec<i64>,
        grad: FlexTensor,
    ) -> FlexTensor {
        if logits.dtype() != DType::F32 || grad.dtype() != DType::F32 {
            return backward_from_ops::<Flex>(logits, targets, grad);
        }
        let (values, vocab) = rows_of(&logits, targets.len());
        let x = values.as_slice::<f32>().expect("a contiguous f32 tensor");
        let grad = grad.to_contiguous();
        let g = grad.as_slice::<f32>().expect("a contiguous f32 tensor");
        let mut out = vec![0f32; targets.len() * vocab];
        out.par_chunks_mut(vocab)
            .zip(targets.par_iter())
            .enumerate()
            .for_each(|(r, (out, &t))| {
                let row = &x[r * vocab..][..vocab];
                // Recomputed rather than kept: one more read of the row against a second
                // tensor to carry through the autodiff graph.
                let lse = log_sum_exp(row);
                softmax_gradient(row, lse, g[r], out);
                out[target_in(t, vocab)] += g[r];
            });
        FlexTensor::from_data(TensorData::new(out, [targets.len(), vocab]))
    }
}

/// The forward from burn's ops: the default, and flex's for a dtype its kernel does not take.
fn log_probs_from_ops<B: Backend>(logits: FloatTensor<B>, targets: Vec<i64>) -> FloatTensor<B> {
    let rows = targets.len();
    let index = target_index::<B>(&logits, targets);
    B::float_reshape(
        B::float_gather(1, B::log_softmax(logits, 1), index),
        Shape::new([rows]),
    )
}

/// The backward from burn's ops: the default, and flex's for a dtype its kernel does not take.
fn backward_from_ops<B: Backend>(
    logits: FloatTensor<B>,
    targets: Vec<i64>,
    grad: FloatTensor<B>,
) -> FloatTensor<B> {
    let rows = targets.len();
    let index = target_index::<B>(&logits, targets);
    let grad = B::float_reshape(grad, Shape::new([rows, 1]));
    let softmax = B::float_exp(B::log_softmax(logits, 1));
    let spread = B::float_neg(B::float_mul(softmax, grad.clone()));
    B::float_scatter(1, spread, index, grad, IndexingUpdateOp::Add)
}

/// The logits as a contiguous tensor and the vocabulary size; panics unless they are
/// `[rows, vocab]`.
fn rows_of(logits: &FlexTensor, rows: usize) -> (FlexTensor, usize) {
    let dims = logits.shape().to_vec();
    assert!(
        dims.len() == 2 && dims[0] == rows,
        "target log-probabilities take [rows, vocab] logits and one target per row: {dims:?} \
         with {rows} targets"
    );
    let values = if logits.as_slice::<f32>().is_some() {
        logits.clone()
    } else {
        logits.to_contiguous()
    };
    (values, dims[1])
}

/// A target as an index into a row of `vocab`; panics when it lies outside.
fn target_in(target: i64, vocab: usize) -> usize {
    usize::try_from(target)
        .ok()
        .filter(|&t| t < vocab)
        .unwrap_or_else(|| panic!("target {target} outside a vocabulary of {vocab}"))
}

/// Independent partial sums per row: enough to fill two AVX2 registers, in a fixed order, so
/// the sums vectorise and give the same bits on every CPU.
const LANES: usize = 16;

with_avx2! {
    /// `log Σ_v exp(row_v)`, shifted by the row's maximum, in [`LANES`] partial sums.
    fn log_sum_exp(row: &[f32]) -> f32 {
        let chunks = row.chunks_exact(LANES);
        let tail = chunks.remainder();
        let mut high = [f32::NEG_INFINITY; LANES];
        for chunk in chunks.clone() {
            for (h, &x) in high.iter_mut().zip(chunk) {
                *h = h.max(x);
            }
        }
        let max = tail.iter().fold(
            high.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            |m, &x| m.max(x),
        );
        let mut sums = [0f32; LANES];
        for chunk in chunks {
            for (s, &x) in sums.iter_mut().zip(chunk) {
                *s += exp_nonpositive(x - max);
            }
        }
        let sum = tail.iter().fold(sums.iter().sum::<f32>(), |s, &x| {
            s + exp_nonpositive(x - max)
        });
        max + sum.ln()
    }
}

with_avx2! {
    /// `out_v = −g · exp(row_v − lse)`: the softmax part of the gradient, for every entry.
    fn softmax_gradient(row: &[f32], lse: f32, g: f32, out: &mut [f32]) {
        let row = &row[..out.len()];
        for (o, &x) in out.iter_mut().zip(row) {
            *o = -g * exp_nonpositive(x - lse);
        }
    }
}

/// The backward step: keeps the logits and the targets, and calls the inner backend's
/// [`LogProbExt::target_log_probs_backward`].
#[derive(Debug)]
struct TargetLogProbsBackward;

impl<B: Backend + LogProbExt> Backward<B, 1> for TargetLogProbsBackward {
    type State = (FloatTensor<B>, Vec<i64>);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let (logits, targets) = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            B::target_log_probs_backward(logits, targets, grad)
        });
    }
}

impl<B: Backend + LogProbExt, C: CheckpointStrategy> LogProbExt for Autodiff<B, C> {
    fn target_log_probs(logits: FloatTensor<Self>, targets: Vec<i64>) -> FloatTensor<Self> {
        let prepared = TargetLogProbsBackward
            .prepare::<C>([logits.node()])
            .compute_bound()
            .stateful();
        match prepared {
            OpsKind::Tracked(prep) => {
                let inner = logits.into_primitive();
                let output = B::target_log_probs(inner.clone(), targets.clone());
                prep.finish((inner, targets), output)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::target_log_probs(logits.into_primitive(), targets))
            }
        }
    }
}

/// `log_softmax(logits, 1)[row, targets[row]]` for `[rows, vocab]` logits on any device, with
/// its gradient on an autodiff device: what a causal LM's loss and scores read.
pub fn target_log_probs(logits: Tensor<2>, targets: Vec<i64>) -> Tensor<1> {
    use burn::backend::Dispatch;
    Tensor::from_dispatch(<Dispatch as LogProbExt>::target_log_probs(
        logits.into_dispatch(),
        targets,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::activation::log_softmax;

    /// Logits with a wide spread (a trained head's rows span tens of nats) and a length that
    /// is not a multiple of the lanes.
    fn logits(device: &Device, rows: usize, vocab: usize) -> (Vec<f32>, Tensor<2>) {
        let values: Vec<f32> = (0..rows * vocab)
            .map(|i| {
                let x = (i as f32 * 0.618_034).fract();
                (x - 0.5) * 40.0 + (i % 7) as f32
            })
            .collect();
        let t = Tensor::<2>::from_data(TensorData::new(values.clone(), [rows, vocab]), device);
        (values, t)
    }

    /// The log-probabilities in f64, row by row: the independent reference.
    fn reference(values: &[f32], vocab: usize, targets: &[i64]) -> Vec<f64> {
        targets
            .iter()
            .enumerate()
            .map(|(r, &t)| {
                let row: Vec<f64> = values[r * vocab..][..vocab]
                    .iter()
                    .map(|&x| f64::from(x))
                    .collect();
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = max + row.iter().map(|x| (x - max).exp()).sum::<f64>().ln();
                row[t as usize] - lse
            })
            .collect()
    }

    fn read(t: Tensor<1>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn log_probs_match_an_f64_reference() {
        let device = Device::flex();
        let (vocab, rows) = (1_037, 6);
        let (values, x) = logits(&device, rows, vocab);
        let targets = vec![0, 1_036, 5, 700, 3, 512];
        let ours = read(target_log_probs(x, targets.clone()));
        for (a, b) in ours.iter().zip(reference(&values, vocab, &targets)) {
            assert!(
                (f64::from(*a) - b).abs() < 1e-5 * (1.0 + b.abs()),
                "{a} vs {b}"
            );
        }
    }

    #[test]
    fn values_and_gradients_match_burns_log_softmax_and_gather() {
        let device = Device::flex().autodiff();
        let (vocab, rows) = (515, 5);
        let targets = vec![3, 514, 0, 77, 256];
        let weights = Tensor::<1>::from_data(
            TensorData::new(vec![0.5f32, -1.0, 2.0, 0.0, 1.5], [rows]),
            &device,
        );
        let run = |ours: bool| {
            let (_, x) = logits(&device, rows, vocab);
            let x = x.require_grad();
            let logp = if ours {
                target_log_probs(x.clone(), targets.clone())
            } else {
                let index = Tensor::<2, Int>::from_data(
                    TensorData::new(targets.clone(), [rows, 1]),
                    &device,
                );
                log_softmax(x.clone(), 1).gather(1, index).reshape([rows])
            };
            let loss = (logp.clone() * weights.clone()).sum();
            let grads = loss.backward();
            let grad = x.grad(&grads).unwrap();
            let grad: Vec<f32> = grad
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap();
            (read(logp.inner()), grad)
        };
        let (ours, our_grad) = run(true);
        let (burns, burn_grad) = run(false);
        for (a, b) in ours.iter().zip(&burns) {
            assert!((a - b).abs() < 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
        }
        for (a, b) in our_grad.iter().zip(&burn_grad) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        // The row with zero weight has zero gradient; a row's gradient sums to zero.
        assert!(our_grad[3 * vocab..4 * vocab].iter().all(|&g| g == 0.0));
        let row_sum: f32 = our_grad[..vocab].iter().sum();
        assert!(row_sum.abs() < 1e-6, "{row_sum}");
    }

    /// The composition of burn's ops that libtorch and CUDA run, here on flex's primitives,
    /// against the fast kernels: forward and backward.
    #[test]
    fn the_default_composition_agrees_with_the_flex_kernels() {
        let (vocab, rows) = (777, 4);
        let targets = vec![0, 776, 300, 12];
        let flex = |t: Tensor<2>| -> FlexTensor { FlexTensor::from_data(t.into_data()) };
        let values = |t: FlexTensor| -> Vec<f32> { t.into_data().try_to_vec::<f32>().unwrap() };
        let (_, x) = logits(&Device::flex(), rows, vocab);
        let x = flex(x);
        let grad = FlexTensor::from_data(TensorData::new(vec![1.0f32, -0.5, 2.0, 0.25], [rows]));
        let pairs = [
            (
                values(<Flex as LogProbExt>::target_log_probs(
                    x.clone(),
                    targets.clone(),
                )),
                values(log_probs_from_ops::<Flex>(x.clone(), targets.clone())),
            ),
            (
                values(<Flex as LogProbExt>::target_log_probs_backward(
                    x.clone(),
                    targets.clone(),
                    grad.clone(),
                )),
                values(backward_from_ops::<Flex>(x, targets.clone(), grad)),
            ),
        ];
        for (fast, composed) in pairs {
            assert_eq!(fast.len(), composed.len());
            for (a, b) in fast.iter().zip(&composed) {
                assert!((a - b).abs() < 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
            }
        }
    }

    /// The op on the backend `PRISM_TEST_BACKEND` names (`just test-tch` runs this on libtorch,
    /// where the default composition runs under the autodiff node) against f64 references:
    /// `log p_t` and `∂/∂x_v = w · ([v = t] − softmax(x)_v)`.
    #[test]
    fn on_the_test_backend_values_and_gradients_match_f64_references() {
        let backend: crate::Backend = std::env::var("PRISM_TEST_BACKEND")
            .unwrap_or_else(|_| "flex".into())
            .parse()
            .expect("PRISM_TEST_BACKEND is flex, tch, cuda or auto");
        let device = backend.device().unwrap().autodiff();
        let (vocab, rows) = (1_031, 4);
        let targets = vec![7, 1_030, 0, 512];
        let weights = [1.0f64, -0.5, 2.0, 0.0];
        let (values, x) = logits(&device, rows, vocab);
        let x = x.require_grad();
        let logp = target_log_probs(x.clone(), targets.clone());
        let w = Tensor::<1>::from_data(
            TensorData::new(weights.iter().map(|&w| w as f32).collect(), [rows]),
            &device,
        );
        let grads = (logp.clone() * w).sum().backward();
        let grad: Vec<f32> = x
            .grad(&grads)
            .unwrap()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        let expected = reference(&values, vocab, &targets);
        for (a, b) in read(logp.inner()).iter().zip(&expected) {
            assert!(
                (f64::from(*a) - b).abs() < 1e-5 * (1.0 + b.abs()),
                "{a} vs {b}"
            );
        }
        for (r, &t) in targets.iter().enumerate() {
            let lse = f64::from(values[r * vocab + t as usize]) - expected[r];
            for v in 0..vocab {
                let p = (f64::from(values[r * vocab + v]) - lse).exp();
                let want = weights[r] * (f64::from(u8::from(v == t as usize)) - p);
                let got = f64::from(grad[r * vocab + v]);
                assert!(
                    (got - want).abs() < 1e-6,
                    "row {r}, token {v}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn without_autodiff_the_values_are_the_same_bits() {
        let (vocab, rows) = (300, 3);
        let targets = vec![1, 2, 299];
        let plain = {
            let (_, x) = logits(&Device::flex(), rows, vocab);
            read(target_log_probs(x, targets.clone()))
        };
        let tracked = {
            let (_, x) = logits(&Device::flex().autodiff(), rows, vocab);
            read(target_log_probs(x.require_grad(), targets.clone()).inner())
        };
        assert_eq!(plain, tracked);
    }

    #[test]
    #[should_panic(expected = "outside a vocabulary")]
    fn a_target_outside_the_vocabulary_is_refused() {
        let (_, x) = logits(&Device::flex(), 1, 10);
        let _ = target_log_probs(x, vec![10]);
    }
}
