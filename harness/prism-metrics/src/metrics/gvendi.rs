//! G-Vendi (method.md §1): the Vendi score (q = 1) of unit-normalised projected gradient
//! features of a proxy model, read from the feature store.

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};

/// Vendi of gradient features.
pub struct GVendi;

impl DiversityMetric for GVendi {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "g-vendi",
            description: "Vendi score of projected per-example proxy-model gradients (the paper's metric)",
            family: Family::Gradient,
            needs: &[Need::GradientFeatures],
            direction: Direction::HigherIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        super::vendi_of(input, self.name(), Need::GradientFeatures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthonormal_gradients_score_n() {
        let g = crate::metrics::axes(3, 8);
        let v = GVendi
            .compute(&crate::metrics::with_features(&[], None, Some(&g)))
            .unwrap();
        assert!((v - 3.0).abs() < 1e-9);
    }
}
