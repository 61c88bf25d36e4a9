//! Students at equal size, for the synthesis comparison: each arm's first N kept examples, and
//! a seeded N-sample of the starting pool as the reference, each fine-tuned with the
//! experiment's `[train]` and scored on the evaluation samples a sweep's runs are scored on
//! (`sweep.eval_limit` of the ID test and of every benchmark), at every N asked for.
//!
//! A student's figures are kept under `<synth>/students/`, keyed by what it was trained on and
//! how, so a rerun or a longer synthesis run trains only the students it has not seen.

use crate::math::{StatesStore, batch_tokens, eval_sets, load_student};
use anyhow::{Context, Result, bail};
use prism_core::Session;
use prism_core::integrity::{read_cached_or_discard, write_cached};
use prism_data::math::MathExample;
use prism_data::project::label_index;
use prism_models::LabeledPair;
use prism_models::lm_protocol::training_pair;
use prism_synth::rounds::SynthExample;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One training set of the comparison: a name (`prismatic`, `naive`, `pool`) and its examples.
pub struct TrainingSet<'a> {
    /// What the students are trained on.
    pub name: String,
    /// Its examples in order; a student at N takes the first N.
    pub examples: Vec<&'a SynthExample>,
}

/// One student of the comparison, on the scale of its task's sweep: NLI scores are
/// accuracies, math scores minus the mean per-token NLL of the gold completion (higher is
/// better on both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EqualSizeStudent {
    /// The training set (`untuned` for the math student before fine-tuning).
    pub trained_on: String,
    /// Training examples.
    pub n: usize,
    /// Optimiser steps.
    pub steps: usize,
    /// Mean loss over the first and the last 10% of steps (none untuned).
    pub first_loss: Option<f32>,
    /// See `first_loss`.
    pub last_loss: Option<f32>,
    /// Score on the ID test.
    pub id: f64,
    /// Score on each benchmark.
    pub benchmarks: BTreeMap<String, f64>,
    /// Mean score over the declared OOD aggregate (`report.ood`).
    pub ood: f64,
    /// Seconds spent fine-tuning.
    pub train_seconds: f64,
}

/// The students of `sets` at every size of `sizes`, in order: for each size, every set that
/// holds that many examples (an arm that kept fewer drops out of the larger sizes, so each size
/// compares the sets that reach it). Math adds the untuned student first (the reference every
/// fine-tuning starts from).
pub fn train_students(
    session: &Session,
    sets: &[TrainingSet<'_>],
    sizes: &[usize],
    dir: &Path,
) -> Result<Vec<EqualSizeStudent>> {
    let wanted = planned(sets, sizes);
    let task = session.config.value.task.as_str();
    let mut trainer: Box<dyn StudentTrainer + '_> = match task {
        "math" => Box::new(MathTrainer::new(session)),
        "nli" => Box::new(NliTrainer::new(session)),
        other => bail!("task = `{other}` has no student for the synthesis comparison"),
    };
    let mut students = Vec::new();
    if task == "math" {
        students.push(cached(dir, "untuned", &[], session, &mut |_| {
            EqualSizeStudent::new(session, "untuned", 0, trainer.untuned()?)
        })?);
    }
    for (set, n) in wanted {
        let examples = &set.examples[..n];
        eprintln!("student: {} examples of {}", n, set.name);
        students.push(cached(dir, &set.name, examples, session, &mut |ex| {
            EqualSizeStudent::new(session, &set.name, n, trainer.train(ex)?)
        })?);
    }
    Ok(students)
}

/// The (set, size) pairs to train, sizes first: every set that holds at least that many.
fn planned<'s, 'a>(
    sets: &'s [TrainingSet<'a>],
    sizes: &[usize],
) -> Vec<(&'s TrainingSet<'a>, usize)> {
    sizes
        .iter()
        .filter(|&&n| n >= 1)
        .flat_map(|&n| {
            sets.iter()
                .filter(move |s| s.examples.len() >= n)
                .map(move |s| (s, n))
        })
        .collect()
}

