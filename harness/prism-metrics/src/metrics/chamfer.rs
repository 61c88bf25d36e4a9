//! Chamfer distance of a set to itself: the mean, over examples, of the cosine distance to the
//! nearest *other* example. Near-duplicates pull it to zero. The `diversity` package's
//! `chamfer_dist` (0.3.1) is the same quantity (it masks the diagonal with 1e9), rounded to 3
//! decimals and computed on its own embedder's vectors.

use super::for_each_similarity_row;
use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need, require_rows};

/// Mean nearest-neighbour cosine distance.
pub struct Chamfer;

impl DiversityMetric for Chamfer {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "chamfer",
            description: "mean cosine distance from each embedding to its nearest other embedding",
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
            let nearest = sims
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, s)| *s)
                .fold(f64::NEG_INFINITY, f64::max);
            total += 1.0 - nearest;
        });
        Ok(total / n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        // e1, e1, e2: nearest distances 0, 0, 1 → 1/3.
        let f = prism_vendi::Features::new(vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0], 3, 2);
        let v = Chamfer
            .compute(&crate::metrics::with_features(&[], Some(&f), None))
            .unwrap();
        assert!((v - 1.0 / 3.0).abs() < 1e-12);
    }
}
