//! Where the pool's gradient space is sparse: cosine k-means over the pool's unit gradient
//! features, and the rule that calls the smaller half of the clusters sparse.
//!
//! The paper keeps a generated example when it lands in one of "the smallest k/2 clusters".
//! The released code keeps it when its cluster's size is strictly below the median size; with
//! many tied sizes that keeps far fewer than half, and when the median equals the minimum it
//! keeps everything. Here the clusters are ranked by size with a seeded tie-break, so exactly
//! ⌊k/2⌋ of them are sparse whatever the ties, and a candidate is never kept by default.

use crate::SynthError;
use prism_vendi::kmeans::cosine_kmeans_sampled;
use prism_vendi::{Features, KMeans, nearest_centroid};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// How the pool is clustered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Clusters as a fraction of the pool: 0.01 as the paper states, 0.1 as the released code
    /// uses. At least 2 clusters are made whatever the fraction.
    #[serde(default = "ClusterConfig::default_fraction")]
    pub fraction: f64,
    /// Lloyd iterations at most (the released code runs 20).
    #[serde(default = "ClusterConfig::default_max_iter")]
    pub max_iter: usize,
    /// Rows the centres are fitted on at most (every row is then assigned); bounds the cost on
    /// large pools.
    #[serde(default = "ClusterConfig::default_fit_sample")]
    pub fit_sample: usize,
    /// Seed of the k-means++ centres and of the sparse rule's tie-break.
    #[serde(default)]
    pub seed: u64,
}

impl ClusterConfig {
    fn default_fraction() -> f64 {
        0.01
    }
    fn default_max_iter() -> usize {
        20
    }
    fn default_fit_sample() -> usize {
        50_000
    }

    /// The number of clusters for a pool of `n`: `round(fraction · n)`, at least 2, at most n.
    pub fn clusters_for(&self, n: usize) -> usize {
        ((self.fraction * n as f64).round() as usize).max(2).min(n)
    }
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            fraction: Self::default_fraction(),
            max_iter: Self::default_max_iter(),
            fit_sample: Self::default_fit_sample(),
            seed: 0,
        }
    }
}

/// Which of the clusters with these `sizes` are sparse: the ⌊k/2⌋ smallest, ties between equal
/// sizes broken by a seeded shuffle (so the rule never depends on cluster numbering and
/// exactly half are sparse however many sizes tie). Fewer than two clusters is an error: a
/// single cluster has no smaller half.
pub fn sparse_clusters(sizes: &[usize], seed: u64) -> Result<Vec<bool>, SynthError> {
    if sizes.len() < 2 {
        return Err(SynthError::TooFewClusters(sizes.len()));
    }
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    // A stable sort by size keeps the shuffled order among ties.
    order.sort_by_key(|&c| sizes[c]);
    let mut sparse = vec![false; sizes.len()];
    for &c in order.iter().take(sizes.len() / 2) {
        sparse[c] = true;
    }
    Ok(sparse)
}

/// The pool's clustering and which clusters are sparse: what a round of the loop filters
/// candidates against.
#[derive(Debug, Clone)]
pub struct PoolClusters {
    /// The fitted k-means (unit centres, each pool row's cluster).
    pub kmeans: KMeans,
    /// Pool rows per cluster.
    pub sizes: Vec<usize>,
    /// Whether each cluster is sparse ([`sparse_clusters`]).
    pub sparse: Vec<bool>,
}

impl PoolClusters {
    /// Clusters the pool's unit gradient features as `config` says.
    pub fn fit(pool: &Features, config: &ClusterConfig) -> Result<Self, SynthError> {
        if pool.n() < 2 {
            return Err(SynthError::TooFewClusters(pool.n()));
        }
        let k = config.clusters_for(pool.n());
        let kmeans =
            cosine_kmeans_sampled(pool, k, config.seed, config.max_iter, config.fit_sample);
        let mut sizes = vec![0; kmeans.centroids.n()];
        for &c in &kmeans.assignment {
            sizes[c] += 1;
        }
        let sparse = sparse_clusters(&sizes, config.seed)?;
        Ok(Self {
            kmeans,
            sizes,
            sparse,
        })
    }

