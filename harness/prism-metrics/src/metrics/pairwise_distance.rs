//! Mean pairwise cosine distance of the embeddings, over all pairs i < j. With unit vectors,
//! Σ_{i≠j} cos = |Σ x|² − n, so it costs O(n d).

use super::unit;
use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need, require_rows};

/// Mean of 1 − cos over pairs.
pub struct MeanPairwiseDistance;

impl DiversityMetric for MeanPairwiseDistance {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "mean-pairwise-cosine-distance",
            description: "mean cosine distance over all pairs of embeddings",
            family: Family::Embedding,
            needs: &[Need::Embeddings],
            direction: Direction::HigherIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let e = unit(require_rows(input, self.name(), Need::Embeddings, 2)?);
        let n = e.n();
        let mut sum = vec![0f64; e.d()];
        let mut self_sims = 0.0;
        for i in 0..n {
            let row = e.row(i);
            self_sims += prism_vendi::matrix::dot(row, row);
            for (s, v) in sum.iter_mut().zip(row) {
                *s += *v as f64;
            }
        }
        let total: f64 = sum.iter().map(|s| s * s).sum();
        let mean_cos = (total - self_sims) / (n * (n - 1)) as f64;
        Ok(1.0 - mean_cos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let e = crate::metrics::axes(3, 3);
        let v = MeanPairwiseDistance
            .compute(&crate::metrics::with_features(&[], Some(&e), None))
            .unwrap();
        assert!((v - 1.0).abs() < 1e-12);
        // e1, e1, e2: pairs (0, 1, 1) → mean 2/3.
        let f = prism_vendi::Features::new(vec![1.0, 0.0, 2.0, 0.0, 0.0, 1.0], 3, 2);
        let v = MeanPairwiseDistance
            .compute(&crate::metrics::with_features(&[], Some(&f), None))
            .unwrap();
        assert!((v - 2.0 / 3.0).abs() < 1e-12);
    }
}
