//! Rank correlation statistics.
//!
//! Spearman's ρ is Pearson's r of the ranks, ties taking their average rank (as
//! `scipy.stats.spearmanr`). Its two-sided p-value uses the t approximation with n − 2 degrees
//! of freedom (scipy's default), or, for n ≤ [`EXACT_MAX_N`], the exact permutation
//! distribution. Intervals are percentile bootstraps over runs with a fixed seed.

use rand::{Rng, SeedableRng};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Up to this many runs, [`permutation_p`] enumerates all n! orderings.
pub const EXACT_MAX_N: usize = 8;

/// Ranks starting at 1; tied values share the average of their ranks.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|a, b| values[*a].total_cmp(&values[*b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// Pearson's r; NaN when either side is constant or n < 2.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    if n < 2 || y.len() != n {
        return f64::NAN;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0)
}

/// Mean and sample standard deviation of the finite values (NaN sd below two of them).
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = if values.len() > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    (mean, sd)
}

/// Smallest and largest of the finite values (`(inf, -inf)` when there are none).
pub fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// Spearman's ρ.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&average_ranks(x), &average_ranks(y))
}

/// Two-sided p-value of ρ under H0 (no association), t approximation: `t = ρ √((n−2)/(1−ρ²))`.
pub fn spearman_p_t(rho: f64, n: usize) -> f64 {
    if rho.is_nan() || n < 3 {
        return f64::NAN;
    }
    if rho.abs() >= 1.0 {
        return 0.0;
    }
    let df = (n - 2) as f64;
    let t = rho * (df / ((1.0 - rho) * (1.0 + rho))).sqrt();
    let dist = StudentsT::new(0.0, 1.0, df).expect("df > 0");
    (2.0 * dist.sf(t.abs())).min(1.0)
}

/// Exact two-sided permutation p-value: the share of all orderings of `y` whose |ρ| is at
/// least the observed one. Only for n ≤ [`EXACT_MAX_N`].
pub fn permutation_p(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    assert!(
        n <= EXACT_MAX_N,
        "exact permutation p is for n <= {EXACT_MAX_N}"
    );
    let observed = spearman(x, y);
    if observed.is_nan() {
        return f64::NAN;
    }
    let rx = average_ranks(x);
    let ry = average_ranks(y);
    let mut perm: Vec<usize> = (0..n).collect();
    let (mut hits, mut total) = (0u64, 0u64);
    let mut permuted = vec![0.0; n];
    loop {
        for (k, &p) in perm.iter().enumerate() {
            permuted[k] = ry[p];
        }
        total += 1;
        if pearson(&rx, &permuted).abs() >= observed.abs() - 1e-12 {
            hits += 1;
        }
        if !next_permutation(&mut perm) {
            break;
        }
    }
    hits as f64 / total as f64
}

fn next_permutation(p: &mut [usize]) -> bool {
    let Some(i) = (1..p.len()).rev().find(|&i| p[i - 1] < p[i]) else {
        return false;
    };
    let j = (i..p.len())
        .rev()
        .find(|&j| p[j] > p[i - 1])
        .expect("exists");
    p.swap(i - 1, j);
    p[i..].reverse();
    true
}

/// Two-sided p-value: exact for n ≤ [`EXACT_MAX_N`], t approximation above.
pub fn spearman_p(x: &[f64], y: &[f64]) -> f64 {
    if x.len() <= EXACT_MAX_N {
        permutation_p(x, y)
    } else {
        spearman_p_t(spearman(x, y), x.len())
    }
}

