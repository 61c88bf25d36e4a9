//! `just bench metrics`: every registered metric's time on a subset of n = 400 and n = 10,000
//! examples (texts of 20–40 words from a Zipf-distributed vocabulary, clustered 384-d sentence
//! embeddings, 1,024-d gradient features, a 20,000-row reference set), next to a baseline
//! measured in the same run: tokenising the texts once, which every lexical metric must do.
//! Prints one line per metric with its seconds and its ratio to the baseline, and writes
//! `results/bench/metrics.json`. `PRISM_BENCH_SIZES` (comma-separated) sets the sizes.

use prism_metrics::{MetricInput, registry};
use prism_vendi::Features;
use rand::{Rng, SeedableRng};
use std::time::Instant;

/// `n` texts of 20–40 words, word ranks drawn from a Zipf(1.1) law over 5,000 words.
fn texts(n: usize, seed: u64) -> Vec<String> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let weights: Vec<f64> = (1..=5000).map(|r| 1.0 / (r as f64).powf(1.1)).collect();
    let total: f64 = weights.iter().sum();
    let cumulative: Vec<f64> = weights
        .iter()
        .scan(0.0, |acc, w| {
            *acc += w / total;
            Some(*acc)
        })
        .collect();
    (0..n)
        .map(|_| {
            let len = rng.random_range(20..=40);
            (0..len)
                .map(|_| {
                    let u: f64 = rng.random();
                    format!("w{}", cumulative.partition_point(|c| *c < u))
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// `n` rows of width `d` around 30 random centres.
fn clustered(n: usize, d: usize, seed: u64) -> Features {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<f32> = (0..30 * d).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut data = Vec::with_capacity(n * d);
    for _ in 0..n {
        let c = rng.random_range(0..30);
        data.extend((0..d).map(|j| centres[c * d + j] + 0.5 * rng.random_range(-1.0f32..1.0)));
    }
    Features::new(data, n, d)
}

fn main() {
    let sizes: Vec<usize> = std::env::var("PRISM_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![400, 10_000]);
    let reference = clustered(20_000, 384, 7);
    let mut records = Vec::new();
    for &n in &sizes {
        let texts = texts(n, 1);
        let labels: Vec<String> = (0..n).map(|i| ["a", "b", "c"][i % 3].to_string()).collect();
        let (embeddings, gradients) = (clustered(n, 384, 2), clustered(n, 1024, 3));
        let losses = vec![1.0f32; n];
        let input = MetricInput {
            texts: &texts,
            labels: &labels,
            embeddings: Some(&embeddings),
            static_embeddings: Some(&embeddings),
            gradients: Some(&gradients),
            proxy_losses: Some(&losses),
            reference_embeddings: Some(&reference),
            skills: Some(&labels),
            seed: 0,
        };
        let start = Instant::now();
        let words: usize = texts
            .iter()
            .map(|t| prism_data::text::tokens(t).len())
            .sum();
        let baseline = start.elapsed().as_secs_f64();
        println!("n = {n}: baseline (tokenising {words} words once) {baseline:.4} s");
        println!("{:<32} {:>10} {:>12}", "metric", "seconds", "x baseline");
        for m in registry() {
            let start = Instant::now();
            let value = m.compute(&input);
            let seconds = start.elapsed().as_secs_f64();
            let value = value.map_err(|e| e.to_string());
            println!(
                "{:<32} {:>10.4} {:>12.1}{}",
                m.name(),
                seconds,
                seconds / baseline,
                value
                    .as_ref()
                    .err()
                    .map(|e| format!("  ({e})"))
                    .unwrap_or_default()
            );
            records.push(serde_json::json!({
                "n": n, "metric": m.name(), "seconds": seconds,
                "ratio_to_baseline": seconds / baseline, "value": value.ok(),
            }));
        }
        println!();
    }
    let record = serde_json::json!({
        "baseline": "tokenising the texts once",
        "threads": std::thread::available_parallelism().map(|p| p.get()).unwrap_or(1),
        "reference_rows": reference.n(), "embedding_dim": 384, "gradient_dim": 1024,
        "runs": records,
    });
    let dir = std::env::current_dir().unwrap().join("../../results/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("metrics.json"),
        serde_json::to_string_pretty(&record).unwrap() + "\n",
    )
    .unwrap();
}
