//! What every task computes once per sweep to score its subsets with the diversity metrics:
//! the chosen metrics, the pool's sentence and static-word embeddings (cached by content),
//! and the gradient features of the pool examples some pending run uses (from the feature
//! store). A task supplies its examples' texts and proxy examples; [`PoolScores::metrics_of`]
//! then scores any subset by pool rows.

use anyhow::{Context, Result, bail};
use prism_core::Session;
use prism_core::config::schema::GvendiConfig;
use prism_features::GradientExample;
use prism_features::experiment::featurize;
use prism_metrics::{DiversityMetric, MetricInput, Need, registry};
use prism_models::embedders::{minilm_embeddings, static_embeddings};
use prism_vendi::Features;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The metrics a sweep computes: `sweep.metrics`, or every registered metric except those
/// reading model-assigned skill labels (labelling the pool with the default 135M annotator
/// takes about 2 s per example and gives nearly one label to everything, docs/findings.md, so
/// `skill-entropy` runs only when named).
pub(crate) fn chosen_metrics(session: &Session) -> Result<Vec<Box<dyn DiversityMetric>>> {
    let cfg = &session.config.value;
    if cfg.sweep.metrics.is_empty() {
        return Ok(registry()
            .into_iter()
            .filter(|m| !m.needs().contains(&Need::Skills))
            .collect());
    }
    let mut chosen = Vec::new();
    for name in &cfg.sweep.metrics {
        let Some(m) = prism_metrics::find(name) else {
            bail!("sweep.metrics: unknown metric `{name}` (see `prism metric list`)");
        };
        chosen.push(m);
    }
    Ok(chosen)
}

/// Gradient features of the featurised pool examples, read from the store once per sweep.
pub(crate) struct PoolGradients {
    features: Features,
    losses: Vec<f32>,
    /// Feature row of each featurised pool row.
    row_of: HashMap<usize, usize>,
    /// The draw, when only a draw of the pool was featurised (`gvendi.sample` < 1): a
    /// subset's gradient metrics then read a fixed number of its members in the draw
    /// ([`PoolGradients::feature_rows`]) instead of calling a missing one an error.
    draw: Option<GvendiConfig>,
}

/// Featurises `examples` (pool rows `pool_rows`, in the same order) into the experiment's
/// feature store and loads their features; returns them and the damaged shards the store
/// repaired on the way (each as its error's text). Under `gvendi.sample` < 1 only the
/// examples in the seeded draw ([`prism_core::config::GvendiConfig::samples`]) are featurised.
pub(crate) fn pool_gradients(
    session: &Session,
    pool_rows: Vec<usize>,
    examples: &[GradientExample],
) -> Result<(PoolGradients, Vec<String>)> {
    let cfg = &session.config.value;
    let draw = cfg.gvendi.is_sampled().then(|| cfg.gvendi.clone());
    // Only a draw copies the examples it keeps; without one, every example is featurised.
    let (pool_rows, examples): (Vec<usize>, Cow<[GradientExample]>) = if draw.is_some() {
        let (rows, kept): (Vec<usize>, Vec<GradientExample>) = pool_rows
            .into_iter()
            .zip(examples)
            .filter(|(_, e)| cfg.gvendi.samples(&e.id))
            .map(|(r, e)| (r, e.clone()))
            .unzip();
        (rows, Cow::Owned(kept))
    } else {
        (pool_rows, Cow::Borrowed(examples))
    };
    if draw.is_some() {
        eprintln!(
            "gvendi.sample = {}: {} of the pool examples in use are in the featurised draw",
            cfg.gvendi.sample,
            examples.len()
        );
    }
    eprintln!(
        "gradient features of {} pool examples ({} mode)",
        examples.len(),
        cfg.gvendi.mode
    );
    let bar = prism_core::progress::bar(0, "gradients");
    let featurised = featurize(
        session,
        &cfg.gvendi,
        &examples,
        &session.cache().root().join("features"),
        &mut prism_core::progress::counter(&bar),
    )?;
    bar.finish_and_clear();
    for note in featurised.notes() {
        eprintln!("{note}");
    }
    let repaired = featurised
        .check
        .damaged
        .iter()
        .map(|(_, e)| e.to_string())
        .collect();
    let hashes: Vec<String> = examples.iter().map(|e| e.content_hash()).collect();
    let (features, index) = featurised.store.load(&hashes)?;
    if let Some(mb) = prism_sweep::ledger::peak_rss_mb() {
        eprintln!("process peak RSS after featurisation: {mb} MB");
    }
    let gradients = PoolGradients {
        features,
        losses: index.iter().map(|r| r.loss).collect(),
        row_of: pool_rows
            .into_iter()
            .enumerate()
            .map(|(f, p)| (p, f))
            .collect(),
        draw,
    };
    Ok((gradients, repaired))
}

