//! Self-repetition score (Salkar et al.; the `diversity` package's `self_repetition_score`):
//! for each example, the number of times its distinct word 4-grams occur in the other
//! examples (an n-gram counts once per example that holds it), and the mean over examples of
//! log(1 + that number). Higher means the examples repeat each other more: lower is more
//! diverse. Words are prism's tokens; the reference splits on whitespace, so the two agree on
//! lowercase words (`tests/reference/diversity_reference.py`).

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};
use std::collections::{HashMap, HashSet};

/// The score with 4-grams.
pub struct SelfRepetition;

impl DiversityMetric for SelfRepetition {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "self-repetition",
            description: "mean over examples of log(1 + occurrences of its distinct 4-grams in the other examples) (diversity package)",
            family: Family::Lexical,
            needs: &[Need::Texts],
            direction: Direction::LowerIsMoreDiverse,
        }
    }

    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        super::at_least(self.name(), input.texts.len(), 1)?;
        let per_text: Vec<HashSet<String>> = input
            .texts
            .iter()
            .map(|t| prism_data::text::ngrams(&prism_data::text::tokens(t), 4).collect())
            .collect();
        // A text shorter than 4 words has no 4-gram (`windows(4)` is empty).
        let mut holders: HashMap<&str, usize> = HashMap::new();
        for grams in &per_text {
            for g in grams {
                *holders.entry(g.as_str()).or_insert(0) += 1;
            }
        }
        let total: f64 = per_text
            .iter()
            .map(|grams| {
                let elsewhere: usize = grams.iter().map(|g| holders[g.as_str()] - 1).sum();
                (1.0 + elsewhere as f64).ln()
            })
            .sum();
        Ok(total / input.texts.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::with_features;

    #[test]
    fn hand_computed() {
        let texts = vec![
            "a b c d e".to_string(), // abcd, bcde
            "a b c d".to_string(),   // abcd
            "x y z w".to_string(),   // xyzw
        ];
        let v = SelfRepetition.compute(&with_features(&texts, None, None)).unwrap();
        // Text 1: abcd once elsewhere; text 2: abcd once elsewhere; text 3: none.
        let want = (2f64.ln() + 2f64.ln() + 1f64.ln()) / 3.0;
        assert!((v - want).abs() < 1e-15, "{v} vs {want}");
    }
}
