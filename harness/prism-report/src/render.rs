//! Writing a [`Report`]: `report.json`, `report.csv` and `report.md`, and (through `plots` and
//! `html`) the plots and `report.html`.

use crate::analysis::{Correlation, MetricReport, Report};
use crate::format::{
    TextTable, detectable_line, diagnostics_sentences, headroom_table, ladder_tables, main_row,
    num, p_value, ranked, rows_summary, seed_noise_sentence,
};
use prism_core::atomic::{write_atomic, write_json_atomic};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// A Markdown table.
fn md_table(md: &mut String, table: &TextTable) {
    let _ = writeln!(md, "| {} |", table.header.join(" | "));
    let _ = writeln!(md, "|---|{}", "---:|".repeat(table.header.len() - 1));
    for row in &table.rows {
        let _ = writeln!(md, "| {} |", row.join(" | "));
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
    let terms = &report.options.terms;
    let _ = writeln!(md, "# {}\n", terms.title());
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
        let _ = writeln!(md, "## Ground truth: {}\n", terms.ladder_title());
        let _ = writeln!(
            md,
            "{} subsets drawn from k whole {} at fixed size and {} (lengths as each subset's \
             manifest records them). ρ(k, OOD \
             aggregate) = {} (p {}, n {}); ρ(k, ID {}) = {}. {}\n",
            g.subsets,
            terms.groups,
            terms.strata,
            num(g.ood_with_k.rho, 3),
            p_value(g.ood_with_k.p),
            g.ood_with_k.n,
            terms.score,
            num(g.id_with_k.rho, 3),
            detectable_line(g.ood_with_k.n)
        );
        md_table(&mut md, &cells);
        let _ = writeln!(
            md,
            "\nEvery metric against k (the diversity set by construction) and against the OOD {} over the ladder's subsets:\n",
            terms.score
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
