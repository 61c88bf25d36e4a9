//! `just bench vendi`: Vendi of an n × 1,024 feature matrix, prism against numpy's
//! `X.T @ X` + `eigvalsh` (both f64, rows L2-normalised), measured in the same run.
//! Prints the ratio prism ÷ numpy (goal ≤ 1.2) and writes `results/bench/vendi.json`.
//!
//! `PRISM_BENCH_N` sets n (default 100,000). The comparison itself is `prism_vendi::bench`.

use prism_vendi::bench::vendi_against_numpy;

fn main() {
    let n: usize = std::env::var("PRISM_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let (d, reps) = (1024, 3);
    let b = vendi_against_numpy(n, d, reps);
    println!(
        "prism: Vendi of {n} x {d} in {:.3} s (best of {reps}); vendi = {:.6}",
        b.prism_seconds, b.prism_vendi
    );
    let mut record = serde_json::json!({
        "n": n, "d": d, "reps": reps,
        "prism_seconds": b.prism_seconds, "prism_vendi": b.prism_vendi,
        "threads": std::thread::available_parallelism().map(|p| p.get()).unwrap_or(1),
    });
    match b.numpy {
        Some((np_s, np_v)) => {
            let ratio = b.prism_seconds / np_s;
            println!(
                "numpy: {np_s:.3} s; vendi = {np_v:.6} (relative difference {:.1e})",
                (np_v - b.prism_vendi).abs() / np_v
            );
            println!("ratio prism / numpy = {ratio:.2} (goal <= 1.2)");
            record["numpy_seconds"] = np_s.into();
            record["numpy_vendi"] = np_v.into();
            record["ratio_prism_over_numpy"] = ratio.into();
        }
        None => println!("python3 with numpy unavailable; no ratio"),
    }
    let dir = std::env::current_dir().unwrap().join("../../results/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("vendi.json"),
        serde_json::to_string_pretty(&record).unwrap() + "\n",
    )
    .unwrap();
}
