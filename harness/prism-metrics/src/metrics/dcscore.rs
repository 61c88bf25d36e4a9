//! DCScore (Zhu et al., 2025, arXiv 2502.08512): diversity as classification. Each example is
//! its own class; with the cosine-similarity kernel K (unit rows), the probability that example
//! i is classified as itself is the row-wise softmax of K / τ at (i, i), and the score is the
//! sum of those probabilities: n for n mutually orthogonal examples (τ small), 1 for n copies.
//! The reference is `calculate_dcscore_by_texts` of BlueWhaleLab/DCScore (commit eab8bf4):
//! normalise the rows, softmax of `E Eᵀ / τ` per row, trace. Here the rows come one block at a
//! time ([`for_each_similarity_row`](super::for_each_similarity_row)), so memory stays
//! O(block × n) instead of the reference's n × n.

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};

/// DCScore with the cosine kernel and temperature `tau` (the reference's default, 1).
pub struct DcScore {
    /// Softmax temperature τ.
    pub tau: f64,
}

impl Default for DcScore {
    fn default() -> Self {
        Self { tau: 1.0 }
    }
}

impl DiversityMetric for DcScore {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "dcscore",
            description: "sum over examples of softmax(cos-sim / tau)[i, i]: how many examples tell themselves apart (DCScore, tau = 1)",
            family: Family::Embedding,
            needs: &[Need::Embeddings],
            direction: Direction::HigherIsMoreDiverse,
        }
    }

    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let x = crate::require_rows(input, self.name(), Need::Embeddings, 1)?;
        let mut total = 0.0;
        super::for_each_similarity_row(x, |i, sims| {
            // log-sum-exp with the row's maximum taken out, as torch's softmax does.
            let max = sims.iter().fold(f64::NEG_INFINITY, |m, s| m.max(s / self.tau));
            let denominator: f64 = sims.iter().map(|s| (s / self.tau - max).exp()).sum();
            total += (sims[i] / self.tau - max).exp() / denominator;
        });
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{axes, with_features};
    use prism_vendi::Features;

    #[test]
    fn known_values() {
        let texts = vec![String::new(); 4];
        // Four orthogonal unit vectors: each row is softmax([1, 0, 0, 0]) at its own place.
        let x = axes(4, 4);
        let own = 1f64.exp() / (1f64.exp() + 3.0);
        let v = DcScore::default().compute(&with_features(&texts, Some(&x), None)).unwrap();
        assert!((v - 4.0 * own).abs() < 1e-12, "{v}");
        // Four copies of one vector: every row is uniform, 4 × 1/4.
        let same = Features::new([1.0, 2.0, 3.0].repeat(4), 4, 3);
        let v = DcScore::default().compute(&with_features(&texts, Some(&same), None)).unwrap();
        assert!((v - 1.0).abs() < 1e-12, "{v}");
        // A colder softmax tells orthogonal examples apart almost surely.
        let cold = DcScore { tau: 0.01 }.compute(&with_features(&texts, Some(&x), None)).unwrap();
        assert!((cold - 4.0).abs() < 1e-9, "{cold}");
    }
}
