//! The activations of the two model families as a burn backend extension: BERT's exact GELU,
//! `x Φ(x)` with `Φ` the standard normal CDF, and Llama's SiLU, `x σ(x)`.
//!
//! Why: burn-flex evaluates GELU one element at a time through the `libm` crate's scalar
//! `erff` and `expf` on one thread, and burn builds SiLU from a scalar sigmoid and a tracked
//! multiply. On two cores that was over a quarter of the student's training step and half of
//! its inference (docs/performance.md, Models). Here the CPU backend gets a branch-free `erf` (a rational
//! approximation within 5e-7 of the exact value) and `exp`, which the compiler vectorises,
//! spread over the rayon pool; PyTorch's CPU kernels also use polynomial `erf` and `exp`. The
//! other backends (libtorch, CUDA) keep burn's ops, and autodiff records one node per
//! activation whose backward calls the inner backend's `*_backward`.

use crate::avx2::with_avx2;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::ops::ActivationOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, DType, Flex, TensorMetadata, backend_extension};
use burn::prelude::*;
use burn::tensor::TensorData;
use burn_flex::FlexTensor;
use rayon::prelude::*;

/// GELU and SiLU with their gradients, per backend. The defaults are burn's own ops.
#[backend_extension(
    Flex,
    LibTorch: cfg(feature = "tch"),
    Cube: cfg(feature = "cuda"),
    Autodiff,
)]
pub trait ActivationExt: Backend {
    /// `x Φ(x)`, elementwise.
    fn exact_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::gelu(x)
    }

    /// `grad · d/dx[x Φ(x)]`, elementwise.
    fn exact_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::gelu_backward(x, grad)
    }

    /// `x σ(x)`, elementwise.
    fn silu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        silu_from_ops::<Self>(x)
    }

    /// `grad · σ(x) (1 + x (1 − σ(x)))`, elementwise.
    fn silu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        silu_backward_from_ops::<Self>(x, grad)
    }
}

/// SiLU from the backend's sigmoid and multiply (burn's own composition).
fn silu_from_ops<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    let sigmoid = B::sigmoid(x.clone());
    B::float_mul(x, sigmoid)
}

/// SiLU's gradient from the backend's elementwise ops.
fn silu_backward_from_ops<B: Backend>(x: FloatTensor<B>, grad: FloatTensor<B>) -> FloatTensor<B> {
    let sigmoid = B::sigmoid(x.clone());
    let one_minus = B::float_add_scalar(B::float_neg(sigmoid.clone()), 1.0.into());
    let slope = B::float_add_scalar(B::float_mul(x, one_minus), 1.0.into());
    B::float_mul(grad, B::float_mul(sigmoid, slope))
}

#[cfg(feature = "tch")]
impl ActivationExt for burn::backend::LibTorch {}

#[cfg(feature = "cuda")]
impl ActivationExt for burn::backend::Cube {}

impl ActivationExt for Flex {
    fn exact_gelu(x: FlexTensor) -> FlexTensor {
        if x.dtype() != DType::F32 {
            return Flex::gelu(x);
        }
        map_f32(&[&x], |inputs, out| gelu_slice(inputs[0], out))
    }

    fn exact_gelu_backward(x: FlexTensor, grad: FlexTensor) -> FlexTensor {
        if !same_f32(&x, &grad) {
            return Flex::gelu_backward(x, grad);
        }
        map_f32(&[&x, &grad], |inputs, out| {
            gelu_grad_slice(inputs[0], inputs[1], out)
        })
    }

    fn silu(x: FlexTensor) -> FlexTensor {
        if x.dtype() != DType::F32 {
            return silu_from_ops::<Flex>(x);
        }
        map_f32(&[&x], |inputs, out| silu_slice(inputs[0], out))
    }

    fn silu_backward(x: FlexTensor, grad: FlexTensor) -> FlexTensor {
        if !same_f32(&x, &grad) {
            return silu_backward_from_ops::<Flex>(x, grad);
        }
        map_f32(&[&x, &grad], |inputs, out| {
            silu_grad_slice(inputs[0], inputs[1], out)
        })
    }
}

/// Whether two tensors are f32 of one shape (what the fast kernels take).
fn same_f32(x: &FlexTensor, grad: &FlexTensor) -> bool {
    x.dtype() == DType::F32 && grad.dtype() == DType::F32 && x.shape() == grad.shape()
}

/// The backward step of an elementwise activation: it keeps the input, as burn's own GELU does,
/// and calls `gradient(input, grad)` of the inner backend.
#[derive(Debug)]
struct ElementwiseBackward<B: Backend> {
    gradient: fn(FloatTensor<B>, FloatTensor<B>) -> FloatTensor<B>,
}