/// The reference training set: the first `n` examples of a seeded shuffle of the starting pool,
/// so that the pool's students at each size are nested slices like the arms'.
pub fn pool_reference(pool: &[SynthExample], n: usize, seed: u64) -> Vec<&SynthExample> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let mut order: Vec<&SynthExample> = pool.iter().collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    order.truncate(n);
    order
}

/// The students as a Markdown table: one row each, the ID test, the declared OOD aggregate's
/// mean and every benchmark, on the task's scale (`score` names it).
pub fn students_markdown(students: &[EqualSizeStudent], score: &str) -> String {
    let Some(first) = students.first() else {
        return String::new();
    };
    let names: Vec<&String> = first.benchmarks.keys().collect();
    let mut md = format!(
        "Scores: {score} (higher is better); OOD = the mean over `report.ood`.\n\n\
         | trained on | N | steps | loss first → last | ID | OOD |"
    );
    for n in &names {
        md.push_str(&format!(" {n} |"));
    }
    md.push_str("\n|---|---:|---:|---|---:|---:|");
    md.push_str(&"---:|".repeat(names.len()));
    md.push('\n');
    for s in students {
        let loss = match (s.first_loss, s.last_loss) {
            (Some(a), Some(b)) => format!("{a:.3} → {b:.3}"),
            _ => "-".to_string(),
        };
        md.push_str(&format!(
            "| {} | {} | {} | {loss} | {:.4} | {:.4} |",
            s.trained_on, s.n, s.steps, s.id, s.ood
        ));
        for n in &names {
            match s.benchmarks.get(*n) {
                Some(v) => md.push_str(&format!(" {v:.4} |")),
                None => md.push_str(" - |"),
            }
        }
        md.push('\n');
    }
    md
}

/// The name of the pool's `draw`-th reference set (`pool`, then `pool.1`, `pool.2`, …: the
/// first keeps the name, and so the cached students, of a comparison with one draw).
pub fn pool_draw_name(draw: usize) -> String {
    match draw {
        0 => "pool".to_string(),
        d => format!("pool.{d}"),
    }
}

fn is_pool_draw(name: &str) -> bool {
    name == "pool"
        || name
            .strip_prefix("pool.")
            .is_some_and(|d| d.parse::<usize>().is_ok())
}

/// Where each arm's student falls among the pool draws' students at the same N, as a Markdown
/// table: per N, the draws' ID and OOD scores as mean ± sd [min, max], then each arm's scores
/// with how many draws scored lower. Empty when no N has two or more draws.
pub fn pool_band_markdown(students: &[EqualSizeStudent]) -> String {
    let mut sizes: Vec<usize> = students.iter().map(|s| s.n).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let mut rows = String::new();
    for n in sizes {
        let at_n = || students.iter().filter(move |s| s.n == n);
        let draws: Vec<&EqualSizeStudent> =
            at_n().filter(|s| is_pool_draw(&s.trained_on)).collect();
        if draws.len() < 2 {
            continue;
        }
        let band = |score: fn(&EqualSizeStudent) -> f64| {
            let values: Vec<f64> = draws.iter().map(|s| score(s)).collect();
            let (mean, sd) = prism_report::stats::mean_sd(&values);
            let (lo, hi) = prism_report::stats::min_max(&values);
            format!("{mean:.4} ± {sd:.4} [{lo:.4}, {hi:.4}]")
        };
        let id = |s: &EqualSizeStudent| s.id;
        let ood = |s: &EqualSizeStudent| s.ood;
        rows.push_str(&format!(
            "| {n} | pool, {} draws | {} | {} |\n",
            draws.len(),
            band(id),
            band(ood)
        ));
        for arm in at_n().filter(|s| !is_pool_draw(&s.trained_on) && s.trained_on != "untuned") {
            let below = |score: fn(&EqualSizeStudent) -> f64| {
                draws.iter().filter(|d| score(d) < score(arm)).count()
            };
            rows.push_str(&format!(
                "| {n} | {} | {:.4} ({} of {} draws lower) | {:.4} ({} of {} lower) |\n",
                arm.trained_on,
                arm.id,
                below(id),
                draws.len(),
                arm.ood,
                below(ood),
                draws.len()
            ));
        }
    }
    if rows.is_empty() {
        return rows;
    }
    format!("| N | trained on | ID | OOD |\n|---:|---|---|---|\n{rows}")
}

