//! Label entropy (bits): how evenly the labels are spread. Subsets hold it nearly fixed by
//! construction; reported so a reader can check that.

use super::category_entropy_bits;
use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};

/// Shannon entropy of the label distribution.
pub struct LabelEntropy;

impl DiversityMetric for LabelEntropy {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "label-entropy",
            description: "Shannon entropy (bits) of the label distribution",
            family: Family::Label,
            needs: &[Need::Labels],
            direction: Direction::HigherIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        if input.labels.is_empty() {
            return Err(MetricError::MissingInput {
                metric: self.name(),
                need: Need::Labels,
            });
        }
        Ok(category_entropy_bits(input.labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let labels: Vec<String> = ["entailment", "entailment", "neutral", "contradiction"]
            .map(String::from)
            .to_vec();
        let input = MetricInput {
            texts: &[],
            labels: &labels,
            embeddings: None,
            static_embeddings: None,
            gradients: None,
            proxy_losses: None,
        reference_embeddings: None,
        skills: None,
            seed: 0,
        };
        assert!((LabelEntropy.compute(&input).unwrap() - 1.5).abs() < 1e-15);
    }
}
