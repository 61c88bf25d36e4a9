//! What a sweep can detect, stated before any ρ: which benchmarks the students beat at all
//! (headroom over the majority class), how noisy one student is against the spread between
//! subsets, and the smallest |ρ| the number of subsets can tell from zero. A null result
//! from a study with no headroom or too few subsets says nothing about the metrics; these
//! numbers let a reader tell that apart from a real null.

use crate::analysis::Terms;
use crate::analysis::scale_key;
use crate::runs::RunsTable;
use crate::seeds::SeedNoise;
use crate::stats::mean_sd;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::collections::BTreeMap;

/// z of the two-sided 5% test.
pub const Z_ALPHA: f64 = 1.95996;
/// z of power 0.8.
pub const Z_POWER: f64 = 0.84162;

/// The smallest |ρ| that `n` paired observations detect against ρ = 0 with a two-sided test at
/// α = 0.05 and power 0.8 (Fisher z): `tanh((z_α/2 + z_β) / √(n − 3))`; NaN for n ≤ 3.
pub fn min_detectable_rho(n: usize) -> f64 {
    if n <= 3 {
        return f64::NAN;
    }
    ((Z_ALPHA + Z_POWER) / ((n - 3) as f64).sqrt()).tanh()
}

/// Whether `n` observations tell a true ρ of `a` from a true ρ of `b` (two-sided α = 0.05,
/// power 0.8): the Fisher-z distance between them is at least `(z_α/2 + z_β) / √(n − 3)`,
/// the same test as [`min_detectable_rho`] with `b` in place of 0.
pub fn distinguishes(n: usize, a: f64, b: f64) -> bool {
    n > 3 && (a.atanh() - b.atanh()).abs() * ((n - 3) as f64).sqrt() >= Z_ALPHA + Z_POWER
}

/// One evaluation set's headroom: do the students beat its majority class?
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Headroom {
    /// The set (`id` for the in-distribution test).
    pub name: String,
    /// Whether it is part of the declared OOD aggregate.
    pub in_aggregate: bool,
    /// Subsets with an accuracy (each subset's students averaged).
    pub n: usize,
    /// Mean accuracy over the subsets.
    pub mean: f64,
    /// The evaluation sample's majority-class rate (NaN when the runs table has none).
    pub majority: f64,
    /// `mean − majority`.
    pub diff: f64,
    /// Lower end of the 95% t interval of the difference, over subsets.
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
    /// Share of the students (runs) whose accuracy is above the majority rate.
    pub share_above: f64,
    /// The interval lies above 0: the students beat the majority class on this set.
    pub headroom: bool,
}

/// The spread between subsets of one accuracy column.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Spread {
    /// Standard deviation across subsets, all scales pooled.
    pub sd: f64,
    /// Within each scale.
    pub by_scale: BTreeMap<String, f64>,
}

/// One condition a study needs before its null can be read as a null.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    /// What is required.
    pub requirement: String,
    /// Met, not met, or `None` when the table cannot tell (e.g. one training seed).
    pub met: Option<bool>,
    /// The measured figure.
    pub measured: String,
}

/// Everything a reader needs to judge the study before its ρ.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Diagnostics {
    /// Subsets: the n of every pooled ρ.
    pub subsets: usize,
    /// The benchmarks `ood_mean` averages (empty: the runs table's own `ood_mean`, members
    /// unknown).
    pub ood_aggregate: Vec<String>,
    /// The ID test and each OOD benchmark.
    pub headroom: Vec<Headroom>,
    /// Declared OOD benchmarks with headroom.
    pub aggregate_with_headroom: usize,
    /// The OOD aggregate's spread between subsets.
    pub ood_spread: Spread,
    /// One student's seed noise as a share of the variance of the subsets' OOD aggregate
    /// (when subsets have several students; see [`SeedNoise`]).
    pub seed_noise_share: Option<f64>,
    /// The smallest |ρ| the pooled ρ detects (α 0.05 two-sided, power 0.8).
    pub min_detectable_rho: f64,
    /// The same within each scale.
    pub min_detectable_rho_by_scale: BTreeMap<String, f64>,
    /// Whether a true ρ of 0.9 (the paper's G-Vendi) can be told from 0.5 at this n.
    pub distinguishes_09_from_05: bool,
    /// The conditions of a study with signal (docs/signal.md): enough subsets, students that
    /// learn the ID task, declared OOD benchmarks with headroom, seed noise well below the
    /// spread between subsets.
    pub checks: Vec<Check>,
}

