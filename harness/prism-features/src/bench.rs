//! The G-Vendi featurisation benchmark (`just bench gvendi`), shared by `prism features bench`
//! and `cargo bench --bench gvendi`: every figure is a ratio of two timings taken in the same
//! process on the same machine and inputs.
//! (a) factored ÷ plain batched forward+backward (same batch; goal ≥ 0.5),
//! (b) dense ÷ plain batch-of-one forward+backward (goal ≥ 0.33),
//! (c) factored ÷ dense,
//! (d) Vendi of 100,000 × 1,024, prism ÷ numpy (goal ≤ 1.2).

use crate::error::FeatureError;
use crate::featurize::{DenseFeatures, FactoredFeatures, GradientProjection, Mode, load_proxy};
use prism_models::LanguageModel;
use prism_models::lm_tokenizer::ChatTokens;
use std::path::Path;
use std::time::Instant;

/// Examples per second of `f` over `chats` in batches of `batch`, after one warm-up batch.
fn rate(chats: &[ChatTokens], batch: usize, f: &mut dyn FnMut(&[ChatTokens])) -> f64 {
    f(&chats[..batch.min(chats.len())]);
    let t = Instant::now();
    for b in chats.chunks(batch) {
        f(b);
    }
    chats.len() as f64 / t.elapsed().as_secs_f64()
}

/// Forward+backward of the completion loss with every parameter taking gradients: what any
/// per-example-gradient method must at least do.
fn plain_forward_backward(lm: &LanguageModel, b: &[ChatTokens]) {
    let (ids, mask) = lm.loss_batch(b);
    drop(lm.model.masked_loss(ids, mask).sum().backward());
}

/// Runs the four measurements on `pairs` (prompt, completion) with the proxy at `proxy`;
/// returns the JSON record (also printed line by line).
pub fn measure(
    proxy: &Path,
    device: &burn::prelude::Device,
    pairs: &[(String, String)],
    (batch, factor_dim, dim): (usize, usize, usize),
) -> Result<serde_json::Value, FeatureError> {
    let full = load_proxy(proxy, device, Mode::Dense)?;
    let frozen = load_proxy(proxy, device, Mode::Factored)?;
    let chats: Vec<ChatTokens> = pairs
        .iter()
        .map(|(p, c)| full.tokenizer.chat(p, c))
        .collect::<Result<_, _>>()?;
    let tokens =
        chats.iter().map(|c| c.ids.len()).sum::<usize>() as f64 / chats.len().max(1) as f64;
    println!(
        "{} on {device:?}: {} examples, {tokens:.0} tokens on average, batch {batch}",
        proxy.display(),
        chats.len()
    );
    let plain_batched = rate(&chats, batch, &mut |b| plain_forward_backward(&full, b));
    let factored = FactoredFeatures::new(&frozen, factor_dim, dim, 0);
    let factored_rate = rate(&chats, batch, &mut |b| {
        factored.featurize(&frozen, b).expect("featurise");
    });
    let plain_single = rate(&chats, 1, &mut |b| plain_forward_backward(&full, b));
    let dense = DenseFeatures::new(dim, 0);
    let dense_rate = rate(&chats, batch, &mut |b| {
        dense.featurize(&full, b).expect("featurise");
    });
    let (a, b, c) = (
        factored_rate / plain_batched,
        dense_rate / plain_single,
        factored_rate / dense_rate,
    );
    println!("plain forward+backward, batch {batch}: {plain_batched:.3} examples/s");
    println!("factored (k = {factor_dim}, d = {dim}): {factored_rate:.3} examples/s");
    println!("(a) factored / plain batched = {a:.3} (goal >= 0.5)");
    println!("plain forward+backward, batch 1: {plain_single:.3} examples/s");
    println!(
        "dense (d = {dim}, {batch} gradients per projection block): {dense_rate:.3} examples/s"
    );
    println!("(b) dense / plain batch-of-one = {b:.3} (goal >= 0.33)");
    println!("(c) factored / dense = {c:.2}");
    let v = prism_vendi::bench::vendi_against_numpy(100_000, 1024, 3);
    let d_ratio = v.numpy.map(|(s, _)| v.prism_seconds / s);
    match v.numpy {
        Some((s, _)) => println!(
            "(d) Vendi of 100,000 x 1,024: prism {:.3} s, numpy {s:.3} s, ratio {:.2} (goal <= 1.2)",
            v.prism_seconds,
            v.prism_seconds / s
        ),
        None => println!(
            "(d) prism {:.3} s; numpy unavailable, no ratio",
            v.prism_seconds
        ),
    }
    Ok(serde_json::json!({
        "proxy": proxy.display().to_string(), "examples": chats.len(), "mean_tokens": tokens,
        "batch": batch, "factor_dim": factor_dim, "dim": dim,
        "plain_batched_examples_per_s": plain_batched, "factored_examples_per_s": factored_rate,
        "plain_single_examples_per_s": plain_single, "dense_examples_per_s": dense_rate,
        "a_factored_over_plain_batched": a, "b_dense_over_plain_single": b,
        "c_factored_over_dense": c,
        "d_vendi_prism_seconds": v.prism_seconds, "d_vendi_numpy_seconds": v.numpy.map(|x| x.0),
        "d_ratio_prism_over_numpy": d_ratio,
        "threads": std::thread::available_parallelism().map(|p| p.get()).unwrap_or(1),
    }))
}