/// The pool-level inputs of the metrics, computed once per sweep.
pub(crate) struct PoolScores {
    /// The metrics computed on every subset.
    pub metrics: Vec<Box<dyn DiversityMetric>>,
    /// Sentence embeddings of every pool row (MiniLM), when a metric needs them.
    pub embeddings: Option<Features>,
    /// Static word-vector embeddings of every pool row, when a metric needs them.
    pub static_embeddings: Option<Features>,
    /// Gradient features of the used pool rows, when a metric needs them.
    pub gradients: Option<PoolGradients>,
    /// Each used pool row's skill label, when a metric needs them.
    pub skills: Option<HashMap<usize, String>>,
}

/// One subset as the metrics see it: pool rows with their ids, texts and labels.
pub(crate) struct SubsetView<'a> {
    /// Pool rows.
    pub rows: &'a [usize],
    /// Each row's example id (for errors).
    pub ids: Vec<&'a str>,
    /// The text the surface metrics read, per row.
    pub texts: Vec<String>,
    /// The label (or stratum) per row.
    pub labels: Vec<String>,
}

impl PoolScores {
    /// Whether a chosen metric needs `need`.
    pub fn wants(metrics: &[Box<dyn DiversityMetric>], need: Need) -> bool {
        metrics.iter().any(|m| m.needs().contains(&need))
    }

    /// Every metric on `subset`; a metric that cannot be computed is recorded as null with its
    /// reason under `errors` (the run goes on).
    pub fn metrics_of(&self, subset: &SubsetView<'_>) -> Result<serde_json::Value> {
        let rows = subset.rows;
        let pick = |f: &Option<Features>| f.as_ref().map(|f| f.select(rows));
        let (emb, stat) = (pick(&self.embeddings), pick(&self.static_embeddings));
        let mut proxy_losses: Option<Vec<f32>> = None;
        let skills: Option<Vec<String>> = match &self.skills {
            Some(by_row) => Some(
                rows.iter()
                    .zip(&subset.ids)
                    .map(|(r, id)| {
                        by_row
                            .get(r)
                            .cloned()
                            .with_context(|| format!("pool example `{id}` has no skill label"))
                    })
                    .collect::<Result<_>>()?,
            ),
            None => None,
        };
        let mut gradient_rows = None;
        let grad = match &self.gradients {
            Some(g) => {
                let grad_rows = g.feature_rows(&subset.ids, rows)?;
                gradient_rows = g.draw.is_some().then_some(grad_rows.len());
                proxy_losses = Some(grad_rows.iter().map(|&f| g.losses[f]).collect());
                Some(g.features.select(&grad_rows))
            }
            None => None,
        };
        let input = MetricInput {
            texts: &subset.texts,
            labels: &subset.labels,
            embeddings: emb.as_ref(),
            static_embeddings: stat.as_ref(),
            gradients: grad.as_ref(),
            proxy_losses: proxy_losses.as_deref(),
            // The whole pool is the reference set a subset's density is measured against.
            reference_embeddings: self.embeddings.as_ref(),
            skills: skills.as_deref(),
            seed: 0,
        };
        let mut values = BTreeMap::new();
        let mut errors = BTreeMap::new();
        for m in &self.metrics {
            match m.compute(&input) {
                Ok(v) => {
                    values.insert(m.name().to_string(), Some(v));
                }
                Err(e) => {
                    values.insert(m.name().to_string(), None);
                    errors.insert(m.name().to_string(), e.to_string());
                }
            }
        }
        let mut out = serde_json::json!({"values": values, "errors": errors});
        if let Some(n) = gradient_rows {
            // How many members the gradient metrics saw, when they saw a draw of the subset.
            out["gradient_rows"] = n.into();
        }
        Ok(out)
    }
}

impl PoolGradients {
    /// The feature rows of a subset's pool `rows` (ids for errors): every member's, or under a
    /// sampled featurisation its [`GvendiConfig::draw_size`] members in the draw of smallest
    /// draw key: a uniform sample of the subset of the same size for every subset of a size
    /// (a bottom-m sketch), in the subset's order.
    fn feature_rows(&self, ids: &[&str], rows: &[usize]) -> Result<Vec<usize>> {
        if let Some(draw) = &self.draw {
            let mut drawn: Vec<(f64, usize, usize)> = ids
                .iter()
                .zip(rows)
                .enumerate()
                .filter_map(|(at, (id, r))| {
                    let f = self.row_of.get(r)?;
                    Some((draw.draw_key(id), at, *f))
                })
                .collect();
            drawn.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            drawn.truncate(draw.draw_size(rows.len()));
            drawn.sort_by_key(|&(_, at, _)| at);
            return Ok(drawn.into_iter().map(|(_, _, f)| f).collect());
        }
        ids.iter()
            .zip(rows)
            .map(|(id, r)| {
                self.row_of
                    .get(r)
                    .copied()
                    .with_context(|| format!("pool example `{id}` has no gradient features"))
            })
            .collect()
    }
}

