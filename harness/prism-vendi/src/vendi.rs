//! The Vendi score (Friedman and Dieng, 2023) of order q.
//!
//! For unit-norm rows `x_i`, the eigenvalues λ of `K/n` (`K_ij = x_i·x_j`) equal the non-zero
//! eigenvalues of the covariance `C = (1/n) Σ x_i x_iᵀ`. prism takes whichever matrix is
//! smaller: `C` (d × d) when n > d, so a million examples cost one d × d eigenproblem, and `K/n`
//! otherwise, so any n ≥ 1 works. The score is `exp(H_q(λ))` with the Rényi entropy
//! `H_q = log(Σ λ^q) / (1 − q)`, Shannon's `−Σ λ log λ` at q = 1, and `−log λ_max` at q = ∞.
//! Accumulation and eigenvalues are in f64 (faer).

use crate::matrix::Features;
use faer::{Mat, Side};

/// The order q of the Vendi score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Order {
    /// A finite order q > 0 (q = 1 is the default Shannon order).
    Finite(f64),
    /// q = ∞: `1 / λ_max`.
    Infinity,
}

impl Order {
    /// Parses `1`, `0.5`, `inf`.
    pub fn parse(text: &str) -> Result<Order, VendiError> {
        let t = text.trim().to_ascii_lowercase();
        if matches!(t.as_str(), "inf" | "infinity" | "∞") {
            return Ok(Order::Infinity);
        }
        match t.parse::<f64>() {
            Ok(q) if q.is_infinite() && q > 0.0 => Ok(Order::Infinity),
            Ok(q) if q > 0.0 && q.is_finite() => Ok(Order::Finite(q)),
            _ => Err(VendiError::BadOrder(text.to_string())),
        }
    }

    /// The order as a number (`f64::INFINITY` for ∞), for reports.
    pub fn value(self) -> f64 {
        match self {
            Order::Finite(q) => q,
            Order::Infinity => f64::INFINITY,
        }
    }
}

/// Why a Vendi score cannot be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum VendiError {
    /// q must be in (0, ∞].
    #[error("order q must be a number > 0 or `inf`, got `{0}`")]
    BadOrder(String),
    /// No rows, or all rows zero.
    #[error("the feature matrix has no non-zero rows")]
    Empty,
    /// A value is NaN or infinite.
    #[error("row {0} holds a NaN or infinite value")]
    NonFinite(usize),
    /// faer's eigensolver did not converge.
    #[error("the eigensolver did not converge")]
    Eigen,
}

/// A Vendi score with the shape it was computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VendiScore {
    /// The effective number of distinct examples, in [1, min(n, d)].
    pub vendi: f64,
    /// Number of rows.
    pub n: usize,
    /// Number of columns.
    pub d: usize,
    /// The order.
    pub q: Order,
}

/// The Vendi score of the rows of `features`.
///
/// With `normalize`, rows are scaled to unit norm first (cosine kernel; the G-Vendi
/// definition). Without it, the kernel is the raw inner product and the eigenvalues are divided
/// by their sum (the trace), so they still form a distribution.
pub fn vendi_score(
    features: &Features,
    q: Order,
    normalize: bool,
) -> Result<VendiScore, VendiError> {
    let eig = spectrum(features, normalize)?;
    Ok(VendiScore {
        vendi: vendi_from_eigenvalues(&eig, q),
        n: features.n(),
        d: features.d(),
        q,
    })
}

/// The "centroids" variant (method.md §1, an open reading of the released scorer): cluster the
/// unit-normalised rows with cosine k-means, k = ⌊n/10⌋ (at least 1), seeded k-means++ and 20
/// Lloyd rounds, then score the k centroids. Rows are always normalised here.
pub fn vendi_of_centroids(
    features: &Features,
    q: Order,
    seed: u64,
) -> Result<VendiScore, VendiError> {
    if features.n() == 0 {
        return Err(VendiError::Empty);
    }
    let mut unit = features.clone();
    unit.l2_normalize();
    let k = (features.n() / 10).max(1);
    let km = crate::kmeans::cosine_kmeans(&unit, k, seed, 20);
    let eig = spectrum(&km.centroids, true)?;
    Ok(VendiScore {
        vendi: vendi_from_eigenvalues(&eig, q),
        n: features.n(),
        d: features.d(),
        q,
    })
}

