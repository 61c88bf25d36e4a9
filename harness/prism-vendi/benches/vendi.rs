//! `just bench vendi`: Vendi of an n × 1,024 feature matrix, prism against numpy's
//! `X.T @ X` + `eigvalsh` (both f64, rows L2-normalised), measured in the same run.
//! Prints the ratio prism ÷ numpy (goal ≤ 1.2) and writes `results/bench/vendi.json`.
//!
//! `PRISM_BENCH_N` sets n (default 100,000). numpy's timing excludes loading the file. The
//! OpenBLAS variables this workplace sets for old processors slow a current numpy, so the
//! numpy child runs without them.

use prism_vendi::{Features, Order, vendi_score};
use rand::{Rng, SeedableRng};
use std::process::Command;
use std::time::Instant;

const NUMPY: &str = r#"
import sys, time, json
import numpy as np
x = np.load(sys.argv[1])
best = None
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    y = x.astype(np.float64)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    c = (y.T @ y) / y.shape[0]
    lam = np.linalg.eigvalsh(c)
    lam = lam[lam > 0]
    v = float(np.exp(-(lam * np.log(lam)).sum()))
    dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
print(json.dumps({"seconds": best, "vendi": v}))
"#;

fn main() {
    let n: usize = std::env::var("PRISM_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let d = 1024;
    let reps = 3;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    // Low-rank structure plus noise, so the spectrum is not flat.
    let basis: Vec<f32> = (0..64 * d)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let mut data = vec![0f32; n * d];
    for row in data.chunks_mut(d) {
        let coef: Vec<f32> = (0..64).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        for (j, v) in row.iter_mut().enumerate() {
            *v = coef
                .iter()
                .enumerate()
                .map(|(k, c)| c * basis[k * d + j])
                .sum::<f32>()
                + 0.3 * rng.random_range(-1.0f32..1.0);
        }
    }
    let features = Features::new(data, n, d);

    let mut prism_best = f64::INFINITY;
    let mut prism_vendi = 0.0;
    for _ in 0..reps {
        let t = Instant::now();
        prism_vendi = vendi_score(&features, Order::Finite(1.0), true)
            .unwrap()
            .vendi;
        prism_best = prism_best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "prism: Vendi of {n} x {d} in {prism_best:.3} s (best of {reps}); vendi = {prism_vendi:.6}"
    );

    let tmp = std::env::temp_dir().join(format!("prism-bench-vendi-{}.npy", std::process::id()));
    std::fs::write(&tmp, prism_vendi::npy::to_npy_f32(&features)).unwrap();
    let numpy = Command::new("python3")
        .args(["-c", NUMPY])
        .arg(&tmp)
        .arg(reps.to_string())
        .env_remove("OPENBLAS_CORETYPE")
        .env_remove("OPENBLAS_L2_SIZE")
        .output();
    let _ = std::fs::remove_file(&tmp);
    let mut record = serde_json::json!({
        "n": n, "d": d, "reps": reps,
        "prism_seconds": prism_best, "prism_vendi": prism_vendi,
        "threads": std::thread::available_parallelism().map(|p| p.get()).unwrap_or(1),
    });
    match numpy {
        Ok(out) if out.status.success() => {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let np_s = v["seconds"].as_f64().unwrap();
            let np_v = v["vendi"].as_f64().unwrap();
            let ratio = prism_best / np_s;
            println!(
                "numpy: {np_s:.3} s; vendi = {np_v:.6} (relative difference {:.1e})",
                (np_v - prism_vendi).abs() / np_v
            );
            println!("ratio prism / numpy = {ratio:.2} (goal <= 1.2)");
            record["numpy_seconds"] = np_s.into();
            record["numpy_vendi"] = np_v.into();
            record["ratio_prism_over_numpy"] = ratio.into();
        }
        Ok(out) => println!(
            "numpy unavailable ({}); no ratio",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ),
        Err(e) => println!("python3 unavailable ({e}); no ratio"),
    }
    let dir = std::env::current_dir().unwrap().join("../../results/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("vendi.json"),
        serde_json::to_string_pretty(&record).unwrap() + "\n",
    )
    .unwrap();
}
