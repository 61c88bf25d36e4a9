//! The paper-exact projection: `ĝ = P g / √d` with `P` a `d × N` Rademacher matrix over the flat
//! gradient of all N parameters. `P` is never stored: each block of 256 columns is regenerated
//! from the seed, used for every gradient of a block of examples at once (one small GEMM), and
//! dropped, so the generation cost is shared by the whole block of gradients.

use crate::signs::SignMatrix;
use rayon::prelude::*;

/// Stream id of the dense projection's sign matrix.
const DENSE_STREAM: u64 = u64::MAX;
/// Columns generated and multiplied at a time (a multiple of 64).
const COLUMNS: usize = 256;

/// A seeded `d × N` Rademacher projection scaled by `1/√d`.
#[derive(Debug, Clone, Copy)]
pub struct DenseProjector {
    signs: SignMatrix,
    dim: usize,
}

impl DenseProjector {
    /// The projection to `dim` dimensions under `seed`.
    pub fn new(seed: u64, dim: usize) -> Self {
        Self {
            signs: SignMatrix::new(seed, DENSE_STREAM),
            dim,
        }
    }

    /// Output dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// `P g / √d` for each gradient (all of the same length N).
    pub fn project(&self, grads: &[&[f32]]) -> Vec<Vec<f32>> {
        let m = grads.len();
        if m == 0 {
            return Vec::new();
        }
        let n = grads[0].len();
        assert!(
            grads.iter().all(|g| g.len() == n),
            "gradients differ in length"
        );
        let d = self.dim;
        let chunks = n.div_ceil(COLUMNS);
        let tasks = (rayon::current_num_threads() * 4).clamp(1, chunks.max(1));
        let partials: Vec<Vec<f32>> = (0..tasks)
            .into_par_iter()
            .map(|task| {
                let (lo, hi) = (chunks * task / tasks, chunks * (task + 1) / tasks);
                let mut signs = vec![0f32; d * COLUMNS];
                let mut a = vec![0f32; m * COLUMNS];
                let mut acc = vec![0f32; m * d];
                for chunk in lo..hi {
                    let start = chunk * COLUMNS;
                    let width = COLUMNS.min(n - start);
                    let signs = &mut signs[..d * width];
                    self.signs.fill(d, start, signs);
                    for (row, g) in a.chunks_exact_mut(width).zip(grads) {
                        row.copy_from_slice(&g[start..start + width]);
                    }
                    // acc (m × d) += a (m × width) · signsᵀ (width × d).
                    // SAFETY: the strides describe the buffers' row-major layouts exactly.
                    unsafe {
                        matrixmultiply::sgemm(
                            m,
                            width,
                            d,
                            1.0,
                            a.as_ptr(),
                            width as isize,
                            1,
                            signs.as_ptr(),
                            1,
                            width as isize,
                            1.0,
                            acc.as_mut_ptr(),
                            d as isize,
                            1,
                        );
                    }
                }
                acc
            })
            .collect();
        let scale = 1.0 / (d as f64).sqrt();
        (0..m)
            .map(|i| {
                (0..d)
                    .map(|j| {
                        let s: f64 = partials.iter().map(|p| f64::from(p[i * d + j])).sum();
                        (s * scale) as f32
                    })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_explicit_matrix_product() {
        let (n, d) = (1000, 48);
        let g: Vec<f32> = (0..n)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
            .collect();
        let h: Vec<f32> = (0..n)
            .map(|i| ((i * 11 % 53) as f32 - 26.0) / 26.0)
            .collect();
        let proj = DenseProjector::new(5, d);
        let got = proj.project(&[&g, &h]);
        let p = SignMatrix::new(5, DENSE_STREAM).dense(d, n);
        for (x, out) in [&g, &h].into_iter().zip(&got) {
            for j in 0..d {
                let want: f64 = (0..n)
                    .map(|i| p[j * n + i] as f64 * x[i] as f64)
                    .sum::<f64>()
                    / (d as f64).sqrt();
                assert!((out[j] as f64 - want).abs() < 1e-4, "{} vs {want}", out[j]);
            }
        }
    }

    #[test]
    fn preserves_inner_products_within_johnson_lindenstrauss_tolerance() {
        // 20 random unit vectors in 5,000 dimensions, projected to 1,024: every pairwise
        // cosine moves by well under 4/√d (the JL scale is ≈ 1/√d ≈ 0.031).
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let (n, d, m) = (5000, 1024, 20);
        let xs: Vec<Vec<f32>> = (0..m)
            .map(|_| {
                let v: Vec<f32> = (0..n).map(|_| rng.random::<f32>() - 0.5).collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.into_iter().map(|x| x / norm).collect()
            })
            .collect();
        let refs: Vec<&[f32]> = xs.iter().map(Vec::as_slice).collect();
        let ys = DenseProjector::new(0, d).project(&refs);
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x * y) as f64).sum::<f64>();
        let mut worst = 0f64;
        for i in 0..m {
            for j in 0..m {
                worst = worst.max((dot(&xs[i], &xs[j]) - dot(&ys[i], &ys[j])).abs());
            }
        }
        assert!(
            worst < 4.0 / (d as f64).sqrt(),
            "worst inner-product error {worst}"
        );
    }
}
