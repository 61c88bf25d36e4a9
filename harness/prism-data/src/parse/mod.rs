//! One parser per raw source, each turning raw bytes into normalised [`Example`]s.
//!
//! Parsers take bytes, not paths, so tests feed them small inline fixtures and `fetch` feeds
//! them members read straight from the downloaded archives.

pub mod bigbench;
pub mod corr2cause;
pub mod hans;
pub mod mnli;

use crate::error::DataError;
use crate::table::Example;

/// Builds an example of an evaluation set (split `eval`).
pub(crate) fn eval_example(
    source: &str,
    index: usize,
    premise: &str,
    hypothesis: &str,
    label: &str,
    group: &str,
) -> Example {
    Example {
        id: format!("{source}-{index:05}"),
        premise: premise.trim().to_string(),
        hypothesis: hypothesis.trim().to_string(),
        label: label.to_string(),
        source: source.to_string(),
        group: group.to_string(),
        split: "eval".to_string(),
    }
}

/// The data rows of a header-first, tab-separated file that does not quote: each row's 1-based
/// line number (for error messages) and its fields. Blank lines are skipped.
pub(crate) fn tsv_rows(tsv: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    tsv.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| (i + 1, l.split('\t').collect()))
}

pub(crate) fn parse_error(
    source: &str,
    location: impl Into<String>,
    message: impl Into<String>,
) -> DataError {
    DataError::Parse {
        source_name: source.to_string(),
        location: location.into(),
        message: message.into(),
    }
}