/// What a task's students are scored by, in words.
pub fn score_name(task: &str) -> &'static str {
    match task {
        "math" => "minus the mean per-token NLL of the gold completion",
        _ => "accuracy",
    }
}

/// The student of `examples` from `dir` when one was trained the same way (checked against
/// its sums, as every cache entry: a damaged one is moved aside and trained again), else
/// trained now and kept there. Either way the student is read from the kept bytes, so a
/// cached student and a fresh one are the same to the last bit.
fn cached(
    dir: &Path,
    name: &str,
    examples: &[&SynthExample],
    session: &Session,
    train: &mut dyn FnMut(&[&SynthExample]) -> Result<EqualSizeStudent>,
) -> Result<EqualSizeStudent> {
    let path = student_path(dir, name, examples, session)?;
    if let Some(bytes) = read_cached_or_discard(&path, "training it again")?
        && let Ok(student) = serde_json::from_slice::<EqualSizeStudent>(&bytes)
    {
        return Ok(student);
    }
    let mut bytes = serde_json::to_vec_pretty(&train(examples)?)?;
    bytes.push(b'\n');
    write_cached(&path, &bytes).with_context(|| format!("writing `{}`", path.display()))?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// Where the student of `examples` is kept: its name, size and a key over everything that
/// shapes it (the examples' text, the student and training settings, the evaluation sets).
fn student_path(
    dir: &Path,
    name: &str,
    examples: &[&SynthExample],
    session: &Session,
) -> Result<PathBuf> {
    let cfg = &session.config.value;
    let identity = serde_json::json!({
        "task": cfg.task,
        "examples": examples.iter().map(|e| &e.fields).collect::<Vec<_>>(),
        "student": cfg.student,
        "train": cfg.train,
        "eval_limit": cfg.sweep.eval_limit,
        "split_seed": cfg.data.split_seed,
        "benchmarks": cfg.data.benchmarks,
        "ood": cfg.ood_aggregate(),
    });
    let key = &prism_core::hash::sha256_hex(serde_json::to_vec(&identity)?.as_slice())[..16];
    Ok(dir.join(format!("{name}-n{}-{key}.json", examples.len())))
}

/// Fine-tunes and scores a task's student.
trait StudentTrainer {
    /// The student before fine-tuning, scored.
    fn untuned(&mut self) -> Result<Measured>;
    /// A student fine-tuned on `examples`, scored.
    fn train(&mut self, examples: &[&SynthExample]) -> Result<Measured>;
}

/// What a trainer measured of one student, before the comparison names it.
struct Measured {
    /// Score on the ID test.
    id: f64,
    /// Score on each benchmark.
    benchmarks: BTreeMap<String, f64>,
    /// The training run (none untuned).
    summary: Option<prism_models::train::TrainSummary>,
    /// Seconds spent fine-tuning.
    train_seconds: f64,
}

impl EqualSizeStudent {
    /// The student trained on the first `n` examples of `trained_on`, with its OOD aggregate
    /// ([`prism_report::runs::ood_mean`] over `report.ood`, as a sweep's runs table has it).
    fn new(session: &Session, trained_on: &str, n: usize, m: Measured) -> Result<Self> {
        let declared = session.config.value.ood_aggregate();
        let ood =
            prism_report::runs::ood_mean(declared.iter().map(|b| m.benchmarks.get(b).copied()))
                .with_context(|| {
                    format!(
                        "report.ood: {declared:?} are not all scored (scored: {:?})",
                        m.benchmarks.keys().collect::<Vec<_>>()
                    )
                })?;
        Ok(Self {
            trained_on: trained_on.into(),
            n,
            steps: m.summary.as_ref().map_or(0, |s| s.steps),
            first_loss: m.summary.as_ref().map(|s| s.first_loss),
            last_loss: m.summary.as_ref().map(|s| s.last_loss),
            id: m.id,
            benchmarks: m.benchmarks,
            ood,
            train_seconds: m.train_seconds,
        })
    }
}

/// The math student with its evaluation sets through the frozen blocks.
struct MathEval {
    student: prism_models::lm_student::LmStudent,
    store: StatesStore,
    sets: Vec<prism_models::lm_protocol::ScoredSet>,
}

/// The math track's causal-LM student (`prism_models::lm_student`), loaded on first use with
/// its evaluation sets through the frozen blocks.
struct MathTrainer<'a> {
    session: &'a Session,
    loaded: Option<MathEval>,
}