impl<B: Backend> Backward<B, 1> for ElementwiseBackward<B> {
    type State = FloatTensor<B>;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let input = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            (self.gradient)(input, grad)
        });
    }
}

/// Records `forward(x)` on the autodiff graph with `gradient` as its backward.
fn elementwise<B: Backend, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    forward: fn(FloatTensor<B>) -> FloatTensor<B>,
    gradient: fn(FloatTensor<B>, FloatTensor<B>) -> FloatTensor<B>,
) -> FloatTensor<Autodiff<B, C>> {
    let prepared = ElementwiseBackward { gradient }
        .prepare::<C>([x.node()])
        .compute_bound()
        .stateful();
    match prepared {
        OpsKind::Tracked(prep) => {
            let input = x.into_primitive();
            let output = forward(input.clone());
            prep.finish(input, output)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(x.into_primitive())),
    }
}

impl<B: Backend + ActivationExt, C: CheckpointStrategy> ActivationExt for Autodiff<B, C> {
    fn exact_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        elementwise::<B, C>(x, B::exact_gelu, B::exact_gelu_backward)
    }

    fn silu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        elementwise::<B, C>(x, B::silu, B::silu_backward)
    }
}

/// BERT's GELU on any device, through [`ActivationExt`].
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    use burn::backend::Dispatch;
    Tensor::from_dispatch(<Dispatch as ActivationExt>::exact_gelu(x.into_dispatch()))
}

/// Llama's SiLU on any device, through [`ActivationExt`].
pub fn silu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    use burn::backend::Dispatch;
    Tensor::from_dispatch(<Dispatch as ActivationExt>::silu(x.into_dispatch()))
}

/// Elements per parallel task: large enough that a task outlasts its scheduling.
const TASK: usize = 1 << 14;

/// Applies `kernel` to the f32 contents of `inputs` (same shape) into a new contiguous tensor,
/// in parallel chunks.
fn map_f32(inputs: &[&FlexTensor], kernel: impl Fn(&[&[f32]], &mut [f32]) + Sync) -> FlexTensor {
    let shape = inputs[0].shape();
    let contiguous: Vec<FlexTensor> = inputs
        .iter()
        .map(|t| {
            if t.as_slice::<f32>().is_some() {
                (*t).clone()
            } else {
                t.to_contiguous()
            }
        })
        .collect();
    let slices: Vec<&[f32]> = contiguous
        .iter()
        .map(|t| t.as_slice::<f32>().expect("a contiguous f32 tensor"))
        .collect();
    let n = shape.num_elements();
    let mut out = vec![0.0f32; n];
    out.par_chunks_mut(TASK)
        .enumerate()
        .for_each(|(chunk, out)| {
            let start = chunk * TASK;
            let parts: Vec<&[f32]> = slices
                .iter()
                .map(|s| &s[start..start + out.len()])
                .collect();
            kernel(&parts, out);
        });
    FlexTensor::from_data(TensorData::new(out, shape))
}

/// Numerator coefficients (odd powers 1..13) of the rational `erf` on [-4, 4]; Eigen's and
/// XLA's single-precision `erf` use the same approximation (coefficients as published).
#[allow(clippy::excessive_precision)]
const ERF_P: [f32; 7] = [
    -1.609_603_3e-2,
    -2.954_599_8e-3,
    -7.349_906_3e-4,
    -5.692_506_4e-5,
    -2.101_024e-6,
    2.770_681_4e-8,
    -2.726_142_3e-10,
];
/// Denominator coefficients (even powers 0..8).
const ERF_Q: [f32; 5] = [
    -1.426_474e-2,
    -7.373_329e-3,
    -1.682_827e-3,
    -2.133_740_6e-4,
    -1.456_607_2e-5,
];

/// `erf(x)` without branches or calls (so it vectorises); within 5e-7 of the exact value.
/// Outside [-4, 4] erf is ±1 to single precision.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = ERF_P[6];
    for c in ERF_P[..6].iter().rev() {
        p = p * x2 + c;
    }
    let mut q = ERF_Q[4];
    for c in ERF_Q[..4].iter().rev() {
        q = q * x2 + c;
    }
    x * p / q
}

