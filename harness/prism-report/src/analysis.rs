//! Every metric against OOD accuracy: pooled, per scale, controlling for scale, per benchmark
//! and against in-distribution accuracy.

use crate::diagnostics::{Diagnostics, diagnose};
use crate::ground_truth::{GroundTruth, ground_truth};
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
    /// What the task calls its score, its baseline and its ground-truth groups.
    pub terms: Terms,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            bootstrap_reps: 2000,
            level: 0.95,
            seed: 0,
            terms: Terms::default(),
        }
    }
}

/// The words a report uses for what its task measures, so that a math report does not call a
/// negative NLL "accuracy" or a template a "page". Each task supplies its own
/// (`RunKind::report_terms`); the default is NLI's.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Terms {
    /// What a benchmark's figure is ("accuracy"; math: "score (−NLL)").
    pub score: String,
    /// What a student is compared with for headroom ("majority rate"; math: "untuned
    /// student").
    pub baseline: String,
    /// What the `groups` strategy draws whole, plural ("pages"; math: "templates").
    pub groups: String,
    /// What every subset holds at the pool's proportions ("labels"; math: "difficulty").
    pub strata: String,
}

impl Terms {
    /// The report's title.
    pub fn title(&self) -> String {
        format!("Diversity metrics vs OOD {}", self.score)
    }

    /// The ground-truth section's title (and its plot's caption).
    pub fn ladder_title(&self) -> String {
        format!("OOD {} against k {}", self.score, self.groups)
    }
}

impl Default for Terms {
    fn default() -> Self {
        Self {
            score: "accuracy".into(),
            baseline: "majority rate".into(),
            groups: "pages".into(),
            strata: "labels".into(),
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
    /// ρ with subset size: most metrics move with n, so where OOD accuracy also moves with n
    /// a pooled ρ rewards any of them (the partial ρ holds size fixed).
    pub size: Correlation,
    /// ρ with `ood_mean` of each training seed's students alone (keyed by seed), when subsets
    /// have several: how much the pooled ρ, taken on their means, owes to one seed.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_train_seed: BTreeMap<String, Correlation>,
}

/// The whole analysis.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What the study can detect (headroom, noise, smallest detectable ρ), before any ρ.
    pub diagnostics: Diagnostics,
    /// OOD accuracy and every metric against the ground-truth diversity axis (`groups_k`),
    /// when the sweep has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ground_truth: Option<GroundTruth>,
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
    /// Empty (missing) cells per column of the runs table, for the columns that have any: a
    /// metric that failed on a subset, a run without one of the declared benchmarks. Each
    /// statistic uses the rows where its values are present; the report states these counts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub missing: BTreeMap<String, usize>,
    /// ρ of the OOD aggregate with subset size (when the sweep has several sizes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ood_size: Option<Correlation>,
    /// How many members of each subset the gradient metrics saw, when they saw a seeded draw
    /// (`gvendi.sample` < 1): a reader must know G-Vendi is then an estimate from a sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gradient_draw: Option<GradientDraw>,
}

/// The members per subset that a sampled featurisation left to the gradient metrics.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GradientDraw {
    /// Fewest members of any subset.
    pub min: f64,
    /// Mean over subsets.
    pub mean: f64,
    /// Most members of any subset.
    pub max: f64,
}

impl GradientDraw {
    /// The draw's spread over the rows of `gradient_rows`, or `None` when no row has one.
    fn of(gradient_rows: &[f64]) -> Option<Self> {
        if !gradient_rows.iter().any(|v| v.is_finite()) {
            return None;
        }
        let (min, max) = crate::stats::min_max(gradient_rows);
        Some(Self {
            min,
            mean: crate::stats::mean_sd(gradient_rows).0,
            max,
        })
    }
}

/// Missing (NaN) cells per column of `runs` (metrics, benchmarks, `id_acc`, `ood_mean`), for
/// the columns that have some but are not empty throughout.
pub fn missing_cells(runs: &RunsTable) -> BTreeMap<String, usize> {
    let count = |v: &[f64]| v.iter().filter(|x| x.is_nan()).count();
    let mut columns: Vec<(String, usize)> = Vec::new();
    columns.extend(
        runs.metrics
            .iter()
            .map(|(m, v)| (format!("metric.{m}"), count(v))),
    );
    columns.extend(
        runs.benches
            .iter()
            .map(|(b, v)| (format!("bench.{b}"), count(v))),
    );
    columns.push(("ood_mean".into(), count(&runs.ood_mean)));
    columns.push(("id_acc".into(), count(&runs.id_acc)));
    // A column empty in every run was not measured (a metrics-only sweep trains no student;
    // a table without `id_acc`): the report says so elsewhere, and these are not missing runs.
    columns
        .into_iter()
        .filter(|(_, n)| *n > 0 && *n < runs.len())
        .collect()
}

/// The rows where both `x` and `y` are finite.
fn complete(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    x.iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .unzip()
}