/// The eigenvalues λ (non-negative, summing to 1) of the normalised kernel of `features`.
pub fn spectrum(features: &Features, normalize: bool) -> Result<Vec<f64>, VendiError> {
    let (n, d) = (features.n(), features.d());
    let gram = if n > d {
        covariance(features, normalize)?
    } else {
        kernel(features, normalize)?
    };
    normalized_eigenvalues(&gram)
}

/// Eigenvalues of a symmetric PSD matrix (lower triangle read), clamped at 0 and divided by
/// their sum, so they form a distribution.
fn normalized_eigenvalues(gram: &Mat<f64>) -> Result<Vec<f64>, VendiError> {
    let mut eig = gram
        .self_adjoint_eigenvalues(Side::Lower)
        .map_err(|_| VendiError::Eigen)?;
    let trace: f64 = eig.iter().map(|v| v.max(0.0)).sum();
    if trace <= 0.0 {
        return Err(VendiError::Empty);
    }
    for v in &mut eig {
        *v = v.max(0.0) / trace;
    }
    Ok(eig)
}

/// The Vendi score of a given n × n positive semi-definite kernel (row-major), e.g. the cosine
/// kernel of vectors too long to store as features: eigenvalues of K / trace(K).
pub fn vendi_of_kernel(kernel: &[f64], n: usize, q: Order) -> Result<f64, VendiError> {
    if n == 0 || kernel.len() != n * n {
        return Err(VendiError::Empty);
    }
    if let Some(i) = kernel.iter().position(|v| !v.is_finite()) {
        return Err(VendiError::NonFinite(i / n));
    }
    let k = Mat::<f64>::from_fn(n, n, |i, j| kernel[i * n + j]);
    Ok(vendi_from_eigenvalues(&normalized_eigenvalues(&k)?, q))
}

/// Rows `range` of `features` as f64 into `out` (resized), scaled to unit norm if `normalize`;
/// zero rows are dropped (they carry no mass). Rows are converted in parallel. Returns how many
/// rows were kept.
fn rows_f64(
    features: &Features,
    range: std::ops::Range<usize>,
    normalize: bool,
    out: &mut Vec<f64>,
) -> Result<usize, VendiError> {
    use rayon::prelude::*;
    let d = features.d().max(1);
    let start = range.start;
    out.resize(range.len() * d, 0.0);
    // Convert every row in place; a zero row is marked by a NaN in its first slot.
    out.par_chunks_mut(d).enumerate().try_for_each(|(k, dst)| {
        let row = features.row(start + k);
        let mut sq = 0.0f64;
        for (o, v) in dst.iter_mut().zip(row) {
            let x = *v as f64;
            sq += x * x;
            *o = x;
        }
        if !sq.is_finite() {
            return Err(VendiError::NonFinite(start + k));
        }
        if sq == 0.0 {
            dst[0] = f64::NAN;
        } else if normalize {
            let inv = 1.0 / sq.sqrt();
            dst.iter_mut().for_each(|o| *o *= inv);
        }
        Ok(())
    })?;
    // Compact away the zero rows (rare), keeping order.
    let mut kept = 0;
    for k in 0..range.len() {
        if out[k * d].is_nan() {
            continue;
        }
        if kept != k {
            out.copy_within(k * d..(k + 1) * d, kept * d);
        }
        kept += 1;
    }
    out.truncate(kept * d);
    Ok(kept)
}

/// Rows converted per block of the covariance accumulation: bounds the f64 copy to
/// `BLOCK × d` values whatever n is.
const BLOCK: usize = 4096;

/// Σ x_i x_iᵀ (d × d), accumulated in f64 block by block with faer's GEMM. Only the lower
/// triangle is computed (a symmetric rank-k update, half the work); the eigensolver reads only
/// that triangle.
fn covariance(features: &Features, normalize: bool) -> Result<Mat<f64>, VendiError> {
    let (n, d) = (features.n(), features.d());
    let mut c = Mat::<f64>::zeros(d, d);
    let mut buffer = Vec::with_capacity(BLOCK.min(n) * d);
    let mut start = 0;
    while start < n {
        let end = (start + BLOCK).min(n);
        let kept = rows_f64(features, start..end, normalize, &mut buffer)?;
        if kept > 0 {
            let x = faer::MatRef::from_row_major_slice(&buffer, kept, d);
            use faer::linalg::matmul::triangular::{BlockStructure, matmul};
            matmul(
                c.as_mut(),
                BlockStructure::TriangularLower,
                faer::Accum::Add,
                x.transpose(),
                BlockStructure::Rectangular,
                x,
                BlockStructure::Rectangular,
                1.0,
                faer::get_global_parallelism(),
            );
        }
        start = end;
    }
    Ok(c)
}