/// Percentile bootstrap interval of ρ over rows: `reps` resamples with replacement from a
/// ChaCha8 stream seeded with `seed`; resamples where ρ is undefined are skipped.
pub fn bootstrap_ci(x: &[f64], y: &[f64], reps: usize, level: f64, seed: u64) -> (f64, f64) {
    let n = x.len();
    if n < 3 {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(reps);
    let (mut bx, mut by) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..reps {
        for k in 0..n {
            let i = rng.random_range(0..n);
            bx[k] = x[i];
            by[k] = y[i];
        }
        let r = spearman(&bx, &by);
        if r.is_finite() {
            values.push(r);
        }
    }
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    values.sort_by(f64::total_cmp);
    let alpha = (1.0 - level) / 2.0;
    (quantile(&values, alpha), quantile(&values, 1.0 - alpha))
}

/// Linear-interpolated quantile of sorted values (numpy's default).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Partial Spearman correlation of x and y controlling for z: the partial Pearson correlation
/// of the three rank vectors.
pub fn partial_spearman(x: &[f64], y: &[f64], z: &[f64]) -> f64 {
    let (rx, ry, rz) = (average_ranks(x), average_ranks(y), average_ranks(z));
    let rxy = pearson(&rx, &ry);
    let rxz = pearson(&rx, &rz);
    let ryz = pearson(&ry, &rz);
    if rxz.is_nan() || ryz.is_nan() {
        // z is constant: nothing to control for.
        return rxy;
    }
    let denom = ((1.0 - rxz * rxz) * (1.0 - ryz * ryz)).sqrt();
    if denom == 0.0 {
        return f64::NAN;
    }
    ((rxy - rxz * ryz) / denom).clamp(-1.0, 1.0)
}

/// p-value of a partial correlation with one controlled variable (t with n − 3 df).
pub fn partial_p(r: f64, n: usize) -> f64 {
    if n < 4 {
        return f64::NAN;
    }
    spearman_p_t_df(r, (n - 3) as f64)
}

fn spearman_p_t_df(r: f64, df: f64) -> f64 {
    if r.is_nan() {
        return f64::NAN;
    }
    if r.abs() >= 1.0 {
        return 0.0;
    }
    let t = r * (df / ((1.0 - r) * (1.0 + r))).sqrt();
    (2.0 * StudentsT::new(0.0, 1.0, df).expect("df > 0").sf(t.abs())).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties() {
        assert_eq!(
            average_ranks(&[10.0, 20.0, 10.0, 30.0]),
            vec![1.5, 3.0, 1.5, 4.0]
        );
    }

    #[test]
    fn known_values() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!((spearman(&x, &[5.0, 6.0, 7.0, 8.0, 7.5]) - 0.9).abs() < 1e-12);
        assert_eq!(spearman(&x, &[5.0, 4.0, 3.0, 2.0, 1.0]), -1.0);
        assert!(spearman(&x, &[1.0; 5]).is_nan());
        // n = 5, ρ = 0.9: 10 of 120 permutations reach |ρ| ≥ 0.9 (ρ = 1 once, ρ = 0.9 four
        // times, and their mirror images).
        assert!((permutation_p(&x, &[5.0, 6.0, 7.0, 8.0, 7.5]) - 10.0 / 120.0).abs() < 1e-12);
    }

    /// Residuals of `u` after a least-squares fit on `v` with intercept.
    fn residuals(u: &[f64], v: &[f64]) -> Vec<f64> {
        let n = u.len() as f64;
        let (mu, mv) = (u.iter().sum::<f64>() / n, v.iter().sum::<f64>() / n);
        let cov: f64 = u.iter().zip(v).map(|(a, b)| (a - mu) * (b - mv)).sum();
        let var: f64 = v.iter().map(|b| (b - mv) * (b - mv)).sum();
        let slope = cov / var;
        u.iter()
            .zip(v)
            .map(|(a, b)| a - mu - slope * (b - mv))
            .collect()
    }

    #[test]
    fn partial_spearman_equals_correlation_of_rank_residuals_and_shrinks_a_shared_cause() {
        // x and y both follow z, plus unrelated pseudo-random parts.
        let z: Vec<f64> = (0..40).map(|i| i as f64).collect();
        let x: Vec<f64> = (0..40)
            .map(|i| i as f64 + 0.8 * ((i * 7919) % 23) as f64)
            .collect();
        let y: Vec<f64> = (0..40)
            .map(|i| i as f64 + 0.8 * ((i * 104729) % 29) as f64)
            .collect();
        let (rx, ry, rz) = (average_ranks(&x), average_ranks(&y), average_ranks(&z));
        let reference = pearson(&residuals(&rx, &rz), &residuals(&ry, &rz));
        let ours = partial_spearman(&x, &y, &z);
        assert!((ours - reference).abs() < 1e-12, "{ours} vs {reference}");
        // Values from scipy.stats.rankdata + numpy least squares on the same data.
        assert!((spearman(&x, &y) - 0.7405253283302065).abs() < 1e-12);
        assert!((ours - -0.34013594041759226).abs() < 1e-12);
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_rho() {
        let x: Vec<f64> = (0..30).map(|i| i as f64).collect();
        let y: Vec<f64> = (0..30)
            .map(|i| (i as f64) + ((i * 13) % 7) as f64 * 3.0)
            .collect();
        let (lo, hi) = bootstrap_ci(&x, &y, 1000, 0.95, 42);
        assert_eq!((lo, hi), bootstrap_ci(&x, &y, 1000, 0.95, 42));
        let rho = spearman(&x, &y);
        assert!(lo <= rho && rho <= hi && lo < hi, "{lo} {rho} {hi}");
    }
}
