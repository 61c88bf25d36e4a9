//! `prism math student`: fine-tune the math track's causal-LM student on a seeded sample of
//! the pool and score it, before and after, on the ID test and every math benchmark of the
//! experiment ([`prism_models::lm_protocol`]); print a table and write the figures and the
//! loss curve as JSON.

use crate::context::{ConfigArgs, Session};
use anyhow::{Context, Result};
use prism_core::atomic::write_json_atomic;
use prism_models::lm_protocol::{SetResult, training_pair};
use prism_models::lm_student::StudentTop;
use prism_tasks::math::{
    StatesStore, batch_tokens, eval_sets, load_student, math_pool, seeded_sample,
};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, clap::Subcommand)]
pub enum MathCommand {
    /// Fine-tune the causal-LM student on a seeded sample of the pool and score it before and
    /// after on the ID test and the experiment's benchmarks.
    Student(StudentArgs),
}

#[derive(Debug, clap::Args)]
pub struct StudentArgs {
    /// Experiment name (`experiments/<name>.toml`) or path (`[student]`, `[train]`, `[data]`).
    experiment: String,
    /// Training problems: a sample of the pool seeded by `train.seed` (0 = the whole pool).
    #[arg(long, default_value_t = 256)]
    n: usize,
    /// Score at most this many problems of each evaluation set (seeded by `data.split_seed`;
    /// 0 = all, as `sweep.eval_limit`).
    #[arg(long, default_value_t = 200)]
    eval_limit: usize,
    /// Train on these problems instead of a pool sample: a JSONL file with `question` and
    /// `solution` (and `answer`) per line, as `prism synth` writes in `kept.jsonl`; the first
    /// `--n` lines are used (0 = all).
    #[arg(long, value_name = "JSONL")]
    train_jsonl: Option<PathBuf>,
    /// Where to write the JSON (default `results/<experiment>/student-n<N>-s<seed>.json`).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArgs,
}

/// What `prism math student` writes.
#[derive(Debug, Serialize)]
struct StudentReport {
    n_train: usize,
    model: String,
    frozen_blocks: usize,
    train: prism_models::TrainConfig,
    summary: prism_models::train::TrainSummary,
    /// (step, loss) of every optimiser step.
    loss_curve: Vec<(usize, f32)>,
    train_seconds: f64,
    prepare_seconds: f64,
    eval_seconds: f64,
    untuned: Vec<SetResult>,
    tuned: Vec<SetResult>,
}