impl<'a> MathTrainer<'a> {
    fn new(session: &'a Session) -> Self {
        Self {
            session,
            loaded: None,
        }
    }

    fn loaded(&mut self) -> Result<&MathEval> {
        if self.loaded.is_none() {
            let student = load_student(self.session)?;
            let store = StatesStore::new(self.session, &student)?;
            let sets = eval_sets(
                self.session,
                &student,
                &store,
                self.session.config.value.sweep.eval_limit,
            )?;
            self.loaded = Some(MathEval {
                student,
                store,
                sets,
            });
        }
        Ok(self.loaded.as_ref().expect("loaded above"))
    }

    /// The ID test's and each benchmark's score (minus the mean per-token NLL) of `top` (the
    /// pretrained top when `None`).
    fn evaluate(
        &mut self,
        top: Option<&prism_models::lm_student::StudentTop>,
    ) -> Result<(f64, BTreeMap<String, f64>)> {
        let max_tokens = batch_tokens(self.session);
        let MathEval { student, sets, .. } = self.loaded()?;
        let top = top.unwrap_or(student.pretrained_top());
        // The ID test first, as `eval_sets` orders them.
        let mut scores = sets
            .iter()
            .map(|s| {
                Ok(s.evaluate(student, top, max_tokens)
                    .map(|r| (r.name, -r.nll))?)
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter();
        let (_, id) = scores.next().context("no ID test was scored")?;
        Ok((id, scores.collect()))
    }
}

impl StudentTrainer for MathTrainer<'_> {
    fn untuned(&mut self) -> Result<Measured> {
        let (id, benchmarks) = self.evaluate(None)?;
        Ok(Measured {
            id,
            benchmarks,
            summary: None,
            train_seconds: 0.0,
        })
    }

    fn train(&mut self, examples: &[&SynthExample]) -> Result<Measured> {
        let train = self.session.config.value.train.clone();
        let problems = examples
            .iter()
            .map(|e| math_problem(e))
            .collect::<Result<Vec<_>>>()?;
        let pairs: Vec<(String, String)> = problems.iter().map(training_pair).collect();
        let t = std::time::Instant::now();
        let (top, summary) = {
            let MathEval { student, store, .. } = self.loaded()?;
            let sequences = student.encode(&pairs, train.max_len)?;
            let states = store.states(student, &sequences)?;
            student.fine_tune(&sequences, &states, &train, &mut |_| {})?
        };
        let train_seconds = t.elapsed().as_secs_f64();
        let (id, benchmarks) = self.evaluate(Some(&top))?;
        Ok(Measured {
            id,
            benchmarks,
            summary: Some(summary),
            train_seconds,
        })
    }
}

/// The math problem of a record with string fields `question` and `solution` (and `answer`;
/// a `kept.jsonl` line, or a synthesis example's fields), its difficulty counted from the
/// solution's steps; an error names the field that is missing.
pub fn math_problem_of(fields: &serde_json::Value, id: &str, source: &str) -> Result<MathExample> {
    let field = |k: &str| -> Result<String> {
        fields
            .get(k)
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
            .with_context(|| format!("no string field `{k}`"))
    };
    let solution = field("solution")?;
    Ok(MathExample {
        id: id.into(),
        question: field("question")?,
        answer: field("answer").unwrap_or_default(),
        difficulty: prism_data::math::table::solution_steps(&solution),
        solution,
        choices: Vec::new(),
        source: source.into(),
        group: String::new(),
        split: "train".into(),
    })
}

/// A synthesis example's math problem ([`math_problem_of`] its fields).
fn math_problem(e: &SynthExample) -> Result<MathExample> {
    math_problem_of(&e.fields, &e.id, "synth")
        .map_err(|err| anyhow::anyhow!("example `{}`: {err:#}", e.id))
}

/// A synthesis example's labelled NLI pair ([`labeled_pair_of`] its fields).
fn nli_pair(e: &SynthExample, two_way: bool) -> Result<LabeledPair> {
    labeled_pair_of(&e.fields, two_way)
        .map_err(|err| anyhow::anyhow!("example `{}`: {err:#}", e.id))
}

/// The NLI student of the experiment (`prism_models::protocol`), trained as a sweep's run; the
/// pool's label space is read once, on first use.
struct NliTrainer<'a> {
    session: &'a Session,
    /// Whether the pool is two-way, and its number of classes.
    labels: Option<(bool, usize)>,
}

