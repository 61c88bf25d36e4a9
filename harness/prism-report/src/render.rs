//! Writing a [`Report`]: `report.json`, `report.csv` and `report.md`.

use crate::analysis::{Correlation, MetricReport, Report};
use prism_core::atomic::{write_atomic, write_json_atomic};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Metric names ordered by pooled ρ, highest first (undefined ρ last).
pub fn ranked(report: &Report) -> Vec<&String> {
    let mut names: Vec<&String> = report.metrics.keys().collect();
    names.sort_by(|a, b| {
        let (ra, rb) = (report.metrics[*a].rho, report.metrics[*b].rho);
        rb.is_nan()
            .cmp(&ra.is_nan())
            .reverse()
            .then(rb.total_cmp(&ra))
            .then(a.cmp(b))
    });
    names
}

/// The cells of a metric's row in the main table: ρ, CI, p, partial ρ, ρ with ID accuracy, n.
pub(crate) fn main_row(m: &MetricReport) -> [String; 6] {
    [
        num(m.rho, 3),
        format!("[{}, {}]", num(m.ci_low, 3), num(m.ci_high, 3)),
        p_value(m.p),
        num(m.partial_rho, 3),
        num(m.id_acc.rho, 3),
        m.n.to_string(),
    ]
}

/// What the rows are: `45 runs`, or `45 subsets (90 students, ...)` when subsets had several
/// training seeds.
pub(crate) fn rows_summary(report: &Report) -> String {
    if report.students == report.runs {
        format!("{} runs", report.runs)
    } else {
        format!(
            "{} subsets ({} students: each subset's accuracies are its students' mean over their training seeds)",
            report.runs, report.students
        )
    }
}

/// The training-seed noise, in one sentence, when subsets had several students.
pub(crate) fn seed_noise_sentence(report: &Report) -> Option<String> {
    let n = report.seed_noise.as_ref()?;
    Some(format!(
        "Training-seed noise, from the {} subsets with several students: one student's OOD mean \
         moves by sd {} with its seed, against sd {} between the subsets' means, so seed noise \
         makes {}% of the variance of those means (ID accuracy: sd {} against {}, {}%). Near \
         100%, no metric can correlate with OOD accuracy; more seeds per subset lower it.",
        n.subsets_with_seeds,
        num(n.ood_within_sd, 4),
        num(n.ood_between_sd, 4),
        num(100.0 * n.ood_noise_share, 0),
        num(n.id_within_sd, 4),
        num(n.id_between_sd, 4),
        num(100.0 * n.id_noise_share, 0),
    ))
}

/// A statistic for a table cell: `–` when undefined.
pub(crate) fn num(v: f64, digits: usize) -> String {
    if v.is_nan() {
        "–".into()
    } else {
        format!("{v:.digits$}")
    }
}

