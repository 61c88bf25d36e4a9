//! The tables an experiment names, read the one way every stage reads them: a dataset by its
//! config name (checked against the hash `prism data fetch` recorded), the pool sampled by
//! whole pages, and labels mapped into the table's label space.

use crate::catalog::{THREE_WAY, TWO_WAY};
use crate::error::DataError;
use crate::table::{Example, Table};
use prism_core::Session;
use prism_core::config::schema::looks_like_path;
use std::path::PathBuf;

/// The parquet file of a dataset named in the config: a name in the cache (`vitaminc`) or a
/// path. An error names both when it is missing, and names the file and both hashes when a
/// cached table no longer matches the hash `prism data fetch` recorded.
pub fn dataset_path(session: &Session, name: &str) -> Result<PathBuf, DataError> {
    let path = session.dataset_location(name);
    if !path.is_file() {
        let cache = session.cache();
        if let Some(manifest) = crate::fetch::read_manifest(&cache)
            && manifest.left_out.iter().any(|n| n == name)
        {
            let package = crate::fetch::BIGBENCH;
            return Err(DataError::LeftOutDataset {
                name: name.into(),
                package: package.spec(),
                file: package.file.into(),
                sha256: package.sha256.into(),
                packages: cache.packages(),
            });
        }
        return Err(DataError::MissingDataset {
            name: name.into(),
            path,
        });
    }
    if !looks_like_path(name) {
        crate::fetch::check_dataset(&session.cache(), name)?;
    }
    Ok(path)
}

/// A labelled table and whether its labels are two-way (entailment / non-entailment).
pub struct LabeledTable {
    /// The examples.
    pub table: Table,
    /// Whether every label is one of [`TWO_WAY`]'s.
    pub two_way: bool,
}

impl LabeledTable {
    /// Classes of the table's label space.
    pub fn classes(&self) -> usize {
        if self.two_way {
            TWO_WAY.len()
        } else {
            THREE_WAY.len()
        }
    }
}

/// The table of a dataset named in the config (see [`dataset_path`]).
pub fn dataset_table(session: &Session, name: &str) -> Result<LabeledTable, DataError> {
    let table = Table::read_parquet(&dataset_path(session, name)?)?;
    let two_way = table
        .examples
        .iter()
        .all(|e| label_index(&e.label, true).is_some());
    Ok(LabeledTable { table, two_way })
}

/// The experiment's pool: `data.pool`, sampled to `data.pool_size` examples by whole pages
/// (seeded by `data.split_seed`); every stage that subsets, featurises or trains reads it
/// this way.
pub fn pool_table(session: &Session) -> Result<LabeledTable, DataError> {
    let data = &session.config.value.data;
    let LabeledTable { table, two_way } = dataset_table(session, &data.pool)?;
    Ok(LabeledTable {
        table: table.sample_groups(data.pool_size, data.split_seed),
        two_way,
    })
}

/// Position of `label` in the two- or three-way label space.
pub fn label_index(label: &str, two_way: bool) -> Option<usize> {
    let space: &[&str] = if two_way { &TWO_WAY } else { &THREE_WAY };
    space.iter().position(|l| *l == label)
}

/// The gold class of `e` in the label space; `set` names where it comes from in the error
/// (`pool`, a dataset name in backticks).
pub fn gold_label(e: &Example, two_way: bool, set: &str) -> Result<usize, DataError> {
    label_index(&e.label, two_way).ok_or_else(|| DataError::UnknownLabel {
        set: set.into(),
        id: e.id.clone(),
        label: e.label.clone(),
    })
}
