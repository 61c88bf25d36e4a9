//! The controls of a subset, as measured, next to their targets.

use super::{Pool, Quotas, length};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// What a subset holds against what it had to hold.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Controls {
    /// Requested size.
    pub target_size: usize,
    /// Actual size.
    pub size: usize,
    /// Per label: target (pool proportion × n, before rounding), actual count.
    pub labels: BTreeMap<String, LabelControl>,
    /// Upper edges of the length bins (words), shared with the pool.
    pub length_bin_edges: Vec<usize>,
    /// Per bin: target and actual counts (summed over labels).
    pub length_bins: Vec<BinControl>,
    /// Length distribution (premise + hypothesis words) of the subset.
    pub length: LengthStats,
    /// Same, for the pool.
    pub pool_length: LengthStats,
    /// Number of repeated (premise, hypothesis) pairs in the subset.
    pub duplicate_pairs: usize,
    /// Distinct groups (pages) among the chosen examples: a first view of diversity.
    pub distinct_groups: usize,
    /// Whether every control held: exact size, labels within ±1 of the pool's proportion,
    /// every (label, bin) cell at its quota, no duplicates.
    pub held: bool,
}

/// One label's control.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LabelControl {
    /// The pool's proportion × n.
    pub exact_target: f64,
    /// The subset's count.
    pub actual: usize,
}

/// One length bin's control.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BinControl {
    /// Quota (sum over labels).
    pub target: usize,
    /// Actual count.
    pub actual: usize,
}

/// Summary statistics of lengths in words.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LengthStats {
    /// Mean.
    pub mean: f64,
    /// 10th percentile.
    pub p10: usize,
    /// Median.
    pub p50: usize,
    /// 90th percentile.
    pub p90: usize,
}

impl LengthStats {
    fn of(mut lengths: Vec<usize>) -> LengthStats {
        if lengths.is_empty() {
            return LengthStats {
                mean: 0.0,
                p10: 0,
                p50: 0,
                p90: 0,
            };
        }
        lengths.sort_unstable();
        let q = |p: f64| {
            lengths[((p * (lengths.len() - 1) as f64).round() as usize).min(lengths.len() - 1)]
        };
        LengthStats {
            mean: lengths.iter().sum::<usize>() as f64 / lengths.len() as f64,
            p10: q(0.1),
            p50: q(0.5),
            p90: q(0.9),
        }
    }
}

impl Controls {
    /// Measures the controls of `selection` against `quotas`.
    pub fn measure(pool: &Pool, quotas: &Quotas, selection: &[usize]) -> Controls {
        let n = quotas.total();
        let bins = pool.bins();
        let mut cell_actual = vec![0usize; pool.cells()];
        for &i in selection {
            cell_actual[pool.cell(i)] += 1;
        }
        let pool_counts = pool.cell_counts();
        let mut labels = BTreeMap::new();
        let mut labels_ok = true;
        for (l, name) in pool.labels.iter().enumerate() {
            let pool_label: usize = pool_counts[l * bins..(l + 1) * bins].iter().sum();
            let exact_target = pool_label as f64 * n as f64 / pool.len() as f64;
            let actual: usize = cell_actual[l * bins..(l + 1) * bins].iter().sum();
            labels_ok &= (actual as f64 - exact_target).abs() <= 1.0;
            labels.insert(
                name.clone(),
                LabelControl {
                    exact_target,
                    actual,
                },
            );
        }
        let length_bins = (0..bins)
            .map(|b| BinControl {
                target: (0..pool.labels.len())
                    .map(|l| quotas.per_cell[l * bins + b])
                    .sum(),
                actual: (0..pool.labels.len())
                    .map(|l| cell_actual[l * bins + b])
                    .sum(),
            })
            .collect();
        let mut pairs = HashSet::new();
        let duplicate_pairs = selection
            .iter()
            .filter(|i| {
                let e = &pool.examples[**i];
                !pairs.insert((e.premise.as_str(), e.hypothesis.as_str()))
            })
            .count();
        let distinct_groups = selection
            .iter()
            .map(|i| pool.examples[*i].group.as_str())
            .collect::<HashSet<_>>()
            .len();
        let held = selection.len() == n
            && labels_ok
            && cell_actual == quotas.per_cell
            && duplicate_pairs == 0;
        Controls {
            target_size: n,
            size: selection.len(),
            labels,
            length_bin_edges: pool.bin_edges.clone(),
            length_bins,
            length: LengthStats::of(
                selection
                    .iter()
                    .map(|i| length(&pool.examples[*i]))
                    .collect(),
            ),
            pool_length: LengthStats::of(pool.examples.iter().map(length).collect()),
            duplicate_pairs,
            distinct_groups,
            held,
        }
    }
}
