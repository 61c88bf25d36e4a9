//! Embedding Vendi: the Vendi score of sentence embeddings under the cosine kernel, at order q
//! (Pasarkar & Dieng, 2024): q = 1 weighs all eigenvalues by Shannon entropy, larger q
//! stresses the dominant modes (q = ∞ is 1/λ_max), so comparing orders tells rare variety
//! from broad spread. Registered at q = 1, 2 and ∞.

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};
use prism_vendi::Order;

/// Vendi of the embeddings at one order.
pub struct EmbeddingVendi {
    order: Order,
    name: &'static str,
    description: &'static str,
}

impl EmbeddingVendi {
    /// q = 1 (the default order).
    pub const Q1: Self = Self {
        order: Order::Finite(1.0),
        name: "embedding-vendi",
        description: "Vendi score of sentence embeddings, cosine kernel, q = 1",
    };
    /// q = 2.
    pub const Q2: Self = Self {
        order: Order::Finite(2.0),
        name: "embedding-vendi-q2",
        description: "Vendi score of sentence embeddings, cosine kernel, q = 2",
    };
    /// q = ∞ (1 / largest eigenvalue).
    pub const QINF: Self = Self {
        order: Order::Infinity,
        name: "embedding-vendi-qinf",
        description: "Vendi score of sentence embeddings, cosine kernel, q = infinity",
    };
}

impl DiversityMetric for EmbeddingVendi {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: self.name,
            description: self.description,
            family: Family::Embedding,
            needs: &[Need::Embeddings],
            direction: Direction::HigherIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let e = crate::require(input, self.name, Need::Embeddings)?;
        super::vendi_at(e, self.order, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthonormal_embeddings_score_n_at_every_order() {
        let e = crate::metrics::axes(4, 6);
        for m in [EmbeddingVendi::Q1, EmbeddingVendi::Q2, EmbeddingVendi::QINF] {
            let v = m
                .compute(&crate::metrics::with_features(&[], Some(&e), None))
                .unwrap();
            assert!((v - 4.0).abs() < 1e-9, "{}: {v}", m.name);
            assert!(
                m.compute(&crate::metrics::with_features(&[], None, None))
                    .is_err()
            );
        }
    }

    #[test]
    fn higher_orders_score_lower_on_uneven_spectra() {
        // Two identical rows and one orthogonal: eigenvalues 2/3 and 1/3.
        let e = prism_vendi::Features::new(vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0], 3, 2);
        let input = crate::metrics::with_features(&[], Some(&e), None);
        let v = |m: EmbeddingVendi| m.compute(&input).unwrap();
        let (q1, q2, qinf) = (v(EmbeddingVendi::Q1), v(EmbeddingVendi::Q2), v(EmbeddingVendi::QINF));
        let h = -(2.0f64 / 3.0 * (2.0f64 / 3.0).ln() + 1.0 / 3.0 * (1.0f64 / 3.0).ln());
        assert!((q1 - h.exp()).abs() < 1e-9, "{q1}");
        assert!((q2 - 1.0 / (4.0 / 9.0 + 1.0 / 9.0)).abs() < 1e-9, "{q2}");
        assert!((qinf - 1.5).abs() < 1e-9, "{qinf}");
    }
}
