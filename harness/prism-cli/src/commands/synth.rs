//! `prism synth <experiment>`: Prismatic Synthesis on the experiment's pool, every arm of its
//! `[synth]` section (prismatic and naive), resumable per round. After every round each arm's
//! folder holds `state.json`, `rounds.csv`, `rounds.md`, `kept.jsonl` and the G-Vendi curve;
//! when every arm is done, `comparison.md`/`.json` compare them at equal size.

use crate::context::{ConfigArgs, Session};
use anyhow::{Context, Result};
use prism_core::atomic::{write_atomic, write_json_atomic};
use prism_metrics::{MetricInput, Need};
use prism_synth::rounds::{Featurize, Selection, SynthExample, SynthState, gvendi};
use prism_tasks::equal_size::{
    TrainingSet, pool_band_markdown, pool_draw_name, pool_reference, students_markdown,
    train_students,
};
use prism_tasks::synth::{ArmOutcome, StoreFeaturizer, SynthConfig, arm_name, run_arms, synth_dir};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Experiment name (`experiments/<name>.toml`) or path, with a `[synth]` section.
    experiment: String,
    /// Run only this arm: `prismatic` (sparse clusters) or `naive` (no sparsity filter).
    #[arg(long, value_parser = ["prismatic", "naive"])]
    arm: Option<String>,
    #[command(flatten)]
    config: ConfigArgs,
}

