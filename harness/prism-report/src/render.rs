//! Writing a [`Report`]: `report.json`, `report.csv` and `report.md`.

use crate::analysis::{Correlation, MetricReport, Report};
use crate::ground_truth::GroundTruth;
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

/// A table for both renderers (Markdown and HTML): a header and rows of cells, which may hold
/// `**bold**`.
pub(crate) struct TextTable {
    /// Column names.
    pub header: Vec<String>,
    /// One vector of cells per row, as many as the header.
    pub rows: Vec<Vec<String>>,
}

/// The headroom table: one row per evaluation set (the ID test first).
pub(crate) fn headroom_table(report: &Report) -> TextTable {
    let header = [
        "set",
        "in OOD aggregate",
        "mean acc",
        "majority",
        "diff",
        "95% CI of diff",
        "runs above majority",
        "headroom",
    ]
    .map(String::from)
    .to_vec();
    let rows = report
        .diagnostics
        .headroom
        .iter()
        .map(|h| {
            vec![
                if h.name == "id" {
                    "ID test".to_string()
                } else {
                    h.name.clone()
                },
                if h.in_aggregate { "yes" } else { "" }.to_string(),
                num(h.mean, 3),
                num(h.majority, 3),
                signed(h.diff, 3),
                format!("[{}, {}]", signed(h.ci_low, 3), signed(h.ci_high, 3)),
                if h.share_above.is_nan() {
                    "–".into()
                } else {
                    format!("{}%", num(100.0 * h.share_above, 0))
                },
                if h.majority.is_nan() {
                    "unknown (no majority rate)".into()
                } else if h.headroom {
                    "yes".into()
                } else {
                    "**no headroom**".into()
                },
            ]
        })
        .collect();
    TextTable { header, rows }
}

/// The diagnostics' sentences: the aggregate, its spread, seed noise and the detectable ρ.
pub(crate) fn diagnostics_sentences(report: &Report) -> Vec<String> {
    let d = &report.diagnostics;
    let mut out = Vec::new();
    let members = if d.ood_aggregate.is_empty() {
        "the runs table's own `ood_mean` column (its benchmarks not stated)".to_string()
    } else {
        format!(
            "the mean of {} (declared); {} of its {} benchmarks have headroom",
            d.ood_aggregate.join(", "),
            d.aggregate_with_headroom,
            d.ood_aggregate.len()
        )
    };
    out.push(format!("OOD aggregate (`ood_mean`): {members}."));
    let by_scale: Vec<String> = d
        .ood_spread
        .by_scale
        .iter()
        .map(|(k, v)| format!("{} at n = {k}", num(*v, 4)))
        .collect();
    out.push(format!(
        "Between-subset spread of the OOD aggregate: sd {} over {} subsets ({}).",
        num(d.ood_spread.sd, 4),
        d.subsets,
        by_scale.join(", ")
    ));
    out.push(match d.seed_noise_share {
        Some(share) => format!(
            "Seed noise: {}% of the variance of the subsets' OOD aggregate (see below).",
            num(100.0 * share, 0)
        ),
        None => "Seed noise: not measured (one student per subset); add a second training seed (`sweep.train_seeds`) to measure it."
            .into(),
    });
    for c in &d.checks {
        out.push(format!(
            "{} {}: {}.",
            match c.met {
                Some(true) => "Met:",
                Some(false) => "**Not met:**",
                None => "Unknown:",
            },
            c.requirement,
            c.measured
        ));
    }
    out.push(format!(
        "Smallest detectable |ρ| at n = {} subsets (two-sided α 0.05, power 0.8, Fisher z): **{}**. ρ = 0.9 and ρ = 0.5 are distinguishable at this n: **{}**.",
        d.subsets,
        num(d.min_detectable_rho, 3),
        if d.distinguishes_09_from_05 {
            "yes"
        } else {
            "no"
        }
    ));
    out
}

/// The line stated next to a ρ table whose correlations use `n` rows.
pub(crate) fn detectable_line(n: usize) -> String {
    format!(
        "Smallest detectable |ρ| at n = {n}: {}.",
        num(crate::diagnostics::min_detectable_rho(n), 3)
    )
}

/// A signed statistic (`+0.012`, `–` when undefined).
fn signed(v: f64, digits: usize) -> String {
    if v.is_nan() {
        "–".into()
    } else {
        format!("{v:+.digits$}")
    }
}

