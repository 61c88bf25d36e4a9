//! Static-embedding Vendi: the Vendi score (q = 1, cosine kernel) of mean-pooled static word
//! vectors (wordllama's 256-d table), a cheap embedding baseline next to MiniLM.

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};

/// Vendi of static word-vector embeddings.
pub struct StaticEmbeddingVendi;

impl DiversityMetric for StaticEmbeddingVendi {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "static-embedding-vendi",
            description: "Vendi score of mean-pooled wordllama word vectors, cosine kernel, q = 1",
            family: Family::Embedding,
            needs: &[Need::StaticEmbeddings],
            direction: Direction::HigherIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        super::vendi_of(input, self.name(), Need::StaticEmbeddings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthonormal_static_embeddings_score_n() {
        let e = crate::metrics::axes(5, 8);
        let v = StaticEmbeddingVendi.compute(&crate::metrics::with_features(&[], Some(&e), None)).unwrap();
        assert!((v - 5.0).abs() < 1e-9);
    }
}
