//! Training seeds: a sweep may train several students per subset (`sweep.train_seeds`). The
//! report then correlates each metric with the students' *mean* accuracy per subset (a subset
//! has one value of every metric, so its students are not independent observations), and says
//! how much of the spread between subsets the seeds alone would make.

use crate::runs::RunsTable;
use serde::Serialize;
use std::collections::BTreeMap;

/// How much a student's training seed moves its accuracy, against how much the subsets differ.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SeedNoise {
    /// Subsets (rows of the averaged table).
    pub subsets: usize,
    /// Students (rows of the runs table).
    pub students: usize,
    /// Subsets with at least two students (the ones that measure the seed noise).
    pub subsets_with_seeds: usize,
    /// Pooled within-subset standard deviation of `ood_mean`: one student's seed noise.
    pub ood_within_sd: f64,
    /// Standard deviation of the subsets' mean `ood_mean`.
    pub ood_between_sd: f64,
    /// The share of the subset means' variance that seed noise alone accounts for
    /// (within² / students-per-subset / between²): near 1, the means are noise and no metric
    /// can correlate with them; near 0, the subsets' differences are real.
    pub ood_noise_share: f64,
    /// The same three for in-distribution accuracy.
    pub id_within_sd: f64,
    /// Standard deviation of the subsets' mean `id_acc`.
    pub id_between_sd: f64,
    /// Seed noise's share of the variance of the subsets' mean `id_acc`.
    pub id_noise_share: f64,
}

/// The rows of `runs` grouped by subset (the `subset` column; a row without one is a group of
/// its own), in first-appearance order.
fn groups(runs: &RunsTable) -> Vec<Vec<usize>> {
    let mut order: Vec<Vec<usize>> = Vec::new();
    let mut group_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, subset) in runs.subset.iter().enumerate() {
        if subset.is_empty() {
            order.push(vec![i]);
        } else if let Some(&g) = group_of.get(subset.as_str()) {
            order[g].push(i);
        } else {
            group_of.insert(subset, order.len());
            order.push(vec![i]);
        }
    }
    order
}

/// The finite values among `rows` of `column` (a student without a value is left out).
fn finite(column: &[f64], rows: &[usize]) -> Vec<f64> {
    rows.iter()
        .map(|&i| column[i])
        .filter(|v| v.is_finite())
        .collect()
}

/// Mean of `values` (NaN when there are none).
fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Pooled within-group sd, sd of the group means, and the seed noise's share of the latter's
/// variance, for one accuracy column.
fn noise(column: &[f64], groups: &[Vec<usize>]) -> (f64, f64, f64) {
    let (mut squares, mut dof, mut students) = (0.0, 0usize, 0usize);
    let mut means = Vec::new();
    for rows in groups {
        let values = finite(column, rows);
        if values.is_empty() {
            continue;
        }
        let m = mean(&values);
        means.push(m);
        students += values.len();
        squares += values.iter().map(|v| (v - m).powi(2)).sum::<f64>();
        dof += values.len() - 1;
    }
    let within = if dof > 0 {
        (squares / dof as f64).sqrt()
    } else {
        f64::NAN
    };
    let between = if means.len() > 1 {
        let m = mean(&means);
        (means.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (means.len() - 1) as f64).sqrt()
    } else {
        f64::NAN
    };
    let per_subset = students as f64 / means.len().max(1) as f64;
    (
        within,
        between,
        within * within / per_subset / (between * between),
    )
}

