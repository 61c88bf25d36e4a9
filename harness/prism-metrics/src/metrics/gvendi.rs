//! G-Vendi (method.md §1): the Vendi score (q = 1) of unit-normalised projected gradient
//! features of a proxy model, read from the feature store.

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInput, Need};

/// Vendi of gradient features.
pub struct GVendi;

impl DiversityMetric for GVendi {
    fn name(&self) -> &'static str {
        "g-vendi"
    }
    fn description(&self) -> &'static str {
        "Vendi score of projected per-example proxy-model gradients (the paper's metric)"
    }
    fn family(&self) -> Family {
        Family::Gradient
    }
    fn needs(&self) -> &'static [Need] {
        &[Need::GradientFeatures]
    }
    fn direction(&self) -> Direction {
        Direction::HigherIsMoreDiverse
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