    /// Each candidate's nearest pool centre (its cluster), from its unit gradient features.
    pub fn place(&self, candidates: &Features) -> Vec<usize> {
        nearest_centroid(candidates, &self.kmeans.centroids)
    }

    /// Number of clusters.
    pub fn k(&self) -> usize {
        self.sizes.len()
    }

    /// Pool rows in the sparse clusters.
    pub fn rows_in_sparse(&self) -> usize {
        self.sizes
            .iter()
            .zip(&self.sparse)
            .filter(|(_, s)| **s)
            .map(|(n, _)| n)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_half_are_sparse_whatever_the_ties() {
        let cases: [&[usize]; 6] = [
            &[5, 5, 5, 5],
            &[1, 1, 1, 9, 9, 9],
            &[3, 1, 2],
            &[2, 2, 2, 2, 2, 2, 2, 10],
            &[7, 7],
            &[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3],
        ];
        for sizes in cases {
            for seed in 0..16 {
                let sparse = sparse_clusters(sizes, seed).unwrap();
                assert_eq!(
                    sparse.iter().filter(|s| **s).count(),
                    sizes.len() / 2,
                    "{sizes:?} seed {seed}"
                );
                // No dense cluster is smaller than a sparse one.
                let max_sparse = (0..sizes.len())
                    .filter(|&c| sparse[c])
                    .map(|c| sizes[c])
                    .max();
                let min_dense = (0..sizes.len())
                    .filter(|&c| !sparse[c])
                    .map(|c| sizes[c])
                    .min();
                assert!(max_sparse <= min_dense, "{sizes:?}: {sparse:?}");
                assert_eq!(sparse, sparse_clusters(sizes, seed).unwrap(), "seeded");
            }
        }
        // The released code's rule (size strictly below the median) keeps nothing here, and
        // then falls back to keeping everything; ours keeps half, chosen by the seed.
        let all_tied = [4usize; 10];
        let picks: std::collections::BTreeSet<Vec<bool>> = (0..8)
            .map(|seed| sparse_clusters(&all_tied, seed).unwrap())
            .collect();
        assert!(
            picks.len() > 1,
            "ties are broken by the seed, not by cluster number"
        );
        assert_eq!(
            sparse_clusters(&[3, 1, 2], 0).unwrap(),
            [false, true, false],
            "⌊3/2⌋ = 1: the smallest"
        );
        assert!(matches!(
            sparse_clusters(&[5], 0),
            Err(SynthError::TooFewClusters(1))
        ));
    }

    #[test]
    fn cluster_count_follows_the_fraction_with_a_floor_of_two() {
        let mut c = ClusterConfig::default();
        assert_eq!(c.clusters_for(10_000), 100);
        assert_eq!(c.clusters_for(50), 2);
        c.fraction = 0.1;
        assert_eq!(c.clusters_for(10_000), 1000);
        assert_eq!(c.clusters_for(3), 2);
    }

    #[test]
    fn candidates_land_in_the_cluster_of_their_direction() {
        // Three directions in R^4 with 30, 20 and 4 rows: the 4-row bundle is sparse.
        let mut data = Vec::new();
        for (axis, count) in [(0usize, 30usize), (1, 20), (2, 4)] {
            for j in 0..count {
                let mut v = [0.02 * (j % 5) as f32; 4];
                v[axis] = 1.0;
                data.extend_from_slice(&v);
            }
        }
        let mut pool = Features::new(data, 54, 4);
        pool.l2_normalize();
        let config = ClusterConfig {
            fraction: 3.0 / 54.0,
            ..Default::default()
        };
        let clusters = PoolClusters::fit(&pool, &config).unwrap();
        assert_eq!(clusters.k(), 3);
        let mut sizes = clusters.sizes.clone();
        sizes.sort();
        assert_eq!(sizes, [4, 20, 30]);
        assert_eq!(clusters.rows_in_sparse(), 4);
        let mut candidates = Features::new(vec![0.0, 0.1, 1.0, 0.0, 1.0, 0.1, 0.0, 0.0], 2, 4);
        candidates.l2_normalize();
        let placed = clusters.place(&candidates);
        assert!(clusters.sparse[placed[0]], "near axis 2: the sparse bundle");
        assert!(
            !clusters.sparse[placed[1]],
            "near axis 0: the largest bundle"
        );
    }
}
