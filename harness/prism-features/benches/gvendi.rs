//! `just bench gvendi`: G-Vendi featurisation speed on SmolLM2-135M-Instruct with real NLI
//! prompts from the VitaminC pool, each figure a ratio measured in this run on this machine:
//! (a) factored ÷ plain batched forward+backward (same batch; goal ≥ 0.5),
//! (b) dense ÷ plain batch-of-one forward+backward (goal ≥ 0.33),
//! (c) factored ÷ dense,
//! (d) Vendi of 100,000 × 1,024: prism's time ÷ numpy's (goal ≤ 1.2).
//! Writes `results/bench/gvendi.json`. `PRISM_BENCH_EXAMPLES` (default 16) sets how many
//! examples each featurisation timing uses; `PRISM_BENCH_BACKEND` the backend (flex).

use prism_core::config::schema::GvendiConfig;
use prism_data::table::Table;
use prism_features::{DenseFeatures, FactoredFeatures, GradientProjection, Mode, load_proxy};
use prism_models::LanguageModel;
use prism_models::lm_tokenizer::ChatTokens;
use std::path::PathBuf;
use std::time::Instant;

fn cache() -> PathBuf {
    std::env::var_os("PRISM_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/prism"))
}

/// Examples per second of `f` over `chats` in batches of `batch`, after one warm-up batch.
fn rate(chats: &[ChatTokens], batch: usize, f: &mut dyn FnMut(&[ChatTokens])) -> f64 {
    f(&chats[..batch.min(chats.len())]);
    let t = Instant::now();
    for b in chats.chunks(batch) {
        f(b);
    }
    chats.len() as f64 / t.elapsed().as_secs_f64()
}

fn plain_forward_backward(lm: &LanguageModel, b: &[ChatTokens]) {
    let (ids, mask) = lm.loss_batch(b);
    drop(lm.model.masked_loss(ids, mask).sum().backward());
}

fn main() {
    let n: usize = std::env::var("PRISM_BENCH_EXAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let backend: prism_models::Backend = std::env::var("PRISM_BENCH_BACKEND")
        .unwrap_or_else(|_| "flex".into())
        .parse()
        .unwrap();
    let device = backend.device().unwrap();
    let proxy = cache().join("models/smollm2-135m-instruct");
    let proxy = prism_models::language_model::resolve_model(proxy.to_str().unwrap(), &cache())
        .expect("run `just fetch` first");
    let pool = Table::read_parquet(&cache().join("data/vitaminc.parquet"))
        .expect("run `just fetch` first");
    let gvendi = GvendiConfig::default();
    let full = load_proxy(&proxy, &device, Mode::Dense).unwrap();
    let frozen = load_proxy(&proxy, &device, Mode::Factored).unwrap();
    let chats: Vec<ChatTokens> = pool
        .examples
        .iter()
        .filter(|e| e.split == "train")
        .take(n)
        .map(|e| {
            full.tokenizer
                .chat(&gvendi.prompt(&e.premise, &e.hypothesis), &e.label)
                .unwrap()
        })
        .collect();
    let tokens = chats.iter().map(|c| c.ids.len()).sum::<usize>() as f64 / chats.len() as f64;
    let batch = gvendi.batch_size;
    println!(
        "SmolLM2-135M-Instruct on {backend}, {n} VitaminC examples, {tokens:.0} tokens on average, batch {batch}"
    );

    let plain_batched = rate(&chats, batch, &mut |b| plain_forward_backward(&full, b));
    let factored = FactoredFeatures::new(&frozen, gvendi.factor_dim, gvendi.dim, 0);
    let factored_rate = rate(&chats, batch, &mut |b| {
        factored.featurize(&frozen, b).unwrap();
    });
    let plain_single = rate(&chats, 1, &mut |b| plain_forward_backward(&full, b));
    let dense = DenseFeatures::new(gvendi.dim, 0);
    let dense_rate = rate(&chats, batch, &mut |b| {
        dense.featurize(&full, b).unwrap();
    });
    let (a, b, c) = (
        factored_rate / plain_batched,
        dense_rate / plain_single,
        factored_rate / dense_rate,
    );
    println!("plain forward+backward, batch {batch}: {plain_batched:.3} examples/s");
    println!(
        "factored (k = {}, d = {}): {factored_rate:.3} examples/s",
        gvendi.factor_dim, gvendi.dim
    );
    println!("(a) factored / plain batched = {a:.2} (goal >= 0.5)");
    println!("plain forward+backward, batch 1: {plain_single:.3} examples/s");
    println!(
        "dense (d = {}, {batch} gradients per projection block): {dense_rate:.3} examples/s",
        gvendi.dim
    );
    println!("(b) dense / plain batch-of-one = {b:.2} (goal >= 0.33)");
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
    let record = serde_json::json!({
        "backend": backend.to_string(), "examples": n, "mean_tokens": tokens, "batch": batch,
        "factor_dim": gvendi.factor_dim, "dim": gvendi.dim,
        "plain_batched_examples_per_s": plain_batched, "factored_examples_per_s": factored_rate,
        "plain_single_examples_per_s": plain_single, "dense_examples_per_s": dense_rate,
        "a_factored_over_plain_batched": a, "b_dense_over_plain_single": b, "c_factored_over_dense": c,
        "d_vendi_prism_seconds": v.prism_seconds, "d_vendi_numpy_seconds": v.numpy.map(|x| x.0),
        "d_ratio_prism_over_numpy": d_ratio,
        "threads": std::thread::available_parallelism().map(|p| p.get()).unwrap_or(1),
    });
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../results/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("gvendi.json"),
        serde_json::to_string_pretty(&record).unwrap() + "\n",
    )
    .unwrap();
}