/// The kernel X Xᵀ of the non-zero rows of `features` (cosine if `normalize`), row-major,
/// with the number of rows kept: the input of [`vendi_of_kernel`] and of
/// [`crate::projection_noise`] when the vectors are at hand.
pub fn kernel_matrix(
    features: &Features,
    normalize: bool,
) -> Result<(Vec<f64>, usize), VendiError> {
    let k = kernel(features, normalize)?;
    let n = k.nrows();
    Ok(((0..n * n).map(|ij| k[(ij / n, ij % n)]).collect(), n))
}

/// The n × n kernel X Xᵀ of the non-zero rows.
fn kernel(features: &Features, normalize: bool) -> Result<Mat<f64>, VendiError> {
    let mut rows = Vec::new();
    let kept = rows_f64(features, 0..features.n(), normalize, &mut rows)?;
    if kept == 0 {
        return Err(VendiError::Empty);
    }
    let x = faer::MatRef::from_row_major_slice(&rows, kept, features.d());
    Ok(x * x.transpose())
}

/// `exp(H_q(λ))` of a distribution of eigenvalues (zeros are ignored).
pub fn vendi_from_eigenvalues(eigenvalues: &[f64], q: Order) -> f64 {
    let positive = eigenvalues.iter().copied().filter(|v| *v > 0.0);
    match q {
        Order::Infinity => 1.0 / positive.fold(0.0, f64::max),
        Order::Finite(q) if (q - 1.0).abs() < 1e-12 => {
            let h: f64 = positive.map(|l| -l * l.ln()).sum();
            h.exp()
        }
        Order::Finite(q) => {
            let s: f64 = positive.map(|l| l.powf(q)).sum();
            (s.ln() / (1.0 - q)).exp()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random(n: usize, d: usize, seed: u64) -> Features {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        Features::new(
            (0..n * d).map(|_| rng.random_range(-1.0f32..1.0)).collect(),
            n,
            d,
        )
    }

    /// Independent reference: the n × n kernel built entry by entry, eigenvalues by faer on
    /// that matrix, entropy written out.
    fn brute_force(f: &Features, q: Order) -> f64 {
        let n = f.n();
        let norms: Vec<f64> = (0..n)
            .map(|i| crate::matrix::dot(f.row(i), f.row(i)).sqrt())
            .collect();
        let k = Mat::<f64>::from_fn(n, n, |i, j| {
            crate::matrix::dot(f.row(i), f.row(j)) / (norms[i] * norms[j]) / n as f64
        });
        let eig = k.self_adjoint_eigenvalues(Side::Lower).unwrap();
        let eig: Vec<f64> = eig.into_iter().filter(|v| *v > 1e-15).collect();
        match q {
            Order::Infinity => 1.0 / eig.iter().cloned().fold(0.0, f64::max),
            Order::Finite(1.0) => (-eig.iter().map(|l| l * l.ln()).sum::<f64>()).exp(),
            Order::Finite(q) => (eig.iter().map(|l| l.powf(q)).sum::<f64>().ln() / (1.0 - q)).exp(),
        }
    }

    #[test]
    fn covariance_path_matches_brute_force_kernel() {
        for (n, d, seed) in [(200, 16, 1), (40, 64, 2), (65, 64, 3)] {
            let f = random(n, d, seed);
            for q in [
                Order::Finite(0.5),
                Order::Finite(1.0),
                Order::Finite(2.0),
                Order::Infinity,
            ] {
                let ours = vendi_score(&f, q, true).unwrap().vendi;
                let reference = brute_force(&f, q);
                let rel = (ours - reference).abs() / reference;
                assert!(
                    rel <= 1e-9,
                    "n={n} d={d} q={q:?}: {ours} vs {reference} (rel {rel:e})"
                );
            }
        }
    }

    #[test]
    fn known_values() {
        // n identical vectors → 1.
        let same = Features::new([0.3f32, -1.0, 2.0].repeat(50), 50, 3);
        assert!((vendi_score(&same, Order::Finite(1.0), true).unwrap().vendi - 1.0).abs() < 1e-9);
        // n orthonormal vectors → n, for every order.
        let n = 8;
        let mut eye = vec![0f32; n * n];
        for i in 0..n {
            eye[i * n + i] = 1.0;
        }
        let eye = Features::new(eye, n, n);
        for q in [
            Order::Finite(0.1),
            Order::Finite(1.0),
            Order::Finite(3.0),
            Order::Infinity,
        ] {
            assert!((vendi_score(&eye, q, true).unwrap().vendi - n as f64).abs() < 1e-9);
        }
        // q = ∞ is 1/λ_max: two copies of e1 and one e2 give λ = (2/3, 1/3).
        let f = Features::new(vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0], 3, 2);
        assert!((vendi_score(&f, Order::Infinity, true).unwrap().vendi - 1.5).abs() < 1e-12);
        // One example is a valid input.
        let one = Features::new(vec![1.0, 2.0], 1, 2);
        assert!((vendi_score(&one, Order::Finite(1.0), true).unwrap().vendi - 1.0).abs() < 1e-12);
    }

    #[test]
    fn centroids_variant_scores_the_cluster_centres() {
        // 40 rows in 4 tight bundles: k = 4 centroids ≈ the 4 orthogonal axes → Vendi ≈ 4.
        let mut data = Vec::new();
        for i in 0..40 {
            let mut v = [0.01f32 * (i % 3) as f32; 4];
            v[i % 4] = 1.0;
            data.extend_from_slice(&v);
        }
        let f = Features::new(data, 40, 4);
        let v = vendi_of_centroids(&f, Order::Finite(1.0), 0).unwrap().vendi;
        assert!((v - 4.0).abs() < 0.01, "{v}");
        // Fewer than 10 rows: one centroid, Vendi 1.
        let small = Features::new(vec![1.0, 0.0, 0.0, 1.0], 2, 2);
        assert!(
            (vendi_of_centroids(&small, Order::Finite(1.0), 0)
                .unwrap()
                .vendi
                - 1.0)
                .abs()
                < 1e-12
        );
    }

    #[test]
    fn orders_are_monotone_and_errors_are_typed() {
        let f = random(100, 8, 4);
        let v = |q| vendi_score(&f, q, true).unwrap().vendi;
        assert!(v(Order::Finite(0.5)) >= v(Order::Finite(1.0)));
        assert!(v(Order::Finite(1.0)) >= v(Order::Finite(2.0)));
        assert!(v(Order::Finite(2.0)) >= v(Order::Infinity));
        assert_eq!(Order::parse("inf").unwrap(), Order::Infinity);
        assert!(
            Order::parse("0").is_err() && Order::parse("-1").is_err() && Order::parse("x").is_err()
        );
        let zeros = Features::new(vec![0.0; 6], 3, 2);
        assert_eq!(
            vendi_score(&zeros, Order::Finite(1.0), true),
            Err(VendiError::Empty)
        );
        let nan = Features::new(vec![1.0, f32::NAN], 1, 2);
        assert_eq!(
            vendi_score(&nan, Order::Finite(1.0), true),
            Err(VendiError::NonFinite(0))
        );
    }

    #[test]
    fn a_given_cosine_kernel_scores_like_its_vectors() {
        let (n, d) = (12, 5);
        let data: Vec<f32> = (0..n * d)
            .map(|i| ((i * 7919 % 97) as f32 - 48.0) / 48.0)
            .collect();
        let f = Features::new(data, n, d);
        let want = vendi_score(&f, Order::Finite(1.0), true).unwrap().vendi;
        let mut unit = f.clone();
        unit.l2_normalize();
        let kernel: Vec<f64> = (0..n * n)
            .map(|ij| crate::matrix::dot(unit.row(ij / n), unit.row(ij % n)))
            .collect();
        let got = vendi_of_kernel(&kernel, n, Order::Finite(1.0)).unwrap();
        assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
        assert!(vendi_of_kernel(&[1.0; 4], 2, Order::Finite(1.0)).unwrap() - 1.0 < 1e-12);
    }
}