/// Spearman's ρ of the rows where both are finite, with its p-value and n.
pub(crate) fn correlation(x: &[f64], y: &[f64]) -> Correlation {
    let (x, y) = complete(x, y);
    Correlation {
        rho: stats::spearman(&x, &y),
        p: stats::spearman_p(&x, &y),
        n: x.len(),
    }
}

/// A scale as a map key: `100`, or `12.5` for a fractional one.
pub(crate) fn scale_key(scale: f64) -> String {
    if scale.fract() == 0.0 {
        format!("{}", scale as i64)
    } else {
        format!("{scale}")
    }
}

/// Runs the analysis of `runs`, one row per subset: the students of a subset trained with
/// several seeds are averaged first ([`average_training_seeds`]).
pub fn analyze(runs: &RunsTable, options: &ReportOptions) -> Report {
    let students = runs;
    let (runs, seed_noise) = average_training_seeds(students);
    let runs = &runs;
    // Each training seed's students, when subsets have several.
    let mut train_seeds: Vec<&String> = match seed_noise {
        Some(_) => students
            .train_seed
            .iter()
            .filter(|s| !s.is_empty())
            .collect(),
        None => Vec::new(),
    };
    train_seeds.sort_by_key(|s| (s.len(), *s));
    train_seeds.dedup();
    let scales = runs.scales();
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
        let size = correlation(values, &runs.scale);
        let by_train_seed = train_seeds
            .iter()
            .map(|seed| {
                let idx: Vec<usize> = (0..students.len())
                    .filter(|i| students.train_seed[*i] == **seed)
                    .collect();
                let sub = |v: &[f64]| idx.iter().map(|i| v[*i]).collect::<Vec<_>>();
                let values = &students.metrics[name];
                (
                    (*seed).clone(),
                    correlation(&sub(values), &sub(&students.ood_mean)),
                )
            })
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
                size,
                by_train_seed,
            },
        );
    }
    Report {
        diagnostics: diagnose(runs, students, seed_noise.as_ref(), &options.terms),
        ground_truth: ground_truth(runs, scale_key),
        runs: runs.len(),
        students: students.len(),
        seed_noise,
        scales,
        strategies,
        benchmarks: runs.benches.keys().cloned().collect(),
        metrics,
        options: options.clone(),
        missing: missing_cells(students),
        ood_size: (runs.scales().len() > 1).then(|| correlation(&runs.scale, &runs.ood_mean)),
        gradient_draw: GradientDraw::of(&runs.gradient_rows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four subsets, two students each: the main ρ is taken on the students' means, and each
    /// seed's ρ on that seed's students alone.
    #[test]
    fn students_of_a_subset_count_once_and_each_seed_is_reported_alone() {
        let subsets = ["a", "a", "b", "b", "c", "c", "d", "d"];
        let metric = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0];
        // Seed 0 ranks the subsets 1, 2, 3, 4; seed 1 ranks them 4, 3, 2, 1 less steeply, so
        // the means still rise with the metric.
        let ood = [0.40, 0.46, 0.50, 0.45, 0.60, 0.44, 0.70, 0.43];
        let runs = RunsTable {
            run_id: (0..8).map(|i| format!("r{i}")).collect(),
            scale: vec![100.0; 8],
            strategy: vec!["random".into(); 8],
            seed: vec!["0".into(); 8],
            train_seed: (0..8).map(|i| (i % 2).to_string()).collect(),
            subset: subsets.iter().map(|s| s.to_string()).collect(),
            metrics: BTreeMap::from([("m".to_string(), metric.to_vec())]),
            benches: BTreeMap::new(),
            id_acc: vec![f64::NAN; 8],
            ood_mean: ood.to_vec(),
            id_majority: vec![f64::NAN; 8],
            groups_k: vec![f64::NAN; 8],
            gradient_rows: vec![f64::NAN; 8],
            distinct_groups: vec![f64::NAN; 8],
            ..Default::default()
        };
        let report = analyze(&runs, &ReportOptions::default());
        assert_eq!((report.runs, report.students), (4, 8));
        let m = &report.metrics["m"];
        assert_eq!(m.n, 4);
        assert!(
            (m.rho - 1.0).abs() < 1e-12,
            "means 0.43, 0.475, 0.52, 0.565"
        );
        assert_eq!(m.by_train_seed.keys().collect::<Vec<_>>(), ["0", "1"]);
        assert!((m.by_train_seed["0"].rho - 1.0).abs() < 1e-12);
        assert!((m.by_train_seed["1"].rho + 1.0).abs() < 1e-12);
        assert_eq!(m.by_train_seed["1"].n, 4);
        // One student per subset: no per-seed ρ, and the same numbers as before averaging.
        let single = analyze(&average_training_seeds(&runs).0, &ReportOptions::default());
        assert!(single.metrics["m"].by_train_seed.is_empty() && single.seed_noise.is_none());
        assert_eq!(single.runs, 4);
    }
}
