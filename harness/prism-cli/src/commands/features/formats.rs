//! `prism features formats`: what G-Vendi sees under each input format (`gvendi.format`).
//!
//! The proxy's loss on a one-word label may make every gradient mostly "which label", which
//! every subset holds fixed. This probe featurises the same pool pairs in both formats and
//! measures it: the share of the spectrum in the top three eigenvalues, G-Vendi of the whole
//! set against each single-label third, mean cosine within and across labels, and a
//! ground-truth check (pairs from 4 pages against equal-size draws from as many pages as
//! pairs, with the same label counts).

use super::store::featurize;
use crate::context::{ConfigArgs, Session};
use crate::exit::UsageError;
use anyhow::Result;
use prism_core::config::schema::GvendiFormat;
use prism_data::table::{Example, Table};
use prism_features::table_examples;
use prism_vendi::{Features, Order};
use rand::SeedableRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct FormatsArgs {
    /// Experiment whose `[gvendi]` section (proxy, mode, projection) and pool are used
    /// (default: `nli`).
    experiment: Option<String>,
    /// Pool pairs per label, each from a different page.
    #[arg(long, default_value_t = 60)]
    per_label: usize,
    /// Pages of the low-diversity set of the ground-truth check.
    #[arg(long, default_value_t = 4)]
    pages: usize,
    /// Draws of the high-diversity sets.
    #[arg(long, default_value_t = 50)]
    draws: usize,
    /// Seed of every choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to write the JSON record.
    #[arg(long, default_value = "results/gvendi-format/formats.json")]
    out: PathBuf,
    #[command(flatten)]
    config: ConfigArgs,
}

/// The probe's examples: `per_label` pairs per label from distinct pages, and the pairs of
/// `pages` pages (not among those) up to `per_label` in all.
fn choose(
    pool: &Table,
    labels: &[String],
    per_label: usize,
    pages: usize,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<Example>, Vec<Example>)> {
    let mut by_page: BTreeMap<&str, Vec<&Example>> = BTreeMap::new();
    for e in &pool.examples {
        by_page.entry(e.group.as_str()).or_default().push(e);
    }
    let mut order: Vec<&str> = by_page.keys().copied().collect();
    order.shuffle(rng);
    let mut need: BTreeMap<&str, usize> = labels.iter().map(|l| (l.as_str(), per_label)).collect();
    let mut spread = Vec::new();
    let mut used = std::collections::HashSet::new();
    for page in &order {
        let open: Vec<&&Example> = by_page[page]
            .iter()
            .filter(|e| need.get(e.label.as_str()).is_some_and(|n| *n > 0))
            .collect();
        if let Some(e) = open.choose(rng) {
            *need.get_mut(e.label.as_str()).expect("an open label") -= 1;
            spread.push((**e).clone());
            used.insert(*page);
        }
        if need.values().all(|n| *n == 0) {
            break;
        }
    }
    if need.values().any(|n| *n > 0) {
        return Err(UsageError(format!(
            "the pool has too few pages to give {per_label} pairs per label from distinct pages"
        ))
        .into());
    }
    // Pages with all three labels, so the narrow set has the wide sets' label mix.
    let mut narrow = Vec::new();
    for page in order.iter().filter(|p| !used.contains(*p)) {
        let examples = &by_page[page];
        if labels
            .iter()
            .all(|l| examples.iter().any(|e| &e.label == l))
            && narrow.len() < pages
        {
            narrow.push(*page);
        }
    }
    let mut concentrated: Vec<Example> = narrow
        .iter()
        .flat_map(|p| by_page[p].iter().map(|e| (*e).clone()))
        .collect();
    concentrated.shuffle(rng);
    concentrated.truncate(per_label);
    Ok((spread, concentrated))
}

/// What one format's features show.
#[derive(Debug, serde::Serialize)]
struct FormatFigures {
    format: String,
    examples: usize,
    top3_share: f64,
    gvendi_all: f64,
    gvendi_per_label: BTreeMap<String, f64>,
    cosine_same_label: f64,
    cosine_across_labels: f64,
    gvendi_narrow: f64,
    gvendi_wide_mean: f64,
    gvendi_wide_sd: f64,
    narrow_below_wide_by: f64,
}

fn vendi(f: &Features) -> Result<f64> {
    Ok(prism_vendi::vendi_score(f, Order::Finite(1.0), true)?.vendi)
}

