//! The positive control: subsets whose diversity is set by construction (`groups_k`, the number
//! of whole pages or templates a `groups` subset is drawn from, at fixed size and strata). If OOD
//! accuracy does not rise with k, no metric can be tested in that regime; if it does, a
//! metric worth the name must rise with k too.

use crate::analysis::{Correlation, correlation};
use crate::runs::RunsTable;
use crate::stats::mean_sd;
use serde::Serialize;
use std::collections::BTreeMap;

/// One (scale, k) cell of the ladder.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LadderRow {
    /// Subset size.
    pub scale: f64,
    /// Pages per subset.
    pub k: f64,
    /// Subsets in the cell.
    pub subsets: usize,
    /// Their mean number of distinct pages (a groups subset draws uniformly from its k pages'
    /// pairs, so it holds fewer than k; NaN when the runs table does not say).
    pub pages: f64,
    /// Their mean OOD aggregate.
    pub ood_mean: f64,
    /// Its standard deviation across the cell's subsets (NaN below two).
    pub ood_sd: f64,
    /// Their mean ID accuracy.
    pub id_mean: f64,
}

/// A metric against the ground-truth axis.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AxisCorrelation {
    /// ρ with k, all scales pooled.
    pub with_k: Correlation,
    /// ρ with k within each scale.
    pub with_k_by_scale: BTreeMap<String, Correlation>,
    /// ρ with the OOD aggregate over the ladder's subsets.
    pub with_ood: Correlation,
}

/// The ladder: OOD accuracy against k, and every metric against k.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroundTruth {
    /// Subsets on the ladder (rows with a `groups_k`).
    pub subsets: usize,
    /// Mean OOD aggregate and ID accuracy per (scale, k).
    pub ladder: Vec<LadderRow>,
    /// ρ of the OOD aggregate with k, pooled (the control itself: does diversity help here?).
    pub ood_with_k: Correlation,
    /// The same within each scale.
    pub ood_with_k_by_scale: BTreeMap<String, Correlation>,
    /// ρ of ID accuracy with k, pooled.
    pub id_with_k: Correlation,
    /// Each metric against k and against OOD accuracy.
    pub metrics: BTreeMap<String, AxisCorrelation>,
}

