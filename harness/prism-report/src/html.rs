//! `report.html`: one self-contained page (tables and plots inlined as base64 PNG) that opens
//! in any browser without a server or network.

use crate::analysis::Report;
use crate::format::{
    TextTable, detectable_line, diagnostics_sentences, headroom_table, ladder_tables, main_row,
    num, ranked, rows_summary, seed_noise_sentence,
};
use crate::plots::Figure;
use base64::Engine;
use std::fmt::Write as _;

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Escaped text with Markdown's `**bold**` and `` `code` `` as HTML.
fn inline(text: &str) -> String {
    wrap_every_other(&wrap_every_other(&esc(text), "**", "strong"), "`", "code")
}

/// `text` with every other part between `delimiter`s wrapped in `<tag>`.
fn wrap_every_other(text: &str, delimiter: &str, tag: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split(delimiter).enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<{tag}>{part}</{tag}>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// An HTML table with the given id.
fn table(h: &mut String, id: &str, table: &TextTable) {
    let _ = write!(h, "<table id=\"{id}\"><tr>");
    for c in &table.header {
        let _ = write!(h, "<th>{}</th>", esc(c));
    }
    let _ = writeln!(h, "</tr>");
    for row in &table.rows {
        let cells: Vec<String> = row.iter().map(|c| inline(c)).collect();
        let _ = writeln!(h, "<tr><td>{}</td></tr>", cells.join("</td><td>"));
    }
    let _ = writeln!(h, "</table>");
}

/// The page, with `figures` read from disk and inlined.
pub fn page(report: &Report, figures: &[Figure]) -> std::io::Result<String> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>prism report</title>\n<style>\
         body{{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}\
         td:first-child,th:first-child{{text-align:left}}th{{background:#f3f3f3}}figure{{margin:1.5em 0}}img{{max-width:100%}}\
         </style></head><body>\n<h1>{}</h1>\n",
        esc(&report.options.terms.title())
    );
    let level = (report.options.level * 100.0).round();
    let _ = writeln!(
        h,
        "<p>{}; scales {:?}; strategies: {}. Spearman ρ with <code>ood_mean</code>; {level}% percentile bootstrap interval ({} resamples, seed {}); partial ρ controls for scale.</p>",
        esc(&rows_summary(report)),
        report.scales,
        esc(&report.strategies.join(", ")),
        report.options.bootstrap_reps,
        report.options.seed
    );
    let _ = writeln!(h, "<h2>Diagnostics: what this sweep can detect</h2>");
    table(&mut h, "diagnostics", &headroom_table(report));
    let _ = writeln!(h, "<ul>");
    for sentence in diagnostics_sentences(report) {
        let _ = writeln!(h, "<li>{}</li>", inline(&sentence));
    }
    let _ = writeln!(h, "</ul>");
    if let Some(sentence) = seed_noise_sentence(report) {
        let _ = writeln!(h, "<p>{}</p>", esc(&sentence));
    }
    if let Some(g) = &report.ground_truth {
        let (cells, metrics) = ladder_tables(report, g);
        let _ = writeln!(
            h,
            "<h2>Ground truth: {}</h2>\n<p>ρ(k, OOD aggregate) = {} (n {}); ρ(k, ID {}) = {}. {}</p>",
            esc(&report.options.terms.ladder_title()),
            num(g.ood_with_k.rho, 3),
            g.ood_with_k.n,
            esc(&report.options.terms.score),
            num(g.id_with_k.rho, 3),
            esc(&detectable_line(g.ood_with_k.n))
        );
        table(&mut h, "ladder", &cells);
        table(&mut h, "ladder-metrics", &metrics);
    }
    let _ = writeln!(
        h,
        "<h2>ρ with the OOD aggregate</h2>\n<p>{}</p>",
        esc(&detectable_line(report.runs))
    );
    let _ = writeln!(
        h,
        "<table id=\"main\"><tr><th>metric</th><th>ρ</th><th>{level}% CI</th><th>p</th><th>partial ρ (scale)</th><th>ρ with ID acc</th><th>n</th></tr>"
    );
    for name in ranked(report) {
        let cells = main_row(&report.metrics[name]);
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(name),
            cells.join("</td><td>")
        );
    }
    let _ = writeln!(h, "</table>");
    if !report.benchmarks.is_empty() {
        let _ = write!(h, "<h2>ρ per benchmark</h2>\n<table><tr><th>metric</th>");
        for b in &report.benchmarks {
            let _ = write!(h, "<th>{}</th>", esc(b));
        }
        let _ = writeln!(h, "</tr>");
        for name in ranked(report) {
            let _ = write!(h, "<tr><td>{}</td>", esc(name));
            for b in &report.benchmarks {
                let _ = write!(
                    h,
                    "<td>{}</td>",
                    num(report.metrics[name].benches[b].rho, 3)
                );
            }
            let _ = writeln!(h, "</tr>");
        }
        let _ = writeln!(h, "</table>");
    }
    let _ = writeln!(h, "<h2>Plots</h2>");
    for f in figures {
        let bytes = std::fs::read(&f.png)?;
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        let _ = writeln!(
            h,
            "<figure><img alt=\"{t}\" src=\"data:image/png;base64,{data}\"><figcaption>{t}</figcaption></figure>",
            t = esc(&f.title)
        );
    }
    let _ = writeln!(h, "</body></html>");
    Ok(h)
}
