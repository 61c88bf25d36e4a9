//! `prism subsets`: build the experiment's subsets and save ids plus measured controls.

use crate::context::{ConfigArgs, Session};
use anyhow::{Context, Result};
use prism_core::atomic::{write_atomic, write_json_atomic};
use prism_core::hash::{sha256_file, sha256_hex};
use prism_data::subset::{
    Pool, SeedOverlap, build_many, seed_overlaps, strategies::Context as SubsetContext,
};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SubsetsArgs {
    /// Experiment name (`experiments/<name>.toml`) or path; its `[subsets]` section sets
    /// strategies × sizes × seeds (or zipped, `subsets.matrix`). Omitted: the defaults (override with --set).
    experiment: Option<String>,
    /// Output folder (default: `results/<experiment>/subsets`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the manifests as a JSON array instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

pub fn run(args: SubsetsArgs) -> Result<ExitCode> {
    let session = Session::load(args.experiment.as_deref(), &args.config.overrides)?;
    let cfg = &session.config.value;
    let pool_path = prism_data::dataset_path(&session, &cfg.data.pool)?;
    let table = prism_tasks::subset_pool(&session)?;
    let pool_sha =
        sha256_file(&pool_path).with_context(|| format!("hashing `{}`", pool_path.display()))?;
    let pool = Pool::new(&table, cfg.subsets.length_bins);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| session.results().join("subsets"));
    let ctx = SubsetContext::default();

    let requests = cfg.subsets.combinations();
    let mut manifests = Vec::new();
    let mut built_subsets = Vec::new();
    let mut failures = Vec::new();
    for (built, seconds) in build_many(&pool, &requests, &ctx) {
        let subset = match built {
            Ok(s) => s,
            Err(e) => {
                eprintln!("  failed: {e}");
                failures.push(e.to_string());
                continue;
            }
        };
        let mut ids = subset.ids.join("\n");
        ids.push('\n');
        let ids_path = out.join(format!("{}.ids", subset.name));
        write_atomic(&ids_path, ids.as_bytes())
            .with_context(|| format!("writing `{}`", ids_path.display()))?;
        let manifest = serde_json::json!({
            "name": subset.name,
            "strategy": subset.strategy,
            "size": subset.size,
            "seed": subset.seed,
            "pool": {
                "dataset": cfg.data.pool,
                "path": pool_path,
                "sha256": pool_sha,
                "examples": pool.len(),
                "duplicates_removed": pool.duplicates_removed,
            },
            "ids_file": ids_path.file_name().map(|f| f.to_string_lossy().into_owned()),
            "ids_sha256": sha256_hex(ids.as_bytes()),
            "seconds": seconds,
            "details": subset.details,
            "controls": subset.controls,
        });
        let json_path = out.join(format!("{}.json", subset.name));
        write_json_atomic(&json_path, &manifest)
            .with_context(|| format!("writing `{}`", json_path.display()))?;
        manifests.push(manifest);
        built_subsets.push(subset);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&manifests)?);
    } else {
        print_table(&manifests, &pool);
        print_overlaps(&seed_overlaps(&built_subsets, pool.len()));
        println!("wrote {} subsets to `{}`", manifests.len(), out.display());
    }
    if failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: {} of {} subsets failed (see above); the others were written",
            failures.len(),
            failures.len() + manifests.len()
        );
        Ok(ExitCode::from(1))
    }
}

fn print_table(manifests: &[serde_json::Value], pool: &Pool) {
    let labels = &pool.labels;
    let label_header: Vec<String> = labels.iter().map(|l| l.chars().take(6).collect()).collect();
    println!(
        "{:<34} {:>6}{} {:>6} {:>4} {:>4} {:>4} {:>7} {:>5}",
        "subset",
        "n",
        label_header
            .iter()
            .map(|l| format!(" {l:>6}"))
            .collect::<String>(),
        "len",
        "p10",
        "p50",
        "p90",
        "groups",
        "held"
    );
    for m in manifests {
        let c = &m["controls"];
        let counts: String = labels
            .iter()
            .map(|l| format!(" {:>6}", c["labels"][l]["actual"].to_string()))
            .collect();
        println!(
            "{:<34} {:>6}{} {:>6.2} {:>4} {:>4} {:>4} {:>7} {:>5}",
            m["name"].as_str().unwrap_or_default(),
            c["size"].to_string(),
            counts,
            c["length"]["mean"].as_f64().unwrap_or_default(),
            c["length"]["p10"].to_string(),
            c["length"]["p50"].to_string(),
            c["length"]["p90"].to_string(),
            c["distinct_groups"].to_string(),
            if c["held"].as_bool() == Some(true) {
                "yes"
            } else {
                "NO"
            },
        );
    }
    if let Some(m) = manifests.first() {
        let p = &m["controls"]["pool_length"];
        println!(
            "pool: {} examples, length mean {:.2}, p10 {} p50 {} p90 {}; label targets = pool proportion × n (±1); length bins ≤ {:?} words",
            pool.len(),
            p["mean"].as_f64().unwrap_or_default(),
            p["p10"],
            p["p50"],
            p["p90"],
            pool.bin_edges
        );
    }
}

/// A seed's subset that shares this much with another seed's is a near-copy: the two add one
/// point to a correlation, not two.
const NEAR_COPY: f64 = 0.8;

fn print_overlaps(overlaps: &[SeedOverlap]) {
    if overlaps.is_empty() {
        return;
    }
    println!(
        "seed overlap: the share of a subset another seed's subset of the same strategy and size holds"
    );
    println!(
        "{:<34} {:>6} {:>5} {:>6} {:>6} {:>7}",
        "strategy", "n", "seeds", "mean", "max", "random"
    );
    for o in overlaps {
        println!(
            "{:<34} {:>6} {:>5} {:>6.2} {:>6.2} {:>7.2}{}",
            o.strategy,
            o.size,
            o.seeds,
            o.mean,
            o.max,
            o.random,
            if o.max >= NEAR_COPY {
                "  near-copies: its seeds are not independent subsets"
            } else {
                ""
            }
        );
    }
}
