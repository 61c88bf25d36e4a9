//! How far a Vendi score moves when its vectors are randomly projected: the
//! Johnson–Lindenstrauss noise floor against which the `dense` G-Vendi (a Rademacher projection
//! of the flat gradient to d dimensions) is judged.
//!
//! The flat gradients are far too long to project many times over, but their projections need
//! not be drawn from them. Each row r of a Rademacher matrix gives the n numbers (r·g_1, …,
//! r·g_n): sums over D ≈ 10⁸ independent signs, so by the multivariate central limit theorem they
//! are jointly Gaussian with covariance G, the Gram matrix of the gradients (the fourth-moment
//! correction, −2 Σ_k g_ik² g_jk² per entry, vanishes when no coordinate dominates). The d rows
//! are independent, so the projected vectors are the columns of Z Lᵀ with Z a d × n standard
//! normal matrix and L Lᵀ = G. Cosine normalisation makes the gradients' norms irrelevant, so the
//! exact cosine kernel K serves as G. One trial costs O(d n²), so thousands of projections of
//! the exact kernel of a few dozen examples take well under a second.

use crate::vendi::{Order, VendiError, vendi_of_kernel};
use faer::{Mat, Side};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

/// The distribution of the Vendi score of `n` vectors after a random projection to `dim`
/// dimensions (and renormalisation), from `trials` simulated projections.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionNoise {
    /// The Vendi score of the given kernel itself (no projection).
    pub exact: f64,
    /// Projected dimension.
    pub dim: usize,
    /// Number of simulated projections.
    pub trials: usize,
    /// Mean of the projected scores.
    pub mean: f64,
    /// Their standard deviation.
    pub sd: f64,
    /// Their 2.5% and 97.5% quantiles: a projected score outside this interval is not explained
    /// by projection noise alone.
    pub interval: (f64, f64),
    /// Mean absolute relative error against `exact`.
    pub mean_abs_rel_err: f64,
}

impl ProjectionNoise {
    /// The relative error of `value` against the exact score.
    pub fn rel_err(&self, value: f64) -> f64 {
        (value - self.exact) / self.exact
    }

    /// Whether `value` lies inside the central 95% of projected scores.
    pub fn explains(&self, value: f64) -> bool {
        value >= self.interval.0 && value <= self.interval.1
    }
}

/// Simulates `trials` Gaussian random projections to `dim` dimensions of vectors whose cosine
/// kernel is `kernel` (n × n, row-major, positive semi-definite), and returns the distribution of
/// their Vendi score of order `q`. Seeded: the same arguments give the same result.
pub fn projection_noise(
    kernel: &[f64],
    n: usize,
    dim: usize,
    trials: usize,
    seed: u64,
    q: Order,
) -> Result<ProjectionNoise, VendiError> {
    if n == 0 || dim == 0 || trials == 0 {
        return Err(VendiError::Empty);
    }
    let exact = vendi_of_kernel(kernel, n, q)?;
    let factor = psd_factor(kernel, n)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut scores = Vec::with_capacity(trials);
    for _ in 0..trials {
        let z = Mat::<f64>::from_fn(dim, n, |_, _| rng.sample(StandardNormal));
        let projected = &z * factor.transpose();
        let gram = projected.transpose() * &projected;
        let cosine: Vec<f64> = (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                gram[(i, j)] / (gram[(i, i)] * gram[(j, j)]).sqrt()
            })
            .collect();
        scores.push(vendi_of_kernel(&cosine, n, q)?);
    }
    let mean = scores.iter().sum::<f64>() / trials as f64;
    let sd = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (trials.max(2) - 1) as f64)
        .sqrt();
    let mean_abs_rel_err = scores
        .iter()
        .map(|s| (s - exact).abs() / exact)
        .sum::<f64>()
        / trials as f64;
    scores.sort_by(f64::total_cmp);
    let quantile = |p: f64| scores[((p * (trials - 1) as f64).round() as usize).min(trials - 1)];
    Ok(ProjectionNoise {
        exact,
        dim,
        trials,
        mean,
        sd,
        interval: (quantile(0.025), quantile(0.975)),
        mean_abs_rel_err,
    })
}

