//! Cluster-based metrics on the embeddings: cosine k-means with k = min(10, n) clusters
//! (seeded k-means++, 25 rounds), then the entropy of the cluster sizes and the inertia.

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need, require_rows};
use prism_vendi::KMeans;
use std::collections::HashMap;

/// Number of clusters (capped at n).
pub const CLUSTERS: usize = 10;

fn cluster(input: &MetricInput, metric: &'static str) -> Result<(KMeans, usize), MetricError> {
    let e = super::unit(require_rows(input, metric, Need::Embeddings, 1)?);
    Ok((
        prism_vendi::cosine_kmeans(&e, CLUSTERS.min(e.n()), input.seed, 25),
        e.n(),
    ))
}

/// Entropy (bits) of the k-means cluster sizes.
pub struct ClusterEntropy;

impl DiversityMetric for ClusterEntropy {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "kmeans-cluster-entropy",
            description: "entropy (bits) of cluster sizes, cosine k-means with k = 10 on the embeddings",
            family: Family::Embedding,
            needs: &[Need::Embeddings],
            direction: Direction::HigherIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let (km, _) = cluster(input, self.name())?;
        let mut sizes: HashMap<usize, usize> = HashMap::new();
        for c in &km.assignment {
            *sizes.entry(*c).or_insert(0) += 1;
        }
        Ok(super::entropy_bits(&sizes))
    }
}

/// Mean cosine distance of each embedding to its k-means centroid.
pub struct ClusterInertia;

impl DiversityMetric for ClusterInertia {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "kmeans-inertia",
            description: "mean cosine distance to the assigned centroid, cosine k-means with k = 10",
            family: Family::Embedding,
            needs: &[Need::Embeddings],
            direction: Direction::HigherIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let (km, n) = cluster(input, self.name())?;
        Ok(km.inertia / n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_axes_are_ten_clusters_and_copies_are_one() {
        let e = crate::metrics::axes(10, 10);
        let input = crate::metrics::with_features(&[], Some(&e), None);
        assert!((ClusterEntropy.compute(&input).unwrap() - 10f64.log2()).abs() < 1e-12);
        assert!(ClusterInertia.compute(&input).unwrap().abs() < 1e-12);
        let same = prism_vendi::Features::new([0.6f32, 0.8].repeat(20), 20, 2);
        let input = crate::metrics::with_features(&[], Some(&same), None);
        assert_eq!(ClusterEntropy.compute(&input).unwrap(), 0.0);
        assert!(ClusterInertia.compute(&input).unwrap().abs() < 1e-6);
    }
}
