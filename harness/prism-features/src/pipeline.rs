//! Featurising a dataset into a store: skip what is stored, cut the rest into shards, and
//! within a shard batch examples by length. Shard boundaries and batches depend only on the
//! list of examples still to do, so a run resumed after a kill computes exactly the batches an
//! uninterrupted run would have (bit-identical features on the same machine and backend).

use crate::error::FeatureError;
use crate::featurize::{ExampleGradient, GradientExample, GradientProjection};
use crate::store::{FeatureStore, StoredExample};
use prism_models::LanguageModel;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// How a featurisation run cuts its work: shards (the unit written and resumed) and, within a
/// shard, length-sorted batches bounded in examples and in padded tokens. The token bound is
/// what keeps memory flat: a factored backward's working set grows with examples × the longest
/// one's length (and faster, through attention), so eight of the pool's longest pairs took
/// 16.8 GB where eight typical ones take 4.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// Examples per store shard.
    pub shard_size: usize,
    /// Examples per call of the projection.
    pub batch_size: usize,
    /// Padded tokens (examples × the longest one's tokens) per call; 0 = no bound. A single
    /// example longer than this still runs, alone.
    pub max_batch_tokens: usize,
    /// Batches featurised at once, each on its own thread (0 or 1: one at a time). A batch's
    /// features do not depend on what runs beside it, and shards are still committed in
    /// order, so this changes the wall time and the memory, never the stored bits.
    pub workers: usize,
}

/// Cuts `order`, indices sorted by ascending `len`, into consecutive batches of at most
/// `batch_size` examples and at most `max_tokens` padded tokens (0 = no token bound). Within a
/// length-sorted run the last example is the longest, so a batch's padded size is its count
/// times the last one's length.
pub fn plan_batches(
    order: &[usize],
    len: impl Fn(usize) -> usize,
    batch_size: usize,
    max_tokens: usize,
) -> Vec<Vec<usize>> {
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for &i in order {
        let padded = (current.len() + 1) * len(i);
        let full = current.len() >= batch_size.max(1) || (max_tokens > 0 && padded > max_tokens);
        if full && !current.is_empty() {
            batches.push(std::mem::take(&mut current));
        }
        current.push(i);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// Featurises the examples not yet in `store`, cut as `batching` says, reporting
/// `(done, to_do)` after every batch.
pub fn featurize_into_store(
    lm: &LanguageModel,
    projection: &dyn GradientProjection,
    examples: &[GradientExample],
    store: &FeatureStore,
    batching: Batching,
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
    for shard in todo.chunks(batching.shard_size.max(1)) {
        let chats = shard
            .iter()
            .map(|(e, _)| lm.tokenizer.chat(&e.prompt, &e.completion))
            .collect::<Result<Vec<_>, _>>()?;
        let mut order: Vec<usize> = (0..shard.len()).collect();
        order.sort_by_key(|&i| chats[i].ids.len());
        let mut results = vec![None; shard.len()];
        let batches = plan_batches(
            &order,
            |i| chats[i].ids.len(),
            batching.batch_size,
            batching.max_batch_tokens,
        );
        let featurize_batch = |batch: &[usize]| {
            let tokens: Vec<_> = batch.iter().map(|&i| chats[i].clone()).collect();
            projection.featurize(lm, &tokens)
        };
        let mut place = |batch: &[usize], grads: Vec<ExampleGradient>| {
            for (&i, g) in batch.iter().zip(grads) {
                results[i] = Some(g);
            }
            done += batch.len();
            progress(done, total);
        };
        let workers = batching.workers.clamp(1, batches.len().max(1));
        if workers == 1 {
            for batch in &batches {
                place(batch, featurize_batch(batch)?);
            }
        } else {
            // Workers take batches in order; this thread places each as it comes back. Every
            // batch runs even after one fails, and the first failure in batch order is
            // returned, as one worker would.
            let next = AtomicUsize::new(0);
            let mut failures: Vec<Option<FeatureError>> =
                (0..batches.len()).map(|_| None).collect();
            std::thread::scope(|scope| {
                let (sender, receiver) = std::sync::mpsc::channel();
                for _ in 0..workers {
                    let sender = sender.clone();
                    let (next, batches, featurize_batch) = (&next, &batches, &featurize_batch);
                    scope.spawn(move || {
                        loop {
                            let b = next.fetch_add(1, Ordering::Relaxed);
                            let Some(batch) = batches.get(b) else { break };
                            if sender.send((b, featurize_batch(batch))).is_err() {
                                break;
                            }
                        }
                    });
                }
                drop(sender);
                for (b, outcome) in receiver {
                    match outcome {
                        Ok(grads) => place(&batches[b], grads),
                        Err(e) => failures[b] = Some(e),
                    }
                }
            });
            if let Some(e) = failures.into_iter().flatten().next() {
                return Err(e);
            }
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

#[cfg(test)]
mod tests {
    use super::plan_batches;

    #[test]
    fn batches_respect_both_bounds_and_keep_order() {
        let lens = [10, 10, 20, 30, 30, 30, 100, 250];
        let order: Vec<usize> = (0..lens.len()).collect();
        let plan = |b, t| plan_batches(&order, |i| lens[i], b, t);
        // No token bound: plain chunks of the batch size.
        assert_eq!(plan(3, 0), vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7]]);
        // 90 padded tokens: [10, 10, 20] pads to 60; a fourth at 30 would pad to 120.
        assert_eq!(
            plan(8, 90),
            vec![vec![0, 1, 2], vec![3, 4, 5], vec![6], vec![7]]
        );
        // Every example appears once, in order, and no multi-example batch breaks a bound.
        for (b, t) in [(1, 0), (2, 50), (4, 64), (8, 200), (8, 1)] {
            let batches = plan(b, t);
            assert_eq!(batches.concat(), order, "batch {b}, tokens {t}");
            for batch in &batches {
                let padded = batch.len() * lens[*batch.last().unwrap()];
                assert!(batch.len() <= b);
                assert!(
                    t == 0 || batch.len() == 1 || padded <= t,
                    "{batch:?} at {t}"
                );
            }
        }
        // A budget every batch fits leaves the batches of the batch size alone.
        assert_eq!(plan(3, 1000), plan(3, 0));
        assert!(plan_batches(&[], |_| 1, 8, 64).is_empty());
    }
}
