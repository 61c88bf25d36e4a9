//! The runs table: one row per training run.
//!
//! Columns: `run_id`, `scale` (subset size), `strategy`, `seed`, `train_seed` and `subset`
//! (optional: several students of one subset are averaged, see [`crate::seeds`]),
//! `metric.<name>` per diversity metric, `bench.<name>` per OOD benchmark accuracy, `id_acc`,
//! and `ood_mean` (the declared OOD aggregate: the unweighted mean of its `bench.*` columns;
//! computed over all of them when the column is absent, see [`RunsTable::with_ood_aggregate`]).
//! Optional: `majority.<name>` and `id_majority` (each evaluation sample's majority-class rate,
//! for the report's headroom diagnostics) and `groups_k` (the pages a `groups` subset is drawn
//! from: the ground-truth diversity axis) and `distinct_groups` (the pages a subset holds).
//!
//! [`write_runs`] is the one writer (the sweep fills a [`RunRecord`] per finished run) and
//! [`RunsTable::read`] the one reader. A missing value is an empty cell (read as `NaN`): a
//! metric that failed on a subset, or a run without one of the declared benchmarks, whose
//! `ood_mean` is then empty too, never a mean of fewer sets. Statistics use the rows where both
//! sides are present, and the report states how many cells each column misses
//! ([`crate::analysis::missing_cells`]).

use polars::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a runs table cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RunsError {
    /// The file cannot be opened or parsed.
    #[error("`{path}`: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The report's files cannot be written.
    #[error("writing the report into `{path}`")]
    Write {
        /// The report folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The declared analysis does not fit the table.
    #[error("{0}")]
    Declared(String),
    /// A cell is not what its column needs.
    #[error("`{path}`: line {line}, column `{column}`: {message}")]
    Cell {
        /// The file.
        path: PathBuf,
        /// 1-based line (the header is line 1).
        line: usize,
        /// The column.
        column: String,
        /// What is wrong.
        message: String,
    },
}

impl RunsError {
    /// Exit class: a table or declaration that does not fit is the user's to fix (2); a
    /// report that cannot be written is a failure (1).
    pub fn exit_class(&self) -> prism_core::ExitClass {
        match self {
            RunsError::Write { .. } => prism_core::ExitClass::Failure,
            _ => prism_core::ExitClass::BadInput,
        }
    }
}

/// A runs table in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunsTable {
    /// Run ids.
    pub run_id: Vec<String>,
    /// Subset size of each run.
    pub scale: Vec<f64>,
    /// Subset strategy of each run.
    pub strategy: Vec<String>,
    /// Subset seed of each run, as text.
    pub seed: Vec<String>,
    /// Training seed of each run's student, as text (empty when the table has none).
    pub train_seed: Vec<String>,
    /// Subset name of each run: runs with the same name trained students on one subset
    /// (empty when the table has none).
    pub subset: Vec<String>,
    /// `metric.<name>` columns, by name.
    pub metrics: BTreeMap<String, Vec<f64>>,
    /// `bench.<name>` columns, by name.
    pub benches: BTreeMap<String, Vec<f64>>,
    /// In-distribution accuracy.
    pub id_acc: Vec<f64>,
    /// Mean OOD accuracy over the declared aggregate ([`Self::ood_members`]).
    pub ood_mean: Vec<f64>,
    /// The benchmarks `ood_mean` averages; empty when the table's own `ood_mean` column was
    /// read and nothing says which benchmarks it holds.
    pub ood_members: Vec<String>,
    /// `majority.<name>` columns: each benchmark's majority-class rate, by name.
    pub majority: BTreeMap<String, Vec<f64>>,
    /// The ID test's majority-class rate (NaN when the table has none).
    pub id_majority: Vec<f64>,
    /// Pages (or claims) of each `groups` subset (NaN for other strategies, or when the table
    /// has no such column).
    pub groups_k: Vec<f64>,
    /// Distinct pages (or claims) each subset holds, as measured (`distinct_groups`; NaN when
    /// the table has none).
    pub distinct_groups: Vec<f64>,
    /// Members of each subset the gradient metrics saw, when only a draw of the pool was
    /// featurised (`gradient_rows`, from `gvendi.sample` < 1; NaN otherwise).
    pub gradient_rows: Vec<f64>,
}

impl RunsTable {
    /// Number of runs.
    pub fn len(&self) -> usize {
        self.run_id.len()
    }

    /// Whether there are no runs.
    pub fn is_empty(&self) -> bool {
        self.run_id.is_empty()
    }