/// The pool's sentence embeddings (MiniLM on each `(first, second)` text pair) and static
/// word-vector embeddings (of each `text`), each only when a chosen metric needs it, cached in
/// `cache_dir` under a key of the pool's ids, the input files (data and models) and the
/// encoder's code, the three things they depend on.
pub(crate) fn pool_embeddings(
    session: &Session,
    metrics: &[Box<dyn DiversityMetric>],
    cache_dir: &Path,
    inputs: &serde_json::Value,
    ids: &[&str],
    pairs: &[(&str, &str)],
    texts: &[String],
) -> Result<(Option<Features>, Option<Features>)> {
    let pool_key = &prism_core::hash::sha256_hex(
        serde_json::json!({
            "ids": ids,
            "inputs": inputs,
            "encoder": prism_models::bert::ENCODER_VERSION,
        })
        .to_string()
        .as_bytes(),
    )[..16];
    let cache = session.cache();
    let embeddings = if PoolScores::wants(metrics, Need::Embeddings) {
        cached_matrix(&cache_dir.join(format!("minilm-{pool_key}.npy")), || {
            Ok(minilm_embeddings(&cache, pairs, false)?)
        })?
    } else {
        None
    };
    let static_embeddings = if PoolScores::wants(metrics, Need::StaticEmbeddings) {
        cached_matrix(&cache_dir.join(format!("wordllama-{pool_key}.npy")), || {
            Ok(static_embeddings(&cache, texts, false)?)
        })?
    } else {
        None
    };
    Ok((embeddings, static_embeddings))
}

/// A pool-level matrix from `path` (checked against its sums), or computed by `make` and saved
/// there with them.
fn cached_matrix(
    path: &Path,
    make: impl FnOnce() -> Result<Option<Features>>,
) -> Result<Option<Features>> {
    if let Some(bytes) = prism_core::integrity::read_cached_or_discard(path, "computing it again")?
    {
        let features = prism_vendi::npy::parse_npy(&bytes)
            .map_err(|e| anyhow::anyhow!("`{}`: {e}", path.display()))?;
        return Ok(Some(features));
    }
    let f = make()?;
    if let Some(f) = &f {
        prism_core::integrity::write_cached(path, &prism_vendi::npy::to_npy_f32(f))?;
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 400 pool rows, the drawn ones featurised (feature row i holds the value i).
    fn drawn_pool(sample: f64) -> (Vec<String>, PoolGradients) {
        let draw = GvendiConfig {
            sample,
            ..GvendiConfig::default()
        };
        let ids: Vec<String> = (0..400).map(|i| format!("p-{i}")).collect();
        let featurised: Vec<usize> = (0..400).filter(|&r| draw.samples(&ids[r])).collect();
        let n = featurised.len();
        let gradients = PoolGradients {
            features: Features::new((0..n).map(|i| i as f32).collect(), n, 1),
            losses: vec![0.0; n],
            row_of: featurised
                .iter()
                .enumerate()
                .map(|(f, &r)| (r, f))
                .collect(),
            draw: (sample < 1.0).then_some(draw),
        };
        (ids, gradients)
    }

    #[test]
    fn a_drawn_subset_reads_its_members_of_smallest_key_and_the_same_number_at_each_size() {
        let (ids, g) = drawn_pool(0.25);
        let draw = g.draw.clone().unwrap();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        for (subset, shift) in [
            ((0..400).collect::<Vec<usize>>(), 0),
            ((0..200).collect(), 0),
            ((200..400).collect(), 200),
        ] {
            let names: Vec<&str> = subset.iter().map(|&r| id_refs[r]).collect();
            let got = g.feature_rows(&names, &subset).unwrap();
            assert_eq!(
                got.len(),
                draw.draw_size(subset.len()),
                "a fixed number per size"
            );
            // Brute force: the featurised members sorted by key, the first draw_size of them,
            // back in the subset's order.
            let mut expect: Vec<(f64, usize)> = subset
                .iter()
                .filter(|&&r| g.row_of.contains_key(&r))
                .map(|&r| (draw.draw_key(&ids[r]), r))
                .collect();
            expect.sort_by(|a, b| a.0.total_cmp(&b.0));
            expect.truncate(draw.draw_size(subset.len()));
            let mut rows: Vec<usize> = expect.into_iter().map(|(_, r)| r).collect();
            rows.sort();
            let expect: Vec<usize> = rows.iter().map(|r| g.row_of[r]).collect();
            assert_eq!(got, expect, "subset starting at {shift}");
        }
        // Unsampled, a member without features is an error naming it.
        let (ids, mut whole) = drawn_pool(1.0);
        whole.row_of.remove(&7);
        let names: Vec<&str> = ids.iter().map(String::as_str).collect();
        let err = whole
            .feature_rows(&names[..10], &(0..10).collect::<Vec<_>>())
            .unwrap_err();
        assert!(
            err.to_string().contains("`p-7` has no gradient features"),
            "{err}"
        );
    }
}
