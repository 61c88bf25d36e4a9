//! The Vendi benchmark shared by `just bench vendi` and `just bench gvendi`: prism's Vendi of an
//! n × d matrix against numpy's `X.T @ X` + `eigvalsh` (both f64, rows L2-normalised), measured
//! in the same process run. numpy's timing excludes loading the file. The OpenBLAS variables
//! this workplace sets for old processors slow a current numpy, so the numpy child runs without
//! them.

use crate::{Features, Order, vendi_score};
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

/// Timings of one comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VendiBench {
    /// Rows.
    pub n: usize,
    /// Columns.
    pub d: usize,
    /// Best of `reps` prism timings, seconds.
    pub prism_seconds: f64,
    /// prism's score.
    pub prism_vendi: f64,
    /// numpy's best timing and score, when python3 with numpy is there.
    pub numpy: Option<(f64, f64)>,
}

/// Low-rank structure plus noise (so the spectrum is not flat), seeded.
pub fn synthetic_features(n: usize, d: usize) -> Features {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
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
    Features::new(data, n, d)
}

/// Times prism and numpy (best of `reps` each) on [`synthetic_features`]`(n, d)`.
pub fn vendi_against_numpy(n: usize, d: usize, reps: usize) -> VendiBench {
    let features = synthetic_features(n, d);
    let mut prism_seconds = f64::INFINITY;
    let mut prism_vendi = 0.0;
    for _ in 0..reps {
        let t = Instant::now();
        prism_vendi = vendi_score(&features, Order::Finite(1.0), true)
            .expect("synthetic features are finite")
            .vendi;
        prism_seconds = prism_seconds.min(t.elapsed().as_secs_f64());
    }
    let tmp = std::env::temp_dir().join(format!("prism-bench-vendi-{}.npy", std::process::id()));
    let numpy = std::fs::write(&tmp, crate::npy::to_npy_f32(&features))
        .ok()
        .and_then(|_| {
            Command::new("python3")
                .args(["-c", NUMPY])
                .arg(&tmp)
                .arg(reps.to_string())
                .env_remove("OPENBLAS_CORETYPE")
                .env_remove("OPENBLAS_L2_SIZE")
                .output()
                .ok()
        })
        .filter(|out| out.status.success())
        .and_then(|out| {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
            Some((v["seconds"].as_f64()?, v["vendi"].as_f64()?))
        });
    let _ = std::fs::remove_file(&tmp);
    VendiBench {
        n,
        d,
        prism_seconds,
        prism_vendi,
        numpy,
    }
}
