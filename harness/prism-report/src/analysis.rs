//! Every metric against OOD accuracy: pooled, per scale, controlling for scale, per benchmark
//! and against in-distribution accuracy.

use crate::runs::RunsTable;
use crate::seeds::{SeedNoise, average_training_seeds};
use crate::stats;
use serde::Serialize;
use std::collections::BTreeMap;

/// Settings of the analysis.
#[derive(Debug, Clone, Serialize)]
pub struct ReportOptions {
    /// Bootstrap resamples for the interval of ρ.
    pub bootstrap_reps: usize,
    /// Confidence level of the interval.
    pub level: f64,
    /// Seed of the bootstrap.
    pub seed: u64,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            bootstrap_reps: 2000,
            level: 0.95,
            seed: 0,
        }
    }
}

/// ρ, its p-value and the number of runs it used.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Correlation {
    /// Spearman's ρ (NaN when undefined, e.g. a constant column).
    pub rho: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Runs with both values present.
    pub n: usize,
}

/// One metric's results.
#[derive(Debug, Clone, Serialize)]
pub struct MetricReport {
    /// Runs used for the pooled correlation.
    pub n: usize,
    /// Spearman's ρ with `ood_mean`, all scales pooled.
    pub rho: f64,
    /// Its two-sided p-value.
    pub p: f64,
    /// `exact permutation` (n ≤ 8) or `t approximation`.
    pub p_method: &'static str,
    /// Lower end of the bootstrap interval.
    pub ci_low: f64,
    /// Upper end of the bootstrap interval.
    pub ci_high: f64,
    /// Partial Spearman ρ with `ood_mean` controlling for scale.
    pub partial_rho: f64,
    /// Its p-value (t with n − 3 df).
    pub partial_p: f64,
    /// ρ with `ood_mean` within each scale.
    pub by_scale: BTreeMap<String, Correlation>,
    /// ρ with each benchmark's accuracy.
    pub benches: BTreeMap<String, Correlation>,
    /// ρ with in-distribution accuracy.
    pub id_acc: Correlation,
}

/// The whole analysis.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Rows analysed: one per subset (its students' accuracies averaged).
    pub runs: usize,
    /// Students in the runs table (more than `runs` when subsets have several training seeds).
    pub students: usize,
    /// The training seeds' noise against the subsets' spread, when subsets have several.
    pub seed_noise: Option<SeedNoise>,
    /// Distinct scales.
    pub scales: Vec<f64>,
    /// Distinct strategies.
    pub strategies: Vec<String>,
    /// Benchmarks.
    pub benchmarks: Vec<String>,
    /// Per metric.
    pub metrics: BTreeMap<String, MetricReport>,
    /// Settings used.
    pub options: ReportOptions,
}

/// The rows where both `x` and `y` are finite.
fn complete(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    x.iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .unzip()
}

fn correlation(x: &[f64], y: &[f64]) -> Correlation {
    let (x, y) = complete(x, y);
    Correlation {
        rho: stats::spearman(&x, &y),
        p: stats::spearman_p(&x, &y),
        n: x.len(),
    }
}

fn scale_key(scale: f64) -> String {
    if scale.fract() == 0.0 {
        format!("{}", scale as i64)
    } else {
        format!("{scale}")
    }
}

/// Runs the analysis of `runs`, one row per subset: the students of a subset trained with
/// several seeds are averaged first ([`average_training_seeds`]).
pub fn analyze(runs: &RunsTable, options: &ReportOptions) -> Report {
    let students = runs.len();
    let (runs, seed_noise) = average_training_seeds(runs);
    let runs = &runs;
    let mut scales: Vec<f64> = runs
        .scale
        .iter()
        .copied()
        .filter(|s| s.is_finite())
        .collect();
    scales.sort_by(f64::total_cmp);
    scales.dedup();
    let mut strategies = runs.strategy.clone();
    strategies.sort();
    strategies.dedup();
    let mut metrics = BTreeMap::new();
    for (name, values) in &runs.metrics {
        let (x, y) = complete(values, &runs.ood_mean);
        let pooled = correlation(values, &runs.ood_mean);
        let (ci_low, ci_high) =
            stats::bootstrap_ci(&x, &y, options.bootstrap_reps, options.level, options.seed);
        let rows: Vec<usize> = (0..runs.len())
            .filter(|i| {
                values[*i].is_finite()
                    && runs.ood_mean[*i].is_finite()
                    && runs.scale[*i].is_finite()
            })
            .collect();
        let pick = |v: &[f64]| rows.iter().map(|i| v[*i]).collect::<Vec<_>>();
        let partial_rho =
            stats::partial_spearman(&pick(values), &pick(&runs.ood_mean), &pick(&runs.scale));
        let by_scale = scales
            .iter()
            .map(|s| {
                let idx: Vec<usize> = (0..runs.len()).filter(|i| runs.scale[*i] == *s).collect();
                let sub = |v: &[f64]| idx.iter().map(|i| v[*i]).collect::<Vec<_>>();
                (
                    scale_key(*s),
                    correlation(&sub(values), &sub(&runs.ood_mean)),
                )
            })
            .collect();
        let benches = runs
            .benches
            .iter()
            .map(|(b, acc)| (b.clone(), correlation(values, acc)))
            .collect();
        metrics.insert(
            name.clone(),
            MetricReport {
                n: pooled.n,
                rho: pooled.rho,
                p: pooled.p,
                p_method: if pooled.n <= stats::EXACT_MAX_N {
                    "exact permutation"
                } else {
                    "t approximation"
                },
                ci_low,
                ci_high,
                partial_rho,
                partial_p: stats::partial_p(partial_rho, rows.len()),
                by_scale,
                benches,
                id_acc: correlation(values, &runs.id_acc),
            },
        );
    }
    Report {
        runs: runs.len(),
        students,
        seed_noise,
        scales,
        strategies,
        benchmarks: runs.benches.keys().cloned().collect(),
        metrics,
        options: options.clone(),
    }
}