impl<'a> NliTrainer<'a> {
    fn new(session: &'a Session) -> Self {
        Self {
            session,
            labels: None,
        }
    }
}

impl StudentTrainer for NliTrainer<'_> {
    fn untuned(&mut self) -> Result<Measured> {
        bail!("an NLI student has no untuned scores (its head starts random)")
    }

    fn train(&mut self, examples: &[&SynthExample]) -> Result<Measured> {
        let session = self.session;
        let cfg = &session.config.value;
        let (two_way, classes) = match self.labels {
            Some(labels) => labels,
            None => {
                let pool = prism_data::pool_table(session)?;
                *self.labels.insert((pool.two_way, pool.classes()))
            }
        };
        let pairs = examples
            .iter()
            .map(|e| nli_pair(e, two_way))
            .collect::<Result<Vec<_>>>()?;
        let mut run = prism_models::protocol::train_and_evaluate(
            session,
            &cfg.train,
            &pairs,
            classes,
            cfg.sweep.eval_limit,
            &mut |_, _, _| {},
        )?;
        let id_name = prism_data::catalog::id_test();
        let id = run
            .eval
            .remove(id_name)
            .with_context(|| format!("the ID test `{id_name}` was not scored"))?
            .accuracy;
        Ok(Measured {
            id,
            benchmarks: run.eval.into_iter().map(|(k, s)| (k, s.accuracy)).collect(),
            summary: Some(run.summary),
            train_seconds: run.train_seconds,
        })
    }
}

