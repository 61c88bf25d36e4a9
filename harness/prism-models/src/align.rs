//! A soft-alignment comparator over the token states of premise and hypothesis (the
//! decomposable-attention / ESIM family): each token of one side is compared with its
//! attention-weighted counterpart on the other side, and the comparisons are pooled.
//!
//! Why it exists: a linear head on mean-pooled sentence embeddings cannot see that a claim
//! differs from its evidence in one number or one date, which is what VitaminC asks, while a
//! fine-tuned encoder that can see it costs minutes a run on 2 cores. The comparator reads the
//! frozen encoder's token states (computed once per pair, [`crate::prefix::FrozenPrefix`]),
//! so a run trains only a few small matrices.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{relu, softmax};

/// The width of every comparator layer: the project's one setting (256 keeps a run's training
/// a few seconds per thousand pairs on 2 cores).
pub const ALIGN_WIDTH: usize = 256;

/// Additive bias that keeps padding out of a softmax or a max (large but finite, so that a
/// fully padded row stays finite).
const PAD_BIAS: f32 = 1e4;

/// Attend, compare, aggregate: three trainable layers on top of frozen token states.
#[derive(Module, Debug)]
pub struct Comparator {
    /// Projects each token before the dot-product alignment scores (`hidden → width`).
    attend: Linear,
    /// Compares a token with its aligned counterpart: `[x, x̃, x − x̃, x ⊙ x̃]` (`4 hidden →
    /// width`), shared by both sides.
    compare: Linear,
    /// Mixes both sides' mean- and max-pooled comparisons (`4 width → width`).
    aggregate: Linear,
}

impl Comparator {
    /// A comparator for `hidden`-wide token states, initialised from the device's seeded
    /// generator.
    pub fn new(hidden: usize, device: &Device) -> Self {
        Self {
            attend: LinearConfig::new(hidden, ALIGN_WIDTH).init(device),
            compare: LinearConfig::new(4 * hidden, ALIGN_WIDTH).init(device),
            aggregate: LinearConfig::new(4 * ALIGN_WIDTH, ALIGN_WIDTH).init(device),
        }
    }

    /// One row per pair, `[batch, ALIGN_WIDTH]`, from premise states `a` (`[batch, la, hidden]`,
    /// mask `[batch, la]`, 1 on real tokens) and hypothesis states `b`.
    pub fn forward(
        &self,
        a: Tensor<3>,
        mask_a: Tensor<2>,
        b: Tensor<3>,
        mask_b: Tensor<2>,
    ) -> Tensor<2> {
        let [batch, la, _] = a.dims();
        let lb = b.dims()[1];
        let fa = relu(self.attend.forward(a.clone()));
        let fb = relu(self.attend.forward(b.clone()));
        let scale = 1.0 / (ALIGN_WIDTH as f32).sqrt();
        // scores[i, j]: premise token i against hypothesis token j.
        let scores = fa.matmul(fb.swap_dims(1, 2)).mul_scalar(scale);
        let keys_bias = |mask: Tensor<2>, len: usize| {
            (mask - 1.0).mul_scalar(PAD_BIAS).reshape([batch, 1, len])
        };
        let b_for_a = softmax(scores.clone() + keys_bias(mask_b.clone(), lb), 2).matmul(b.clone());
        let a_for_b =
            softmax(scores.swap_dims(1, 2) + keys_bias(mask_a.clone(), la), 2).matmul(a.clone());
        let compared = |x: Tensor<3>, aligned: Tensor<3>| {
            let diff = x.clone() - aligned.clone();
            let prod = x.clone() * aligned.clone();
            relu(
                self.compare
                    .forward(Tensor::cat(vec![x, aligned, diff, prod], 2)),
            )
        };
        let va = pooled(compared(a, b_for_a), mask_a);
        let vb = pooled(compared(b, a_for_b), mask_b);
        relu(self.aggregate.forward(Tensor::cat(vec![va, vb], 1)))
    }
}

