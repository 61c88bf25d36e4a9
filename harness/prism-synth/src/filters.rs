//! Quality and hygiene filters every candidate passes before its gradient is even computed:
//! length bounds, exact and near duplicates (against the pool and within the batch), and
//! n-gram decontamination against every evaluation set of the task.
//!
//! Text is compared through `prism_data::text::tokens` (lower-cased alphanumeric words), so
//! punctuation, case and spacing never make two copies look different.

use prism_data::text::{fnv1a, tokens};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Filter settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// Fewest words a candidate may have.
    #[serde(default = "FilterConfig::default_min_words")]
    pub min_words: usize,
    /// Most words a candidate may have.
    #[serde(default = "FilterConfig::default_max_words")]
    pub max_words: usize,
    /// A candidate whose word-shingle Jaccard similarity with a pool or kept example reaches
    /// this is a near duplicate.
    #[serde(default = "FilterConfig::default_near_duplicate")]
    pub near_duplicate: f64,
    /// Words per shingle for near duplicates.
    #[serde(default = "FilterConfig::default_shingle")]
    pub shingle: usize,
    /// A candidate sharing one n-gram of this many words with an evaluation set is
    /// contaminated (the paper's 10-gram rule), unless the pool holds that n-gram too (then it
    /// is the pool's wording, not a leak); an evaluation text shorter than n words
    /// contaminates a candidate equal to it.
    #[serde(default = "FilterConfig::default_decontamination_ngram")]
    pub decontamination_ngram: usize,
}

impl FilterConfig {
    fn default_min_words() -> usize {
        8
    }
    fn default_max_words() -> usize {
        512
    }
    fn default_near_duplicate() -> f64 {
        0.8
    }
    fn default_shingle() -> usize {
        3
    }
    fn default_decontamination_ngram() -> usize {
        10
    }
}

impl Default for FilterConfig {
    fn default() -> Self {
        Self {
            min_words: Self::default_min_words(),
            max_words: Self::default_max_words(),
            near_duplicate: Self::default_near_duplicate(),
            shingle: Self::default_shingle(),
            decontamination_ngram: Self::default_decontamination_ngram(),
        }
    }
}

/// Why a candidate was dropped by the filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rejection {
    /// Fewer than `min_words`.
    TooShort,
    /// More than `max_words`.
    TooLong,
    /// The same words as a pool example or an earlier candidate.
    ExactDuplicate,
    /// Shingle Jaccard at least `near_duplicate` with a pool example or an earlier candidate.
    NearDuplicate,
    /// Shares an n-gram with an evaluation set.
    Contaminated,
}

/// The filters' memory: what the pool and the accepted candidates hold, and the evaluation
/// sets' n-grams. A candidate that passes is remembered, so a later copy of it in the same
/// batch is a duplicate.
pub struct Hygiene {
    config: FilterConfig,
    exact: HashSet<u64>,
    /// Shingle hash → documents holding it.
    postings: HashMap<u64, Vec<u32>>,
    /// Distinct shingles per document.
    shingle_counts: Vec<u32>,
    contaminating: HashSet<u64>,
    short_eval: HashSet<u64>,
}

fn words_hash(words: &[String]) -> u64 {
    fnv1a(words.join(" ").as_bytes())
}

fn shingles(words: &[String], n: usize) -> HashSet<u64> {
    if words.len() < n {
        return HashSet::from([words_hash(words)]);
    }
    words.windows(n).map(words_hash).collect()
}

impl Hygiene {
    /// Filters that know the `pool` texts and the `eval` texts (every ID and OOD set).
    pub fn new<P: AsRef<str>, E: AsRef<str>>(config: FilterConfig, pool: &[P], eval: &[E]) -> Self {
        let n = config.decontamination_ngram.max(1);
        let mut contaminating = HashSet::new();
        let mut short_eval = HashSet::new();
        for text in eval {
            let words = tokens(text.as_ref());
            if words.len() < n {
                short_eval.insert(words_hash(&words));
            } else {
                contaminating.extend(words.windows(n).map(words_hash));
            }
        }
        let mut hygiene = Self {
            config,
            exact: HashSet::new(),
            postings: HashMap::new(),
            shingle_counts: Vec::new(),
            contaminating,
            short_eval,
        };
        for text in pool {
            let words = tokens(text.as_ref());
            // An n-gram the pool itself holds is the pool's own wording (GSM-Symbolic ends
            // every question with the same 10-word instruction, and its ID test shares the
            // templates), not a leak from an evaluation set: it contaminates nothing.
            for w in words.windows(n) {
                hygiene.contaminating.remove(&words_hash(w));
            }
            hygiene.remember(&words);
        }
        hygiene
    }

    fn remember(&mut self, words: &[String]) {
        self.exact.insert(words_hash(words));
        let id = self.shingle_counts.len() as u32;
        let set = shingles(words, self.config.shingle.max(1));
        self.shingle_counts.push(set.len() as u32);
        for s in set {
            self.postings.entry(s).or_default().push(id);
        }
    }

