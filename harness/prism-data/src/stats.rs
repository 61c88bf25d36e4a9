//! `prism data stats`: what each normalised table holds.

use crate::catalog::{DatasetInfo, Role};
use crate::table::Table;
use serde::Serialize;
use std::collections::BTreeMap;

/// Summary of one table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DatasetStats {
    /// Dataset name.
    pub name: String,
    /// Role in an experiment.
    pub role: Role,
    /// Number of rows.
    pub n: usize,
    /// Label → count.
    pub labels: BTreeMap<String, usize>,
    /// Number of distinct groups (pages, subcases, ...).
    pub groups: usize,
    /// Mean premise length in words.
    pub mean_premise_words: f64,
    /// Mean hypothesis length in words.
    pub mean_hypothesis_words: f64,
}

/// Number of whitespace-separated words: the length unit of every control and statistic.
pub fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Computes the summary of `table`.
pub fn summarize(info: &DatasetInfo, table: &Table) -> DatasetStats {
    let mut labels = BTreeMap::new();
    let mut groups = std::collections::HashSet::new();
    let (mut p, mut h) = (0usize, 0usize);
    for ex in &table.examples {
        *labels.entry(ex.label.clone()).or_insert(0) += 1;
        groups.insert(ex.group.as_str());
        p += words(&ex.premise);
        h += words(&ex.hypothesis);
    }
    let n = table.len();
    let mean = |total: usize| if n == 0 { 0.0 } else { total as f64 / n as f64 };
    DatasetStats {
        name: info.name.to_string(),
        role: info.role,
        n,
        labels,
        groups: groups.len(),
        mean_premise_words: mean(p),
        mean_hypothesis_words: mean(h),
    }
}

/// Summary of one math table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MathDatasetStats {
    /// Dataset name.
    pub name: String,
    /// Role in an experiment.
    pub role: Role,
    /// How students are scored on it.
    pub scoring: crate::math::Scoring,
    /// Number of rows.
    pub n: usize,
    /// Number of distinct groups (templates, subtasks).
    pub groups: usize,
    /// Mean question length in words.
    pub mean_question_words: f64,
    /// Mean length in words of what the student is scored on: the solution, `#### <answer>`, or
    /// (multiple choice) the gold option.
    pub mean_completion_words: f64,
    /// Mean reasoning steps.
    pub mean_difficulty: f64,
    /// Options per multiple-choice problem (0 for open answers).
    pub choices: usize,
}

/// Computes the summary of a math table.
pub fn summarize_math(
    info: &crate::math::MathDatasetInfo,
    table: &crate::math::MathTable,
) -> MathDatasetStats {
    let n = table.len();
    let mean = |f: &dyn Fn(&crate::math::MathExample) -> usize| {
        if n == 0 {
            0.0
        } else {
            table.examples.iter().map(f).sum::<usize>() as f64 / n as f64
        }
    };
    MathDatasetStats {
        name: info.name.to_string(),
        role: info.role,
        scoring: info.scoring,
        n,
        groups: table
            .examples
            .iter()
            .map(|e| e.group.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len(),
        mean_question_words: mean(&|e| words(&e.question)),
        // A multiple-choice problem is scored on its options, so its gold option is what counts.
        mean_completion_words: mean(&|e| {
            if e.choices.is_empty() {
                words(&e.completion())
            } else {
                words(&e.answer)
            }
        }),
        mean_difficulty: mean(&|e| e.difficulty as usize),
        choices: table
            .examples
            .iter()
            .map(|e| e.choices.len())
            .max()
            .unwrap_or(0),
    }
}