fn figures(
    format: GvendiFormat,
    features: &Features,
    spread_labels: &[String],
    narrow: &Features,
    narrow_labels: &[String],
    draws: usize,
    seed: u64,
) -> Result<FormatFigures> {
    let n = spread_labels.len();
    let all = features.select(&(0..n).collect::<Vec<_>>());
    let mut eig = prism_vendi::vendi::spectrum(&all, true)?;
    eig.sort_by(|a, b| b.total_cmp(a));
    let mut per_label = BTreeMap::new();
    let mut rows_of: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, l) in spread_labels.iter().enumerate() {
        rows_of.entry(l.as_str()).or_default().push(i);
    }
    for (l, rows) in &rows_of {
        per_label.insert(l.to_string(), vendi(&all.select(rows))?);
    }
    let (mut same, mut cross) = ((0.0, 0usize), (0.0, 0usize));
    let unit = {
        let mut u = all.clone();
        u.l2_normalize();
        u
    };
    for i in 0..n {
        for j in (i + 1)..n {
            let c = prism_vendi::matrix::dot(unit.row(i), unit.row(j));
            if spread_labels[i] == spread_labels[j] {
                same = (same.0 + c, same.1 + 1);
            } else {
                cross = (cross.0 + c, cross.1 + 1);
            }
        }
    }
    // Wide sets: draws from the spread pairs (each from its own page) with the narrow set's
    // label counts.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for l in narrow_labels {
        *counts.entry(l.as_str()).or_default() += 1;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut wide = Vec::new();
    for _ in 0..draws {
        let mut rows = Vec::new();
        for (l, c) in &counts {
            let pool = rows_of.get(l).map(Vec::as_slice).unwrap_or_default();
            rows.extend(pool.choose_multiple(&mut rng, *c).copied());
        }
        wide.push(vendi(&all.select(&rows))?);
    }
    let (wide_mean, wide_sd) = prism_report::stats::mean_sd(&wide);
    let narrow_v = vendi(narrow)?;
    Ok(FormatFigures {
        format: format.to_string(),
        examples: n,
        top3_share: eig.iter().take(3).sum(),
        gvendi_all: vendi(&all)?,
        gvendi_per_label: per_label,
        cosine_same_label: same.0 / same.1.max(1) as f64,
        cosine_across_labels: cross.0 / cross.1.max(1) as f64,
        gvendi_narrow: narrow_v,
        gvendi_wide_mean: wide_mean,
        gvendi_wide_sd: wide_sd,
        narrow_below_wide_by: 1.0 - narrow_v / wide_mean,
    })
}

pub fn run(args: FormatsArgs) -> Result<ExitCode> {
    let session = Session::load(
        Some(args.experiment.as_deref().unwrap_or("nli")),
        &args.config.overrides,
    )?;
    let cfg = &session.config.value;
    let pool = prism_data::dataset_table(&session, &cfg.data.pool)?.table;
    let mut labels: Vec<String> = pool.examples.iter().map(|e| e.label.clone()).collect();
    labels.sort();
    labels.dedup();
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let (spread, narrow) = choose(&pool, &labels, args.per_label, args.pages, &mut rng)?;
    let examples = Table {
        examples: spread.iter().chain(&narrow).cloned().collect(),
    };
    let spread_labels: Vec<String> = spread.iter().map(|e| e.label.clone()).collect();
    let narrow_labels: Vec<String> = narrow.iter().map(|e| e.label.clone()).collect();
    eprintln!(
        "{} pairs from {} pages ({} per label) and {} pairs from {} pages",
        spread.len(),
        spread.len(),
        args.per_label,
        narrow.len(),
        args.pages
    );
    let mut results = Vec::new();
    for format in [GvendiFormat::Label, GvendiFormat::Hypothesis] {
        let mut gvendi = cfg.gvendi.clone();
        gvendi.format = format;
        let grad = table_examples(&examples, &gvendi)?;
        let store = featurize(
            &session,
            &gvendi,
            &grad,
            &session.cache().root().join("features"),
        )?;
        let hashes: Vec<String> = grad.iter().map(|e| e.content_hash()).collect();
        let (features, _) = store.load(&hashes)?;
        let narrow_rows: Vec<usize> = (spread.len()..grad.len()).collect();
        results.push(figures(
            format,
            &features,
            &spread_labels,
            &features.select(&narrow_rows),
            &narrow_labels,
            args.draws,
            args.seed,
        )?);
    }
    println!(
        "| format | top-3 share | G-Vendi, all {} | G-Vendi per label | cos same label | cos across | {} pages ({} pairs) | {} draws from {} pages (mean ± sd) | narrow below wide |",
        spread.len(),
        args.pages,
        narrow.len(),
        args.draws,
        narrow.len()
    );
    println!("|---|---:|---:|---|---:|---:|---:|---:|---:|");
    for r in &results {
        let per: Vec<String> = r
            .gvendi_per_label
            .iter()
            .map(|(l, v)| format!("{l} {v:.2}"))
            .collect();
        println!(
            "| {} | {:.1}% | {:.2} | {} | {:.3} | {:.3} | {:.2} | {:.2} ± {:.2} | {:.1}% |",
            r.format,
            100.0 * r.top3_share,
            r.gvendi_all,
            per.join(", "),
            r.cosine_same_label,
            r.cosine_across_labels,
            r.gvendi_narrow,
            r.gvendi_wide_mean,
            r.gvendi_wide_sd,
            100.0 * r.narrow_below_wide_by
        );
    }
    let record = serde_json::json!({
        "experiment": cfg.name, "proxy": cfg.gvendi.proxy, "mode": cfg.gvendi.mode,
        "dim": cfg.gvendi.dim, "seed": args.seed, "per_label": args.per_label,
        "pages": args.pages, "draws": args.draws,
        "spread_ids": spread.iter().map(|e| &e.id).collect::<Vec<_>>(),
        "narrow_ids": narrow.iter().map(|e| &e.id).collect::<Vec<_>>(),
        "formats": results,
    });
    prism_core::atomic::write_json_atomic(&args.out, &record)?;
    eprintln!("wrote `{}`", args.out.display());
    Ok(ExitCode::SUCCESS)
}
