//! The length-robust lexical diversity measures of `lexicalrichness` 0.5.1, on the subset's
//! texts joined in order into one word list: MTLD (McCarthy & Jarvis 2010; threshold 0.72, the
//! mean of the forward and backward passes), HD-D (McCarthy & Jarvis 2007; 42 draws, the sum
//! over word types of P(at least one in 42 draws) / 42) and MATTR (Covington & McFall 2010;
//! the mean type-token ratio of every 100-word window). Transcribed from `LexicalRichness.mtld`,
//! `.hdd` and `.mattr`, including MTLD's treatment of the last partial factor. Words are
//! prism's tokens; `lexicalrichness` drops digits and hyphens before splitting at punctuation,
//! so the two agree on lowercase alphabetic words (`tests/reference/diversity_reference.py`).

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};
use std::collections::{HashMap, HashSet};

/// Which measure.
pub enum LexicalRichness {
    /// MTLD with this TTR threshold.
    Mtld(f64),
    /// HD-D with this many draws.
    Hdd(usize),
    /// MATTR with this window.
    Mattr(usize),
}

impl LexicalRichness {
    /// The registered settings: MTLD 0.72, HD-D 42 draws, MATTR window 100.
    pub const MTLD: Self = Self::Mtld(0.72);
    /// HD-D with 42 draws.
    pub const HDD: Self = Self::Hdd(42);
    /// MATTR with a 100-word window.
    pub const MATTR: Self = Self::Mattr(100);
}

/// One MTLD pass over `words` (the reference's `sub_mtld`).
fn mtld_pass<'a>(words: impl Iterator<Item = &'a String>, n: usize, types: usize, t: f64) -> f64 {
    let mut terms = HashSet::new();
    let (mut count, mut factors, mut ttr) = (0usize, 0.0f64, 0.0f64);
    for w in words {
        count += 1;
        terms.insert(w);
        ttr = terms.len() as f64 / count as f64;
        if ttr <= t {
            count = 0;
            terms.clear();
            factors += 1.0;
        }
    }
    if count > 0 {
        factors += (1.0 - ttr) / (1.0 - t);
    }
    if factors == 0.0 {
        let whole = types as f64 / n as f64;
        factors += if whole == 1.0 {
            1.0
        } else {
            (1.0 - whole) / (1.0 - t)
        };
    }
    n as f64 / factors
}

/// P(no copy of a type with `k` of `n` tokens in `draws` draws without replacement): the
/// hypergeometric pmf at 0, as a product of ratios.
fn none_drawn(n: usize, k: usize, draws: usize) -> f64 {
    if n - k < draws {
        return 0.0;
    }
    (0..draws).map(|i| (n - k - i) as f64 / (n - i) as f64).product()
}

impl DiversityMetric for LexicalRichness {
    fn info(&self) -> MetricInfo {
        let (name, description) = match self {
            Self::Mtld(_) => (
                "mtld",
                "measure of textual lexical diversity: mean words per segment keeping TTR above 0.72, both directions (lexicalrichness)",
            ),
            Self::Hdd(_) => (
                "hd-d",
                "hypergeometric diversity: sum over word types of P(seen in 42 draws) / 42 (lexicalrichness)",
            ),
            Self::Mattr(_) => (
                "mattr",
                "moving-average type-token ratio over 100-word windows (lexicalrichness)",
            ),
        };
        MetricInfo {
            name,
            description,
            family: Family::Lexical,
            needs: &[Need::Texts],
            direction: Direction::HigherIsMoreDiverse,
        }
    }

    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let words = super::joined_words(input.texts);
        let n = words.len();
        let min = match self {
            Self::Mtld(_) => 1,
            Self::Hdd(draws) => *draws,
            Self::Mattr(window) => *window,
        };
        super::at_least(self.name(), n, min.max(1))?;
        let mut freq: HashMap<&str, usize> = HashMap::new();
        for w in &words {
            *freq.entry(w.as_str()).or_insert(0) += 1;
        }
        Ok(match self {
            Self::Mtld(t) => {
                let forward = mtld_pass(words.iter(), n, freq.len(), *t);
                let backward = mtld_pass(words.iter().rev(), n, freq.len(), *t);
                (forward + backward) / 2.0
            }
            Self::Hdd(draws) => {
                // Summed in sorted order: bit-for-bit the same in every process.
                let mut counts: Vec<usize> = freq.values().copied().collect();
                counts.sort_unstable();
                counts
                    .into_iter()
                    .map(|k| (1.0 - none_drawn(n, k, *draws)) / *draws as f64)
                    .sum()
            }
            Self::Mattr(window) => {
                // One pass: a running count of each word in the window.
                let mut inside: HashMap<&str, usize> = HashMap::new();
                let mut total = 0.0;
                for (i, w) in words.iter().enumerate() {
                    *inside.entry(w.as_str()).or_insert(0) += 1;
                    if i >= *window {
                        let out = words[i - window].as_str();
                        let c = inside.get_mut(out).expect("in the window");
                        *c -= 1;
                        if *c == 0 {
                            inside.remove(out);
                        }
                    }
                    if i + 1 >= *window {
                        total += inside.len() as f64 / *window as f64;
                    }
                }
                total / (n - window + 1) as f64
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::with_features;

    fn value(m: LexicalRichness, text: &str) -> f64 {
        let texts = vec![text.to_string()];
        m.compute(&with_features(&texts, None, None)).unwrap()
    }

    #[test]
    fn hand_computed() {
        // MATTR, window 2 over a a b: windows {a}, {a, b} → (1/2 + 2/2) / 2.
        assert_eq!(value(LexicalRichness::Mattr(2), "a a b"), 0.75);
        // HD-D, 2 draws of a a b: P(a seen) = 1 − (1/3)(0/2) = 1, P(b) = 1 − (2/3)(1/2) = 2/3.
        let v = value(LexicalRichness::Hdd(2), "a a b");
        assert!((v - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-15, "{v}");
        // MTLD of all-distinct words: no factor completes, TTR 1 → factor 1 → the length.
        assert_eq!(value(LexicalRichness::MTLD, "a b c d"), 4.0);
        // a a a a, threshold 0.72: TTR 1, 0.5 (≤ 0.72: a factor), 1, 0.5 (another): 4 / 2.
        assert_eq!(value(LexicalRichness::MTLD, "a a a a"), 2.0);
        let texts = vec!["a b".to_string()];
        assert!(LexicalRichness::MATTR.compute(&with_features(&texts, None, None)).is_err());
    }
}
