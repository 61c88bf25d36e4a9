//! Featurisation as an experiment asks for it: a table's examples laid out in `gvendi.format`,
//! the proxy named by `gvendi.proxy` identified by the hash of its weights, and the feature
//! store of that proxy and configuration filled with whatever it lacks. `prism features grad`
//! and every sweep featurise through [`featurize`], so both fill and read the same store.

use crate::pipeline::{Batching, FeaturizeSummary, featurize_into_store};
use crate::store::{FeatureStore, StoreCheck, StoreMeta};
use crate::{FeatureError, GradientExample, Mode, load_proxy};
use prism_core::Session;
use prism_core::config::schema::GvendiConfig;
use prism_data::Table;
use prism_models::Backend;
use prism_models::language_model::resolve_model;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

/// The examples of a table as (prompt, completion) pairs for the proxy, in `gvendi.format`;
/// an example the format cannot express is an error naming it.
pub fn table_examples(
    table: &Table,
    gvendi: &GvendiConfig,
) -> Result<Vec<GradientExample>, FeatureError> {
    table
        .examples
        .iter()
        .map(|e| {
            let (prompt, completion) = gvendi
                .example(&e.premise, &e.hypothesis, &e.label)
                .map_err(|why| FeatureError::Format {
                    id: e.id.clone(),
                    why,
                })?;
            Ok(GradientExample {
                id: e.id.clone(),
                prompt,
                completion,
            })
        })
        .collect()
}

/// sha256 identifying a model's weights: the file, or a folder's config and safetensors.
pub fn model_fingerprint(path: &Path) -> Result<String, FeatureError> {
    let hash = |p: &Path| {
        prism_core::hash::sha256_file(p)
            .map_err(|e| FeatureError::store(p, format!("hashing: {e}")))
    };
    if path.is_file() {
        return hash(path);
    }
    let mut names: Vec<PathBuf> = fs_err::read_dir(path)
        .map_err(|e| FeatureError::store(path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "safetensors")
                || p.file_name().is_some_and(|n| n == "config.json")
        })
        .collect();
    names.sort();
    let parts = names
        .iter()
        .map(|p| hash(p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(prism_core::hash::sha256_hex(parts.join(",").as_bytes()))
}

/// What [`featurize`] found and did.
pub struct Featurised {
    /// The store of the proxy and configuration.
    pub store: FeatureStore,
    /// What the store's check found before featurising (damaged shards are moved aside first,
    /// so their examples are featurised again).
    pub check: StoreCheck,
    /// What was computed and how long it took, when something was missing.
    pub computed: Option<(FeaturizeSummary, f64)>,
}

impl Featurised {
    /// The lines a command prints about it (on stderr): damaged shards moved aside, older
    /// shards whose sums were recorded, and what was featurised.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = store_notes(&self.store, &self.check);
        if let Some((summary, seconds)) = &self.computed {
            notes.push(format!(
                "featurised {} examples ({} already stored) in {seconds:.1} s into `{}`",
                summary.computed,
                summary.skipped,
                self.store.dir().display()
            ));
        }
        notes
    }
}

/// What [`FeatureStore::repair`] did, in the words a command prints: damaged shards moved
/// aside (their examples are featurised again) and older shards whose sums were recorded.
pub fn store_notes(store: &FeatureStore, check: &StoreCheck) -> Vec<String> {
    let mut notes = Vec::new();
    for (shard, e) in &check.damaged {
        notes.push(format!(
            "warning: feature shard {shard} of `{}` is damaged ({e}); moved aside to `*.corrupt`, its examples are featurised again",
            store.dir().display()
        ));
    }
    if !check.unrecorded.is_empty() {
        notes.push(format!(
            "note: recorded checksums for {} feature shard(s) of `{}` written before prism recorded them (their content could not be checked this once)",
            check.unrecorded.len(),
            store.dir().display()
        ));
    }
    notes
}

/// Featurises `examples` into the store for `gvendi` (factored or dense) under `store_root`,
/// loading the proxy only when something is missing; `on_progress` is told (done, total).
pub fn featurize(
    session: &Session,
    gvendi: &GvendiConfig,
    examples: &[GradientExample],
    store_root: &Path,
    on_progress: &mut dyn FnMut(usize, usize),
) -> Result<Featurised, FeatureError> {
    let mode = Mode::from_str(&gvendi.mode)?;
    let models = session.cache().model("");
    let path = resolve_model(&gvendi.proxy, &models)?;
    let meta = StoreMeta {
        proxy: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        proxy_sha256: model_fingerprint(&path)?,
        mode: mode.to_string(),
        dim: gvendi.dim,
        seed: gvendi.seed,
        factor_dim: if mode == Mode::Factored {
            gvendi.factor_dim
        } else {
            0
        },
        version: crate::store::FEATURES_VERSION,
        batch_of_one: gvendi.batch_size == 1,
    };
    let store = FeatureStore::open(store_root, meta)?;
    let check = store.repair()?;
    let stored: std::collections::HashSet<String> =
        store.index()?.into_iter().map(|r| r.content_hash).collect();
    if examples.iter().all(|e| stored.contains(&e.content_hash())) {
        return Ok(Featurised {
            store,
            check,
            computed: None,
        });
    }
    let started = Instant::now();
    let device = Backend::from_str(&gvendi.backend)?.device()?;
    let lm = load_proxy(&path, &device, mode)?;
    let projection = crate::projection(mode, &lm, gvendi.dim, gvendi.factor_dim, gvendi.seed)?;
    let summary = featurize_into_store(
        &lm,
        projection.as_ref(),
        examples,
        &store,
        Batching {
            shard_size: gvendi.shard_size,
            batch_size: gvendi.batch_size,
            max_batch_tokens: gvendi.max_batch_tokens,
            workers: gvendi.workers,
        },
        on_progress,
    )?;
    Ok(Featurised {
        store,
        check,
        computed: Some((summary, started.elapsed().as_secs_f64())),
    })
}
