//! Mean proxy loss: the proxy model's mean completion-only cross-entropy over the data set
//! (method.md §1), read from the feature store next to the gradient features. It is a
//! *quality* signal (family `quality`), not a diversity measure: the paper controls subsets
//! for quality, and the report shows how much of a correlation quality alone explains.
//! `exp` of it is the proxy's per-token perplexity averaged in log space.

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};

/// Mean per-example proxy loss (nats per completion token).
pub struct ProxyMeanLoss;

impl DiversityMetric for ProxyMeanLoss {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "proxy-mean-loss",
            description: "quality signal: the proxy LM's mean completion loss (not a diversity measure)",
            family: Family::Quality,
            needs: &[Need::ProxyLosses],
            direction: Direction::NotDiversity,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let losses = crate::require_values(input.proxy_losses, self.name(), Need::ProxyLosses)?;
        super::at_least(self.name(), losses.len(), 1)?;
        if let Some(bad) = losses.iter().position(|l| !l.is_finite()) {
            return Err(MetricError::Failed {
                metric: self.name(),
                message: format!("example {bad} has a non-finite loss ({})", losses[bad]),
            });
        }
        Ok(losses.iter().map(|&l| f64::from(l)).sum::<f64>() / losses.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_of_the_losses_and_errors_without_them() {
        let mut input = crate::metrics::with_features(&[], None, None);
        assert!(matches!(
            ProxyMeanLoss.compute(&input),
            Err(MetricError::MissingInput { .. })
        ));
        let losses = [1.0f32, 2.0, 4.5];
        input.proxy_losses = Some(&losses);
        assert_eq!(ProxyMeanLoss.compute(&input).unwrap(), 2.5);
        let bad = [1.0f32, f32::NAN];
        input.proxy_losses = Some(&bad);
        assert!(ProxyMeanLoss.compute(&input).is_err());
    }
}