/// `[mean, max]` over a sequence's real tokens: `[batch, 2 width]`.
fn pooled(x: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
    let [batch, len, _] = x.dims();
    let mask = mask.reshape([batch, len, 1]);
    let counts = mask.clone().sum_dim(1).clamp_min(1e-9);
    let mean = (x.clone() * mask.clone()).sum_dim(1) / counts;
    let max = (x + (mask - 1.0).mul_scalar(PAD_BIAS)).max_dim(1);
    Tensor::cat(vec![mean, max], 2).squeeze_dim(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor3(values: Vec<f32>, shape: [usize; 3], device: &Device) -> Tensor<3> {
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    #[test]
    fn padding_changes_nothing() {
        // The same pair with and without padded positions (whatever their states hold) gives
        // the same row: the masks keep padding out of the alignment and the pooling.
        let device = Device::flex();
        let comparator = crate::device::seeded_module(&device, 7, || Comparator::new(3, &device));
        let a = vec![0.1, -0.4, 0.7, 0.3, 0.2, -0.9];
        let b = vec![0.5, 0.5, -0.2];
        let plain = comparator.forward(
            tensor3(a.clone(), [1, 2, 3], &device),
            Tensor::ones([1, 2], &device),
            tensor3(b.clone(), [1, 1, 3], &device),
            Tensor::ones([1, 1], &device),
        );
        let mut a_padded = a.clone();
        a_padded.extend([9.0, -9.0, 4.0]);
        let mut b_padded = b.clone();
        b_padded.extend([3.0, 3.0, 3.0, -1.0, 2.0, 8.0]);
        let padded = comparator.forward(
            tensor3(a_padded, [1, 3, 3], &device),
            Tensor::from_data(TensorData::new(vec![1.0f32, 1.0, 0.0], [1, 3]), &device),
            tensor3(b_padded, [1, 3, 3], &device),
            Tensor::from_data(TensorData::new(vec![1.0f32, 0.0, 0.0], [1, 3]), &device),
        );
        let plain: Vec<f32> = plain.into_data().try_into_vec().unwrap();
        let padded: Vec<f32> = padded.into_data().try_into_vec().unwrap();
        assert_eq!(plain.len(), ALIGN_WIDTH);
        for (x, y) in plain.iter().zip(&padded) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
    }

    #[test]
    fn a_single_token_side_aligns_to_itself() {
        // With one hypothesis token every premise token's counterpart is that token, so the
        // premise side's comparison equals a brute-force computation of the same layers.
        let device = Device::flex();
        let comparator = crate::device::seeded_module(&device, 3, || Comparator::new(2, &device));
        let a = vec![1.0, 2.0, -1.0, 0.5];
        let b = vec![0.25, -0.75];
        let out = comparator.forward(
            tensor3(a.clone(), [1, 2, 2], &device),
            Tensor::ones([1, 2], &device),
            tensor3(b.clone(), [1, 1, 2], &device),
            Tensor::ones([1, 1], &device),
        );
        let linear = |layer: &Linear, x: &[f32]| -> Vec<f32> {
            let w: Vec<f32> = layer.weight.val().into_data().try_into_vec().unwrap();
            let bias: Vec<f32> = layer
                .bias
                .as_ref()
                .unwrap()
                .val()
                .into_data()
                .try_into_vec()
                .unwrap();
            let out = bias.len();
            (0..out)
                .map(|o| {
                    bias[o]
                        + x.iter()
                            .enumerate()
                            .map(|(i, v)| v * w[i * out + o])
                            .sum::<f32>()
                })
                .collect()
        };
        let relu = |v: Vec<f32>| v.into_iter().map(|x| x.max(0.0)).collect::<Vec<_>>();
        let feature = |x: &[f32], y: &[f32]| {
            let mut f = x.to_vec();
            f.extend_from_slice(y);
            f.extend(x.iter().zip(y).map(|(p, q)| p - q));
            f.extend(x.iter().zip(y).map(|(p, q)| p * q));
            relu(linear(&comparator.compare, &f))
        };
        let va: Vec<Vec<f32>> = [&a[0..2], &a[2..4]]
            .iter()
            .map(|t| feature(t, &b))
            .collect();
        let mean_max = |rows: &[Vec<f32>]| {
            let n = rows.len() as f32;
            let mean: Vec<f32> = (0..ALIGN_WIDTH)
                .map(|k| rows.iter().map(|r| r[k]).sum::<f32>() / n)
                .collect();
            let max: Vec<f32> = (0..ALIGN_WIDTH)
                .map(|k| rows.iter().map(|r| r[k]).fold(f32::MIN, f32::max))
                .collect();
            [mean, max].concat()
        };
        // The hypothesis token's counterpart: the premise tokens weighted by the softmax of
        // the attend layer's scores.
        let fa: Vec<Vec<f32>> = [&a[0..2], &a[2..4]]
            .iter()
            .map(|t| relu(linear(&comparator.attend, t)))
            .collect();
        let fb = relu(linear(&comparator.attend, &b));
        let scale = 1.0 / (ALIGN_WIDTH as f32).sqrt();
        let s: Vec<f32> = fa
            .iter()
            .map(|f| f.iter().zip(&fb).map(|(p, q)| p * q).sum::<f32>() * scale)
            .collect();
        let m = s[0].max(s[1]);
        let w: Vec<f32> = s.iter().map(|x| (x - m).exp()).collect();
        let z = w[0] + w[1];
        let aligned: Vec<f32> = (0..2)
            .map(|k| (w[0] * a[k] + w[1] * a[2 + k]) / z)
            .collect();
        let vb = vec![feature(&b, &aligned)];
        let expected = relu(linear(
            &comparator.aggregate,
            &[mean_max(&va), mean_max(&vb)].concat(),
        ));
        let out: Vec<f32> = out.into_data().try_into_vec().unwrap();
        for (x, y) in out.iter().zip(&expected) {
            assert!((x - y).abs() < 1e-4, "{x} vs {y}");
        }
    }
}
