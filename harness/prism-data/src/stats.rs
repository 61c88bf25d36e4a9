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
