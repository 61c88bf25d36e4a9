//! Homogenization score with ROUGE-L (Padmakumar & He 2023; the `diversity` package's
//! `homogenization_score(measure="rougel")`, no stemmer): the mean ROUGE-L F1 (longest common
//! word subsequence) over all ordered pairs of distinct examples. F1 is symmetric, so the mean
//! over unordered pairs is the same number. Higher means more alike: lower is more diverse.
//!
//! Up to [`ALL_PAIRS_UP_TO`] examples every pair is scored; above, [`SAMPLED_PAIRS`] pairs drawn
//! with the input's seed, whose mean is within about 3 × 10⁻⁴ (one standard error, for F1
//! values spread by 0.1) of the all-pairs mean. Differences from the reference, on purpose:
//! words are prism's tokens (rouge-score's tokenizer lowercases and keeps `[a-z0-9]+` runs, the
//! same on ASCII text); the value is not rounded to 3 decimals; and a set with no word in
//! common anywhere scores 0, where the reference returns 1.0 (its "all strings the same"
//! branch fires whenever the sum of scores is 0, i.e. for the most diverse sets).

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};
use rayon::prelude::*;
use std::collections::HashMap;

/// Every pair is scored up to this many examples.
pub const ALL_PAIRS_UP_TO: usize = 1000;
/// Pairs scored above [`ALL_PAIRS_UP_TO`].
pub const SAMPLED_PAIRS: usize = 100_000;

/// Mean pairwise ROUGE-L F1.
pub struct Homogenization;

/// Length of the longest common subsequence of `a` and `b` (one row of the DP table kept).
fn lcs(a: &[u32], b: &[u32]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        let mut diagonal = 0;
        for (j, y) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if x == y {
                diagonal + 1
            } else {
                above.max(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

/// ROUGE-L F1 of two token sequences (0 when either is empty, as rouge-score has it).
fn rouge_l(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let common = lcs(a, b) as f64;
    let (p, r) = (common / a.len() as f64, common / b.len() as f64);
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

impl DiversityMetric for Homogenization {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "homogenization-rougel",
            description: "mean ROUGE-L F1 over pairs of examples (diversity package, no stemmer); sampled pairs above 1000 examples",
            family: Family::Lexical,
            needs: &[Need::Texts],
            direction: Direction::LowerIsMoreDiverse,
        }
    }

    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let n = input.texts.len();
        super::at_least(self.name(), n, 2)?;
        // Words as integers: the LCS compares numbers, not strings.
        let mut ids: HashMap<String, u32> = HashMap::new();
        let docs: Vec<Vec<u32>> = input
            .texts
            .iter()
            .map(|t| {
                prism_data::text::tokens(t)
                    .into_iter()
                    .map(|w| {
                        let next = ids.len() as u32;
                        *ids.entry(w).or_insert(next)
                    })
                    .collect()
            })
            .collect();
        if n <= ALL_PAIRS_UP_TO {
            let sums: Vec<f64> = (0..n)
                .into_par_iter()
                .map(|i| ((i + 1)..n).map(|j| rouge_l(&docs[i], &docs[j])).sum())
                .collect();
            let pairs = (n * (n - 1) / 2) as f64;
            return Ok(sums.iter().sum::<f64>() / pairs);
        }
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(input.seed);
        let pairs: Vec<(usize, usize)> = (0..SAMPLED_PAIRS)
            .map(|_| {
                let i = rng.random_range(0..n);
                let mut j = rng.random_range(0..n - 1);
                if j >= i {
                    j += 1;
                }
                (i, j)
            })
            .collect();
        let sums: Vec<f64> = pairs
            .par_chunks(1024)
            .map(|chunk| chunk.iter().map(|&(i, j)| rouge_l(&docs[i], &docs[j])).sum())
            .collect();
        Ok(sums.iter().sum::<f64>() / SAMPLED_PAIRS as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::with_features;

    #[test]
    fn hand_computed() {
        assert_eq!(lcs(&[1, 2, 3, 4], &[2, 4, 3]), 2);
        // "a b c d" vs "b d x": LCS 2, P 2/4, R 2/3, F1 = 4/7.
        let texts = vec!["a b c d".to_string(), "b d x".to_string(), "q".to_string()];
        let v = Homogenization.compute(&with_features(&texts, None, None)).unwrap();
        assert!((v - (4.0 / 7.0) / 3.0).abs() < 1e-15, "{v}");
        // No shared word anywhere: 0 (the reference would say 1.0).
        let apart = vec!["a b".to_string(), "c d".to_string()];
        assert_eq!(Homogenization.compute(&with_features(&apart, None, None)).unwrap(), 0.0);
    }

    #[test]
    fn sampled_pairs_estimate_the_all_pairs_mean() {
        let texts: Vec<String> = (0..1200)
            .map(|i| format!("w{} w{} w{} shared w{}", i % 7, i % 11, i % 13, i % 5))
            .collect();
        let input = with_features(&texts, None, None);
        let sampled = Homogenization.compute(&input).unwrap();
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let docs: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| {
                t.split(' ')
                    .map(|w| {
                        let next = ids.len() as u32;
                        *ids.entry(w).or_insert(next)
                    })
                    .collect()
            })
            .collect();
        let mut all = 0.0;
        for i in 0..docs.len() {
            for j in i + 1..docs.len() {
                all += rouge_l(&docs[i], &docs[j]);
            }
        }
        let all = all / (1200.0 * 1199.0 / 2.0);
        assert!((sampled - all).abs() < 3e-3, "{sampled} vs {all}");
    }
}
