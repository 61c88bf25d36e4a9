//! Featurising a dataset into a store: skip what is stored, cut the rest into shards, and
//! within a shard batch examples by length. Shard boundaries and batches depend only on the
//! list of examples still to do, so a run resumed after a kill computes exactly the batches an
//! uninterrupted run would have (bit-identical features on the same machine and backend).

use crate::error::FeatureError;
use crate::featurize::{GradientExample, GradientProjection};
use crate::store::{FeatureStore, StoredExample};
use prism_models::LanguageModel;
use std::collections::HashSet;

/// What a featurisation run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FeaturizeSummary {
    /// Examples asked for.
    pub requested: usize,
    /// Of those, already in the store (or repeated content).
    pub skipped: usize,
    /// Newly computed and stored.
    pub computed: usize,
}

/// Featurises the examples not yet in `store`, `shard_size` per shard and `batch_size` per
/// call of the projection, reporting `(done, to_do)` after every batch.
pub fn featurize_into_store(
    lm: &LanguageModel,
    projection: &dyn GradientProjection,
    examples: &[GradientExample],
    store: &FeatureStore,
    (shard_size, batch_size): (usize, usize),
    progress: &mut dyn FnMut(usize, usize),
) -> Result<FeaturizeSummary, FeatureError> {
    // One writer per store: a second process waits here, then finds the work done.
    let _writer = store.lock_for_writing()?;
    let mut seen: HashSet<String> = store.index()?.into_iter().map(|r| r.content_hash).collect();
    let todo: Vec<(&GradientExample, String)> = examples
        .iter()
        .filter_map(|e| {
            let h = e.content_hash();
            seen.insert(h.clone()).then_some((e, h))
        })
        .collect();
    let total = todo.len();
    let mut done = 0;
    progress(0, total);
    for shard in todo.chunks(shard_size.max(1)) {
        let chats = shard
            .iter()
            .map(|(e, _)| lm.tokenizer.chat(&e.prompt, &e.completion))
            .collect::<Result<Vec<_>, _>>()?;
        let mut order: Vec<usize> = (0..shard.len()).collect();
        order.sort_by_key(|&i| chats[i].ids.len());
        let mut results = vec![None; shard.len()];
        for batch in order.chunks(batch_size.max(1)) {
            let tokens: Vec<_> = batch.iter().map(|&i| chats[i].clone()).collect();
            let grads = projection.featurize(lm, &tokens)?;
            for (&i, g) in batch.iter().zip(grads) {
                results[i] = Some(g);
            }
            done += batch.len();
            progress(done, total);
        }
        let rows = shard
            .iter()
            .zip(results)
            .map(|((e, hash), g)| {
                let g = g.expect("every example of the shard is in one batch");
                if !g.loss.is_finite() {
                    return Err(FeatureError::NonFinite {
                        id: e.id.clone(),
                        what: "loss",
                    });
                }
                if !g.grad_norm.is_finite() || g.projected.iter().any(|v| !v.is_finite()) {
                    return Err(FeatureError::NonFinite {
                        id: e.id.clone(),
                        what: "gradient",
                    });
                }
                let norm = g
                    .projected
                    .iter()
                    .map(|v| f64::from(*v).powi(2))
                    .sum::<f64>()
                    .sqrt();
                let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
                Ok(StoredExample {
                    id: e.id.clone(),
                    content_hash: hash.clone(),
                    grad_norm: g.grad_norm,
                    loss: g.loss,
                    vector: g
                        .projected
                        .iter()
                        .map(|v| (f64::from(*v) * scale) as f32)
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        store.write_shard(&rows)?;
    }
    store.write_index()?;
    Ok(FeaturizeSummary {
        requested: examples.len(),
        skipped: examples.len() - total,
        computed: total,
    })
}
