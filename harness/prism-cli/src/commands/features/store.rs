//! Filling the feature store from a command: a progress bar while the proxy runs, then what
//! the store's check found and what was computed, on stderr.

use crate::context::Session;
use anyhow::Result;
use prism_core::config::schema::GvendiConfig;
use prism_features::{FeatureStore, GradientExample};
use std::path::Path;

/// Featurises `examples` into the store for `gvendi` under `store_root` with a progress bar,
/// and prints what the store's check found and what was computed.
pub fn featurize(
    session: &Session,
    gvendi: &GvendiConfig,
    examples: &[GradientExample],
    store_root: &Path,
) -> Result<FeatureStore> {
    let bar = prism_core::progress::bar(0, "gradients");
    let featurised = prism_features::featurize(
        session,
        gvendi,
        examples,
        store_root,
        &mut prism_core::progress::counter(&bar),
    )?;
    bar.finish_and_clear();
    for note in featurised.notes() {
        eprintln!("{note}");
    }
    Ok(featurised.store)
}
