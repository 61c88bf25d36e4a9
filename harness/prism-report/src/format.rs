//! The report's shared wording and tables: ρ rankings, numbers, the diagnostics sentences and
//! tables that Markdown (`render`), HTML (`html`) and the plots all present. A leaf: it reads
//! the analysis and knows no output format's module, so those modules never import each other.

use crate::analysis::{MetricReport, Report};
use crate::ground_truth::GroundTruth;

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
    let rows = if report.students == report.runs {
        format!("{} runs", report.runs)
    } else {
        format!(
            "{} subsets ({} students: each subset's accuracies are its students' mean over their training seeds)",
            report.runs, report.students
        )
    };
    match &report.gradient_draw {
        Some(d) => format!(
            "{rows}; the gradient metrics (G-Vendi, proxy losses) are taken on each subset's \
             members in a seeded draw of the pool (`gvendi.sample`): {}–{} per subset, mean {}",
            d.min,
            d.max,
            num(d.mean, 0)
        ),
        None => rows,
    }
}

/// The training-seed noise, in one sentence, when subsets had several students.
pub(crate) fn seed_noise_sentence(report: &Report) -> Option<String> {
    let n = report.seed_noise.as_ref()?;
    let score = &report.options.terms.score;
    Some(format!(
        "Training-seed noise, from the {} subsets with several students: one student's OOD mean \
         moves by sd {} with its seed, against sd {} between the subsets' means, so seed noise \
         makes {}% of the variance of those means (ID {score}: sd {} against {}, {}%). Near \
         100%, no metric can correlate with the OOD {score}; more seeds per subset lower it.",
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
    let terms = &report.options.terms;
    let header = vec![
        "set".to_string(),
        "in OOD aggregate".into(),
        format!("mean {}", terms.score),
        terms.baseline.clone(),
        "diff".into(),
        "95% CI of diff".into(),
        format!("runs above {}", terms.baseline),
        "headroom".into(),
    ];
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
                    format!("unknown (no {})", terms.baseline)
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
    if let Some(ood) = &report.ood_size {
        let mut by_size: Vec<(&String, f64)> = report
            .metrics
            .iter()
            .map(|(name, m)| (name, m.size.rho))
            .filter(|(_, rho)| rho.is_finite())
            .collect();
        by_size.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(b.0)));
        let listed: Vec<String> = by_size
            .iter()
            .map(|(name, rho)| format!("{name} {}", num(*rho, 2)))
            .collect();
        let score = &report.options.terms.score;
        let ood_sentence = if ood.rho.is_finite() {
            format!(
                "the OOD aggregate's ρ with size is {} (p {}); where it is not near 0, a metric that only tracks size correlates with the OOD {score} too, so read the partial ρ (size held fixed)",
                num(ood.rho, 3),
                num(ood.p, 4)
            )
        } else {
            format!("the sweep has no OOD {score} to set against size")
        };
        out.push(format!(
            "Subset size: {ood_sentence}. Each metric's ρ with size, largest first: {}.",
            listed.join(", ")
        ));
    }
    if !report.missing.is_empty() {
        let cells: Vec<String> = report
            .missing
            .iter()
            .map(|(column, n)| format!("`{column}` {n}"))
            .collect();
        out.push(format!(
            "Missing values (empty cells, of {} runs): {}; each ρ uses the runs where both of its values are present (its n).",
            report.students,
            cells.join(", ")
        ));
    }
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
    let groups = &report.options.terms.groups;
    let cell_header = vec![
        "size".to_string(),
        format!("k ({groups} drawn)"),
        format!("distinct {groups} (mean)"),
        "subsets".into(),
        "OOD mean".into(),
        "OOD sd".into(),
        "ID mean".into(),
    ];
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