/// A Markdown table.
fn md_table(md: &mut String, table: &TextTable) {
    let _ = writeln!(md, "| {} |", table.header.join(" | "));
    let _ = writeln!(md, "|---|{}", "---:|".repeat(table.header.len() - 1));
    for row in &table.rows {
        let _ = writeln!(md, "| {} |", row.join(" | "));
    }
}

/// The ground-truth ladder's tables: its cells, then every metric against k.
pub(crate) fn ladder_tables(report: &Report, g: &GroundTruth) -> (TextTable, TextTable) {
    let cells = g
        .ladder
        .iter()
        .map(|r| {
            vec![
                num(r.scale, 0),
                num(r.k, 0),
                num(r.pages, 1),
                r.subsets.to_string(),
                num(r.ood_mean, 4),
                num(r.ood_sd, 4),
                num(r.id_mean, 4),
            ]
        })
        .collect();
    let scales: Vec<&String> = g.ood_with_k_by_scale.keys().collect();
    let mut header = vec!["metric".to_string(), "ρ with k".into()];
    header.extend(scales.iter().map(|s| format!("ρ with k (n = {s})")));
    header.push("ρ with OOD (ladder)".into());
    let mut rows = vec![{
        let mut row = vec!["*OOD aggregate*".to_string(), num(g.ood_with_k.rho, 3)];
        row.extend(scales.iter().map(|s| num(g.ood_with_k_by_scale[*s].rho, 3)));
        row.push(String::new());
        row
    }];
    for name in ranked(report) {
        let m = &g.metrics[name];
        let mut row = vec![name.clone(), num(m.with_k.rho, 3)];
        row.extend(scales.iter().map(|s| num(m.with_k_by_scale[*s].rho, 3)));
        row.push(num(m.with_ood.rho, 3));
        rows.push(row);
    }
    let cell_header = [
        "size",
        "k (pages drawn)",
        "distinct pages (mean)",
        "subsets",
        "OOD mean",
        "OOD sd",
        "ID mean",
    ]
    .map(String::from)
    .to_vec();
    (
        TextTable {
            header: cell_header,
            rows: cells,
        },
        TextTable { header, rows },
    )
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
    // The n of each column (every metric has the same rows), and the |ρ| it can detect.
    let ns: Vec<(String, usize)> = keys
        .iter()
        .filter_map(|k| {
            report
                .metrics
                .values()
                .next()
                .map(|m| (header(k), of(m)[k].n))
        })
        .collect();
    if ns.windows(2).all(|w| w[0].1 == w[1].1) {
        if let Some((_, n)) = ns.first() {
            let _ = writeln!(md, "{}\n", detectable_line(*n));
        }
    } else {
        let cells: Vec<String> = ns
            .iter()
            .map(|(k, n)| {
                format!(
                    "{} ({k}, n = {n})",
                    num(crate::diagnostics::min_detectable_rho(*n), 3)
                )
            })
            .collect();
        let _ = writeln!(
            md,
            "Smallest detectable |ρ| per column: {}.\n",
            cells.join(", ")
        );
    }
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
    let _ = writeln!(md, "## Diagnostics: what this sweep can detect\n");
    md_table(&mut md, &headroom_table(report));
    let _ = writeln!(md);
    for sentence in diagnostics_sentences(report) {
        let _ = writeln!(md, "- {sentence}");
    }
    let _ = writeln!(md);
    if let Some(sentence) = seed_noise_sentence(report) {
        let _ = writeln!(md, "{sentence}\n");
    }
    if let Some(g) = &report.ground_truth {
        let (cells, metrics) = ladder_tables(report, g);
        let _ = writeln!(md, "## Ground truth: OOD accuracy against k pages\n");
        let _ = writeln!(
            md,
            "{} subsets drawn from k whole pages at fixed size, labels and lengths. ρ(k, OOD \
             aggregate) = {} (p {}, n {}); ρ(k, ID accuracy) = {}. {}\n",
            g.subsets,
            num(g.ood_with_k.rho, 3),
            p_value(g.ood_with_k.p),
            g.ood_with_k.n,
            num(g.id_with_k.rho, 3),
            detectable_line(g.ood_with_k.n)
        );
        md_table(&mut md, &cells);
        let _ = writeln!(
            md,
            "\nEvery metric against k (the diversity set by construction) and against OOD accuracy over the ladder's subsets:\n"
        );
        md_table(&mut md, &metrics);
        let _ = writeln!(md);
    }
    let _ = writeln!(md, "## ρ with the OOD aggregate\n");
    let _ = writeln!(md, "{}\n", detectable_line(report.runs));
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
