//! prism's Spearman ρ and p against `scipy.stats.spearmanr` on a committed runs table.
//! Fixture and table come from `tests/reference/spearman_reference.py` at the repository root.

use prism_report::{ReportOptions, RunsTable, analyze};
use std::path::PathBuf;

fn reference_dir() -> PathBuf {
    // Cargo runs tests in the package folder; the fixtures sit at the repository root.
    std::env::current_dir()
        .unwrap()
        .join("../../tests/reference")
}

fn close(ours: f64, theirs: &serde_json::Value, what: &str) {
    match theirs.as_f64() {
        None => assert!(ours.is_nan(), "{what}: scipy says undefined, prism {ours}"),
        Some(t) => {
            let tol = 1e-12 + 1e-9 * t.abs();
            assert!((ours - t).abs() <= tol, "{what}: prism {ours} vs scipy {t}");
        }
    }
}

#[test]
fn rho_and_p_equal_scipy() {
    let dir = reference_dir();
    let runs = RunsTable::read(&dir.join("runs_fixture.csv")).unwrap();
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("spearman_fixture.json")).unwrap())
            .unwrap();
    let report = analyze(
        &runs,
        &ReportOptions {
            bootstrap_reps: 200,
            ..Default::default()
        },
    );
    let metrics = fixture["metrics"].as_object().unwrap();
    assert_eq!(metrics.len(), report.metrics.len());
    let mut compared = 0;
    for (name, reference) in metrics {
        let m = &report.metrics[name];
        let pairs = [
            ("ood_mean", m.rho, m.p, m.n),
            ("id_acc", m.id_acc.rho, m.id_acc.p, m.id_acc.n),
            (
                "bench.hans",
                m.benches["hans"].rho,
                m.benches["hans"].p,
                m.benches["hans"].n,
            ),
            (
                "bench.mnli",
                m.benches["mnli"].rho,
                m.benches["mnli"].p,
                m.benches["mnli"].n,
            ),
        ]
        .into_iter()
        .chain(m.by_scale.iter().map(|(s, c)| {
            (
                Box::leak(format!("scale.{s}").into_boxed_str()) as &str,
                c.rho,
                c.p,
                c.n,
            )
        }));
        for (key, rho, p, n) in pairs {
            let r = &reference[key];
            close(rho, &r["rho"], &format!("{name} vs {key}: rho"));
            close(p, &r["p"], &format!("{name} vs {key}: p"));
            assert_eq!(n as u64, r["n"].as_u64().unwrap(), "{name} vs {key}: n");
            compared += 1;
        }
    }
    assert_eq!(compared, 4 * 7);
}