/// The ladder of `runs` (one row per subset), or `None` when fewer than three distinct k are
/// present: no axis to correlate with.
pub fn ground_truth(runs: &RunsTable, scale_key: impl Fn(f64) -> String) -> Option<GroundTruth> {
    let rows: Vec<usize> = (0..runs.len())
        .filter(|&i| runs.groups_k.get(i).is_some_and(|k| k.is_finite()))
        .collect();
    let mut ks: Vec<f64> = rows.iter().map(|&i| runs.groups_k[i]).collect();
    ks.sort_by(f64::total_cmp);
    ks.dedup();
    if ks.len() < 3 {
        return None;
    }
    let pick = |v: &[f64], idx: &[usize]| idx.iter().map(|&i| v[i]).collect::<Vec<_>>();
    let mut scales: Vec<f64> = rows.iter().map(|&i| runs.scale[i]).collect();
    scales.sort_by(f64::total_cmp);
    scales.dedup();
    let at_scale = |s: f64| -> Vec<usize> {
        rows.iter()
            .copied()
            .filter(|&i| runs.scale[i] == s)
            .collect()
    };
    let mut ladder = Vec::new();
    for &s in &scales {
        for &k in &ks {
            let cell: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&i| runs.scale[i] == s && runs.groups_k[i] == k)
                .collect();
            if cell.is_empty() {
                continue;
            }
            let (ood_mean, ood_sd) = mean_sd(&pick(&runs.ood_mean, &cell));
            ladder.push(LadderRow {
                scale: s,
                k,
                subsets: cell.len(),
                pages: mean_sd(&pick(&runs.distinct_groups, &cell)).0,
                ood_mean,
                ood_sd,
                id_mean: mean_sd(&pick(&runs.id_acc, &cell)).0,
            });
        }
    }
    let k_of = |idx: &[usize]| pick(&runs.groups_k, idx);
    let by_scale = |column: &[f64]| -> BTreeMap<String, Correlation> {
        scales
            .iter()
            .map(|&s| {
                let idx = at_scale(s);
                (scale_key(s), correlation(&k_of(&idx), &pick(column, &idx)))
            })
            .collect()
    };
    let metrics = runs
        .metrics
        .iter()
        .map(|(name, values)| {
            (
                name.clone(),
                AxisCorrelation {
                    with_k: correlation(&k_of(&rows), &pick(values, &rows)),
                    with_k_by_scale: by_scale(values),
                    with_ood: correlation(&pick(values, &rows), &pick(&runs.ood_mean, &rows)),
                },
            )
        })
        .collect();
    Some(GroundTruth {
        subsets: rows.len(),
        ladder,
        ood_with_k: correlation(&k_of(&rows), &pick(&runs.ood_mean, &rows)),
        ood_with_k_by_scale: by_scale(&runs.ood_mean),
        id_with_k: correlation(&k_of(&rows), &pick(&runs.id_acc, &rows)),
        metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladder_cells_and_rank_correlations_by_hand() {
        // Two scales, k = 4, 8, 16, two seeds each; OOD rises with k at scale 100 and falls
        // at scale 200; metric `m` equals k, metric `r` is its reverse.
        let k = [
            4.0, 4.0, 8.0, 8.0, 16.0, 16.0, 4.0, 4.0, 8.0, 8.0, 16.0, 16.0,
        ];
        let ood = [
            0.40, 0.42, 0.44, 0.46, 0.48, 0.50, 0.60, 0.58, 0.56, 0.54, 0.52, 0.50,
        ];
        let n = k.len();
        let runs = RunsTable {
            run_id: (0..n).map(|i| format!("r{i}")).collect(),
            scale: (0..n).map(|i| if i < 6 { 100.0 } else { 200.0 }).collect(),
            strategy: vec!["groups".into(); n],
            seed: vec!["0".into(); n],
            train_seed: vec![String::new(); n],
            subset: vec![String::new(); n],
            metrics: BTreeMap::from([
                ("m".into(), k.to_vec()),
                ("r".into(), k.iter().map(|v| -v).collect()),
            ]),
            benches: BTreeMap::new(),
            id_acc: vec![0.7; n],
            ood_mean: ood.to_vec(),
            ood_members: Vec::new(),
            majority: BTreeMap::new(),
            id_majority: vec![f64::NAN; n],
            groups_k: k.to_vec(),
            gradient_rows: vec![f64::NAN; k.len()],
            distinct_groups: k.iter().map(|v| v * 0.75).collect(),
        };
        let g = ground_truth(&runs, |s| format!("{s}")).unwrap();
        assert_eq!(g.subsets, 12);
        assert_eq!(g.ladder.len(), 6);
        assert_eq!((g.ladder[0].scale, g.ladder[0].k), (100.0, 4.0));
        assert!((g.ladder[0].ood_mean - 0.41).abs() < 1e-12);
        assert!((g.ladder[0].pages - 3.0).abs() < 1e-12);
        assert!((g.ladder[0].ood_sd - 0.02 / 2f64.sqrt()).abs() < 1e-12);
        // Within each scale OOD is monotone in k (ties in k): ρ = ±0.956 (k ranks 1.5, 1.5,
        // 3.5, 3.5, 5.5, 5.5 against 1..6: Pearson of the ranks = 16 / √(16 · 17.5)).
        let within = 16.0 / (16.0f64 * 17.5).sqrt();
        assert!((g.ood_with_k_by_scale["100"].rho - within).abs() < 1e-12);
        assert!((g.ood_with_k_by_scale["200"].rho + within).abs() < 1e-12);
        assert!((g.metrics["m"].with_k.rho - 1.0).abs() < 1e-12);
        assert!((g.metrics["r"].with_k.rho + 1.0).abs() < 1e-12);
        assert_eq!(g.metrics["m"].with_ood.n, 12);
        assert!(g.id_with_k.rho.is_nan(), "constant ID accuracy");
        // Fewer than three k: no ladder.
        let mut two = runs.clone();
        two.groups_k = k.iter().map(|v| v.min(8.0)).collect();
        assert!(ground_truth(&two, |s| format!("{s}")).is_none());
    }
}
