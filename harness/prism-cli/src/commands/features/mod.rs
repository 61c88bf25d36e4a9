//! `prism features grad`: projected per-example loss gradients of a proxy LM into a feature
//! store (or, in exact mode, the cosine kernel of the full gradients); `prism features formats`
//! compares what G-Vendi sees under each input format.

mod formats;
mod store;

use crate::context::{ConfigArgs, Session};
use crate::exit::UsageError;
use anyhow::Result;
use prism_data::table::Table;
use prism_features::{GradientExample, Mode, exact_kernel, load_proxy, table_examples};
use prism_models::Backend;
use prism_models::language_model::resolve_model;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;
use store::featurize;

#[derive(Debug, clap::Subcommand)]
pub enum FeaturesCommand {
    /// Projected per-example loss gradients of a proxy LM into a feature store.
    Grad(GradArgs),
    /// Featurisation speed: factored and dense against plain forward+backward, and Vendi
    /// against numpy, measured in one run (`just bench gvendi`); writes
    /// results/bench/gvendi.json.
    Bench(BenchArgs),
    /// What G-Vendi sees under each input format (`gvendi.format`): spectrum concentration,
    /// per-label G-Vendi, within/across-label cosine and a ground-truth check, on the same
    /// pool pairs (writes results/gvendi-format/formats.json).
    Formats(formats::FormatsArgs),
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Experiment whose `[gvendi]` section and pool are used (default: `nli`).
    experiment: Option<String>,
    /// Pool examples per timing.
    #[arg(long, default_value_t = 16)]
    examples: usize,
    /// Where to write the JSON record.
    #[arg(long, default_value = "results/bench/gvendi.json")]
    out: PathBuf,
    #[command(flatten)]
    config: ConfigArgs,
}

fn bench(args: BenchArgs) -> Result<ExitCode> {
    let session = Session::load(
        Some(args.experiment.as_deref().unwrap_or("nli")),
        &args.config.overrides,
    )?;
    let g = &session.config.value.gvendi;
    let pool = prism_data::pool_table(&session)?.table;
    let pairs: Vec<(String, String)> = pool
        .examples
        .iter()
        .take(args.examples)
        .map(|e| g.example(&e.premise, &e.hypothesis, &e.label))
        .collect::<Result<_, String>>()
        .map_err(UsageError)?;
    let proxy = resolve_model(&g.proxy, &session.cache().model(""))?;
    let device = Backend::from_str(&g.backend)?.device()?;
    let record = prism_features::bench::measure(
        &proxy,
        &device,
        &pairs,
        (g.batch_size, g.factor_dim, g.dim),
    )?;
    prism_core::atomic::write_json_atomic(&args.out, &record)?;
    eprintln!("wrote `{}`", args.out.display());
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct GradArgs {
    /// Experiment whose `[gvendi]` section gives the defaults and whose pool is the default
    /// data (default: the embedded `nli`).
    experiment: Option<String>,
    /// Proxy model: a name in the cache, a `.gguf` file or a HF folder (default: gvendi.proxy).
    #[arg(long)]
    model: Option<String>,
    /// Examples: a normalised parquet table (NLI: prompt and completion as gvendi.format lays
    /// them out; a math experiment: question, then worked solution) or JSONL of {"id",
    /// "prompt", "completion"} (default: the experiment's pool).
    #[arg(long)]
    data: Option<PathBuf>,
    /// factored (fast, default), dense (paper-exact) or exact (n × n kernel; small n).
    #[arg(long)]
    mode: Option<String>,
    /// Projected dimension d (default: gvendi.dim).
    #[arg(long)]
    dim: Option<usize>,
    /// Store root (default: <cache>/features); the store is <root>/<key of proxy + config>/.
    /// In exact mode: the JSON file to write.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only these examples (one id per line).
    #[arg(long)]
    ids: Option<PathBuf>,
    /// Only the first N examples.
    #[arg(long)]
    limit: Option<usize>,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Rows of a JSONL file of {id, prompt, completion}; a bad line is an error naming it.
fn jsonl_examples(path: &Path) -> Result<Vec<GradientExample>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Row {
        id: String,
        prompt: String,
        completion: String,
    }
    let text = fs_err::read_to_string(path)?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let r: Row = serde_json::from_str(l)
                .map_err(|e| UsageError(format!("`{}` line {}: {e}", path.display(), i + 1)))?;
            Ok(GradientExample {
                id: r.id,
                prompt: r.prompt,
                completion: r.completion,
            })
        })
        .collect()
}