    /// The distinct finite scales, ascending.
    pub fn scales(&self) -> Vec<f64> {
        let mut scales: Vec<f64> = self
            .scale
            .iter()
            .copied()
            .filter(|s| s.is_finite())
            .collect();
        scales.sort_by(f64::total_cmp);
        scales.dedup();
        scales
    }

    /// Reads a `.csv` or `.parquet` runs table.
    pub fn read(path: &Path) -> Result<RunsTable, RunsError> {
        let columns = match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => read_csv(path)?,
            Some("parquet") => read_parquet(path)?,
            _ => {
                return Err(RunsError::File {
                    path: path.into(),
                    message: "expected a runs table ending in .csv or .parquet".into(),
                });
            }
        };
        from_columns(path, columns)
    }

    /// The table with `ood_mean` recomputed as the unweighted mean of the declared benchmarks
    /// `ood` (a run missing any of them gets NaN, counted as missing, never a mean of fewer);
    /// a declared benchmark the table lacks is an error naming it.
    pub fn with_ood_aggregate(mut self, ood: &[String]) -> Result<RunsTable, RunsError> {
        if ood.is_empty() {
            return Err(RunsError::Declared(
                "the OOD aggregate must name at least one benchmark".into(),
            ));
        }
        let mut columns = Vec::new();
        for b in ood {
            columns.push(self.benches.get(b).ok_or_else(|| {
                RunsError::Declared(format!(
                    "the OOD aggregate names `{b}`, but the runs table has no `bench.{b}` column \
                     (it has: {})",
                    self.benches.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            })?);
        }
        self.ood_mean = row_means(&columns, self.len());
        self.ood_members = ood.to_vec();
        Ok(self)
    }
}

/// One run's OOD aggregate: the unweighted mean of its accuracies on the aggregate's
/// benchmarks, summed in their declared order; `None` when any is missing (never a mean of
/// fewer sets) or there are none. The one definition of `ood_mean`: the sweep writes the runs
/// table's column with it, and the report computes the column with it when a table lacks it.
pub fn ood_mean(accuracies: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let accs: Vec<f64> = accuracies.into_iter().collect::<Option<_>>()?;
    (!accs.is_empty()).then(|| accs.iter().sum::<f64>() / accs.len() as f64)
}

/// Each row's [`ood_mean`] over `columns` (NaN where any of them is NaN).
fn row_means(columns: &[&Vec<f64>], rows: usize) -> Vec<f64> {
    (0..rows)
        .map(|i| {
            ood_mean(columns.iter().map(|c| Some(c[i]).filter(|x| !x.is_nan()))).unwrap_or(f64::NAN)
        })
        .collect()
}

type Columns = Vec<(String, Vec<String>)>;

fn read_csv(path: &Path) -> Result<Columns, RunsError> {
    let file_err = |message: String| RunsError::File {
        path: path.into(),
        message,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| file_err(e.to_string()))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| file_err(e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut columns: Columns = headers.iter().map(|h| (h.clone(), Vec::new())).collect();
    for record in reader.records() {
        let record = record.map_err(|e| file_err(e.to_string()))?;
        for (k, cell) in record.iter().enumerate() {
            columns[k].1.push(cell.to_string());
        }
    }
    Ok(columns)
}

fn read_parquet(path: &Path) -> Result<Columns, RunsError> {
    let file_err = |message: String| RunsError::File {
        path: path.into(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| file_err(e.to_string()))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|e| file_err(e.to_string()))?;
    let mut columns = Vec::new();
    for col in df.columns() {
        let cast = col
            .cast(&DataType::String)
            .map_err(|e| file_err(e.to_string()))?;
        let strings = cast.str().map_err(|e| file_err(e.to_string()))?;
        columns.push((
            col.name().to_string(),
            strings
                .iter()
                .map(|v| v.unwrap_or("").to_string())
                .collect(),
        ));
    }
    Ok(columns)
}

/// Writes named string columns (equal lengths) as a runs table: `csv_path` as text and
/// `parquet_path` with every column whose non-empty cells are all numbers stored as f64 (empty
/// cells null). Both writes are atomic.
pub fn write_columns(
    columns: &[(String, Vec<String>)],
    csv_path: &Path,
    parquet_path: &Path,
) -> std::io::Result<()> {
    let rows = columns.first().map_or(0, |(_, v)| v.len());
    prism_core::atomic::write_atomic_with(csv_path, |file| {
        let mut w = csv::Writer::from_writer(file);
        w.write_record(columns.iter().map(|(n, _)| n.as_str()))?;
        for r in 0..rows {
            w.write_record(columns.iter().map(|(_, v)| v[r].as_str()))?;
        }
        w.flush()
    })?;
    let cols: Vec<Column> = columns
        .iter()
        .map(|(name, values)| {
            let numeric = values
                .iter()
                .all(|v| v.is_empty() || parse_number(v).is_some());
            if numeric {
                let nums: Vec<Option<f64>> = values.iter().map(|v| parse_number(v)).collect();
                Column::new(name.as_str().into(), nums)
            } else {
                Column::new(name.as_str().into(), values.clone())
            }
        })
        .collect();
    let mut df = DataFrame::new(rows, cols).map_err(std::io::Error::other)?;
    prism_core::atomic::write_atomic_with(parquet_path, |file| {
        ParquetWriter::new(file)
            .finish(&mut df)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })
}

/// What the runs table holds of one finished run: the sweep fills one per run from the run's
/// folder, and [`write_runs`] lays them out in the columns [`RunsTable::read`] reads. A `None`
/// is a missing value: an empty cell, which the report reads as NaN and counts as missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunRecord {
    /// The run's id.
    pub run_id: String,
    /// Subset size.
    pub scale: usize,
    /// Subset strategy label.
    pub strategy: String,
    /// Subset seed.
    pub seed: u64,
    /// Training seed of the run's student.
    pub train_seed: u64,
    /// Subset name (shared by the students of one subset).
    pub subset: String,
    /// Every metric's value, by name (`None`: the metric failed on this subset).
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Accuracy on each evaluation set (the ID test and the benchmarks), by set name.
    pub accuracy: BTreeMap<String, Option<f64>>,
    /// Each evaluation sample's majority-class rate, by set name.
    pub majority: BTreeMap<String, Option<f64>>,
    /// Seconds the student trained.
    pub train_seconds: Option<f64>,
    /// Distinct pages (or claims) the subset holds, as measured when it was built.
    pub distinct_groups: Option<f64>,
    /// Pages a `groups` subset is drawn from (the ground-truth diversity axis).
    pub groups_k: Option<usize>,
    /// Members the gradient metrics saw, when they saw a draw of the subset (`gvendi.sample`).
    pub gradient_rows: Option<usize>,
}

/// What a sweep declares about the columns of its runs table.
pub struct RunsSchema<'a> {
    /// The OOD benchmarks, in the experiment's order (`bench.<name>` and `majority.<name>`).
    pub benchmarks: &'a [String],
    /// The in-distribution test (`id_acc`, `id_majority`).
    pub id_test: &'a str,
    /// The benchmarks `ood_mean` averages (the experiment's `report.ood`).
    pub ood: &'a [String],
}