    /// The highest shingle Jaccard similarity of `words` with a remembered text.
    fn nearest(&self, words: &[String]) -> f64 {
        let set = shingles(words, self.config.shingle.max(1));
        let mut shared: HashMap<u32, u32> = HashMap::new();
        for s in &set {
            for &doc in self.postings.get(s).map(Vec::as_slice).unwrap_or(&[]) {
                *shared.entry(doc).or_default() += 1;
            }
        }
        shared
            .into_iter()
            .map(|(doc, inter)| {
                let union =
                    set.len() as f64 + self.shingle_counts[doc as usize] as f64 - inter as f64;
                inter as f64 / union
            })
            .fold(0.0, f64::max)
    }

    /// Checks one candidate; if it passes, remembers it. The checks run in a fixed order
    /// (length, contamination, exact, near duplicate) and the first failure is the reason.
    pub fn admit(&mut self, text: &str) -> Result<(), Rejection> {
        let words = tokens(text);
        if words.len() < self.config.min_words {
            return Err(Rejection::TooShort);
        }
        if words.len() > self.config.max_words {
            return Err(Rejection::TooLong);
        }
        let n = self.config.decontamination_ngram.max(1);
        if self.short_eval.contains(&words_hash(&words))
            || words
                .windows(n)
                .any(|w| self.contaminating.contains(&words_hash(w)))
        {
            return Err(Rejection::Contaminated);
        }
        if self.exact.contains(&words_hash(&words)) {
            return Err(Rejection::ExactDuplicate);
        }
        if self.nearest(&words) >= self.config.near_duplicate {
            return Err(Rejection::NearDuplicate);
        }
        self.remember(&words);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hygiene() -> Hygiene {
        let pool = [
            "Tom has 3 apples and buys 5 more. How many apples does Tom have now?",
            "A train travels 60 miles per hour for 3 hours. How far does it go?",
        ];
        let eval = [
            "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins with four.",
            "What is 7 + 8?",
        ];
        Hygiene::new(FilterConfig::default(), &pool, &eval)
    }

    #[test]
    fn each_rule_drops_what_it_should_and_nothing_else() {
        let mut h = hygiene();
        assert_eq!(h.admit("Too short to keep."), Err(Rejection::TooShort));
        let long = "word ".repeat(600);
        assert_eq!(h.admit(&long), Err(Rejection::TooLong));
        assert_eq!(
            h.admit("tom HAS 3 apples, and buys 5 more!! How many apples does Tom have now"),
            Err(Rejection::ExactDuplicate),
            "case and punctuation do not hide a copy"
        );
        assert_eq!(
            h.admit("A train travels 60 miles per hour for 3 hours. How far does it go in total?"),
            Err(Rejection::NearDuplicate)
        );
        assert_eq!(
            h.admit("Maria knows that Janet's ducks lay 16 eggs per day. She eats three for breakfast daily, so what is left?"),
            Err(Rejection::Contaminated),
            "a shared 10-gram"
        );
        assert_eq!(h.admit("What is 7 + 8?"), Err(Rejection::TooShort));
        let novel = "A baker sells 12 loaves each hour for 6 hours and then gives away 9. How many were sold?";
        assert_eq!(h.admit(novel), Ok(()));
        assert_eq!(
            h.admit(novel),
            Err(Rejection::ExactDuplicate),
            "within the batch too"
        );
    }

    #[test]
    fn wording_the_pool_shares_with_an_evaluation_set_is_not_contamination() {
        let tail = "Give the result as your final answer. Do not include units.";
        let pool = [format!("Tom has 3 apples and buys 5 more. {tail}")];
        let eval = [
            format!("A shop sells 4 pens a day for 9 days. {tail}"),
            "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning."
                .to_string(),
        ];
        let mut h = Hygiene::new(FilterConfig::default(), &pool, &eval);
        assert_eq!(
            h.admit(&format!("A farmer plants 7 rows of 12 trees each. {tail}")),
            Ok(()),
            "the shared instruction is the pool's wording"
        );
        assert_eq!(
            h.admit(&format!(
                "Janet's ducks lay 16 eggs per day. She eats three for breakfast every day. {tail}"
            )),
            Err(Rejection::Contaminated),
            "an evaluation set's own 10-gram still is"
        );
    }

    #[test]
    fn a_short_evaluation_text_contaminates_only_its_own_copy() {
        let config = FilterConfig {
            min_words: 1,
            ..Default::default()
        };
        let mut h = Hygiene::new(config, &[] as &[&str], &["What is 7 + 8?"]);
        assert_eq!(h.admit("what is 7 + 8"), Err(Rejection::Contaminated));
        assert_eq!(h.admit("What is 7 + 8 + 9 apples in a basket?"), Ok(()));
    }

    #[test]
    fn near_duplicate_threshold_is_the_shingle_jaccard() {
        // 20 distinct words (18 trigrams); changing the last two leaves 16 shared, so the
        // Jaccard similarity is 16 / (18 + 18 - 16) = 0.8.
        let base: Vec<String> = (0..20).map(|i| format!("w{i}")).collect();
        let mut changed = base.clone();
        changed[18] = "other".into();
        changed[19] = "words".into();
        for (threshold, expected) in [(0.8, Err(Rejection::NearDuplicate)), (0.81, Ok(()))] {
            let config = FilterConfig {
                near_duplicate: threshold,
                ..Default::default()
            };
            let mut h = Hygiene::new(config, &[base.join(" ")], &[] as &[&str]);
            assert_eq!(
                h.admit(&changed.join(" ")),
                expected,
                "threshold {threshold}"
            );
        }
    }
}
