//! Local density of points in a reference set, as NovelSum and NovelSelect (Yang et al., ACL
//! 2025) define it: 1 / (mean squared L2 distance to the K nearest reference points + 1e-9)^β,
//! the reference deduplicated and its nearest point dropped (the query is assumed to be in it).
//! Exact search, like faiss' flat index: one GEMM per block of queries,
//! ‖q‖² + ‖r‖² − 2 q·r.

use crate::Features;
use rayon::prelude::*;

/// The rows of `x` with exact duplicates removed (as `np.unique(axis=0)`; the order does not
/// matter to a nearest-neighbour search).
pub fn unique_rows(x: &Features) -> Vec<&[f32]> {
    let mut rows: Vec<&[f32]> = (0..x.n()).map(|i| x.row(i)).collect();
    rows.sort_by(|a, b| {
        a.iter()
            .zip(*b)
            .map(|(p, q)| p.total_cmp(q))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    rows.dedup_by(|a, b| a == b);
    rows
}

/// Each query row's density among the rows of `reference` (see the module doc).
pub fn local_density(
    queries: &Features,
    reference: &Features,
    neighbors: usize,
    power: f64,
) -> Vec<f64> {
    const BLOCK: usize = 256;
    let refs = unique_rows(reference);
    let (m, d) = (refs.len(), queries.d());
    let take = (neighbors + 1).min(m);
    let r: Vec<f64> = refs
        .iter()
        .flat_map(|row| row.iter().map(|v| *v as f64))
        .collect();
    let r = faer::MatRef::from_row_major_slice(&r, m, d);
    let r_norms: Vec<f64> = (0..m)
        .map(|j| r.row(j).iter().map(|v| v * v).sum())
        .collect();
    let q: Vec<f64> = queries.as_slice().iter().map(|v| *v as f64).collect();
    let q = faer::MatRef::from_row_major_slice(&q, queries.n(), d);
    let mut out = Vec::with_capacity(queries.n());
    let mut start = 0;
    while start < queries.n() {
        let rows = BLOCK.min(queries.n() - start);
        let block = q.subrows(start, rows);
        let dots: faer::Mat<f64> = block * r.transpose();
        let density = |i: usize| {
            let q_norm: f64 = block.row(i).iter().map(|v| v * v).sum();
            let mut dist: Vec<f64> = (0..m)
                .map(|j| (q_norm + r_norms[j] - 2.0 * dots[(i, j)]).max(0.0))
                .collect();
            dist.select_nth_unstable_by(take - 1, f64::total_cmp);
            let nearest = &mut dist[..take];
            nearest.sort_by(f64::total_cmp);
            let kept = &nearest[1..];
            let mean = kept.iter().sum::<f64>() / kept.len().max(1) as f64;
            1.0 / (mean + 1e-9).powf(power)
        };
        out.extend((0..rows).into_par_iter().map(density).collect::<Vec<_>>());
        start += rows;
    }
    out
}
