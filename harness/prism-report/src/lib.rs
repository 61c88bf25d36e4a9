//! prism's report stage: which diversity metric predicts OOD generalization, how strongly, and
//! how sure we are.
//!
//! - [`stats`]: rank correlation maths (Spearman with average ranks, p-values, bootstrap
//!   intervals, partial correlation), tested against scipy;
//! - [`runs`]: the runs table (one row per training run);
//! - [`seeds`]: several students per subset averaged, and their seed noise measured;
//! - [`diagnostics`]: what a sweep can detect (headroom, noise, smallest detectable ρ);
//! - [`ground_truth`]: OOD accuracy and every metric against diversity set by construction;
//! - [`analysis`]: every metric against `ood_mean`, each benchmark and `id_acc`, pooled and
//!   per scale;
//! - [`render`]: `report.json`, `report.csv` and `report.md`.

pub mod analysis;
pub mod diagnostics;
pub mod format;
pub mod ground_truth;
pub mod html;
pub mod plots;
pub mod render;
pub mod runs;
pub mod seeds;
pub mod stats;

pub use analysis::{MetricReport, Report, ReportOptions, Terms, analyze};
pub use runs::{RunRecord, RunsError, RunsSchema, RunsTable, write_runs};

use std::path::Path;

/// Analyses the runs table at `table_path` and writes every report file into `out`
/// (`report.json`, `.csv`, `.md`, `.html` and `plots/`); with `ood`, `ood_mean` is the mean of
/// those benchmarks (the experiment's declared aggregate). `prism report` and the end of a
/// sweep both call it. Fewer than 3 subsets is an error: no correlation can be read from them.
pub fn write_report(
    table_path: &Path,
    out: &Path,
    options: &ReportOptions,
    ood: Option<&[String]>,
) -> Result<Report, RunsError> {
    let mut runs = RunsTable::read(table_path)?;
    if let Some(ood) = ood {
        runs = runs
            .with_ood_aggregate(ood)
            .map_err(|e| RunsError::Declared(format!("`{}`: {e}", table_path.display())))?;
    }
    let report = analyze(&runs, options);
    // Students of one subset count once: the report correlates per subset.
    if report.runs < 3 {
        return Err(RunsError::Declared(format!(
            "`{}`: {} runs on {} subsets; a correlation needs at least 3 subsets",
            table_path.display(),
            report.students,
            report.runs
        )));
    }
    render::write_all(&report, &runs, out).map_err(|source| RunsError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(report)
}
pub use seeds::{SeedNoise, average_training_seeds};