pub fn run(args: SynthArgs) -> Result<ExitCode> {
    let session = Session::load(Some(&args.experiment), &args.config.overrides)?;
    let only = args.arm.as_deref().map(|a| match a {
        "prismatic" => Selection::Sparse,
        _ => Selection::All,
    });
    let (start, outcomes) = run_arms(&session, only, &mut |arm, dir, state| {
        if let Some(r) = state.rounds.last() {
            let funnel: Vec<String> = r.funnel().iter().map(|(k, n)| format!("{n} {k}")).collect();
            eprintln!(
                "{} round {}: {}; pool {} (G-Vendi {:.2}); {:.0} s generating, {:.0} s features",
                arm_name(arm),
                r.round,
                funnel.join(" → "),
                r.pool_size,
                r.pool_gvendi,
                r.generation_s,
                r.features_s
            );
        }
        if let Err(e) = write_arm(dir, arm, state) {
            eprintln!(
                "warning: writing the round's tables in {}: {e:#}",
                dir.display()
            );
        }
    })?;
    for o in &outcomes {
        write_arm(&o.dir, o.arm, &o.state)?;
        println!("{}: {}", arm_name(o.arm), o.dir.join("rounds.md").display());
    }
    if outcomes.len() >= 2 {
        let path = compare(&session, &start.examples, &outcomes)?;
        println!("comparison: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The rounds table (CSV and Markdown), the kept examples (JSONL, with round, cluster and the
/// generator's settings) and the G-Vendi curve of one arm.
fn write_arm(dir: &Path, arm: Selection, state: &SynthState) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut csv = String::from(
        "round,clusters,pool_rows_in_sparse,requests,parsed,agreed,passed_filters,in_sparse,kept,pool_size,pool_gvendi,kept_gvendi,generation_s,features_s,drops,rejections,failed_requests,closed_at_end_of_turn,checks_at_token_limit,landed\n",
    );
    let mut md = format!(
        "# {} synthesis: rounds\n\nStarting pool: {} examples, G-Vendi {:.3}.\n\n\
         A block the generator left open when it ended its turn is read as closed \
         (`closed at end of turn`: such blocks, parsed or dropped). `checks cut`: solutions or \
         labellings cut at the token limit (a cut math solution does not vote). `landed`: for \
         each candidate that passed the filters, its nearest pool cluster's rank by size (1: the \
         largest), `*` when that cluster is sparse; then the candidates' mean cosine with their \
         cluster's centre against the pool rows' with theirs.\n\n\
         | round | clusters | requests | parsed | agreed | passed filters | in sparse | kept | pool | pool G-Vendi | kept G-Vendi | drops | closed at end of turn | checks cut | rejections | landed | s |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---|---:|\n",
        arm_name(arm),
        state.start_size,
        state.start_gvendi
    );
    for r in &state.rounds {
        let (drops, rejections) = (counts(&r.drops), counts(&r.rejections));
        let kept_gvendi = r.kept_gvendi.map_or(String::new(), |v| format!("{v:.3}"));
        let funnel = r.funnel().map(|(_, n)| n.to_string()).join(",");
        let landed = r.landing.describe();
        writeln!(
            csv,
            "{},{},{},{funnel},{},{:.4},{},{:.1},{:.1},\"{drops}\",\"{rejections}\",{},{},{},\"{}\"",
            r.round,
            r.clusters,
            r.pool_rows_in_sparse,
            r.pool_size,
            r.pool_gvendi,
            kept_gvendi,
            r.generation_s,
            r.features_s,
            r.generator.failed,
            r.closed_at_end_of_turn,
            r.checks_at_token_limit,
            landed
        )?;
        let funnel = r.funnel().map(|(_, n)| n.to_string()).join(" | ");
        let kept_gvendi = if kept_gvendi.is_empty() {
            "-".into()
        } else {
            kept_gvendi
        };
        writeln!(
            md,
            "| {} | {} | {funnel} | {} | {:.3} | {kept_gvendi} | {drops} | {} | {} | {rejections} | {} | {:.0} |",
            r.round,
            r.clusters,
            r.pool_size,
            r.pool_gvendi,
            r.closed_at_end_of_turn,
            r.checks_at_token_limit,
            landed,
            r.generation_s + r.features_s
        )?;
    }
    write_atomic(&dir.join("rounds.csv"), csv.as_bytes())?;
    write_atomic(&dir.join("rounds.md"), md.as_bytes())?;
    let mut jsonl = String::new();
    for e in &state.kept {
        let mut row = e.fields.clone();
        if let Some(obj) = row.as_object_mut() {
            obj.insert("id".into(), e.id.clone().into());
            obj.insert("round".into(), e.round.into());
            obj.insert("cluster".into(), e.cluster.into());
            obj.insert("arm".into(), arm_name(arm).into());
        }
        jsonl.push_str(&serde_json::to_string(&row)?);
        jsonl.push('\n');
    }
    write_atomic(&dir.join("kept.jsonl"), jsonl.as_bytes())?;
    let pool: Vec<(f64, f64)> = std::iter::once((0.0, state.start_gvendi))
        .chain(state.rounds.iter().map(|r| (r.round as f64, r.pool_gvendi)))
        .collect();
    let kept: Vec<(f64, f64)> = state
        .rounds
        .iter()
        .filter_map(|r| r.kept_gvendi.map(|v| (r.round as f64, v)))
        .collect();
    // Two figures: the pool's G-Vendi (about 86 for 600 problems) and the kept set's (a few)
    // share no useful axis.
    for (stem, what, series) in [
        (
            "gvendi",
            "the pool with everything kept",
            ("pool + kept", pool),
        ),
        (
            "kept-gvendi",
            "the kept examples alone",
            ("kept so far", kept),
        ),
    ] {
        let title = format!("{} synthesis: G-Vendi of {what}", arm_name(arm));
        prism_report::plots::write_lines(
            dir,
            stem,
            &prism_report::plots::Lines {
                title: &title,
                x_desc: "round",
                y_desc: "G-Vendi",
                series: &[(series.0.to_string(), series.1)],
            },
        )?;
    }
    Ok(())
}

/// `reason n; reason n` in the reasons' kebab-case names.
fn counts<K: serde::Serialize>(by_reason: &std::collections::BTreeMap<K, usize>) -> String {
    by_reason
        .iter()
        .map(|(k, n)| {
            let name = serde_json::to_value(k)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            format!("{name} {n}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The arms at equal size: the first N kept examples of each (N = the smallest arm's count),
/// with G-Vendi and every baseline metric computable from text, sentence embeddings and
/// gradient features, and the students of `[synth.compare] students`.
fn compare(
    session: &Session,
    pool: &[SynthExample],
    outcomes: &[ArmOutcome],
) -> Result<std::path::PathBuf> {
    let n = outcomes
        .iter()
        .map(|o| o.state.kept.len())
        .min()
        .unwrap_or(0);
    let dir = synth_dir(session);
    let mut md = format!(
        "# Prismatic against naive synthesis at equal size\n\nEach arm's first {n} kept examples \
         (the smallest arm's count), same generator, filters and starting pool ({} examples).\n\n",
        pool.len()
    );
    let mut json = serde_json::json!({ "n": n, "arms": {} });
    if n < 2 {
        md.push_str("Fewer than 2 kept in some arm: no metric to compare.\n");
        for o in outcomes {
            json["arms"][arm_name(o.arm)] = serde_json::json!({ "kept": o.state.kept.len() });
        }
    } else {
        let mut featurizer = StoreFeaturizer::new(session);
        let pool_refs: Vec<&SynthExample> = pool.iter().collect();
        let pool_features = featurizer.features(&pool_refs)?;
        let metrics: Vec<_> = prism_metrics::registry()
            .into_iter()
            .filter(|m| {
                m.needs().iter().all(|n| {
                    matches!(
                        n,
                        Need::Texts | Need::Labels | Need::Embeddings | Need::GradientFeatures
                    )
                })
            })
            .collect();
        md.push_str(
            "| arm | kept (all rounds) | rounds | G-Vendi of the N | G-Vendi of pool + N |",
        );
        for m in &metrics {
            md.push_str(&format!(" {} |", m.name()));
        }
        md.push_str("\n|---|---:|---:|---:|---:|");
        md.push_str(&"---:|".repeat(metrics.len()));
        md.push('\n');
        for o in outcomes {
            let slice: Vec<&SynthExample> = o.state.kept.iter().take(n).collect();
            let grads = featurizer.features(&slice)?;
            let with_pool = prism_vendi::Features::stack(&[&pool_features, &grads]);
            let texts: Vec<String> = slice
                .iter()
                .map(|e| format!("{} {}", e.prompt, e.completion))
                .collect();
            let labels: Vec<String> = slice
                .iter()
                .map(|e| {
                    e.fields
                        .get("label")
                        .or_else(|| e.fields.get("difficulty"))
                        .map(|v| v.to_string())
                        .unwrap_or_default()
                })
                .collect();
            let pairs: Vec<(&str, &str)> = slice
                .iter()
                .map(|e| (e.prompt.as_str(), e.completion.as_str()))
                .collect();
            let embeddings =
                prism_models::embedders::minilm_embeddings(&session.cache(), &pairs, true)?;
            let input = MetricInput {
                texts: &texts,
                labels: &labels,
                embeddings: embeddings.as_ref(),
                static_embeddings: None,
                gradients: Some(&grads),
                proxy_losses: None,
                reference_embeddings: None,
                skills: None,
                seed: 0,
            };
            let g = gvendi(&grads)?;
            let gp = gvendi(&with_pool)?;
            md.push_str(&format!(
                "| {} | {} | {} | {g:.3} | {gp:.3} |",
                arm_name(o.arm),
                o.state.kept.len(),
                o.state.rounds.len()
            ));
            let mut values = serde_json::Map::new();
            for m in &metrics {
                match m.compute(&input) {
                    Ok(v) => {
                        md.push_str(&format!(" {v:.4} |"));
                        values.insert(m.name().into(), v.into());
                    }
                    Err(e) => {
                        md.push_str(" - |");
                        values.insert(m.name().into(), serde_json::Value::Null);
                        eprintln!("{}: {}: {e}", arm_name(o.arm), m.name());
                    }
                }
            }
            md.push('\n');
            json["arms"][arm_name(o.arm)] = serde_json::json!({
                "kept": o.state.kept.len(),
                "rounds": o.state.rounds.len(),
                "gvendi": g,
                "gvendi_with_pool": gp,
                "metrics": values,
            });
        }
    }
    let compare = SynthConfig::from_session(session)?.compare;
    let sizes = compare.students;
    let largest = outcomes
        .iter()
        .map(|o| o.state.kept.len())
        .max()
        .unwrap_or(0);
    if !sizes.is_empty() && largest >= 1 {
        let cfg = &session.config.value;
        let mut sets: Vec<TrainingSet<'_>> = outcomes
            .iter()
            .map(|o| TrainingSet {
                name: arm_name(o.arm).to_string(),
                examples: o.state.kept.iter().collect(),
            })
            .collect();
        // Draw d is seeded with train.seed + d: draw 0 is the single draw of before.
        for draw in 0..compare.pool_draws {
            sets.push(TrainingSet {
                name: pool_draw_name(draw),
                examples: pool_reference(pool, largest, cfg.train.seed + draw as u64),
            });
        }
        let students = train_students(session, &sets, &sizes, &dir.join("students"))?;
        md.push_str(&format!(
            "\n## Students at equal size\n\nThe experiment's student (`[student]`, `[train]`) \
             trained on each arm's first N kept examples and on {} seeded N-sample(s) of the \
             starting pool (`pool`, `pool.1`, …), at each N in {sizes:?} that the set reaches \
             (kept: {}), scored on the sweep's evaluation samples (`sweep.eval_limit` = {}).\n\n",
            compare.pool_draws,
            outcomes
                .iter()
                .map(|o| format!("{} {}", arm_name(o.arm), o.state.kept.len()))
                .collect::<Vec<_>>()
                .join(", "),
            cfg.sweep.eval_limit
        ));
        md.push_str(&students_markdown(
            &students,
            prism_tasks::equal_size::score_name(&cfg.task),
        ));
        let band = pool_band_markdown(&students);
        if !band.is_empty() {
            md.push_str(&format!(
                "\n### Each arm against the pool's draws\n\nThe pool draws' scores at each N \
                 (mean ± sd [min, max]), and each arm's with the number of draws that scored \
                 lower.\n\n{band}"
            ));
        }
        json["students"] = serde_json::to_value(&students)?;
    }
    let path = dir.join("comparison.md");
    write_atomic(&path, md.as_bytes())?;
    write_json_atomic(&dir.join("comparison.json"), &json)?;
    Ok(path)
}