/// A study with signal needs at least this many subsets (smallest detectable ρ ≈ 0.49).
pub const MIN_SUBSETS: usize = 30;
/// ... students this far above the ID test's majority rate, on average.
pub const MIN_ID_MARGIN: f64 = 0.08;
/// ... at least this many declared OOD benchmarks with headroom.
pub const MIN_OOD_WITH_HEADROOM: usize = 2;
/// ... and seed noise at most this share of the OOD aggregate's variance across subsets.
pub const MAX_SEED_NOISE_SHARE: f64 = 0.25;

fn checks(
    terms: &Terms,
    n: usize,
    id: &Headroom,
    with_headroom: usize,
    declared: usize,
    rates_known: bool,
    noise: Option<f64>,
) -> Vec<Check> {
    vec![
        Check {
            requirement: format!("at least {MIN_SUBSETS} subsets"),
            met: Some(n >= MIN_SUBSETS),
            measured: format!("{n}"),
        },
        Check {
            requirement: format!(
                "mean ID {} at least {} + {MIN_ID_MARGIN}",
                terms.score, terms.baseline
            ),
            met: (!id.diff.is_nan()).then_some(id.diff >= MIN_ID_MARGIN),
            measured: if id.majority.is_nan() {
                format!("unknown (the runs table has no {})", terms.baseline)
            } else {
                format!(
                    "{:+.3} ({:.3} against {:.3})",
                    id.diff, id.mean, id.majority
                )
            },
        },
        Check {
            requirement: format!(
                "at least {MIN_OOD_WITH_HEADROOM} declared OOD benchmarks with headroom"
            ),
            met: (rates_known || with_headroom >= MIN_OOD_WITH_HEADROOM)
                .then_some(with_headroom >= MIN_OOD_WITH_HEADROOM),
            measured: if rates_known {
                format!("{with_headroom} of {declared}")
            } else {
                format!(
                    "{with_headroom} of {declared} (some have no {})",
                    terms.baseline
                )
            },
        },
        Check {
            requirement: format!(
                "seed noise at most {:.0}% of the OOD aggregate's variance across subsets",
                100.0 * MAX_SEED_NOISE_SHARE
            ),
            met: noise.map(|s| s <= MAX_SEED_NOISE_SHARE),
            measured: match noise {
                Some(s) => format!("{:.0}%", 100.0 * s),
                None => "not measured (one training seed)".into(),
            },
        },
    ]
}

/// The first finite value of a column (a majority rate is the same in every run).
fn first_finite(values: &[f64]) -> f64 {
    values
        .iter()
        .copied()
        .find(|v| v.is_finite())
        .unwrap_or(f64::NAN)
}

fn headroom(
    name: &str,
    in_aggregate: bool,
    per_subset: &[f64],
    per_student: &[f64],
    majority: f64,
) -> Headroom {
    let accs: Vec<f64> = per_subset
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let (mean, sd) = mean_sd(&accs);
    let half = if accs.len() > 1 {
        let t = StudentsT::new(0.0, 1.0, (accs.len() - 1) as f64)
            .expect("df > 0")
            .inverse_cdf(0.975);
        t * sd / (accs.len() as f64).sqrt()
    } else {
        f64::NAN
    };
    let diff = mean - majority;
    let students: Vec<f64> = per_student
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let share_above = if students.is_empty() || majority.is_nan() {
        f64::NAN
    } else {
        students.iter().filter(|a| **a > majority).count() as f64 / students.len() as f64
    };
    Headroom {
        name: name.to_string(),
        in_aggregate,
        n: accs.len(),
        mean,
        majority,
        diff,
        ci_low: diff - half,
        ci_high: diff + half,
        share_above,
        headroom: diff - half > 0.0,
    }
}

