//! n-gram Vendi: the Vendi score (q = 1) of hashed word uni- and bigram count vectors under
//! the cosine kernel (Friedman and Dieng's n-gram kernel, with feature hashing). The
//! `vendi-score` package's text n-gram kernel counts n-grams exactly (no hashing); with
//! [`DIM`] columns, hash collisions among a subset's few thousand n-grams merge a small share
//! of them, which can only lower the score slightly.

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};

/// Columns of the hashed n-gram vectors.
pub const DIM: usize = 2048;

/// Vendi of hashed n-gram vectors.
pub struct NgramVendi;

impl DiversityMetric for NgramVendi {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "ngram-vendi",
            description: "Vendi score of hashed word 1-2-gram vectors, cosine kernel",
            family: Family::Lexical,
            needs: &[Need::Texts],
            direction: Direction::HigherIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let f = prism_data::text::hashed_ngram_features(input.texts, &[1, 2], DIM);
        super::vendi(&f, self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_texts_score_one_disjoint_texts_score_n() {
        let same = vec!["the cat sat".to_string(); 5];
        let v = NgramVendi
            .compute(&crate::metrics::with_features(&same, None, None))
            .unwrap();
        assert!((v - 1.0).abs() < 1e-9);
        let disjoint: Vec<String> = ["alpha", "bravo", "charlie"].map(String::from).to_vec();
        let v = NgramVendi
            .compute(&crate::metrics::with_features(&disjoint, None, None))
            .unwrap();
        assert!(
            (v - 3.0).abs() < 1e-9,
            "{v} (a hash collision would lower it)"
        );
    }
}
