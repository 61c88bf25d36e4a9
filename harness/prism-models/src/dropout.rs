//! Dropout masks drawn on the host from a seeded, counter-based ChaCha8 stream.
//!
//! burn's `Dropout` draws one `f32` per element from the device generator (a `u64` from
//! ChaCha12 and a float conversion) and then applies two tracked operations (multiply by the
//! 0/1 mask, multiply by `1 / keep`). On the CPU that was about a tenth of a MiniLM training
//! step (`just bench models`). Here one `u32` of ChaCha8 per element is compared with an
//! integer threshold, chunks are filled in parallel (each chunk seeks to its own word of the
//! stream, so the mask does not depend on the thread count), and the mask already holds
//! `0` or `1 / keep`: one tracked multiply. On accelerators a host mask would cost a
//! host-to-device copy per call, so there burn's own `Dropout` (the device generator) runs.
//!
//! Masks are reproducible: call `i` (from 0) of a stream seeded with `s` uses ChaCha8 seed `s`,
//! stream `i + 1`, whatever the batch, backend thread count or process; stream 0 is left to the
//! caller's other draws from the same seed (the trainer's shuffle).

use burn::nn::Dropout;
use burn::prelude::*;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Elements per independently seeded chunk of a mask (a multiple of 16, ChaCha's block).
const CHUNK: usize = 1 << 16;

/// The source of a model's dropout masks: a seed and a call counter shared by every layer
/// (clones share them), so that a training run's masks follow from its seed alone.
#[derive(Debug, Clone, Default)]
pub struct MaskStream {
    seed: Arc<AtomicU64>,
    calls: Arc<AtomicU64>,
    values: Arc<AtomicU64>,
}

impl MaskStream {
    /// Restarts the stream from `seed` (the trainer calls this with the run's seed).
    pub fn reseed(&self, seed: u64) {
        self.seed.store(seed, Ordering::SeqCst);
        self.calls.store(0, Ordering::SeqCst);
        self.values.store(0, Ordering::SeqCst);
    }

    /// Mask values drawn since the last [`Self::reseed`]: what the masks of a training step
    /// cost is measured from a real step, not counted by hand.
    pub fn values_drawn(&self) -> u64 {
        self.values.load(Ordering::SeqCst)
    }

    /// Applies `dropout` (its probability and its training flag) to `input`: unchanged outside
    /// training, with a host-drawn mask on burn's CPU backend, with burn's own layer elsewhere.
    pub fn apply<const D: usize>(&self, dropout: &Dropout, input: Tensor<D>) -> Tensor<D> {
        let device = input.device();
        if !dropout.training.is_enabled() || !device.is_autodiff() || dropout.prob == 0.0 {
            return input;
        }
        if device.clone().without_autodiff() != Device::flex() {
            return dropout.forward(input);
        }
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let n = input.shape().num_elements();
        self.values.fetch_add(n as u64, Ordering::SeqCst);
        let mask = keep_mask(
            self.seed.load(Ordering::SeqCst),
            call + 1,
            n,
            1.0 - dropout.prob,
        );
        let mask = Tensor::<D>::from_data(TensorData::new(mask, input.shape()), &device);
        input * mask
    }
}

/// `n` values, each `1 / keep` with probability `keep` and `0` otherwise, from ChaCha8 seeded
/// with `seed` on stream `stream`; element `i` uses the stream's `u32` word `i`.
pub fn keep_mask(seed: u64, stream: u64, n: usize, keep: f64) -> Vec<f32> {
    // Keep when the word is below keep × 2³²; keep < 1 so the threshold fits in a u64 compare.
    let threshold = (keep * 4_294_967_296.0).round() as u64;
    let scale = (1.0 / keep) as f32;
    let mut mask = vec![0f32; n];
    mask.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(chunk, out)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(stream);
            rng.set_word_pos((chunk * CHUNK) as u128);
            for value in out.iter_mut() {
                if u64::from(rng.next_u32()) < threshold {
                    *value = scale;
                }
            }
        });
    mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::DropoutConfig;

    #[test]
    fn mask_keeps_the_expected_fraction_with_the_inverted_scale() {
        let mask = keep_mask(7, 3, 200_000, 0.9);
        let kept = mask.iter().filter(|&&v| v != 0.0).count() as f64 / mask.len() as f64;
        assert!((kept - 0.9).abs() < 0.003, "kept fraction {kept}");
        assert!(
            mask.iter()
                .all(|&v| v == 0.0 || (v - 1.0 / 0.9).abs() < 1e-6)
        );
        // The mean is 1, so dropout does not change activations in expectation.
        let mean = mask.iter().map(|&v| f64::from(v)).sum::<f64>() / mask.len() as f64;
        assert!((mean - 1.0).abs() < 0.004, "mean {mean}");
    }

    #[test]
    fn mask_depends_on_seed_and_stream_only() {
        let a = keep_mask(1, 0, CHUNK * 3 + 5, 0.5);
        assert_eq!(a, keep_mask(1, 0, CHUNK * 3 + 5, 0.5));
        // A shorter mask is a prefix of the longer one: chunks seek, they do not reseed.
        assert_eq!(&a[..CHUNK + 9], &keep_mask(1, 0, CHUNK + 9, 0.5)[..]);
        assert_ne!(a, keep_mask(1, 1, CHUNK * 3 + 5, 0.5));
        assert_ne!(a, keep_mask(2, 0, CHUNK * 3 + 5, 0.5));
        // Element i is word i of the stream, as a sequential generator would give it.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        rng.set_stream(0);
        let sequential: Vec<f32> = (0..a.len())
            .map(|_| {
                if u64::from(rng.next_u32()) < (0.5f64 * 4_294_967_296.0) as u64 {
                    2.0
                } else {
                    0.0
                }
            })
            .collect();
        assert_eq!(a, sequential);
    }

    #[test]
    fn stream_is_identity_outside_training_and_reproducible_inside() {
        let dropout = DropoutConfig::new(0.25).init();
        let plain = Device::flex();
        let x = Tensor::<2>::ones([64, 32], &plain);
        let stream = MaskStream::default();
        // No autodiff device: evaluation, nothing dropped.
        let same = stream.apply(&dropout, x.clone());
        assert_eq!(same.into_data(), x.clone().into_data());
        assert_eq!(stream.values_drawn(), 0, "evaluation draws no mask");

        let ad = plain.autodiff();
        let x = Tensor::<2>::ones([64, 32], &ad);
        stream.reseed(11);
        let first = stream.apply(&dropout, x.clone()).into_data();
        let expected: Vec<f32> = keep_mask(11, 1, 64 * 32, 0.75);
        assert_eq!(first.try_to_vec::<f32>().unwrap(), expected);
        let second = stream.apply(&dropout, x.clone()).into_data();
        assert_ne!(first, second, "successive calls draw new masks");
        assert_eq!(stream.values_drawn(), 2 * 64 * 32);
        stream.reseed(11);
        assert_eq!(stream.values_drawn(), 0);
        assert_eq!(stream.apply(&dropout, x.clone()).into_data(), first);
        // A frozen layer does not drop.
        let frozen = dropout.freeze();
        assert_eq!(stream.apply(&frozen, x.clone()).into_data(), x.into_data());
    }
}