pub fn run(cmd: MathCommand) -> Result<ExitCode> {
    let MathCommand::Student(args) = cmd;
    let session = Session::load(Some(&args.experiment), &args.config.overrides)?;
    let cfg = &session.config.value;
    let train = cfg.train.clone();
    // The experiment's pool (`data.pool`, sampled to `data.pool_size`), then the training sample.
    let training = match &args.train_jsonl {
        Some(path) => read_problems(path, args.n)?,
        None => seeded_sample(math_pool(&session)?, args.n, train.seed),
    };
    let model_path = prism_models::language_model::resolve_model(
        &cfg.student.model,
        &session.cache().model(""),
    )?;
    let student = load_student(&session)?;
    let max_tokens = batch_tokens(&session);

    let start = Instant::now();
    let store = StatesStore::new(&session, &student)?;
    let scored_sets = eval_sets(&session, &student, &store, args.eval_limit)?;
    let pairs: Vec<(String, String)> = training.iter().map(training_pair).collect();
    let sequences = student.encode(&pairs, train.max_len)?;
    let states = store.states(&student, &sequences)?;
    let prepare_seconds = start.elapsed().as_secs_f64();

    let evaluate = |top: &StudentTop| -> Result<Vec<SetResult>> {
        scored_sets
            .iter()
            .map(|s| Ok(s.evaluate(&student, top, max_tokens)?))
            .collect()
    };
    let t = Instant::now();
    let untuned = evaluate(student.pretrained_top())?;
    let mut eval_seconds = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut curve = Vec::new();
    let (top, summary) = student.fine_tune(&sequences, &states, &train, &mut |r| {
        curve.push((r.step, r.loss));
        if r.step % 10 == 0 || r.step + 1 == r.total {
            eprintln!(
                "  step {:>4}/{}  loss {:.4}  lr {:.2e}  |g| {:.3}",
                r.step + 1,
                r.total,
                r.loss,
                r.learning_rate,
                r.grad_norm
            );
        }
    })?;
    let train_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let tuned = evaluate(&top)?;
    eval_seconds += t.elapsed().as_secs_f64();

    println!(
        "{:<26} {:<9} {:>5} {:>12} {:>12} {:>10} {:>10}",
        "set", "scoring", "n", "NLL before", "NLL after", "acc before", "acc after"
    );
    for (b, a) in untuned.iter().zip(&tuned) {
        let acc = |r: &SetResult| r.accuracy.map_or("-".into(), |x| format!("{x:.3}"));
        let scoring = serde_json::to_value(b.scoring)?;
        println!(
            "{:<26} {:<9} {:>5} {:>12.4} {:>12.4} {:>10} {:>10}",
            b.name,
            scoring.as_str().unwrap_or_default(),
            b.n,
            b.nll,
            a.nll,
            acc(b),
            acc(a)
        );
    }
    println!(
        "trained {} problems x {} epoch(s) = {} steps in {train_seconds:.1} s (loss {:.4} -> {:.4}); {} frozen blocks; prepare {prepare_seconds:.1} s, evaluation {eval_seconds:.1} s",
        training.len(),
        train.epochs_for(training.len()),
        summary.steps,
        summary.first_loss,
        summary.last_loss,
        student.frozen_blocks,
    );
    let report = StudentReport {
        n_train: training.len(),
        model: model_path.display().to_string(),
        frozen_blocks: student.frozen_blocks,
        train,
        summary,
        loss_curve: curve,
        train_seconds,
        prepare_seconds,
        eval_seconds,
        untuned,
        tuned,
    };
    let out = args.out.unwrap_or_else(|| {
        session.results().join(format!(
            "student-n{}-s{}.json",
            report.n_train, report.train.seed
        ))
    });
    write_json_atomic(&out, &report).with_context(|| format!("writing `{}`", out.display()))?;
    println!("wrote {}", out.display());
    let loss: Vec<(f64, f64)> = report
        .loss_curve
        .iter()
        .map(|&(step, loss)| (step as f64, loss as f64))
        .collect();
    let stem = out
        .file_stem()
        .map(|s| format!("{}-loss", s.to_string_lossy()))
        .unwrap_or_else(|| "loss".into());
    let dir = out.parent().unwrap_or(std::path::Path::new("."));
    let title = format!(
        "{} problems, {} steps: training loss per step",
        report.n_train, report.summary.steps
    );
    let figure = prism_report::plots::write_lines(
        dir,
        &stem,
        &prism_report::plots::Lines {
            title: &title,
            x_desc: "optimiser step",
            y_desc: "completion loss (nats/token)",
            series: &[
                ("batch loss".to_string(), loss.clone()),
                (
                    "mean of the last 8 steps".to_string(),
                    trailing_mean(&loss, 8),
                ),
            ],
        },
    )
    .with_context(|| format!("writing the loss curve beside `{}`", out.display()))?;
    println!("wrote {}", figure.png.display());
    Ok(ExitCode::SUCCESS)
}

/// The first `n` problems (0 = all) of a JSONL file with `question` and `solution` per line;
/// a line that lacks one is an error naming the file and the line.
fn read_problems(path: &std::path::Path, n: usize) -> Result<Vec<prism_data::math::MathExample>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading `{}`", path.display()))?;
    let mut problems = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        if n > 0 && problems.len() == n {
            break;
        }
        let at = || format!("{}:{}", path.display(), i + 1);
        let row: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("{}: not JSON", at()))?;
        let id = row
            .get("id")
            .and_then(serde_json::Value::as_str)
            .map_or_else(|| format!("line-{}", i + 1), str::to_string);
        let problem =
            prism_tasks::equal_size::math_problem_of(&row, &id, &path.display().to_string())
                .map_err(|e| anyhow::anyhow!("{}: {e:#}", at()))?;
        problems.push(problem);
    }
    anyhow::ensure!(
        !problems.is_empty(),
        "`{}` holds no problems",
        path.display()
    );
    Ok(problems)
}

/// Each point's y replaced by the mean of the last `window` points' (fewer at the start).
fn trailing_mean(points: &[(f64, f64)], window: usize) -> Vec<(f64, f64)> {
    points
        .iter()
        .enumerate()
        .map(|(i, &(x, _))| {
            let from = (i + 1).saturating_sub(window);
            let ys = &points[from..=i];
            (x, ys.iter().map(|p| p.1).sum::<f64>() / ys.len() as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn trailing_mean_averages_what_came_before() {
        let p = [(0.0, 4.0), (1.0, 2.0), (2.0, 0.0), (3.0, 6.0)];
        assert_eq!(
            super::trailing_mean(&p, 2),
            [(0.0, 4.0), (1.0, 3.0), (2.0, 1.0), (3.0, 3.0)]
        );
    }
}
