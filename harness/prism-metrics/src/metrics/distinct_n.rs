//! distinct-n (Li et al., 2016): unique n-grams ÷ all n-grams over the whole data set.

use super::ngram_counts;
use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};

/// distinct-n for n = `.0` (1, 2 or 3 are registered).
pub struct DistinctN(pub usize);

const NAMES: [&str; 4] = ["distinct-1", "distinct-2", "distinct-3", "distinct-4"];

impl DiversityMetric for DistinctN {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: NAMES[self.0 - 1],
            description: "unique word n-grams / total word n-grams over the data set",
            family: Family::Lexical,
            needs: &[Need::Texts],
            direction: Direction::HigherIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let counts = ngram_counts(input.texts, self.0);
        let total: usize = counts.values().sum();
        if total == 0 {
            return Err(MetricError::TooFew {
                metric: self.name(),
                min: 1,
                n: 0,
            });
        }
        Ok(counts.len() as f64 / total as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let texts = vec!["a b a".to_string(), "A, b".to_string()];
        let input = crate::metrics::with_features(&texts, None, None);
        // Unigrams a b a a b: 2 unique of 5. Bigrams "a b" "b a" "a b": 2 of 3.
        assert_eq!(DistinctN(1).compute(&input).unwrap(), 0.4);
        assert!((DistinctN(2).compute(&input).unwrap() - 2.0 / 3.0).abs() < 1e-15);
        assert!(DistinctN(3).compute(&input).is_ok());
        assert_eq!(DistinctN(2).name(), "distinct-2");
    }
}