/// A p-value for a table cell: scientific below 1e-4, `–` when undefined.
pub(crate) fn p_value(p: f64) -> String {
    if p.is_nan() {
        "–".into()
    } else if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// The keys of the correlations `of` picks from each metric (those of the first metric: every
/// metric has the same).
fn keys_of(
    report: &Report,
    of: &impl Fn(&MetricReport) -> &BTreeMap<String, Correlation>,
) -> Vec<String> {
    report
        .metrics
        .values()
        .next()
        .map(|m| of(m).keys().cloned().collect())
        .unwrap_or_default()
}

/// A Markdown section: one row per metric (ranked), one column per key of the correlations
/// `of` picks from each metric (the keys of the first metric, headed by `header`).
fn rho_table(
    md: &mut String,
    report: &Report,
    title: &str,
    of: impl Fn(&MetricReport) -> &BTreeMap<String, Correlation>,
    header: impl Fn(&str) -> String,
) {
    let keys = keys_of(report, &of);
    let _ = writeln!(md, "\n## {title}\n");
    let heads: Vec<String> = keys.iter().map(|k| header(k)).collect();
    let _ = writeln!(md, "| metric | {} |", heads.join(" | "));
    let _ = writeln!(md, "|---|{}", "---:|".repeat(keys.len()));
    for name in ranked(report) {
        let cells: Vec<String> = keys
            .iter()
            .map(|k| num(of(&report.metrics[name])[k].rho, 3))
            .collect();
        let _ = writeln!(md, "| {name} | {} |", cells.join(" | "));
    }
}

/// The report as Markdown: the main table (ρ, CI, p, partial ρ), ρ per benchmark, ρ per scale.
pub fn markdown(report: &Report) -> String {
    let mut md = String::new();
    let level = (report.options.level * 100.0).round();
    let _ = writeln!(md, "# Diversity metrics vs OOD accuracy\n");
    let _ = writeln!(
        md,
        "{}; scales {:?}; strategies: {}. Spearman ρ with `ood_mean` (ties by average rank); p two-sided; {level}% CI: percentile bootstrap over rows ({} resamples, seed {}); partial ρ controls for scale.\n",
        rows_summary(report),
        report.scales,
        report.strategies.join(", "),
        report.options.bootstrap_reps,
        report.options.seed
    );
    if let Some(sentence) = seed_noise_sentence(report) {
        let _ = writeln!(md, "{sentence}\n");
    }
    let _ = writeln!(
        md,
        "| metric | ρ | {level}% CI | p | partial ρ (scale) | ρ with ID acc | n |"
    );
    let _ = writeln!(md, "|---|---:|---|---:|---:|---:|---:|");
    for name in ranked(report) {
        let cells = main_row(&report.metrics[name]);
        let _ = writeln!(md, "| {name} | {} |", cells.join(" | "));
    }
    if !report.benchmarks.is_empty() {
        rho_table(
            &mut md,
            report,
            "ρ per benchmark",
            |m| &m.benches,
            |k| k.to_string(),
        );
    }
    if report.scales.len() > 1 {
        rho_table(
            &mut md,
            report,
            "ρ within each scale",
            |m| &m.by_scale,
            |k| format!("n = {k}"),
        );
    }
    if report.seed_noise.is_some() {
        rho_table(
            &mut md,
            report,
            "ρ with each training seed's students alone",
            |m| &m.by_train_seed,
            |k| format!("seed {k}"),
        );
    }
    md
}

/// The report as CSV: one row per metric.
pub fn csv(report: &Report) -> String {
    let scale_keys = keys_of(report, &|m| &m.by_scale);
    let mut header = vec![
        "metric",
        "n",
        "rho",
        "p",
        "ci_low",
        "ci_high",
        "partial_rho",
        "partial_p",
        "id_acc_rho",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    header.extend(report.benchmarks.iter().map(|b| format!("bench.{b}.rho")));
    header.extend(scale_keys.iter().map(|s| format!("scale.{s}.rho")));
    let seed_keys = keys_of(report, &|m| &m.by_train_seed);
    header.extend(seed_keys.iter().map(|s| format!("train_seed.{s}.rho")));
    let mut out = header.join(",") + "\n";
    for name in ranked(report) {
        let m = &report.metrics[name];
        let mut row = vec![
            name.clone(),
            m.n.to_string(),
            m.rho.to_string(),
            m.p.to_string(),
            m.ci_low.to_string(),
            m.ci_high.to_string(),
            m.partial_rho.to_string(),
            m.partial_p.to_string(),
            m.id_acc.rho.to_string(),
        ];
        row.extend(
            report
                .benchmarks
                .iter()
                .map(|b| m.benches[b].rho.to_string()),
        );
        row.extend(scale_keys.iter().map(|s| m.by_scale[s].rho.to_string()));
        row.extend(seed_keys.iter().map(|s| m.by_train_seed[s].rho.to_string()));
        out += &(row.join(",") + "\n");
    }
    out
}

/// Writes `report.json`, `report.csv`, `report.md`, the plots (`plots/*.svg|png`) and the
/// self-contained `report.html` into `dir`; every file is written atomically.
pub fn write_all(report: &Report, runs: &crate::RunsTable, dir: &Path) -> std::io::Result<()> {
    // JSON has no NaN: undefined statistics become null.
    let json = serde_json::to_value(report).map_err(std::io::Error::other)?;
    write_json_atomic(&dir.join("report.json"), &json)?;
    write_atomic(&dir.join("report.csv"), csv(report).as_bytes())?;
    write_atomic(&dir.join("report.md"), markdown(report).as_bytes())?;
    // The plots show what the statistics used: one point per subset.
    let (runs, _) = crate::seeds::average_training_seeds(runs);
    let figures = crate::plots::write_plots(report, &runs, &dir.join("plots"))?;
    write_atomic(
        &dir.join("report.html"),
        crate::html::page(report, &figures)?.as_bytes(),
    )?;
    Ok(())
}
