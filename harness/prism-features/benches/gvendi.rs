//! `cargo bench --bench gvendi`: the G-Vendi benchmark of `prism_features::bench` on
//! SmolLM2-135M-Instruct and real VitaminC prompts (`just bench gvendi` runs the same code
//! through `prism features bench`, which needs no separate bench build).
//! `PRISM_BENCH_EXAMPLES` (default 16) sets the examples per timing.

use prism_core::config::schema::GvendiConfig;
use prism_data::table::Table;
use std::path::PathBuf;

fn main() {
    let n: usize = std::env::var("PRISM_BENCH_EXAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let cache = std::env::var_os("PRISM_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/prism"));
    let proxy =
        prism_models::language_model::resolve_model("smollm2-135m-instruct", &cache.join("models"))
            .expect("run `just fetch` first");
    let pool =
        Table::read_parquet(&cache.join("data/vitaminc.parquet")).expect("run `just fetch` first");
    let g = GvendiConfig::default();
    let pairs: Vec<(String, String)> = pool
        .examples
        .iter()
        .take(n)
        .map(|e| {
            g.example(&e.premise, &e.hypothesis, &e.label)
                .expect("VitaminC labels have a wording")
        })
        .collect();
    let device = prism_models::Backend::Flex.device().unwrap();
    let record = prism_features::bench::measure(
        &proxy,
        &device,
        &pairs,
        (g.batch_size, g.factor_dim, g.dim),
    )
    .unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../results/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("gvendi.json"),
        serde_json::to_string_pretty(&record).unwrap() + "\n",
    )
    .unwrap();
}
