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

pub use analysis::{MetricReport, Report, ReportOptions, analyze};
pub use runs::{RunsError, RunsTable};
pub use seeds::{SeedNoise, average_training_seeds};
