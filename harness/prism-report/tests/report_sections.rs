//! The report's diagnostics and ground-truth sections, written end to end from a runs table
//! with majority rates and a `groups_k` ladder: the Markdown, JSON and HTML carry them, the
//! OOD-against-k plot is drawn, and a declared aggregate replaces `ood_mean`.

use prism_report::{ReportOptions, RunsTable, analyze, render};

/// 12 subsets: k = 4, 8, 16, 32 pages at size 100, three seeds each. Benchmark `up` rises
/// with k above its majority rate of 0.5; `flat` sits at its majority rate of 0.6.
fn ladder_csv() -> String {
    let mut csv = String::from(
        "run_id,scale,strategy,seed,metric.pages,metric.noise,bench.up,bench.flat,id_acc,majority.up,majority.flat,id_majority,groups_k\n",
    );
    for (i, k) in [4, 8, 16, 32].iter().enumerate() {
        for seed in 0..3 {
            let up = 0.55 + 0.02 * i as f64 + 0.003 * seed as f64;
            let flat = 0.6 + [-0.01, 0.0, 0.01][seed];
            let noise = [3.0, 1.0, 2.0, 5.0, 4.0, 6.0][(i + seed) % 6];
            csv += &format!(
                "r{i}{seed},100,groups-k{k}-page,{seed},{k},{noise},{up},{flat},0.7,0.5,0.6,0.4,{k}\n"
            );
        }
    }
    csv
}

#[test]
fn diagnostics_and_the_ladder_reach_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("runs.csv");
    std::fs::write(&table, ladder_csv()).unwrap();
    let runs = RunsTable::read(&table)
        .unwrap()
        .with_ood_aggregate(&["up".into()])
        .unwrap();
    let report = analyze(&runs, &ReportOptions::default());
    let d = &report.diagnostics;
    assert_eq!(d.ood_aggregate, ["up"]);
    assert_eq!(d.aggregate_with_headroom, 1);
    let flat = d.headroom.iter().find(|h| h.name == "flat").unwrap();
    assert!(!flat.headroom && !flat.in_aggregate, "{flat:?}");
    assert!((d.min_detectable_rho - (2.80158f64 / 3.0).tanh()).abs() < 1e-5);
    let g = report.ground_truth.as_ref().unwrap();
    assert_eq!(g.ladder.len(), 4);
    assert!(
        g.ood_with_k.rho > 0.9,
        "the aggregate is `up`, which rises with k"
    );
    assert!((g.metrics["pages"].with_k.rho - 1.0).abs() < 1e-12);

    let out = dir.path().join("report");
    render::write_all(&report, &runs, &out).unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for needle in [
        "## Diagnostics: what this sweep can detect",
        "| flat |  | 0.600 | 0.600 |",
        "**no headroom**",
        "OOD aggregate (`ood_mean`): the mean of up (declared); 1 of its 1 benchmarks have headroom.",
        "Smallest detectable |ρ| at n = 12 subsets",
        "ρ = 0.9 and ρ = 0.5 are distinguishable at this n: **no**",
        "## Ground truth: OOD accuracy against k pages",
        "| pages | 1.000 |",
        "Smallest detectable |ρ| at n = 12: 0.732.",
    ] {
        assert!(md.contains(needle), "missing `{needle}` in\n{md}");
    }
    // Every Markdown table row has as many cells as its header.
    for table in md.split("\n\n").filter(|b| b.starts_with('|')) {
        let widths: Vec<usize> = table.lines().map(|l| l.matches('|').count()).collect();
        assert!(
            widths.iter().all(|w| *w == widths[0]),
            "ragged table:\n{table}"
        );
    }
    // The diagnostics come before the first ρ table.
    assert!(md.find("## Diagnostics").unwrap() < md.find("## ρ with the OOD aggregate").unwrap());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["diagnostics"]["headroom"][1]["name"], "flat");
    assert_eq!(json["ground_truth"]["ladder"][3]["k"], 32.0);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<table id=\"diagnostics\">") && html.contains("<table id=\"ladder\">"));
    assert!(html.contains("<strong>no headroom</strong>"));
    for ext in ["png", "svg"] {
        let plot = out.join(format!("plots/ood-vs-k.{ext}"));
        assert!(
            std::fs::metadata(&plot).unwrap().len() > 1000,
            "{}",
            plot.display()
        );
    }
}

#[test]
fn a_table_without_a_ladder_or_majority_rates_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("runs.csv");
    let plain: String = ladder_csv()
        .lines()
        .map(|l| l.rsplitn(5, ',').nth(4).unwrap().to_string() + "\n")
        .collect();
    std::fs::write(&table, plain).unwrap();
    let runs = RunsTable::read(&table).unwrap();
    let report = analyze(&runs, &ReportOptions::default());
    assert!(report.ground_truth.is_none());
    assert_eq!(report.diagnostics.ood_aggregate, ["flat", "up"]);
    let md = render::markdown(&report);
    assert!(md.contains("unknown (no majority rate)"), "{md}");
    assert!(!md.contains("Ground truth"));
}
