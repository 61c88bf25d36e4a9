//! Log-determinant of the regularised kernel: log det(I + K / (n ε)) = Σ log(1 + λ_i / ε)
//! over the eigenvalues λ of K/n (which sum to 1), ε = 0.01. The identity term keeps the
//! zero eigenvalues from contributing, so the value does not drift with n.

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need, require};

/// The regulariser ε.
pub const EPSILON: f64 = 0.01;

/// log det(I + K/(nε)) of the cosine kernel of the embeddings.
pub struct LogDet;

impl DiversityMetric for LogDet {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "logdet",
            description: "log det(I + K/(n*0.01)) of the cosine kernel of the embeddings",
            family: Family::Embedding,
            needs: &[Need::Embeddings],
            direction: Direction::HigherIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let e = require(input, self.name(), Need::Embeddings)?;
        let eig = prism_vendi::vendi::spectrum(e, true).map_err(|err| MetricError::Failed {
            metric: self.name(),
            message: err.to_string(),
        })?;
        Ok(eig.iter().map(|l| (1.0 + l / EPSILON).ln()).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        // One direction: λ = (1) → ln(101). Four axes: λ = 1/4 each → 4 ln(26).
        let same = prism_vendi::Features::new([1.0f32, 1.0].repeat(5), 5, 2);
        let v = LogDet
            .compute(&crate::metrics::with_features(&[], Some(&same), None))
            .unwrap();
        assert!((v - 101f64.ln()).abs() < 1e-9);
        let axes = crate::metrics::axes(4, 4);
        let v = LogDet
            .compute(&crate::metrics::with_features(&[], Some(&axes), None))
            .unwrap();
        assert!((v - 4.0 * 26f64.ln()).abs() < 1e-9);
    }
}
