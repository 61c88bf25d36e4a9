//! Where the parity tests find the pinned models and the committed fixtures.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fetched model's folder: `$PRISM_CACHE/models/<name>` or `.cache/prism/models/<name>`.
/// Panics with the command to run when it is missing: the parity tests are meant to fail, not
/// skip, on a machine without the models.
pub fn model_dir(name: &str) -> PathBuf {
    let cache = std::env::var_os("PRISM_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".cache/prism"));
    let dir = cache.join("models").join(name);
    assert!(
        dir.is_dir(),
        "model `{name}` is not in {}; run `just fetch` (or `prism data fetch`) first",
        dir.display()
    );
    dir
}

/// A committed fixture under `tests/reference/`, parsed.
pub fn fixture(name: &str) -> serde_json::Value {
    let path = repo_root().join("tests/reference").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Largest absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - y).abs())
        .fold(0.0, f64::max)
}

/// The backend the parity tests run on: `PRISM_TEST_BACKEND` (`flex` by default; `just
/// test-tch` sets `tch`).
pub fn backend() -> prism_models::Backend {
    std::env::var("PRISM_TEST_BACKEND")
        .unwrap_or_else(|_| "flex".into())
        .parse()
        .expect("PRISM_TEST_BACKEND is flex, tch, cuda or auto")
}