/// `runs` with one row per subset: every numeric column averaged over the subset's students
/// (the metric columns are the same for all of them), `run_id` and `train_seed` joined with
/// `+`. Returns the table unchanged and no noise figures when every subset has one student.
pub fn average_training_seeds(runs: &RunsTable) -> (RunsTable, Option<SeedNoise>) {
    let groups = groups(runs);
    if groups.len() == runs.len() {
        return (runs.clone(), None);
    }
    let first = |column: &[String]| groups.iter().map(|g| column[g[0]].clone()).collect();
    let joined = |column: &[String]| {
        groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|&i| column[i].as_str())
                    .collect::<Vec<_>>()
                    .join("+")
            })
            .collect()
    };
    let averaged = |column: &[f64]| groups.iter().map(|g| mean(&finite(column, g))).collect();
    let table = RunsTable {
        run_id: joined(&runs.run_id),
        scale: groups.iter().map(|g| runs.scale[g[0]]).collect(),
        strategy: first(&runs.strategy),
        seed: first(&runs.seed),
        train_seed: joined(&runs.train_seed),
        subset: first(&runs.subset),
        metrics: runs
            .metrics
            .iter()
            .map(|(k, v)| (k.clone(), averaged(v)))
            .collect(),
        benches: runs
            .benches
            .iter()
            .map(|(k, v)| (k.clone(), averaged(v)))
            .collect(),
        id_acc: averaged(&runs.id_acc),
        ood_mean: averaged(&runs.ood_mean),
        ood_members: runs.ood_members.clone(),
        majority: runs
            .majority
            .iter()
            .map(|(k, v)| (k.clone(), averaged(v)))
            .collect(),
        id_majority: averaged(&runs.id_majority),
        groups_k: groups.iter().map(|g| runs.groups_k[g[0]]).collect(),
        distinct_groups: groups.iter().map(|g| runs.distinct_groups[g[0]]).collect(),
        gradient_rows: groups
            .iter()
            .map(|g| runs.gradient_rows.get(g[0]).copied().unwrap_or(f64::NAN))
            .collect(),
    };
    let (ood_within_sd, ood_between_sd, ood_noise_share) = noise(&runs.ood_mean, &groups);
    let (id_within_sd, id_between_sd, id_noise_share) = noise(&runs.id_acc, &groups);
    let noise = SeedNoise {
        subsets: groups.len(),
        students: runs.len(),
        subsets_with_seeds: groups.iter().filter(|g| g.len() > 1).count(),
        ood_within_sd,
        ood_between_sd,
        ood_noise_share,
        id_within_sd,
        id_between_sd,
        id_noise_share,
    };
    (table, Some(noise))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(subsets: &[&str], ood: &[f64]) -> RunsTable {
        let n = subsets.len();
        RunsTable {
            run_id: (0..n).map(|i| format!("r{i}")).collect(),
            scale: vec![100.0; n],
            strategy: vec!["random".into(); n],
            seed: vec!["0".into(); n],
            train_seed: (0..n).map(|i| (i % 2).to_string()).collect(),
            subset: subsets.iter().map(|s| s.to_string()).collect(),
            metrics: BTreeMap::from([("m".into(), (0..n).map(|i| (i / 2) as f64).collect())]),
            benches: BTreeMap::new(),
            id_acc: ood.iter().map(|v| v + 0.1).collect(),
            ood_mean: ood.to_vec(),
            // Finite, so that tables compare equal (NaN is not equal to itself).
            id_majority: vec![0.5; n],
            groups_k: vec![8.0; n],
            gradient_rows: vec![50.0; n],
            distinct_groups: vec![6.0; n],
            ..Default::default()
        }
    }

    #[test]
    fn one_student_per_subset_is_left_alone() {
        let runs = table(&["a", "b", "c"], &[0.4, 0.5, 0.6]);
        let (same, noise) = average_training_seeds(&runs);
        assert_eq!(same, runs);
        assert!(noise.is_none());
        // Rows without a subset name are never merged.
        let runs = table(&["", ""], &[0.4, 0.5]);
        assert_eq!(average_training_seeds(&runs).0.len(), 2);
    }

    #[test]
    fn students_average_per_subset_and_the_noise_is_measured_by_hand() {
        // Subsets a, b, c, two students each: ood 0.40/0.44, 0.50/0.50, 0.60/0.62.
        let runs = table(
            &["a", "a", "b", "b", "c", "c"],
            &[0.40, 0.44, 0.50, 0.50, 0.60, 0.62],
        );
        let (avg, noise) = average_training_seeds(&runs);
        assert_eq!(avg.len(), 3);
        assert_eq!(avg.run_id[0], "r0+r1");
        assert_eq!(avg.train_seed[2], "0+1");
        assert_eq!(avg.metrics["m"], vec![0.0, 1.0, 2.0]);
        for (got, want) in avg.ood_mean.iter().zip([0.42, 0.50, 0.61]) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        let noise = noise.unwrap();
        assert_eq!(
            (noise.subsets, noise.students, noise.subsets_with_seeds),
            (3, 6, 3)
        );
        // Within: squares 0.0008 + 0 + 0.0002 over 3 degrees of freedom.
        let within = (0.001f64 / 3.0).sqrt();
        assert!((noise.ood_within_sd - within).abs() < 1e-12);
        // Between: sd of 0.42, 0.50, 0.61 (mean 0.51).
        let between = ((0.09f64.powi(2) + 0.01f64.powi(2) + 0.1f64.powi(2)) / 2.0).sqrt();
        assert!((noise.ood_between_sd - between).abs() < 1e-12);
        let share = within * within / 2.0 / (between * between);
        assert!((noise.ood_noise_share - share).abs() < 1e-12);
        // id_acc is ood + 0.1: the same spreads.
        assert!((noise.id_within_sd - within).abs() < 1e-12);
        assert!((noise.id_between_sd - between).abs() < 1e-12);
    }

    #[test]
    fn a_missing_accuracy_is_left_out_of_its_subset_mean() {
        let runs = table(&["a", "a", "b", "b"], &[0.40, f64::NAN, 0.5, 0.7]);
        let (avg, noise) = average_training_seeds(&runs);
        assert!((avg.ood_mean[0] - 0.40).abs() < 1e-12);
        assert!((avg.ood_mean[1] - 0.60).abs() < 1e-12);
        // Only b measures the noise: sd of 0.5, 0.7.
        assert!((noise.unwrap().ood_within_sd - 0.02f64.sqrt()).abs() < 1e-12);
    }
}
