//! Self-BLEU (Zhu et al., 2018, Texygen): each sampled text is scored by BLEU-4 against all
//! the *other* texts as references, and the scores are averaged. Near-duplicates score close
//! to 1, so a lower value means a more diverse data set.
//!
//! BLEU is NLTK's `sentence_bleu` with uniform weights over 1..4-grams and
//! `SmoothingFunction().method1` (ε = 0.1 added to zero n-gram matches), as in Texygen, on
//! the project's word tokens (`prism_data::text::tokens`). `tests/reference/metrics_reference.py`
//! checks the values against NLTK itself.
//!
//! Cost: references are every other text, so clipping counts come from one pass that keeps,
//! for each n-gram, its largest count in any text, which text that was, and the second-largest
//! count: the largest count outside any one text is then read in O(1). At most
//! [`SelfBleu::sample`] hypotheses are scored, drawn with the input's seed.

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};
use std::collections::HashMap;

/// Highest n-gram order (BLEU-4).
const MAX_ORDER: usize = 4;
/// NLTK's `method1` epsilon for orders with no match.
const EPSILON: f64 = 0.1;

/// Self-BLEU-4 over a seeded sample of at most `sample` hypotheses.
pub struct SelfBleu {
    /// How many texts are scored as hypotheses (all of them when there are fewer).
    pub sample: usize,
}

impl Default for SelfBleu {
    fn default() -> Self {
        Self { sample: 500 }
    }
}

/// For one n-gram: its largest count in any single text, that text, and the largest count in
/// any other text.
#[derive(Clone, Copy)]
struct TopCounts {
    best: u32,
    best_text: usize,
    second: u32,
}

impl TopCounts {
    fn add(&mut self, count: u32, text: usize) {
        if count > self.best {
            self.second = self.best;
            self.best = count;
            self.best_text = text;
        } else if count > self.second {
            self.second = count;
        }
    }
    /// The largest count in a text other than `text`.
    fn outside(&self, text: usize) -> u32 {
        if self.best_text == text {
            self.second
        } else {
            self.best
        }
    }
}

/// Counts of the n-grams (1..=4) of one token list, keyed by (order, n-gram).
fn ngram_table(tokens: &[String]) -> HashMap<(usize, String), u32> {
    let mut table = HashMap::new();
    for n in 1..=MAX_ORDER {
        for gram in prism_data::text::ngrams(tokens, n) {
            *table.entry((n, gram)).or_insert(0) += 1;
        }
    }
    table
}

/// NLTK's closest reference length: the length nearest `hyp_len`, the shorter one on a tie.
/// `lengths` maps a length to how many texts have it, the hypothesis included (it is not
/// its own reference, so one text of length `hyp_len` is left out).
fn closest_length(lengths: &std::collections::BTreeMap<usize, usize>, hyp_len: usize) -> usize {
    lengths
        .iter()
        .filter(|(len, count)| **count > usize::from(**len == hyp_len))
        .map(|(len, _)| *len)
        .min_by_key(|len| (len.abs_diff(hyp_len), *len))
        .unwrap_or(0)
}

