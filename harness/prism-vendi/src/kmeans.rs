//! Cosine k-means with seeded k-means++ initialisation.
//!
//! Used to cluster feature matrices (subset strategies, the "centroids" Vendi variant,
//! Prismatic Synthesis). Rows are expected to be L2-normalised; centroids are re-normalised
//! after every update (spherical k-means), so similarity is the dot product.

use crate::matrix::{Features, dot};
use rand::{Rng, SeedableRng};

/// A fitted clustering.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeans {
    /// `k × d` unit-norm centroids.
    pub centroids: Features,
    /// Cluster of each input row.
    pub assignment: Vec<usize>,
    /// Σ (1 − cos(x_i, centroid)) over rows: the cosine inertia.
    pub inertia: f64,
}

/// Clusters the rows of `x` into `k` clusters (k is clamped to [1, n]); deterministic in
/// `seed`: seeded k-means++ centres ([`kmeans_pp`]), then Lloyd iterations ([`lloyd`]).
pub fn cosine_kmeans(x: &Features, k: usize, seed: u64, max_iter: usize) -> KMeans {
    let chosen = kmeans_pp(x, k, seed);
    lloyd(x, x.select(&chosen), max_iter)
}

/// Seeded k-means++ on the cosine distance 1 − x·c: the rows chosen as the `k` initial centres
/// (k clamped to [1, n]), each drawn with probability proportional to its distance to the
/// nearest centre so far. Unlike the first k rows, it does not depend on the pool's order.
pub fn kmeans_pp(x: &Features, k: usize, seed: u64) -> Vec<usize> {
    let n = x.n();
    assert!(n > 0, "k-means needs at least one row");
    let k = k.clamp(1, n);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut chosen = vec![rng.random_range(0..n)];
    let mut best = vec![f64::INFINITY; n];
    while chosen.len() < k {
        let last = x.row(*chosen.last().expect("non-empty"));
        for (i, b) in best.iter_mut().enumerate() {
            *b = b.min((1.0 - dot(x.row(i), last)).max(0.0));
        }
        let total: f64 = best.iter().sum();
        let next = if total <= 0.0 {
            // All remaining points coincide with a centre: take any unchosen row.
            (0..n).find(|i| !chosen.contains(i)).expect("k <= n")
        } else {
            let mut target = rng.random_range(0.0..total);
            let mut pick = n - 1;
            for (i, b) in best.iter().enumerate() {
                if target < *b {
                    pick = i;
                    break;
                }
                target -= b;
            }
            pick
        };
        chosen.push(next);
    }
    chosen
}

/// Spherical Lloyd iterations from `centroids` (`k × d`, unit rows): assign every row to its
/// most similar centre (ties to the lower index), move each centre to its members' normalised
/// mean (an empty cluster keeps its centre), until no assignment changes or `max_iter` rounds.
pub fn lloyd(x: &Features, mut centroids: Features, max_iter: usize) -> KMeans {
    let (n, d, k) = (x.n(), x.d(), centroids.n());
    assert_eq!(centroids.d(), d, "centres and rows differ in dimension");
    let mut assignment = vec![usize::MAX; n];
    for _ in 0..max_iter.max(1) {
        let changed = assign(x, &centroids, &mut assignment);
        let mut sums = vec![0f64; k * d];
        for (i, &c) in assignment.iter().enumerate() {
            for (s, v) in sums[c * d..(c + 1) * d].iter_mut().zip(x.row(i)) {
                *s += *v as f64;
            }
        }
        let mut data = Vec::with_capacity(k * d);
        for c in 0..k {
            let s = &sums[c * d..(c + 1) * d];
            let norm = s.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 {
                data.extend(s.iter().map(|v| (v / norm) as f32));
            } else {
                data.extend_from_slice(centroids.row(c));
            }
        }
        centroids = Features::new(data, k, d);
        if !changed {
            break;
        }
    }
    assign(x, &centroids, &mut assignment);
    let inertia = (0..n)
        .map(|i| 1.0 - dot(x.row(i), centroids.row(assignment[i])))
        .sum();
    KMeans {
        centroids,
        assignment,
        inertia,
    }
}

/// The most similar of `centroids` for every row of `x` (ties to the lower index): how new
/// points (e.g. generated candidates) are placed in a fitted clustering.
pub fn nearest_centroid(x: &Features, centroids: &Features) -> Vec<usize> {
    let mut assignment = vec![usize::MAX; x.n()];
    assign(x, centroids, &mut assignment);
    assignment
}

/// Like [`cosine_kmeans`], but fits the centroids on a seeded sample of at most `sample` rows
/// and then assigns every row: the cost of large pools stays bounded.
pub fn cosine_kmeans_sampled(
    x: &Features,
    k: usize,
    seed: u64,
    max_iter: usize,
    sample: usize,
) -> KMeans {
    if x.n() <= sample {
        return cosine_kmeans(x, k, seed, max_iter);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let rows = rand::seq::index::sample(&mut rng, x.n(), sample).into_vec();
    let fitted = cosine_kmeans(&x.select(&rows), k, seed, max_iter);
    let assignment = nearest_centroid(x, &fitted.centroids);
    let inertia = (0..x.n())
        .map(|i| 1.0 - dot(x.row(i), fitted.centroids.row(assignment[i])))
        .sum();
    KMeans {
        centroids: fitted.centroids,
        assignment,
        inertia,
    }
}

fn assign(x: &Features, centroids: &Features, assignment: &mut [usize]) -> bool {
    let mut changed = false;
    for (i, a) in assignment.iter_mut().enumerate() {
        let row = x.row(i);
        let mut best = (f64::NEG_INFINITY, 0);
        for c in 0..centroids.n() {
            let s = dot(row, centroids.row(c));
            if s > best.0 {
                best = (s, c);
            }
        }
        if *a != best.1 {
            *a = best.1;
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_obvious_clusters_and_is_seeded() {
        // Three tight bundles around the axes of R^3.
        let mut data = Vec::new();
        for axis in 0..3 {
            for j in 0..20 {
                let mut v = [0.05f32 * (j % 3) as f32; 3];
                v[axis] = 1.0;
                data.extend_from_slice(&v);
            }
        }
        let mut x = Features::new(data, 60, 3);
        x.l2_normalize();
        let a = cosine_kmeans(&x, 3, 7, 50);
        for bundle in 0..3 {
            let first = a.assignment[bundle * 20];
            assert!(
                a.assignment[bundle * 20..(bundle + 1) * 20]
                    .iter()
                    .all(|c| *c == first)
            );
        }
        let distinct: std::collections::HashSet<_> = a.assignment.iter().collect();
        assert_eq!(distinct.len(), 3);
        assert_eq!(a, cosine_kmeans(&x, 3, 7, 50));
        assert!(a.inertia < 0.1, "{}", a.inertia);
    }
}
