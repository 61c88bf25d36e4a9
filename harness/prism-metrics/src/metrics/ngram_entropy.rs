//! n-gram entropy: Shannon entropy (bits) of the data set's n-gram frequency distribution.

use super::{entropy_bits, ngram_counts};
use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};

/// Entropy of n-grams for n = `.0` (1 to 4 are registered).
pub struct NgramEntropy(pub usize);

const NAMES: [&str; 4] = [
    "ngram-entropy-1",
    "ngram-entropy-2",
    "ngram-entropy-3",
    "ngram-entropy-4",
];

impl DiversityMetric for NgramEntropy {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: NAMES[self.0 - 1],
            description: "Shannon entropy (bits) of the word n-gram distribution",
            family: Family::Lexical,
            needs: &[Need::Texts],
            direction: Direction::HigherIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let counts = ngram_counts(input.texts, self.0);
        if counts.is_empty() {
            return Err(MetricError::TooFew {
                metric: self.name(),
                min: 1,
                n: 0,
            });
        }
        Ok(entropy_bits(&counts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let texts = vec!["a b a b".to_string()];
        let input = crate::metrics::with_features(&texts, None, None);
        assert!((NgramEntropy(1).compute(&input).unwrap() - 1.0).abs() < 1e-15);
        // Bigrams "a b" ×2, "b a" ×1: H = -(2/3 log2 2/3 + 1/3 log2 1/3) = 0.918295...
        assert!((NgramEntropy(2).compute(&input).unwrap() - 0.9182958340544896).abs() < 1e-12);
    }
}