impl DiversityMetric for SelfBleu {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "self-bleu",
            description: "mean BLEU-4 of sampled texts against all others (lower = more diverse)",
            family: Family::Lexical,
            needs: &[Need::Texts],
            direction: Direction::LowerIsMoreDiverse,
        }
    }

    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let n = input.texts.len();
        if n < 2 {
            return Err(MetricError::TooFew {
                metric: self.name(),
                min: 2,
                n,
            });
        }
        let tokens: Vec<Vec<String>> = input
            .texts
            .iter()
            .map(|t| prism_data::text::tokens(t))
            .collect();
        let tables: Vec<_> = tokens.iter().map(|t| ngram_table(t)).collect();
        let mut top: HashMap<&(usize, String), TopCounts> = HashMap::new();
        for (i, table) in tables.iter().enumerate() {
            for (gram, &count) in table {
                top.entry(gram)
                    .or_insert(TopCounts {
                        best: 0,
                        best_text: usize::MAX,
                        second: 0,
                    })
                    .add(count, i);
            }
        }
        let mut lengths = std::collections::BTreeMap::new();
        for t in &tokens {
            *lengths.entry(t.len()).or_insert(0usize) += 1;
        }

        let hypotheses = crate::metrics::sample_indices(n, self.sample, input.seed);
        let mut total = 0.0;
        for &h in &hypotheses {
            let hyp_len = tokens[h].len();
            // Matches and totals per order, clipped by the best count in any other text.
            let mut matched = [0u32; MAX_ORDER];
            let mut counted = [0u32; MAX_ORDER];
            for (key, &count) in &tables[h] {
                let clip = top[&key].outside(h);
                matched[key.0 - 1] += count.min(clip);
                counted[key.0 - 1] += count;
            }
            if matched[0] == 0 {
                continue; // NLTK: no unigram in common scores 0
            }
            let ref_len = closest_length(&lengths, hyp_len);
            let brevity = if hyp_len > ref_len {
                1.0
            } else {
                (1.0 - ref_len as f64 / hyp_len as f64).exp()
            };
            let log_precision: f64 = (0..MAX_ORDER)
                .map(|k| {
                    let denominator = counted[k].max(1) as f64;
                    let numerator = if matched[k] == 0 {
                        EPSILON
                    } else {
                        matched[k] as f64
                    };
                    (numerator / denominator).ln() / MAX_ORDER as f64
                })
                .sum();
            total += brevity * log_precision.exp();
        }
        Ok(total / hypotheses.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(texts: &[&str]) -> f64 {
        let texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
        let input = crate::metrics::with_features(&texts, None, None);
        SelfBleu::default().compute(&input).unwrap()
    }

    #[test]
    fn identical_texts_score_one_and_disjoint_texts_zero() {
        let same = score(&["the cat sat on the mat"; 3]);
        assert!((same - 1.0).abs() < 1e-12, "{same}");
        assert_eq!(score(&["a b c d", "e f g h", "i j k l"]), 0.0);
    }

    #[test]
    fn hand_computed() {
        // Hypothesis "a b c d e" against "a b c x y": matches 3/5, 2/4, 1/3, 0/2 (smoothed to
        // 0.1/2); equal lengths, no brevity penalty. The other direction is symmetric.
        let expected = (0.6f64 * 0.5 * (1.0 / 3.0) * 0.05).powf(0.25);
        let got = score(&["a b c d e", "a b c x y"]);
        assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
    }

    #[test]
    fn brevity_penalty_uses_the_closest_other_length() {
        // "a b" against "a b c d": all of its n-grams match, 3- and 4-grams are absent
        // (0/1 smoothed to 0.1), reference length 4 → BP = exp(1 - 4/2).
        // "a b c d" against "a b": 2/4, 1/3, 0/2, 0/1; longer than its reference, BP = 1.
        let short = (-1.0f64).exp() * (1.0f64 * 1.0 * 0.1 * 0.1).powf(0.25);
        let long = (0.5f64 * (1.0 / 3.0) * (0.1 / 2.0) * 0.1).powf(0.25);
        let got = score(&["a b", "a b c d"]);
        assert!((got - (short + long) / 2.0).abs() < 1e-12, "{got}");
    }

    #[test]
    fn sampling_is_seeded() {
        let texts: Vec<String> = (0..50)
            .map(|i| match i % 2 {
                0 => "one sentence said many times".to_string(),
                _ => format!("u{i} v{i} w{i} x{i} y{i}"),
            })
            .collect();
        let metric = SelfBleu { sample: 10 };
        let mut input = crate::metrics::with_features(&texts, None, None);
        let a = metric.compute(&input).unwrap();
        assert_eq!(a, metric.compute(&input).unwrap());
        input.seed = 1;
        assert_ne!(a, metric.compute(&input).unwrap());
    }
}
