//! `prism doctor`: checks every cached file and every finished run against the hashes recorded
//! when it was written, says what is damaged, and with `--repair` puts it right.
//!
//! Caches and results live for months on shared file systems; a sweep checks what it uses, but
//! a researcher about to publish a figure (or after a disk scare) wants to know that nothing
//! anywhere has rotted, without running anything.

use crate::context::{ConfigArgs, Session};
use anyhow::Result;
use prism_core::IntegrityError;
use prism_core::integrity;
use prism_data::fetch::{FetchOptions, PACKAGES, fetch, read_manifest, verify_cache};
use prism_features::FeatureStore;
use prism_sweep::ledger::{OutputsCheck, RunDir, RunState};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Experiment whose `paths` name the cache and results folders (default: the layered
    /// defaults; every sweep under the results folder is checked, not only this one's).
    pub experiment: Option<String>,
    /// Put right what is damaged: rebuild damaged tables and model files from the verified
    /// packages (offline), move damaged feature shards, stage-cache entries and run outputs
    /// aside (`*.corrupt`) so that the next featurisation or sweep computes them again, and
    /// record hashes for files written before prism recorded them.
    #[arg(long)]
    pub repair: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// What one area of the check found.
#[derive(Default)]
struct Area {
    checked: usize,
    damaged: Vec<String>,
    unrecorded: usize,
    repaired: usize,
}

impl Area {
    fn damage(&mut self, e: &IntegrityError) {
        self.damaged.push(e.to_string());
    }
}

pub fn run(args: DoctorArgs) -> Result<ExitCode> {
    let session = Session::load(args.experiment.as_deref(), &args.config.overrides)?;
    let cache = session.cache();
    let results = session.resolve_path(&session.config.value.paths.results);
    let mut areas: Vec<(&str, Area)> = Vec::new();

    // Packages: their pinned sha256.
    let mut packages = Area::default();
    for pkg in PACKAGES {
        let path = cache.packages().join(pkg.file);
        if path.is_file() {
            packages.checked += 1;
            if let Err(e) = integrity::check_file(&path, pkg.sha256) {
                packages.damage(&e);
            }
        }
    }
    areas.push(("packages", packages));

    // Tables and model files: the fetch manifest.
    let mut data = Area::default();
    match read_manifest(&cache) {
        Some(manifest) => {
            let check = verify_cache(&cache, &manifest);
            data.checked = check.files;
            data.unrecorded = check.unrecorded.len();
            check.damaged.iter().for_each(|e| data.damage(e));
            if args.repair && !check.is_clean() {
                let cfg = &session.config.value.data;
                fetch(
                    &FetchOptions {
                        cache: cache.clone(),
                        id_test_fraction: cfg.id_test_fraction,
                        split_seed: cfg.split_seed,
                        hans_seed: cfg.hans_seed,
                        force: false,
                        // A cache built without BIG-bench is repaired without it.
                        allow_missing_bigbench: !manifest.missing.is_empty(),
                    },
                    &mut |m| eprintln!("  fetch: {m}"),
                )?;
                data.repaired = check.damaged.len() + check.unrecorded.len();
            }
            if !manifest.left_out.is_empty() {
                eprintln!(
                    "note: the cache was fetched without {}; left out: {}",
                    manifest.missing.join(", "),
                    manifest.left_out.join(", ")
                );
            }
        }
        None => eprintln!(
            "note: no fetch manifest in `{}`: run `prism data fetch`",
            cache.data().display()
        ),
    }
    areas.push(("tables and models", data));

    // Feature stores.
    let mut features = Area::default();
    for dir in subfolders(&cache.root().join("features")) {
        if !FeatureStore::is_store(&dir) {
            continue;
        }
        let store = FeatureStore::open_existing(&dir)?;
        let check = if args.repair {
            store.repair()?
        } else {
            store.verify()?
        };
        features.checked += check.shards;
        features.unrecorded += check.unrecorded.len();
        check.damaged.iter().for_each(|(_, e)| features.damage(e));
        if args.repair {
            features.repaired += check.damaged.len() + check.unrecorded.len();
        }
    }
    areas.push(("feature shards", features));

    // Stage cache (train-and-evaluate results); entries without sums are never used (a sweep
    // trains again), so there is nothing to repair in them.
    let mut stages = Area::default();
    check_cached(
        &mut stages,
        &files_with_ext(&cache.root().join("stages/train-eval"), "json"),
        args.repair,
    )?;
    areas.push(("stage cache", stages));

    // Finished runs of every sweep, and each sweep's cached pool matrices.
    let mut runs = Area::default();
    let mut matrices = Area::default();
    for sweep in subfolders(&results) {
        if !sweep.join("config.json").is_file() {
            continue;
        }
        for dir in subfolders(&sweep) {
            let run = RunDir { path: dir };
            let Some(status) = run.status().filter(|s| s.state == RunState::Done) else {
                continue;
            };
            runs.checked += 1;
            match run.check_outputs(&status) {
                OutputsCheck::Intact => {}
                OutputsCheck::Unrecorded => {
                    runs.unrecorded += 1;
                    if args.repair && run.record_outputs(status)? {
                        runs.repaired += 1;
                    }
                }
                OutputsCheck::Damaged(errors) => {
                    for e in &errors {
                        runs.damage(e);
                        if args.repair && e.path().is_file() {
                            integrity::quarantine(e.path())?;
                        }
                    }
                    runs.repaired += usize::from(args.repair);
                }
            }
        }
        check_cached(
            &mut matrices,
            &files_with_ext(&sweep.join("cache"), "npy"),
            args.repair,
        )?;
    }
    areas.push(("finished runs", runs));
    areas.push(("sweep pool matrices", matrices));

    println!(
        "{:<20} {:>8} {:>8} {:>11} {:>9}",
        "area", "checked", "damaged", "unrecorded", "repaired"
    );
    for (name, a) in &areas {
        println!(
            "{:<20} {:>8} {:>8} {:>11} {:>9}",
            name,
            a.checked,
            a.damaged.len(),
            a.unrecorded,
            a.repaired
        );
    }
    let damaged: Vec<&String> = areas.iter().flat_map(|(_, a)| &a.damaged).collect();
    for d in &damaged {
        println!("damaged: {d}");
    }
    println!(
        "cache `{}`, results `{}`",
        cache.root().display(),
        results.display()
    );
    let unrecorded: usize = areas
        .iter()
        .map(|(_, a)| a.unrecorded.saturating_sub(a.repaired))
        .sum();
    if damaged.is_empty() {
        if unrecorded > 0 {
            println!(
                "nothing damaged; {unrecorded} file(s) from before prism recorded hashes could not be checked (`prism doctor --repair` records them; stage-cache entries and pool matrices without a record are recomputed when needed, never used)"
            );
        } else {
            println!("nothing damaged");
        }
        Ok(ExitCode::SUCCESS)
    } else if args.repair {
        println!(
            "{} damaged file(s) moved aside or rebuilt; the next `prism sweep` or featurisation computes what they held again",
            damaged.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: {} damaged file(s); `prism doctor --repair` rebuilds or moves them aside",
            damaged.len()
        );
        Ok(ExitCode::from(1))
    }
}

/// Checks files written by [`integrity::write_cached`] against their sums; with `repair`, moves
/// the damaged ones aside (they are recomputed when next needed).
fn check_cached(area: &mut Area, files: &[PathBuf], repair: bool) -> Result<()> {
    for path in files {
        area.checked += 1;
        match integrity::read_cached(path) {
            Ok(_) => {}
            Err(e) if e.is_damage() => {
                area.damage(&e);
                if repair {
                    integrity::quarantine(path)?;
                    area.repaired += 1;
                }
            }
            Err(_) => area.unrecorded += 1,
        }
    }
    Ok(())
}

/// The folders directly inside `dir`, sorted (none when it does not exist).
fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The files with extension `ext` directly inside `dir`, sorted.
fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == ext))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}
