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
    /// 2-D tensor, or a feature store folder (from `prism features grad`); or the `.json` kernel
    /// that `prism features grad --mode exact` writes.
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
    /// Seed of the k-means for --centroids, and of the simulated projections for
    /// --projection-noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Instead of the score, simulate random projections of these vectors to DIM dimensions
    /// and print how far the score moves (the Johnson–Lindenstrauss noise of `dense` G-Vendi
    /// at d = DIM, when FILE is an exact kernel). Needs n ≤ 4096.
    #[arg(long, value_name = "DIM")]
    projection_noise: Option<usize>,
    /// Simulated projections for --projection-noise.
    #[arg(long, default_value_t = 2000)]
    trials: usize,
    /// Print `{"vendi": x, "n": n, "d": d, "q": q}`.
    #[arg(long)]
    json: bool,
}

pub fn run(args: VendiArgs) -> Result<ExitCode> {
    let q = Order::parse(&args.q)?;
    if args.ids.is_some() && !FeatureStore::is_store(&args.file) {
        return Err(
            UsageError("--ids selects rows of a feature store; FILE is not one".into()).into(),
        );
    }
    if args.centroids && (args.no_normalize || args.projection_noise.is_some()) {
        return Err(UsageError(
            "--centroids cannot be combined with --no-normalize or --projection-noise".into(),
        )
        .into());
    }
    if is_kernel_file(&args.file) {
        let (kernel, n) = read_kernel(&args.file)?;
        return print_kernel_result(&args, &kernel, n, q);
    }
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
    } else {
        read_matrix(&args.file)?
    };
    if args.projection_noise.is_some() {
        let (kernel, n) = kernel_of_rows(&features, !args.no_normalize, &args.file)?;
        return print_kernel_result(&args, &kernel, n, q);
    }
    let score = if args.centroids {
        prism_vendi::vendi_of_centroids(&features, q, args.seed)
    } else {
        vendi_score(&features, q, !args.no_normalize)
    }
    .with_context(|| format!("Vendi score of `{}`", args.file.display()))?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"vendi": score.vendi, "n": score.n, "d": score.d, "q": q_json(q)})
        );
    } else {
        println!(
            "{:.6}  (n = {}, d = {}, q = {})",
            score.vendi, score.n, score.d, args.q
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The JSON that `prism features grad --mode exact` writes (`kernel`: n × n, row-major).
fn is_kernel_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "json")
}

fn read_kernel(path: &Path) -> Result<(Vec<f64>, usize)> {
    #[derive(serde::Deserialize)]
    struct KernelFile {
        kernel: Vec<f64>,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading `{}`", path.display()))?;
    let file: KernelFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "`{}`: expected the JSON of `prism features grad --mode exact` (a `kernel` field)",
            path.display()
        )
    })?;
    let n = (file.kernel.len() as f64).sqrt().round() as usize;
    if n == 0 || n * n != file.kernel.len() {
        return Err(UsageError(format!(
            "`{}`: field `kernel` has {} values, not n × n for any n ≥ 1",
            path.display(),
            file.kernel.len()
        ))
        .into());
    }
    Ok((file.kernel, n))
}

/// Rows kept in memory as an n × n kernel for --projection-noise.
const MAX_NOISE_ROWS: usize = 4096;

/// The n × n kernel of the rows (cosine unless `normalize` is false; zero rows dropped, as
/// `vendi_score` drops them).
fn kernel_of_rows(features: &Features, normalize: bool, path: &Path) -> Result<(Vec<f64>, usize)> {
    let n = features.n();
    if n > MAX_NOISE_ROWS {
        return Err(UsageError(format!(
            "`{}`: --projection-noise needs n ≤ {MAX_NOISE_ROWS} rows (an n × n kernel), has {n}; select fewer with --ids",
            path.display()
        ))
        .into());
    }
    prism_vendi::kernel_matrix(features, normalize)
        .with_context(|| format!("kernel of the rows of `{}`", path.display()))
}

/// The Vendi score of a kernel, or with --projection-noise the distribution of its projections.
fn print_kernel_result(args: &VendiArgs, kernel: &[f64], n: usize, q: Order) -> Result<ExitCode> {
    let context = || format!("Vendi score of `{}`", args.file.display());
    let Some(dim) = args.projection_noise else {
        let vendi = prism_vendi::vendi_of_kernel(kernel, n, q).with_context(context)?;
        if args.json {
            println!(
                "{}",
                serde_json::json!({"vendi": vendi, "n": n, "d": n, "q": q_json(q)})
            );
        } else {
            println!("{vendi:.6}  (n = {n}, from the kernel, q = {})", args.q);
        }
        return Ok(ExitCode::SUCCESS);
    };
    let noise = prism_vendi::projection_noise(kernel, n, dim, args.trials, args.seed, q)
        .with_context(context)?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "exact": noise.exact, "n": n, "dim": dim, "trials": noise.trials, "q": q_json(q),
                "mean": noise.mean, "sd": noise.sd,
                "interval": [noise.interval.0, noise.interval.1],
                "mean_abs_rel_err": noise.mean_abs_rel_err,
            })
        );
    } else {
        let pct = |v: f64| 100.0 * noise.rel_err(v);
        println!(
            "unprojected {:.6} (n = {n}, q = {}); after a random projection to d = {dim} \
             ({} simulated): mean {:.6} ({:+.2}%), sd {:.6} ({:.2}%), 95% within [{:.6}, {:.6}] \
             ({:+.2}%, {:+.2}%), mean |relative error| {:.2}%",
            noise.exact,
            args.q,
            noise.trials,
            noise.mean,
            pct(noise.mean),
            noise.sd,
            100.0 * noise.sd / noise.exact,
            noise.interval.0,
            noise.interval.1,
            pct(noise.interval.0),
            pct(noise.interval.1),
            100.0 * noise.mean_abs_rel_err
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn q_json(q: Order) -> serde_json::Value {
    match q {
        Order::Infinity => serde_json::json!("inf"),
        Order::Finite(v) => serde_json::json!(v),
    }
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
            "`{}`: expected a .npy, .safetensors or exact-kernel .json file, or a feature store folder",
            path.display()
        ))
        .into()),
    }
}
