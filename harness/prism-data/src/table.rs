//! The normalised table every source is parsed into, stored as parquet through polars.
//!
//! Schema: `{id, premise, hypothesis, label, source, group, split}`, all strings. Labels are
//! `entailment|neutral|contradiction` or, for two-way sets, `entailment|non-entailment`.

use crate::error::DataError;
use polars::prelude::*;
use std::collections::HashSet;
use std::path::Path;

/// One NLI pair.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Example {
    /// Stable id, unique within its table (e.g. `vitaminc-00042`).
    pub id: String,
    /// The premise (evidence).
    pub premise: String,
    /// The hypothesis (claim).
    pub hypothesis: String,
    /// Gold label.
    pub label: String,
    /// Source dataset.
    pub source: String,
    /// A natural cluster: the Wikipedia page for VitaminC, the subcase for HANS, ...
    pub group: String,
    /// `train` (pool), `test` (ID test) or `eval` (benchmarks).
    pub split: String,
}

/// The column names of the normalised schema, in order.
pub const COLUMNS: [&str; 7] = [
    "id",
    "premise",
    "hypothesis",
    "label",
    "source",
    "group",
    "split",
];

/// A normalised table: a list of examples with unique ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// The rows, in a stable order.
    pub examples: Vec<Example>,
}

impl Table {
    /// Wraps examples, checking that ids are unique and labels are valid.
    pub fn new(examples: Vec<Example>) -> Result<Self, String> {
        let mut seen = HashSet::with_capacity(examples.len());
        for ex in &examples {
            if !seen.insert(ex.id.as_str()) {
                return Err(format!("duplicate id `{}`", ex.id));
            }
            if !is_label(&ex.label) {
                return Err(format!("example `{}`: unknown label `{}`", ex.id, ex.label));
            }
        }
        Ok(Self { examples })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// Writes the table to `path` as parquet, atomically.
    pub fn write_parquet(&self, path: &Path) -> Result<(), DataError> {
        let column = |name: &str, f: fn(&Example) -> &str| {
            Column::new(
                name.into(),
                self.examples.iter().map(f).collect::<Vec<&str>>(),
            )
        };
        let columns = vec![
            column("id", |e| &e.id),
            column("premise", |e| &e.premise),
            column("hypothesis", |e| &e.hypothesis),
            column("label", |e| &e.label),
            column("source", |e| &e.source),
            column("group", |e| &e.group),
            column("split", |e| &e.split),
        ];
        write_frame(path, self.len(), columns)
    }

    /// A seeded sample of whole groups (pages) holding about `target` examples: groups are
    /// shuffled and taken until `target` is reached, so group structure survives (a strategy
    /// that picks pages still sees whole pages). `target` 0 or ≥ len keeps everything.
    pub fn sample_groups(&self, target: usize, seed: u64) -> Table {
        use rand::SeedableRng;
        use rand::seq::SliceRandom;
        if target == 0 || target >= self.len() {
            return self.clone();
        }
        let mut groups: Vec<&str> = self
            .examples
            .iter()
            .map(|e| e.group.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        groups.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        let mut sizes: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for e in &self.examples {
            *sizes.entry(e.group.as_str()).or_default() += 1;
        }
        let mut keep = HashSet::new();
        let mut total = 0;
        for g in groups {
            if total >= target {
                break;
            }
            total += sizes[g];
            keep.insert(g);
        }
        Table {
            examples: self
                .examples
                .iter()
                .filter(|e| keep.contains(e.group.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// Reads a normalised parquet table, naming the file and column on any mismatch.
    pub fn read_parquet(path: &Path) -> Result<Self, DataError> {
        let df = read_frame(path)?;
        let cols = COLUMNS
            .iter()
            .map(|name| string_column(path, &df, name, &COLUMNS))
            .collect::<Result<Vec<_>, _>>()?;
        let mut it: Vec<std::vec::IntoIter<String>> =
            cols.into_iter().map(Vec::into_iter).collect();
        let mut next = |i: usize| it[i].next().expect("columns have equal length");
        let examples = (0..df.height())
            .map(|_| Example {
                id: next(0),
                premise: next(1),
                hypothesis: next(2),
                label: next(3),
                source: next(4),
                group: next(5),
                split: next(6),
            })
            .collect();
        Table::new(examples).map_err(|message| DataError::Table {
            path: path.into(),
            message,
        })
    }
}

/// Writes `columns` (each `height` rows) to `path` as zstd parquet, atomically: the one
/// writer of every normalised table (NLI and math).
pub(crate) fn write_frame(
    path: &Path,
    height: usize,
    columns: Vec<Column>,
) -> Result<(), DataError> {
    let mut df = DataFrame::new(height, columns).map_err(|e| DataError::Table {
        path: path.into(),
        message: e.to_string(),
    })?;
    prism_core::atomic::write_atomic_with(path, |file| {
        ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut df)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })
    .map_err(DataError::io(path))
}

/// Opens the parquet table at `path`, naming the file when it is not one.
pub(crate) fn read_frame(path: &Path) -> Result<DataFrame, DataError> {
    let file = fs_err::File::open(path).map_err(DataError::io(path))?;
    ParquetReader::new(file.into_parts().0)
        .finish()
        .map_err(|e| DataError::Table {
            path: path.into(),
            message: format!("not a readable parquet file: {e}"),
        })
}

/// The string column `name` of `df` (read from `path`, whose schema is `expected`), naming
/// the file, the column and the row when it is missing, not strings, or null.
pub(crate) fn string_column(
    path: &Path,
    df: &DataFrame,
    name: &str,
    expected: &[&str],
) -> Result<Vec<String>, DataError> {
    let table_err = |message: String| DataError::Table {
        path: path.into(),
        message,
    };
    let col = df
        .column(name)
        .map_err(|_| table_err(format!("missing column `{name}` (expected {expected:?})")))?;
    let strings = col.str().map_err(|_| {
        table_err(format!(
            "column `{name}` must be strings, found {}",
            col.dtype()
        ))
    })?;
    strings
        .iter()
        .enumerate()
        .map(|(row, v)| {
            v.map(str::to_string)
                .ok_or_else(|| table_err(format!("row {row}: column `{name}` is null")))
        })
        .collect()
}

/// Whether `label` is one of the normalised labels.
pub fn is_label(label: &str) -> bool {
    matches!(
        label,
        "entailment" | "neutral" | "contradiction" | "non-entailment"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn example(id: &str, label: &str) -> Example {
        Example {
            id: id.into(),
            premise: format!("premise of {id}"),
            hypothesis: "a hypothesis".into(),
            label: label.into(),
            source: "test".into(),
            group: "g".into(),
            split: "train".into(),
        }
    }

    #[test]
    fn parquet_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let table = Table::new(vec![
            example("a", "entailment"),
            example("b", "non-entailment"),
        ])
        .unwrap();
        table.write_parquet(&path).unwrap();
        assert_eq!(Table::read_parquet(&path).unwrap(), table);
    }

    #[test]
    fn rejects_duplicates_and_bad_labels() {
        assert!(Table::new(vec![example("a", "entailment"), example("a", "neutral")]).is_err());
        assert!(Table::new(vec![example("a", "maybe")]).is_err());
    }

    #[test]
    fn reading_a_non_table_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.parquet");
        std::fs::write(&path, b"not parquet").unwrap();
        let err = Table::read_parquet(&path).unwrap_err().to_string();
        assert!(err.contains("junk.parquet"), "{err}");
    }
}
