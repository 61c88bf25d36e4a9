//! NovelSum (Yang et al., ACL 2025, arXiv 2502.17184): diversity as the novelty each example
//! adds, weighted by how close its neighbours are and how dense its region of a reference set
//! is. Transcribed from `novelsum.py` and `utils.py` of UmeanNever/NovelSum (commit b594962),
//! with its defaults:
//!
//! 1. `D[i][j]` = 1 − cosine similarity between the subset's embeddings, self-distance (0)
//!    included, as the reference does by default;
//! 2. density_i = 1 / (mean squared L2 distance to its K nearest neighbours in the reference
//!    set + 1e-9)^β, where the reference set is deduplicated and its K + 1 nearest are found
//!    and the nearest dropped (the reference's "exclude self": a subset example is in the pool);
//! 3. row i of D times density_i, sorted ascending, averaged with weights 1 / rankᵅ;
//! 4. the mean over rows.
//!
//! The reference set is the experiment's pool (the sweep passes its embeddings); K = 10,
//! β = 0.5, α = 1 by default (the paper's grid: K ∈ {5, 10}, β ∈ {0, 0.25, 0.5}, α ∈ {0, 1, 2}).
//! The neighbour search is exact (the reference uses faiss' exact `IndexFlatL2`).

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};
use prism_vendi::Features;

/// NovelSum with its three settings.
pub struct NovelSum {
    /// Neighbours K for the density.
    pub neighbors: usize,
    /// Density power β.
    pub density_power: f64,
    /// Proximity-weight power α.
    pub distance_power: f64,
}

impl Default for NovelSum {
    fn default() -> Self {
        Self {
            neighbors: 10,
            density_power: 0.5,
            distance_power: 1.0,
        }
    }
}

impl NovelSum {
    /// Each query row's density against `reference` (see the module doc, step 2).
    pub fn densities(&self, queries: &Features, reference: &Features) -> Vec<f64> {
        prism_vendi::density::local_density(
            queries,
            reference,
            self.neighbors,
            self.density_power,
        )
    }
}

impl DiversityMetric for NovelSum {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "novelsum",
            description: "mean over examples of proximity-weighted cosine distances scaled by density in the pool (NovelSum, K 10, beta 0.5, alpha 1)",
            family: Family::Embedding,
            needs: &[Need::Embeddings, Need::ReferenceEmbeddings],
            direction: Direction::HigherIsMoreDiverse,
        }
    }

    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let x = crate::require_rows(input, self.name(), Need::Embeddings, 2)?;
        let reference = crate::require(input, self.name(), Need::ReferenceEmbeddings)?;
        if reference.d() != x.d() || reference.n() < self.neighbors + 1 {
            return Err(MetricError::Failed {
                metric: self.name(),
                message: format!(
                    "the reference set has {} rows of dimension {}; needs at least {} of dimension {}",
                    reference.n(),
                    reference.d(),
                    self.neighbors + 1,
                    x.d()
                ),
            });
        }
        let densities = self.densities(x, reference);
        let weights: Vec<f64> = (1..=x.n())
            .map(|rank| 1.0 / (rank as f64).powf(self.distance_power))
            .collect();
        let weight_sum: f64 = weights.iter().sum();
        let mut total = 0.0;
        super::for_each_similarity_row(x, |i, sims| {
            let mut row: Vec<f64> = sims.iter().map(|s| (1.0 - s) * densities[i]).collect();
            row.sort_by(f64::total_cmp);
            total += row.iter().zip(&weights).map(|(d, w)| d * w).sum::<f64>() / weight_sum;
        });
        Ok(total / x.n() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{axes, with_features};

    #[test]
    fn hand_computed_on_orthogonal_examples() {
        let texts = vec![String::new(); 3];
        let x = axes(3, 4);
        // Reference: the three axes, twice (deduplicated), and the fourth axis.
        let mut data = axes(4, 4).as_slice().to_vec();
        data.extend_from_slice(axes(3, 4).as_slice());
        let reference = Features::new(data, 7, 4);
        let metric = NovelSum {
            neighbors: 2,
            density_power: 1.0,
            distance_power: 1.0,
        };
        // Each axis: nearest is itself (dropped), then two others at squared distance 2.
        let density = 1.0 / (2.0 + 1e-9);
        assert_eq!(metric.densities(&x, &reference), vec![density; 3]);
        let mut input = with_features(&texts, Some(&x), None);
        input.reference_embeddings = Some(&reference);
        // Each row: distances 0, 1, 1 with weights 1, 1/2, 1/3.
        let row = (0.0 + 0.5 + 1.0 / 3.0) / (1.0 + 0.5 + 1.0 / 3.0) * density;
        let v = metric.compute(&input).unwrap();
        assert!((v - row).abs() < 1e-12, "{v} vs {row}");
        input.reference_embeddings = None;
        assert!(matches!(
            metric.compute(&input),
            Err(MetricError::MissingInput { need: Need::ReferenceEmbeddings, .. })
        ));
    }
}
