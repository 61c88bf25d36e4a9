//! Remote-clique: the mean Euclidean distance over all pairs of unit-normalised embeddings
//! (Chandra and Halldórsson's remote-clique objective, averaged).
//!
//! Not the `diversity` package's `remote_clique` (0.3.1), which is the mean *cosine* distance
//! over all ordered pairs *including* each example with itself (the mean of the row means of
//! the n × n distance matrix, zeros on its diagonal), rounded to 3 decimals. Per pair the two
//! are monotone (Euclidean distance of unit vectors = sqrt(2 × cosine distance)), but their
//! means are not, and the diagonal shrinks theirs by (n − 1) / n. Ours is kept because every
//! prism report so far uses it; `mean-pairwise-cosine-distance` is the cosine mean over
//! distinct pairs.

use super::for_each_similarity_row;
use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need, require_rows};

/// Mean pairwise Euclidean distance of unit embeddings.
pub struct RemoteClique;

impl DiversityMetric for RemoteClique {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "remote-clique",
            description: "mean Euclidean distance over all pairs of unit embeddings",
            family: Family::Embedding,
            needs: &[Need::Embeddings],
            direction: Direction::HigherIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let e = require_rows(input, self.name(), Need::Embeddings, 2)?;
        let n = e.n();
        let mut total = 0.0;
        for_each_similarity_row(e, |i, sims| {
            total += sims[i + 1..]
                .iter()
                .map(|s| (2.0 - 2.0 * s).max(0.0).sqrt())
                .sum::<f64>();
        });
        Ok(total / (n * (n - 1) / 2) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let e = crate::metrics::axes(3, 4);
        let v = RemoteClique
            .compute(&crate::metrics::with_features(&[], Some(&e), None))
            .unwrap();
        assert!((v - 2f64.sqrt()).abs() < 1e-12);
        // e1, e1, e2: distances 0, √2, √2 → mean 2√2/3.
        let f = prism_vendi::Features::new(vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0], 3, 2);
        let v = RemoteClique
            .compute(&crate::metrics::with_features(&[], Some(&f), None))
            .unwrap();
        assert!((v - 2.0 * 2f64.sqrt() / 3.0).abs() < 1e-12);
    }
}