/// Writes `records` as the runs table (`runs.csv` and `runs.parquet`, atomically): the one
/// place the columns are laid out. `metric.<name>` columns are the union of every record's
/// metrics, sorted; `ood_mean` is [`ood_mean`] over `schema.ood` (empty when a run lacks one
/// of them); `groups_k` is written when some run has it.
pub fn write_runs(
    records: &[RunRecord],
    schema: &RunsSchema,
    csv_path: &Path,
    parquet_path: &Path,
) -> std::io::Result<()> {
    let num = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
    let column = |name: &str, f: &dyn Fn(&RunRecord) -> String| -> (String, Vec<String>) {
        (name.to_string(), records.iter().map(f).collect())
    };
    let mut metric_names: Vec<&String> = records.iter().flat_map(|r| r.metrics.keys()).collect();
    metric_names.sort();
    metric_names.dedup();
    let mut columns: Columns = vec![
        column("run_id", &|r| r.run_id.clone()),
        column("scale", &|r| r.scale.to_string()),
        column("strategy", &|r| r.strategy.clone()),
        column("seed", &|r| r.seed.to_string()),
        column("train_seed", &|r| r.train_seed.to_string()),
        column("subset", &|r| r.subset.clone()),
    ];
    for m in metric_names {
        columns.push(column(&format!("metric.{m}"), &|r| {
            num(r.metrics.get(m).copied().flatten())
        }));
    }
    let get = |map: &BTreeMap<String, Option<f64>>, set: &str| map.get(set).copied().flatten();
    for b in schema.benchmarks {
        columns.push(column(&format!("bench.{b}"), &|r| num(get(&r.accuracy, b))));
    }
    columns.push(column("id_acc", &|r| num(get(&r.accuracy, schema.id_test))));
    columns.push(column("ood_mean", &|r| {
        num(ood_mean(schema.ood.iter().map(|b| get(&r.accuracy, b))))
    }));
    columns.push(column("train_seconds", &|r| num(r.train_seconds)));
    for b in schema.benchmarks {
        columns.push(column(&format!("majority.{b}"), &|r| {
            num(get(&r.majority, b))
        }));
    }
    columns.push(column("id_majority", &|r| {
        num(get(&r.majority, schema.id_test))
    }));
    columns.push(column("distinct_groups", &|r| num(r.distinct_groups)));
    if records.iter().any(|r| r.groups_k.is_some()) {
        columns.push(column("groups_k", &|r| {
            r.groups_k.map(|k| k.to_string()).unwrap_or_default()
        }));
    }
    if records.iter().any(|r| r.gradient_rows.is_some()) {
        columns.push(column("gradient_rows", &|r| {
            r.gradient_rows.map(|n| n.to_string()).unwrap_or_default()
        }));
    }
    write_columns(&columns, csv_path, parquet_path)
}