/// `exp(y)` for `y ≤ 0` without branches or calls: `2^n · e^r` with `n = round(y / ln 2)`
/// and Cephes' polynomial for `e^r`, |r| ≤ ln 2 / 2; within 2e-7 relative. Below −87 it
/// returns `e^−87` (about 1.6e-38), which the callers multiply by a tiny factor anyway.
#[inline(always)]
pub fn exp_nonpositive(y: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer
    let y = y.clamp(-87.0, 0.0);
    let n = (y * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = y - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let mut p = 1.987_569_1e-4;
    for c in [
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        0.166_666_65,
        0.5, // Cephes' 5.0000001201e-1, which rounds to 0.5 in f32
    ] {
        p = p * r + c;
    }
    let e_r = p * r * r + r + 1.0;
    e_r * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// `σ(x) = 1 / (1 + e^−x)` from [`exp_nonpositive`] of `−|x|`, with a select instead of a branch.
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    let e = exp_nonpositive(-x.abs());
    let r = 1.0 / (1.0 + e);
    if x >= 0.0 { r } else { e * r }
}

/// Defines `$name`, an elementwise kernel over equal-length slices, through [`with_avx2!`]
/// (8 lanes where the CPU has AVX2; the same operations, so the same bits).
macro_rules! elementwise_kernel {
    ($(#[$doc:meta])* $name:ident($($input:ident),+) => |$($x:ident),+| $body:expr) => {
        with_avx2! {
            $(#[$doc])*
            pub fn $name($($input: &[f32],)+ out: &mut [f32]) {
                $(assert_eq!($input.len(), out.len());)+
                // Equal lengths, so the loop carries no bounds checks and vectorises.
                $(let $input = &$input[..out.len()];)+
                for (i, o) in out.iter_mut().enumerate() {
                    $(let $x = $input[i];)+
                    *o = $body;
                }
            }
        }
    };
}

const INV_SQRT_2PI: f32 = 0.398_942_3;

elementwise_kernel!(
    /// `out[i] = x[i] Φ(x[i])`.
    gelu_slice(xs) => |x| 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
);

elementwise_kernel!(
    /// `out[i] = grad[i] · (Φ(x) + x φ(x))` at `x = x[i]`.
    gelu_grad_slice(xs, grads) => |x, g| {
        let cdf = 0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
        let pdf = INV_SQRT_2PI * exp_nonpositive(-0.5 * x * x);
        g * (cdf + x * pdf)
    }
);

elementwise_kernel!(
    /// `out[i] = x[i] σ(x[i])`.
    silu_slice(xs) => |x| x * sigmoid(x)
);

elementwise_kernel!(
    /// `out[i] = grad[i] · σ(x) (1 + x (1 − σ(x)))` at `x = x[i]`.
    silu_grad_slice(xs, grads) => |x, g| {
        let s = sigmoid(x);
        g * s * (1.0 + x * (1.0 - s))
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::function::erf::erf as erf_f64;

    fn grid() -> Vec<f32> {
        (0..=400_000).map(|i| -10.0 + i as f32 * 5e-5).collect()
    }

    #[test]
    fn erf_is_within_5e_7_of_the_exact_value() {
        let worst = grid()
            .iter()
            .map(|&x| (f64::from(erf(x)) - erf_f64(f64::from(x))).abs())
            .fold(0.0, f64::max);
        assert!(worst < 5e-7, "max |erf − exact| = {worst:e}");
    }

    #[test]
    fn exp_is_within_2e_7_relative_of_the_exact_value() {
        let worst = (0..=870_000)
            .map(|i| -(i as f32) * 1e-4)
            .map(|y| {
                let exact = f64::from(y).exp();
                (f64::from(exp_nonpositive(y)) - exact).abs() / exact
            })
            .fold(0.0, f64::max);
        assert!(worst < 2e-7, "max relative error {worst:e}");
    }

    /// The kernels (their AVX2 build on a CPU that has it) give the same bits as the same
    /// formulas evaluated one element at a time in scalar code: Rust never fuses a multiply and
    /// an add on its own, so the vector width cannot change a result, and runs are
    /// reproducible across CPUs with and without AVX2.
    #[test]
    fn the_kernels_give_the_bits_of_scalar_code() {
        let x = grid();
        let g: Vec<f32> = x.iter().map(|v| 0.5 - v.sin()).collect();
        let scalar_gelu = |x: f32| 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
        let scalar_gelu_grad = |x: f32, g: f32| {
            let cdf = 0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
            let pdf = INV_SQRT_2PI * exp_nonpositive(-0.5 * x * x);
            g * (cdf + x * pdf)
        };
        let scalar_silu = |x: f32| x * sigmoid(x);
        let scalar_silu_grad = |x: f32, g: f32| {
            let s = sigmoid(x);
            g * s * (1.0 + x * (1.0 - s))
        };
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<u32>>();
        let mut out = vec![0.0; x.len()];
        gelu_slice(&x, &mut out);
        let want: Vec<f32> = x
            .iter()
            .map(|&v| scalar_gelu(std::hint::black_box(v)))
            .collect();
        assert_eq!(bits(&out), bits(&want), "gelu");
        silu_slice(&x, &mut out);
        let want: Vec<f32> = x
            .iter()
            .map(|&v| scalar_silu(std::hint::black_box(v)))
            .collect();
        assert_eq!(bits(&out), bits(&want), "silu");
        gelu_grad_slice(&x, &g, &mut out);
        let want: Vec<f32> = x
            .iter()
            .zip(&g)
            .map(|(&v, &d)| scalar_gelu_grad(std::hint::black_box(v), d))
            .collect();
        assert_eq!(bits(&out), bits(&want), "gelu'");
        silu_grad_slice(&x, &g, &mut out);
        let want: Vec<f32> = x
            .iter()
            .zip(&g)
            .map(|(&v, &d)| scalar_silu_grad(std::hint::black_box(v), d))
            .collect();
        assert_eq!(bits(&out), bits(&want), "silu'");
    }

    /// Checks a value kernel and its gradient kernel against f64 references of the function
    /// and its derivative, within `1e-6 (1 + |x|)`.
    fn check_kernels(
        value: fn(&[f32], &mut [f32]),
        slope: fn(&[f32], &[f32], &mut [f32]),
        reference: fn(f64) -> (f64, f64),
    ) {
        let x = grid();
        let ones = vec![1.0f32; x.len()];
        let (mut values, mut slopes) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        value(&x, &mut values);
        slope(&x, &ones, &mut slopes);
        for ((&x, &v), &s) in x.iter().zip(&values).zip(&slopes) {
            let (v_ref, s_ref) = reference(f64::from(x));
            let bound = 1e-6 * (1.0 + f64::from(x.abs()));
            assert!(
                (f64::from(v) - v_ref).abs() < bound,
                "f({x}) = {v}, exact {v_ref}"
            );
            assert!(
                (f64::from(s) - s_ref).abs() < bound,
                "f'({x}) = {s}, exact {s_ref}"
            );
        }
    }

    #[test]
    fn gelu_kernels_match_the_exact_gelu_and_its_derivative() {
        check_kernels(gelu_slice, gelu_grad_slice, |x| {
            let cdf = 0.5 * (1.0 + erf_f64(x / std::f64::consts::SQRT_2));
            let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
            (x * cdf, cdf + x * pdf)
        });
    }

    #[test]
    fn silu_kernels_match_the_exact_silu_and_its_derivative() {
        check_kernels(silu_slice, silu_grad_slice, |x| {
            let s = 1.0 / (1.0 + (-x).exp());
            (x * s, s * (1.0 + x * (1.0 - s)))
        });
    }

    /// Values spread over the range the models' pre-activations take.
    fn sample(device: &Device, dims: [usize; 3]) -> Tensor<3> {
        let n = dims.iter().product::<usize>();
        let values: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 2003) as f32 / 2003.0 * 16.0 - 8.0)
            .collect();
        Tensor::<1>::from_floats(values.as_slice(), device).reshape(dims)
    }

    /// Our activation against burn's on flex with autodiff: the values, and the gradient of a
    /// weighted sum, on a transposed (non-contiguous) input larger than one parallel task.
    fn check_against_burn(ours: fn(Tensor<3>) -> Tensor<3>, burns: fn(Tensor<3>) -> Tensor<3>) {
        let device = Device::flex().autodiff();
        let x = sample(&device, [3, 160, 97]).swap_dims(1, 2).require_grad();
        let weights = sample(&device, [3, 97, 160]).sin();
        let (a, b) = (ours(x.clone()), burns(x.clone()));
        let forward_gap = (a.clone() - b.clone()).abs().max().into_scalar::<f32>();
        assert!(forward_gap < 1e-5, "values differ by {forward_gap}");
        let grad_a = x
            .grad(&(a * weights.clone()).sum().backward())
            .expect("a gradient");
        let grad_b = x.grad(&(b * weights).sum().backward()).expect("a gradient");
        let backward_gap = (grad_a - grad_b).abs().max().into_scalar::<f32>();
        assert!(backward_gap < 1e-5, "gradients differ by {backward_gap}");
    }

    #[test]
    fn gelu_matches_burns_gelu_on_flex() {
        check_against_burn(gelu, burn::tensor::activation::gelu);
    }

    #[test]
    fn silu_matches_burns_silu_on_flex() {
        check_against_burn(silu, burn::tensor::activation::silu);
    }
}
