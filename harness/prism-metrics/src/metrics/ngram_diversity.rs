//! n-gram diversity score (Padmakumar & He; the `diversity` package's
//! `ngram_diversity_score`, recommended by Shaib et al., arXiv 2403.00553): the texts joined in
//! order into one word sequence, and Σ_{n=1..4} unique n-grams ÷ all n-grams of it (n-grams
//! run across text boundaries, as in the reference). The reference splits on single spaces and
//! rounds to 3 decimals; here words are prism's tokens (lowercased, split at every
//! non-alphanumeric) and the value is not rounded, so the two agree exactly on lowercase
//! words separated by spaces (`tests/reference/diversity_reference.py`).

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};
use std::collections::HashSet;

/// The score summed over n = 1..=4.
pub struct NgramDiversity;

impl DiversityMetric for NgramDiversity {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "ngram-diversity",
            description: "sum over n = 1..4 of unique / all word n-grams of the texts joined in order (diversity package)",
            family: Family::Lexical,
            needs: &[Need::Texts],
            direction: Direction::HigherIsMoreDiverse,
        }
    }

    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let words = super::joined_words(input.texts);
        super::at_least(self.name(), words.len(), 4)?;
        Ok((1..=4)
            .map(|n| {
                let grams: Vec<&[String]> = words.windows(n).collect();
                let unique: HashSet<&[String]> = grams.iter().copied().collect();
                unique.len() as f64 / grams.len() as f64
            })
            .sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::with_features;

    #[test]
    fn hand_computed() {
        // "a b a b": unigrams 2/4, bigrams 2/3 (ab, ba), trigrams 2/2, 4-grams 1/1.
        let texts = vec!["a b".to_string(), "A, b".to_string()];
        let v = NgramDiversity.compute(&with_features(&texts, None, None)).unwrap();
        assert!((v - (0.5 + 2.0 / 3.0 + 1.0 + 1.0)).abs() < 1e-15, "{v}");
    }
}