/// The diagnostics of a sweep: `subsets` has one row per subset (its students averaged),
/// `students` one row per run.
pub fn diagnose(
    subsets: &RunsTable,
    students: &RunsTable,
    seed_noise: Option<&SeedNoise>,
    terms: &Terms,
) -> Diagnostics {
    let mut rows = vec![headroom(
        "id",
        false,
        &subsets.id_acc,
        &students.id_acc,
        first_finite(&students.id_majority),
    )];
    for (name, accs) in &subsets.benches {
        let majority = students
            .majority
            .get(name)
            .map_or(f64::NAN, |m| first_finite(m));
        rows.push(headroom(
            name,
            subsets.ood_members.contains(name),
            accs,
            &students.benches[name],
            majority,
        ));
    }
    let scales = subsets.scales();
    let finite_of = |idx: &mut dyn Iterator<Item = usize>| -> Vec<f64> {
        idx.map(|i| subsets.ood_mean[i])
            .filter(|v| v.is_finite())
            .collect()
    };
    let ood_spread = Spread {
        sd: mean_sd(&finite_of(&mut (0..subsets.len()))).1,
        by_scale: scales
            .iter()
            .map(|s| {
                let mut idx = (0..subsets.len()).filter(|i| subsets.scale[*i] == *s);
                (scale_key(*s), mean_sd(&finite_of(&mut idx)).1)
            })
            .collect(),
    };
    let n = subsets.len();
    let with_headroom = rows.iter().filter(|h| h.in_aggregate && h.headroom).count();
    let declared = rows.iter().filter(|h| h.in_aggregate).count();
    let rates_known = rows
        .iter()
        .filter(|h| h.in_aggregate)
        .all(|h| !h.majority.is_nan());
    Diagnostics {
        checks: checks(
            terms,
            n,
            &rows[0],
            with_headroom,
            declared,
            rates_known,
            seed_noise.map(|s| s.ood_noise_share),
        ),
        subsets: n,
        ood_aggregate: subsets.ood_members.clone(),
        aggregate_with_headroom: rows.iter().filter(|h| h.in_aggregate && h.headroom).count(),
        headroom: rows,
        ood_spread,
        seed_noise_share: seed_noise.map(|s| s.ood_noise_share),
        min_detectable_rho: min_detectable_rho(n),
        min_detectable_rho_by_scale: scales
            .iter()
            .map(|s| {
                let k = subsets.scale.iter().filter(|x| **x == *s).count();
                (scale_key(*s), min_detectable_rho(k))
            })
            .collect(),
        distinguishes_09_from_05: distinguishes(n, 0.9, 0.5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detectable_rho_matches_the_fisher_formula() {
        // 0.407 at 45 subsets: tanh(2.80158 / √42) = 0.407236.
        assert!((min_detectable_rho(45) - 0.407236).abs() < 1e-5);
        // n = 12: tanh(2.80158 / 3) = 0.732388.
        assert!((min_detectable_rho(12) - 0.732388).abs() < 1e-5);
        assert!(min_detectable_rho(3).is_nan());
        // 0.9 against 0.5: Fisher z 1.47222 - 0.54931 = 0.92291; needs √(n − 3) ≥ 3.0356,
        // n − 3 ≥ 9.215, so n ≥ 13.
        assert!(!distinguishes(12, 0.9, 0.5));
        assert!(distinguishes(13, 0.9, 0.5));
        assert!(distinguishes(45, 0.9, 0.5));
        // Against 0, the threshold is the detectable ρ itself.
        assert!(distinguishes(45, 0.41, 0.0) && !distinguishes(45, 0.40, 0.0));
    }

    fn table(accs: &[f64], other: &[f64], majority: f64) -> RunsTable {
        let n = accs.len();
        RunsTable {
            run_id: (0..n).map(|i| format!("r{i}")).collect(),
            scale: (0..n)
                .map(|i| if i < n / 2 { 100.0 } else { 200.0 })
                .collect(),
            strategy: vec!["random".into(); n],
            seed: vec!["0".into(); n],
            train_seed: vec![String::new(); n],
            subset: vec![String::new(); n],
            metrics: BTreeMap::from([("m".into(), vec![0.0; n])]),
            benches: BTreeMap::from([("a".into(), accs.to_vec()), ("b".into(), other.to_vec())]),
            id_acc: accs.iter().map(|a| a + 0.2).collect(),
            ood_mean: accs.iter().zip(other).map(|(a, b)| (a + b) / 2.0).collect(),
            ood_members: vec!["a".into(), "b".into()],
            majority: BTreeMap::from([
                ("a".into(), vec![majority; n]),
                ("b".into(), vec![majority; n]),
            ]),
            id_majority: vec![majority; n],
            groups_k: vec![f64::NAN; n],
            gradient_rows: vec![f64::NAN; n],
            distinct_groups: vec![f64::NAN; n],
        }
    }

    #[test]
    fn headroom_is_a_t_interval_over_subsets() {
        // Benchmark a: 0.50, 0.52, 0.54, 0.56 against a majority of 0.50: mean diff 0.03, sd
        // 0.0258199, t(0.975, 3) = 3.182446, half width 0.0410852; CI [-0.0110852, 0.0710852]
        // includes 0, so no headroom; 3 of 4 runs above 0.50 (0.50 itself is not above).
        // Benchmark b: 0.60, 0.61, 0.62, 0.63: diff 0.115, CI [0.0944574, 0.1355426].
        let t = table(&[0.50, 0.52, 0.54, 0.56], &[0.60, 0.61, 0.62, 0.63], 0.50);
        let d = diagnose(&t, &t, None, &Terms::default());
        let a = d.headroom.iter().find(|h| h.name == "a").unwrap();
        assert!((a.diff - 0.03).abs() < 1e-12);
        assert!((a.ci_low + 0.0110852).abs() < 1e-6, "{}", a.ci_low);
        assert!((a.ci_high - 0.0710852).abs() < 1e-6);
        assert!(!a.headroom && a.in_aggregate);
        assert!((a.share_above - 0.75).abs() < 1e-12);
        let b = d.headroom.iter().find(|h| h.name == "b").unwrap();
        assert!((b.ci_low - 0.0944574).abs() < 1e-6 && b.headroom);
        assert_eq!(d.aggregate_with_headroom, 1);
        // ID accuracy is a + 0.2: the first row, not in the aggregate.
        assert_eq!(d.headroom[0].name, "id");
        assert!(d.headroom[0].headroom && !d.headroom[0].in_aggregate);
        // The OOD aggregate (0.55, 0.565, 0.58, 0.595): sd 0.0193649; per scale 0.0106066.
        assert!((d.ood_spread.sd - 0.0193649).abs() < 1e-6);
        assert!((d.ood_spread.by_scale["100"] - 0.0106066).abs() < 1e-6);
        assert_eq!(d.subsets, 4);
        assert!(d.min_detectable_rho.is_finite() && !d.distinguishes_09_from_05);
        assert!(d.min_detectable_rho_by_scale["200"].is_nan());
        // The study's conditions: 4 subsets is too few; ID is 0.23 above its majority rate;
        // one of two declared benchmarks has headroom; seed noise is unknown.
        let met: Vec<Option<bool>> = d.checks.iter().map(|c| c.met).collect();
        assert_eq!(met, [Some(false), Some(true), Some(false), None]);
    }

    #[test]
    fn without_majority_rates_there_is_no_verdict() {
        let mut t = table(&[0.5, 0.6, 0.7], &[0.5, 0.6, 0.7], 0.5);
        t.majority.clear();
        t.id_majority = vec![f64::NAN; 3];
        let d = diagnose(&t, &t, None, &Terms::default());
        assert!(d.headroom.iter().all(|h| !h.headroom && h.diff.is_nan()));
        assert!(d.headroom.iter().all(|h| h.share_above.is_nan()));
        // Without majority rates the ID and headroom conditions are unknown, not failed.
        assert_eq!(d.checks[1].met, None);
        assert!(d.checks[1].measured.contains("no majority rate"));
        assert_eq!(d.checks[2].met, None);
    }
}