/// The labelled NLI pair of a record with string fields `premise`, `hypothesis` and `label`
/// (a `kept.jsonl` line), the label in the pool's label space (`two_way`); an error names the
/// field that is missing or the label that is not in the space.
pub fn labeled_pair_of(fields: &serde_json::Value, two_way: bool) -> Result<LabeledPair> {
    let field = |k: &str| -> Result<&str> {
        fields
            .get(k)
            .and_then(serde_json::Value::as_str)
            .with_context(|| format!("no string field `{k}`"))
    };
    let label = field("label")?;
    Ok(LabeledPair {
        premise: field("premise")?.to_string(),
        hypothesis: field("hypothesis")?.to_string(),
        label: label_index(label, two_way)
            .with_context(|| format!("label `{label}` is not in the pool's label space"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use prism_synth::formats::math::math_example;
    use prism_synth::formats::nli::{NliTriple, nli_example};

    #[test]
    fn synthetic_examples_become_training_pairs_or_say_what_they_lack() {
        let m = math_example(
            "m1".into(),
            "What is 2 + 3?",
            "2 + 3 = 5.\n#### 5",
            "5",
            1,
            serde_json::json!({}),
        );
        let p = math_problem(&m).unwrap();
        assert_eq!(
            (p.question.as_str(), p.answer.as_str()),
            ("What is 2 + 3?", "5")
        );
        assert_eq!(p.solution, "2 + 3 = 5.\n#### 5");

        let layout = |t: &NliTriple| (t.premise.clone(), t.label.clone());
        let triple = |label: &str| NliTriple {
            premise: "A cat sleeps.".into(),
            hypothesis: "An animal rests.".into(),
            label: label.into(),
        };
        let e = nli_example(
            "n1".into(),
            &triple("contradiction"),
            &layout,
            serde_json::json!({}),
        );
        assert_eq!(nli_pair(&e, false).unwrap().label, 2);
        let err = format!("{:#}", nli_pair(&e, true).unwrap_err());
        assert!(
            err.contains("`n1`") && err.contains("`contradiction`"),
            "{err}"
        );
        let err = math_problem(&e).unwrap_err().to_string();
        assert!(
            err.contains("`question`") || err.contains("`solution`"),
            "{err}"
        );
    }

    #[test]
    fn the_pool_band_places_each_arm_among_the_draws() {
        let student = |name: &str, n: usize, id: f64, ood: f64| EqualSizeStudent {
            trained_on: name.into(),
            n,
            steps: 1,
            first_loss: None,
            last_loss: None,
            id,
            benchmarks: BTreeMap::new(),
            ood,
            train_seconds: 0.0,
        };
        let names: Vec<String> = (0..3).map(pool_draw_name).collect();
        assert_eq!(names, ["pool", "pool.1", "pool.2"]);
        let students = vec![
            student("untuned", 0, 0.0, 0.0),
            student("naive", 4, 0.45, 0.50),
            student("pool", 4, 0.40, 0.30),
            student("pool.1", 4, 0.50, 0.40),
            student("pool.2", 4, 0.60, 0.50),
            // One draw at N = 8: no band there.
            student("pool", 8, 0.7, 0.7),
            student("naive", 8, 0.1, 0.1),
            // A name that only starts like a draw is an arm.
            student("pool.x", 4, 0.9, 0.9),
        ];
        let md = pool_band_markdown(&students);
        // mean 0.5, sample sd 0.1; OOD mean 0.4, sd 0.1.
        assert!(
            md.contains("| 4 | pool, 3 draws | 0.5000 ± 0.1000 [0.4000, 0.6000] | 0.4000 ± 0.1000 [0.3000, 0.5000] |"),
            "{md}"
        );
        // The arm beats one draw on ID (0.40) and two on OOD (0.30, 0.40; 0.50 is not lower).
        assert!(
            md.contains("| 4 | naive | 0.4500 (1 of 3 draws lower) | 0.5000 (2 of 3 lower) |"),
            "{md}"
        );
        assert!(
            md.contains("| 4 | pool.x | 0.9000 (3 of 3 draws lower)"),
            "{md}"
        );
        assert!(!md.contains("| 8 |") && !md.contains("untuned"), "{md}");
        assert_eq!(pool_band_markdown(&students[..3]), "");
    }

    fn problems(n: usize) -> Vec<SynthExample> {
        (0..n)
            .map(|i| {
                math_example(
                    format!("p{i}"),
                    &format!("What is {i} + 1?"),
                    &format!("{i} + 1 = {}.\n#### {}", i + 1, i + 1),
                    &(i + 1).to_string(),
                    1,
                    serde_json::json!({}),
                )
            })
            .collect()
    }

    #[test]
    fn the_pool_reference_is_nested_across_sizes_and_seeded() {
        let pool = problems(40);
        let ids = |v: Vec<&SynthExample>| v.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        let small = ids(pool_reference(&pool, 4, 7));
        let large = ids(pool_reference(&pool, 16, 7));
        assert_eq!(small[..], large[..4]);
        assert_eq!(large, ids(pool_reference(&pool, 16, 7)));
        assert_ne!(large, ids(pool_reference(&pool, 16, 8)));
        assert_ne!(
            large[..],
            ids(pool.iter().take(16).collect())[..],
            "not the pool's order"
        );
    }

    #[test]
    fn a_student_is_trained_once_and_again_when_what_shapes_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let session = Session::load(Some("synth-math"), &[]).unwrap();
        let pool = problems(3);
        let refs: Vec<&SynthExample> = pool.iter().collect();
        let trained = std::cell::Cell::new(0);
        let mut train = |ex: &[&SynthExample]| {
            trained.set(trained.get() + 1);
            Ok(EqualSizeStudent {
                trained_on: "naive".into(),
                n: ex.len(),
                steps: 2,
                first_loss: Some(1.5),
                last_loss: Some(1.25),
                id: -1.0,
                benchmarks: BTreeMap::from([("gsm8k".to_string(), -2.0)]),
                ood: -2.0,
                train_seconds: 0.5,
            })
        };
        let first = cached(dir.path(), "naive", &refs, &session, &mut train).unwrap();
        let again = cached(dir.path(), "naive", &refs, &session, &mut train).unwrap();
        assert_eq!(first, again);
        let other =
            Session::load(Some("synth-math"), &["train.learning_rate=2e-4".into()]).unwrap();
        cached(dir.path(), "naive", &refs, &other, &mut train).unwrap();
        cached(dir.path(), "naive", &refs[..2], &session, &mut train).unwrap();
        cached(dir.path(), "pool", &refs, &session, &mut train).unwrap();
        assert_eq!(
            trained.get(),
            4,
            "one student per training set, size and setting"
        );
        // A damaged entry is not used: it is moved aside and the student trained again.
        let path = student_path(dir.path(), "naive", &refs, &session).unwrap();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("-2.0", "-3.0");
        std::fs::write(&path, text).unwrap();
        let retrained = cached(dir.path(), "naive", &refs, &session, &mut train).unwrap();
        assert_eq!((trained.get(), &retrained), (5, &first));
        assert!(path.with_extension("json.corrupt").is_file());
        let table = students_markdown(&[first], score_name("math"));
        assert!(
            table.contains("| naive | 3 | 2 | 1.500 → 1.250 | -1.0000 | -2.0000 | -2.0000 |"),
            "{table}"
        );
    }

    #[test]
    fn each_size_trains_the_sets_that_reach_it() {
        let pool = problems(9);
        let set = |name: &str, n: usize| TrainingSet {
            name: name.into(),
            examples: pool.iter().take(n).collect(),
        };
        let sets = [set("prismatic", 1), set("naive", 9), set("pool", 9)];
        let plan: Vec<(String, usize)> = planned(&sets, &[0, 1, 2, 8, 16])
            .into_iter()
            .map(|(s, n)| (s.name.clone(), n))
            .collect();
        let expected = [
            ("prismatic", 1),
            ("naive", 1),
            ("pool", 1),
            ("naive", 2),
            ("pool", 2),
            ("naive", 8),
            ("pool", 8),
        ];
        assert_eq!(plan, expected.map(|(s, n)| (s.to_string(), n)).to_vec());
    }

    #[test]
    fn sizes_no_training_set_fills_train_nothing() {
        let session = Session::load(Some("synth-nli"), &[]).unwrap();
        let pool = problems(3);
        let sets = [TrainingSet {
            name: "naive".into(),
            examples: pool.iter().collect(),
        }];
        let dir = tempfile::tempdir().unwrap();
        let students = train_students(&session, &sets, &[4, 8], dir.path()).unwrap();
        assert!(students.is_empty());
    }
}