/// L with L Lᵀ = K, from the eigendecomposition (negative round-off eigenvalues clamped to 0),
/// so rank-deficient kernels (repeated vectors) work too.
fn psd_factor(kernel: &[f64], n: usize) -> Result<Mat<f64>, VendiError> {
    if kernel.len() != n * n {
        return Err(VendiError::Empty);
    }
    let k = Mat::<f64>::from_fn(n, n, |i, j| kernel[i * n + j]);
    let eig = k
        .self_adjoint_eigen(Side::Lower)
        .map_err(|_| VendiError::Eigen)?;
    let (u, s) = (eig.U(), eig.S());
    Ok(Mat::from_fn(n, n, |i, j| u[(i, j)] * s[j].max(0.0).sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;

    /// Cosine kernel of the rows of `x` (n × dim, row-major).
    fn cosine_kernel(x: &[f64], n: usize, dim: usize) -> Vec<f64> {
        let norm: Vec<f64> = (0..n)
            .map(|i| {
                x[i * dim..(i + 1) * dim]
                    .iter()
                    .map(|v| v * v)
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        let mut k = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                let dot: f64 = (0..dim).map(|c| x[i * dim + c] * x[j * dim + c]).sum();
                k[i * n + j] = dot / (norm[i] * norm[j]);
            }
        }
        k
    }

    /// Correlated vectors: a shared component plus noise, so the kernel is far from I and 11ᵀ.
    fn correlated_vectors(n: usize, big_d: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let shared: Vec<f64> = (0..big_d).map(|_| rng.random_range(-1.0..1.0)).collect();
        (0..n * big_d)
            .map(|k| {
                0.8 * shared[k % big_d]
                    + rng.random_range(-1.0..1.0) * (1 + k / big_d) as f64 / n as f64
            })
            .collect()
    }

    /// The simulation against brute force: explicit ±1/√d projections of explicit vectors, the
    /// very operation `dense` mode performs, repeated; mean and spread must agree.
    #[test]
    fn matches_explicit_rademacher_projections() {
        let (n, big_d, dim, trials) = (8, 2000, 64, 300);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let x = correlated_vectors(n, big_d, &mut rng);
        let kernel = cosine_kernel(&x, n, big_d);
        let simulated = projection_noise(&kernel, n, dim, 2000, 1, Order::Finite(1.0)).unwrap();

        let mut explicit = Vec::with_capacity(trials);
        let mut projected = vec![0.0; n * dim];
        for _ in 0..trials {
            projected.iter_mut().for_each(|v| *v = 0.0);
            for r in 0..dim {
                let mut bits = 0u64;
                for c in 0..big_d {
                    if c % 64 == 0 {
                        bits = rng.random::<u64>();
                    }
                    let sign = if (bits >> (c % 64)) & 1 == 1 {
                        1.0
                    } else {
                        -1.0
                    };
                    for i in 0..n {
                        projected[i * dim + r] += sign * x[i * big_d + c];
                    }
                }
            }
            let k = cosine_kernel(&projected, n, dim);
            explicit.push(vendi_of_kernel(&k, n, Order::Finite(1.0)).unwrap());
        }
        let mean = explicit.iter().sum::<f64>() / trials as f64;
        let sd =
            (explicit.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (trials - 1) as f64).sqrt();
        // Standard errors: sd/√300 ≈ 6% of sd for the mean, ≈ 4% of sd for the sd.
        assert!(
            (mean - simulated.mean).abs() < 0.25 * sd,
            "mean: explicit {mean}, simulated {}",
            simulated.mean
        );
        assert!(
            (sd / simulated.sd - 1.0).abs() < 0.2,
            "sd: explicit {sd}, simulated {}",
            simulated.sd
        );
        // The projection's noise is real at this dim, and it is what is being compared.
        assert!(simulated.sd > 0.01 * simulated.exact);
    }

    #[test]
    fn noise_shrinks_with_the_dimension() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (n, big_d) = (12, 400);
        let x = correlated_vectors(n, big_d, &mut rng);
        let kernel = cosine_kernel(&x, n, big_d);
        let small = projection_noise(&kernel, n, 64, 400, 0, Order::Finite(1.0)).unwrap();
        let large = projection_noise(&kernel, n, 4096, 400, 0, Order::Finite(1.0)).unwrap();
        // Relative error scales like 1/√dim: 8× less at 64× the dimension.
        assert!(large.sd < small.sd / 4.0, "{} vs {}", large.sd, small.sd);
        assert!(large.mean_abs_rel_err < 0.02, "{large:?} {small:?}");
        assert!((large.mean - large.exact).abs() < 0.01 * large.exact);
        assert!(large.explains(large.mean) && small.explains(small.mean));
    }

    #[test]
    fn identical_vectors_stay_identical_and_seeds_reproduce() {
        let n = 5;
        let ones = vec![1.0; n * n];
        let r = projection_noise(&ones, n, 16, 50, 0, Order::Finite(1.0)).unwrap();
        assert!((r.exact - 1.0).abs() < 1e-9 && (r.mean - 1.0).abs() < 1e-9 && r.sd < 1e-9);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x = correlated_vectors(4, 50, &mut rng);
        let k = cosine_kernel(&x, 4, 50);
        let a = projection_noise(&k, 4, 32, 20, 9, Order::Infinity).unwrap();
        let b = projection_noise(&k, 4, 32, 20, 9, Order::Infinity).unwrap();
        assert_eq!(a, b);
        assert!(projection_noise(&k, 4, 0, 20, 9, Order::Infinity).is_err());
    }
}
