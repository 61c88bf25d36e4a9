//! Helpers shared by the end-to-end tests of the `prism` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (the tests run from `harness/prism-cli`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The data and model cache the tests read: `PRISM_CACHE`, else the repository's
/// `.cache/prism` (where `prism data fetch` puts it).
pub fn cache() -> PathBuf {
    std::env::var_os("PRISM_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".cache/prism"))
}

/// Whether the sweep tests can run: false, after a line on stderr saying that the test skips,
/// only where the last `prism data fetch --allow-missing-bigbench` recorded that it went
/// without the BIG-bench sdist and left VitaminC out (PyPI stopped serving `bigbench==1.0.0`
/// here on 2026-12-04). A cache that is merely missing still fails the test.
pub fn vitaminc_is_fetched() -> bool {
    let cache = prism_core::cache::Cache::new(cache());
    let left_out = prism_data::fetch::read_manifest(&cache)
        .is_some_and(|m| m.left_out.iter().any(|n| n == "vitaminc"));
    if left_out {
        eprintln!(
            "SKIP: {} records VitaminC as left out (no BIG-bench sdist); copy bigbench-1.0.0.tar.gz into the packages folder and rerun `prism data fetch`",
            cache.data().join("manifest.json").display()
        );
    }
    !left_out
}

/// Links every wheel of the test packages ([`packages_dir`]) into `dir`, and not the
/// BIG-bench sdist: a packages folder of a machine where pip cannot get it.
pub fn link_wheels(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(packages_dir()).unwrap().flatten() {
        if entry.file_name().to_string_lossy().ends_with(".whl") {
            std::os::unix::fs::symlink(entry.path(), dir.join(entry.file_name())).unwrap();
        }
    }
}

/// The registry packages the tests read: `PRISM_PACKAGES` (CI shares one folder outside the
/// clone), else the cache's `packages`.
pub fn packages_dir() -> PathBuf {
    std::env::var_os("PRISM_PACKAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache().join("packages"))
}

/// Writes `dir/<name>.toml`: an experiment named `name` whose results go to `dir/results`,
/// followed by `body` (TOML sections); returns its path.
pub fn experiment_file(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let head = format!(
        "name = \"{name}\"\n[paths]\nresults = \"{}\"\n",
        dir.join("results").display()
    );
    std::fs::write(&path, head + body).unwrap();
    path
}

/// `prism` with `args`, run in `dir`, with a clean `PRISM_*` environment and the given extras.
pub fn prism(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prism"));
    cmd.args(args).current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("PRISM_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("prism runs")
}

/// A seed that differs on every test run (from the clock): keeps a test's stage-cache entries
/// apart from every earlier run's, so that it really trains.
pub fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        % 1_000_000_007
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A private cache under `dir`: the shared packages and the cache's models linked, its tables copied,
/// so that a test's stage-cache entries and repairs stay its own.
pub fn private_cache(dir: &Path) -> PathBuf {
    let shared = cache();
    let root = dir.join("cache");
    std::fs::create_dir_all(root.join("data")).unwrap();
    for e in std::fs::read_dir(shared.join("data")).unwrap().flatten() {
        std::fs::copy(e.path(), root.join("data").join(e.file_name())).unwrap();
    }
    std::os::unix::fs::symlink(packages_dir(), root.join("packages")).unwrap();
    std::os::unix::fs::symlink(shared.join("models"), root.join("models")).unwrap();
    root
}

/// The runs table without its timing column (a retrained student takes other seconds).
pub fn table_without_timing(sweep: &Path) -> String {
    let text = std::fs::read_to_string(sweep.join("runs.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let skip = header.iter().position(|h| *h == "train_seconds");
    let keep = |line: &str| {
        line.split(',')
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip)
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
            .join(",")
    };
    std::iter::once(keep(&header.join(",")))
        .chain(lines.map(keep))
        .collect::<Vec<_>>()
        .join("\n")
}
