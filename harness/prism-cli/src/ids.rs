//! Subset id files (`<subset>.ids`): one example id per line; blank lines and `#` comments
//! are skipped. `prism train` and `prism metric compute --ids` read them the same way.

use crate::exit::UsageError;
use anyhow::Result;
use prism_data::table::Example;
use std::collections::HashMap;
use std::path::Path;

/// Positions in `examples` of the ids listed in `ids_file`, in file order. An unknown id is an
/// error naming the file, its line and `what` the examples are (`the pool`, a file name).
pub fn select(ids_file: &Path, examples: &[Example], what: &str) -> Result<Vec<usize>> {
    select_among(ids_file, examples.iter().map(|e| e.id.as_str()), what)
}

/// [`select`] over any list of ids (a feature store's index, ...).
pub fn select_among<'a>(
    ids_file: &Path,
    ids: impl Iterator<Item = &'a str>,
    what: &str,
) -> Result<Vec<usize>> {
    let text = fs_err::read_to_string(ids_file).map_err(|e| UsageError(e.to_string()))?;
    let index: HashMap<&str, usize> = ids.enumerate().map(|(i, id)| (id, i)).collect();
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(line, id)| {
            index.get(id).copied().ok_or_else(|| {
                UsageError(format!(
                    "`{}` line {line}: id `{id}` is not in {what}",
                    ids_file.display()
                ))
                .into()
            })
        })
        .collect()
}
