//! Run plumbing every task shares: its pending runs' subsets built once, a subset's ids
//! mapped to pool rows, the train-and-evaluate cache file, and the events of a repaired
//! feature store.

use anyhow::{Context, Result, bail};
use prism_core::Session;
use prism_data::subset::{Pool, build_many, strategies::Context as SubsetContext};
use prism_sweep::PlannedRun;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The pending runs' subsets (ids and manifest), or why one could not be built, by
/// [`PlannedRun::subset_key`].
pub(crate) type BuiltSubsets =
    HashMap<String, std::result::Result<(Vec<String>, serde_json::Value), String>>;

/// Builds each distinct subset of `pending` once, however many training seeds' runs share
/// it. A subset that cannot be built is kept as its reason: that run fails when it executes,
/// the others go on.
pub(crate) fn build_subsets(pool: &Pool, pending: &[&PlannedRun]) -> BuiltSubsets {
    let ctx = SubsetContext::default();
    let mut seen = HashSet::new();
    let distinct: Vec<&PlannedRun> = pending
        .iter()
        .copied()
        .filter(|r| seen.insert(r.subset_key()))
        .collect();
    let requests: Vec<_> = distinct.iter().map(|r| (&r.spec, r.size, r.seed)).collect();
    let mut subsets = HashMap::new();
    for (run, (built, _)) in distinct.iter().zip(build_many(pool, &requests, &ctx)) {
        let built = match built {
            Ok(s) => {
                let manifest = serde_json::json!({
                    "name": s.name, "strategy": s.strategy, "size": s.size, "seed": s.seed,
                    "details": s.details, "controls": s.controls,
                });
                Ok((s.ids, manifest))
            }
            Err(e) => Err(e.to_string()),
        };
        subsets.insert(run.subset_key(), built);
    }
    subsets
}

/// The ids some pending run's subset uses.
pub(crate) fn used_ids(subsets: &BuiltSubsets) -> HashSet<&str> {
    subsets
        .values()
        .flatten()
        .flat_map(|(ids, _)| ids.iter().map(String::as_str))
        .collect()
}

/// The prepared subset of `run` ([`prism_sweep::PreparedRuns::subset`]).
pub(crate) fn subset_of(
    subsets: &BuiltSubsets,
    run: &PlannedRun,
) -> Result<(Vec<String>, serde_json::Value)> {
    match subsets.get(&run.subset_key()) {
        Some(Ok(built)) => Ok(built.clone()),
        Some(Err(why)) => bail!("{why}"),
        None => bail!("subset {} was not prepared", run.subset),
    }
}

/// The pool rows of the subset `ids`; an id the pool lacks is an error naming it.
pub(crate) fn rows_of(row_of: &HashMap<String, usize>, ids: &[String]) -> Result<Vec<usize>> {
    ids.iter()
        .map(|id| {
            row_of
                .get(id)
                .copied()
                .with_context(|| format!("subset id `{id}` is not in the pool"))
        })
        .collect()
}

/// The content hashes every task's runs share: each data table the experiment reads (the
/// pool, the ID test `id_test`, every benchmark) as `data.<name>`, and the G-Vendi proxy's
/// weights as `proxy`. A task adds its student's.
pub(crate) fn data_and_proxy_hashes(
    session: &Session,
    id_test: &str,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let cfg = &session.config.value;
    let mut inputs = serde_json::Map::new();
    let mut sets = vec![cfg.data.pool.clone(), id_test.to_string()];
    sets.extend(cfg.data.benchmarks.iter().cloned());
    for name in sets {
        let path = prism_data::project::dataset_path(session, &name)?;
        let h = prism_core::hash::sha256_file(&path)
            .with_context(|| format!("hashing `{}`", path.display()))?;
        inputs.insert(format!("data.{name}"), h.into());
    }
    let proxy =
        prism_models::language_model::resolve_model(&cfg.gvendi.proxy, &session.cache().model(""))?;
    inputs.insert(
        "proxy".into(),
        prism_features::experiment::model_fingerprint(&proxy)?.into(),
    );
    Ok(inputs)
}

/// Where a train-and-evaluate result is cached: `key` must hash everything the result depends
/// on, and nothing else.
pub(crate) fn train_cache_file(session: &Session, key: &serde_json::Value) -> PathBuf {
    let hash = prism_core::hash::sha256_hex(key.to_string().as_bytes());
    session
        .cache()
        .root()
        .join("stages/train-eval")
        .join(format!("{}.json", &hash[..32]))
}

/// `eval.json`'s bytes for one run: the train-and-evaluate report cached at `path`, or the one
/// `compute` makes, cached there with its sums. A damaged entry is moved aside and one without
/// sums ignored: the student is trained again rather than a result used that cannot be vouched
/// for.
pub(crate) fn cached_report(
    path: &Path,
    stage: &dyn Fn(&str) -> Result<()>,
    compute: impl FnOnce() -> Result<serde_json::Value>,
) -> Result<Vec<u8>> {
    if let Some(report) = prism_core::integrity::read_cached_or_discard(path, "training again")? {
        stage("train (cached)")?;
        return Ok(report);
    }
    let report = compute()?;
    // eval.json's exact bytes; the cache entry holds the same, with its sums beside it.
    let mut bytes = serde_json::to_vec_pretty(&report)?;
    bytes.push(b'\n');
    prism_core::integrity::write_cached(path, &bytes)?;
    Ok(bytes)
}

/// The sweep events of feature shards found damaged while preparing (each as its error).
pub(crate) fn repaired_shard_events(repaired: &[String]) -> Vec<serde_json::Value> {
    repaired
        .iter()
        .map(|damage| serde_json::json!({"state": "feature-shard-damaged", "error": damage, "action": "moved aside, featurised again"}))
        .collect()
}
