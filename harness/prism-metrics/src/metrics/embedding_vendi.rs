//! Embedding Vendi: the Vendi score (q = 1) of sentence embeddings under the cosine kernel.

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};

/// Vendi of the embeddings.
pub struct EmbeddingVendi;

impl DiversityMetric for EmbeddingVendi {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "embedding-vendi",
            description: "Vendi score of sentence embeddings, cosine kernel, q = 1",
            family: Family::Embedding,
            needs: &[Need::Embeddings],
            direction: Direction::HigherIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        super::vendi_of(input, self.name(), Need::Embeddings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthonormal_embeddings_score_n() {
        let e = crate::metrics::axes(4, 6);
        let v = EmbeddingVendi
            .compute(&crate::metrics::with_features(&[], Some(&e), None))
            .unwrap();
        assert!((v - 4.0).abs() < 1e-9);
        assert!(
            EmbeddingVendi
                .compute(&crate::metrics::with_features(&[], None, None))
                .is_err()
        );
    }
}