fn from_columns(path: &Path, columns: Columns) -> Result<RunsTable, RunsError> {
    let find = |name: &str| columns.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let missing = |name: &str| RunsError::File {
        path: path.into(),
        message: format!("missing column `{name}`"),
    };
    let numbers = |name: &str, values: &[String]| -> Result<Vec<f64>, RunsError> {
        values
            .iter()
            .enumerate()
            .map(|(row, v)| {
                parse_number(v).ok_or_else(|| RunsError::Cell {
                    path: path.into(),
                    line: row + 2,
                    column: name.into(),
                    message: format!("`{v}` is not a number"),
                })
            })
            .collect()
    };
    let run_id = find("run_id").ok_or_else(|| missing("run_id"))?.clone();
    let n = run_id.len();
    let text = |name: &str| {
        find(name)
            .cloned()
            .unwrap_or_else(|| vec![String::new(); n])
    };
    let scale = numbers("scale", find("scale").ok_or_else(|| missing("scale"))?)?;
    let mut metrics = BTreeMap::new();
    let mut benches = BTreeMap::new();
    let mut majority = BTreeMap::new();
    for (name, values) in &columns {
        if let Some(metric) = name.strip_prefix("metric.") {
            metrics.insert(metric.to_string(), numbers(name, values)?);
        } else if let Some(bench) = name.strip_prefix("bench.") {
            benches.insert(bench.to_string(), numbers(name, values)?);
        } else if let Some(bench) = name.strip_prefix("majority.") {
            majority.insert(bench.to_string(), numbers(name, values)?);
        }
    }
    let optional = |name: &str| match find(name) {
        Some(values) => numbers(name, values),
        None => Ok(vec![f64::NAN; n]),
    };
    if metrics.is_empty() {
        return Err(missing("metric.<name> (at least one)"));
    }
    let (ood_mean, ood_members) = match find("ood_mean") {
        Some(values) => (numbers("ood_mean", values)?, Vec::new()),
        None if !benches.is_empty() => (
            row_means(&benches.values().collect::<Vec<_>>(), n),
            benches.keys().cloned().collect(),
        ),
        None => return Err(missing("ood_mean (or bench.<name> columns)")),
    };
    let id_acc = optional("id_acc")?;
    Ok(RunsTable {
        ood_members,
        majority,
        id_majority: optional("id_majority")?,
        groups_k: optional("groups_k")?,
        distinct_groups: optional("distinct_groups")?,
        gradient_rows: optional("gradient_rows")?,
        run_id,
        scale,
        strategy: text("strategy"),
        seed: text("seed"),
        train_seed: text("train_seed"),
        subset: text("subset"),
        metrics,
        benches,
        id_acc,
        ood_mean,
    })
}

fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.eq_ignore_ascii_case("null") {
        return Some(f64::NAN);
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer's columns are the reader's: three runs, one whose metric failed and one
    /// without a declared benchmark, written and read back; the report counts what is missing.
    #[test]
    fn written_runs_read_back_and_missing_values_are_counted_and_stated() {
        let record = |id: &str, scale: usize, m: Option<f64>, b: Option<f64>| RunRecord {
            run_id: id.into(),
            scale,
            strategy: "groups-k8-page".into(),
            seed: 0,
            train_seed: 0,
            subset: format!("s-{id}"),
            metrics: BTreeMap::from([("m".into(), m), ("n".into(), Some(scale as f64))]),
            accuracy: BTreeMap::from([
                ("idt".into(), Some(0.6)),
                ("x".into(), Some(0.5)),
                ("y".into(), b),
            ]),
            majority: BTreeMap::from([("x".into(), Some(0.5)), ("y".into(), Some(0.3))]),
            train_seconds: Some(2.5),
            distinct_groups: Some(8.0),
            groups_k: Some(8),
            gradient_rows: None,
        };
        let records = [
            record("r1", 100, Some(1.5), Some(0.7)),
            record("r2", 200, None, Some(0.8)),
            record("r3", 300, Some(2.5), None),
            record("r4", 400, Some(3.5), Some(0.9)),
        ];
        let benchmarks = ["x".to_string(), "y".to_string()];
        let schema = RunsSchema {
            benchmarks: &benchmarks,
            id_test: "idt",
            ood: &benchmarks,
        };
        let dir = tempfile::tempdir().unwrap();
        let (csv, parquet) = (dir.path().join("runs.csv"), dir.path().join("runs.parquet"));
        write_runs(&records, &schema, &csv, &parquet).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            "run_id,scale,strategy,seed,train_seed,subset,metric.m,metric.n,bench.x,bench.y,id_acc,ood_mean,train_seconds,majority.x,majority.y,id_majority,distinct_groups,groups_k"
        );
        assert_eq!(
            text.lines().nth(3).unwrap(),
            "r3,300,groups-k8-page,0,0,s-r3,2.5,300,0.5,,0.6,,2.5,0.5,0.3,,8,8",
            "a run without a declared benchmark has no ood_mean, never a mean of fewer"
        );
        for path in [&csv, &parquet] {
            let t = RunsTable::read(path).unwrap();
            assert_eq!(t.run_id, ["r1", "r2", "r3", "r4"]);
            assert_eq!(t.ood_mean[0], 0.6);
            assert!(t.metrics["m"][1].is_nan() && t.ood_mean[2].is_nan());
            assert_eq!(t.groups_k, [8.0; 4]);
            let missing = crate::analysis::missing_cells(&t);
            assert_eq!(
                missing,
                BTreeMap::from([
                    ("bench.y".to_string(), 1),
                    ("metric.m".to_string(), 1),
                    ("ood_mean".to_string(), 1)
                ])
            );
        }
        let report = crate::analyze(&RunsTable::read(&csv).unwrap(), &Default::default());
        let md = crate::render::markdown(&report);
        assert!(
            md.contains(
                "Missing values (empty cells, of 4 runs): `bench.y` 1, `metric.m` 1, `ood_mean` 1;"
            ),
            "{md}"
        );
        assert!(!md.contains("gvendi.sample"), "no draw, no word of one");
        // A sampled featurisation: the column is written, read back, and the report says how
        // many members the gradient metrics saw.
        let drawn: Vec<RunRecord> = records
            .iter()
            .zip([24, 51, 77, 98])
            .map(|(r, n)| RunRecord {
                gradient_rows: Some(n),
                ..r.clone()
            })
            .collect();
        write_runs(&drawn, &schema, &csv, &parquet).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        assert!(
            text.lines()
                .next()
                .unwrap()
                .ends_with(",groups_k,gradient_rows")
        );
        for path in [&csv, &parquet] {
            assert_eq!(
                RunsTable::read(path).unwrap().gradient_rows,
                [24.0, 51.0, 77.0, 98.0]
            );
        }
        let report = crate::analyze(&RunsTable::read(&csv).unwrap(), &Default::default());
        let md = crate::render::markdown(&report);
        assert!(
            md.contains("seeded draw of the pool (`gvendi.sample`): 24–98 per subset, mean 62"),
            "{md}"
        );
    }

    #[test]
    fn reads_csv_and_names_bad_cells() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.csv");
        std::fs::write(
            &path,
            "run_id,scale,strategy,seed,metric.a,bench.x,bench.y,id_acc\nr1,100,random,0,1.5,0.5,0.7,0.8\nr2,200,groups,1,,0.6,0.8,0.9\n",
        )
        .unwrap();
        let t = RunsTable::read(&path).unwrap();
        assert_eq!(t.len(), 2);
        assert!(t.metrics["a"][1].is_nan());
        assert!(
            (t.ood_mean[0] - 0.6).abs() < 1e-12,
            "ood_mean is computed from bench.*"
        );
        assert_eq!(t.ood_members, ["x", "y"]);
        assert!(t.groups_k.iter().all(|k| k.is_nan()) && t.majority.is_empty());
        // A declared aggregate of one benchmark, and one the table lacks.
        let declared = t.clone().with_ood_aggregate(&["y".into()]).unwrap();
        assert_eq!(declared.ood_mean, [0.7, 0.8]);
        assert_eq!(declared.ood_members, ["y"]);
        let err = t.with_ood_aggregate(&["z".into()]).unwrap_err().to_string();
        assert!(err.contains("`z`") && err.contains("bench.z"), "{err}");
        std::fs::write(&path, "run_id,scale,metric.a\nr1,100,high\n").unwrap();
        let err = RunsTable::read(&path).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("metric.a"), "{err}");
    }
}
