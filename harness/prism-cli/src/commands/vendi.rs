//! `prism vendi`: the Vendi score of a feature matrix file.

use crate::exit::UsageError;
use anyhow::{Context, Result};
use prism_features::FeatureStore;
use prism_models::{SafetensorsFile, WeightSource};
use prism_vendi::{Features, Order, vendi_score};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct VendiArgs {
    /// A 2-D matrix, one row per example: `.npy` (f16/f32/f64), `.safetensors` holding one
    /// 2-D tensor, or a feature store folder (from `prism features grad`).
    file: PathBuf,
    /// Only these rows of a feature store (one example id per line).
    #[arg(long)]
    ids: Option<PathBuf>,
    /// Order q: a number > 0, or `inf`.
    #[arg(long, default_value = "1")]
    q: String,
    /// Use raw inner products instead of the cosine kernel (rows are not L2-normalised; the
    /// eigenvalues are divided by their sum).
    #[arg(long)]
    no_normalize: bool,
    /// Score the centroids of a cosine k-means (k = ⌊n/10⌋, seeded k-means++) instead of the
    /// rows: the "centroids" reading of the released G-Vendi scorer.
    #[arg(long)]
    centroids: bool,
    /// Seed of the k-means for --centroids.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print `{"vendi": x, "n": n, "d": d, "q": q}`.
    #[arg(long)]
    json: bool,
}

pub fn run(args: VendiArgs) -> Result<ExitCode> {
    let q = Order::parse(&args.q)?;
    let features = if FeatureStore::is_store(&args.file) {
        let store = FeatureStore::open_existing(&args.file)?;
        let index = store.index()?;
        let hashes: Vec<String> = match &args.ids {
            Some(ids) => {
                crate::ids::select_among(ids, index.iter().map(|r| r.id.as_str()), "the store")?
                    .into_iter()
                    .map(|i| index[i].content_hash.clone())
                    .collect()
            }
            None => index.into_iter().map(|r| r.content_hash).collect(),
        };
        store.load(&hashes)?.0
    } else if args.ids.is_some() {
        return Err(
            UsageError("--ids selects rows of a feature store; FILE is not one".into()).into(),
        );
    } else {
        read_matrix(&args.file)?
    };
    if args.centroids && args.no_normalize {
        return Err(UsageError(
            "--centroids clusters unit vectors; it cannot be combined with --no-normalize".into(),
        )
        .into());
    }
    let score = if args.centroids {
        prism_vendi::vendi_of_centroids(&features, q, args.seed)
    } else {
        vendi_score(&features, q, !args.no_normalize)
    }
    .with_context(|| format!("Vendi score of `{}`", args.file.display()))?;
    if args.json {
        let q_json = match q {
            Order::Infinity => serde_json::json!("inf"),
            Order::Finite(v) => serde_json::json!(v),
        };
        println!(
            "{}",
            serde_json::json!({"vendi": score.vendi, "n": score.n, "d": score.d, "q": q_json})
        );
    } else {
        println!(
            "{:.6}  (n = {}, d = {}, q = {})",
            score.vendi, score.n, score.d, args.q
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn read_matrix(path: &Path) -> Result<Features> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("npy") => Ok(prism_vendi::npy::read_npy(path)?),
        Some("safetensors") => {
            let file = SafetensorsFile::open(path)?;
            let names = file.names();
            let [name] = &names[..] else {
                return Err(UsageError(format!(
                    "`{}`: expected exactly one tensor, found {}",
                    path.display(),
                    names.len()
                ))
                .into());
            };
            let t = file.tensor(name)?;
            let [n, d] = t.shape[..] else {
                return Err(UsageError(format!(
                    "`{}`: tensor `{name}` must be 2-D, has shape {:?}",
                    path.display(),
                    t.shape
                ))
                .into());
            };
            Ok(Features::new(t.data, n, d))
        }
        _ => Err(UsageError(format!(
            "`{}`: expected a .npy or .safetensors file, or a feature store folder",
            path.display()
        ))
        .into()),
    }
}