pub fn run(cmd: FeaturesCommand) -> Result<ExitCode> {
    let args = match cmd {
        FeaturesCommand::Grad(args) => args,
        FeaturesCommand::Bench(args) => return bench(args),
        FeaturesCommand::Formats(args) => return formats::run(args),
    };
    let session = Session::load(args.experiment.as_deref(), &args.config.overrides)?;
    let mut gvendi = session.config.value.gvendi.clone();
    if let Some(m) = args.model {
        gvendi.proxy = m;
    }
    if let Some(m) = args.mode {
        gvendi.mode = m;
    }
    if let Some(d) = args.dim {
        gvendi.dim = d;
    }
    gvendi
        .validate()
        .map_err(|(key, why)| UsageError(format!("{key}: {why}")))?;
    let math = session.config.value.task == "math";
    let mut examples = match &args.data {
        Some(p) if p.extension().is_some_and(|e| e == "jsonl") => jsonl_examples(p)?,
        Some(p) if math => prism_data::math::MathTable::read_parquet(p)?
            .examples
            .iter()
            .map(prism_tasks::math::gradient_example)
            .collect(),
        Some(p) => table_examples(&Table::read_parquet(p)?, &gvendi)?,
        // A math experiment's pool as its sweep featurises it: question, then worked solution.
        None if math => prism_tasks::math::math_pool(&session)?
            .iter()
            .map(prism_tasks::math::gradient_example)
            .collect(),
        None => table_examples(
            &prism_data::dataset_table(&session, &session.config.value.data.pool)?.table,
            &gvendi,
        )?,
    };
    if let Some(ids) = &args.ids {
        let picked =
            crate::ids::select_among(ids, examples.iter().map(|e| e.id.as_str()), "the data")?;
        examples = picked.into_iter().map(|i| examples[i].clone()).collect();
    }
    if let Some(n) = args.limit {
        examples.truncate(n);
    }
    if examples.is_empty() {
        return Err(UsageError("no examples to featurise".into()).into());
    }
    let start = Instant::now();
    if gvendi.mode == "exact" {
        let models = session.cache().model("");
        let path = resolve_model(&gvendi.proxy, &models)?;
        let device = Backend::from_str(&gvendi.backend)?.device()?;
        let lm = load_proxy(&path, &device, Mode::Exact)?;
        let chats = examples
            .iter()
            .map(|e| lm.tokenizer.chat(&e.prompt, &e.completion))
            .collect::<Result<Vec<_>, _>>()?;
        let k = exact_kernel(&lm, &chats)?;
        let vendi = prism_vendi::vendi_of_kernel(
            &k.kernel,
            examples.len(),
            prism_vendi::Order::Finite(1.0),
        )?;
        let out = args
            .out
            .unwrap_or_else(|| PathBuf::from("exact-kernel.json"));
        let value = serde_json::json!({
            "ids": examples.iter().map(|e| &e.id).collect::<Vec<_>>(),
            "kernel": k.kernel, "losses": k.losses, "grad_norms": k.grad_norms, "vendi": vendi,
        });
        prism_core::atomic::write_json_atomic(&out, &value)?;
        println!(
            "exact G-Vendi {vendi:.6} of {} examples; kernel in {}",
            examples.len(),
            out.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let root = args
        .out
        .unwrap_or_else(|| session.cache().root().join("features"));
    let store = featurize(&session, &gvendi, &examples, &root)?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} examples featurised into {} ({:.1} s, {:.2} examples/s)",
        examples.len(),
        store.dir().display(),
        secs,
        examples.len() as f64 / secs
    );
    Ok(ExitCode::SUCCESS)
}
