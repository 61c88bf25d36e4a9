//! The math track's normalised table, stored as parquet through polars.
//!
//! Schema: `{id, question, solution, answer, choices, source, group, difficulty, split}`.
//! `solution` is a worked solution ending in `#### <answer>` where the source has one, else
//! empty; `choices` is a JSON list of option strings for multiple-choice sets (the gold one is
//! `answer`), else `[]`; `difficulty` is the number of reasoning steps (lines of the solution
//! before its answer), 1 for a one-step answer.

use crate::error::DataError;
use crate::table::{read_frame, string_column, write_frame};
use polars::prelude::*;
use std::collections::HashSet;
use std::path::Path;

/// One math problem.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MathExample {
    /// Stable id, unique within its table (e.g. `gsm_symbolic-00042`).
    pub id: String,
    /// The problem as the student sees it.
    pub question: String,
    /// A worked solution ending in `#### <answer>`, or empty where the source has none.
    pub solution: String,
    /// The gold final answer.
    pub answer: String,
    /// Options of a multiple-choice problem (the gold one equals `answer`); empty otherwise.
    pub choices: Vec<String>,
    /// Source dataset.
    pub source: String,
    /// A natural cluster: the GSM-Symbolic template, the arithmetic operation, ...
    pub group: String,
    /// Reasoning steps: lines of the solution before its answer (1 without a solution).
    pub difficulty: u32,
    /// `train` (pool), `test` (ID test) or `eval` (benchmarks).
    pub split: String,
}

impl MathExample {
    /// What a student is trained to write and scored on: the worked solution where there is
    /// one, else the answer line a worked solution ends with (`#### <answer>`), so that a
    /// student trained on worked solutions is scored on the line it learned to write.
    pub fn completion(&self) -> std::borrow::Cow<'_, str> {
        if self.solution.is_empty() {
            format!("#### {}", self.answer).into()
        } else {
            self.solution.as_str().into()
        }
    }
}

/// Number of reasoning steps of a `#### `-terminated solution: its non-empty lines before the
/// marker (at least 1).
pub fn solution_steps(solution: &str) -> u32 {
    let body = solution.split("####").next().unwrap_or("");
    (body.lines().filter(|l| !l.trim().is_empty()).count() as u32).max(1)
}

/// A math table: examples with unique ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MathTable {
    /// The rows, in a stable order.
    pub examples: Vec<MathExample>,
}

const COLUMNS: [&str; 9] = [
    "id",
    "question",
    "solution",
    "answer",
    "choices",
    "source",
    "group",
    "difficulty",
    "split",
];

impl MathTable {
    /// Wraps examples, checking that ids are unique and that a multiple-choice answer is one
    /// of its options.
    pub fn new(examples: Vec<MathExample>) -> Result<Self, String> {
        let mut seen = HashSet::with_capacity(examples.len());
        for ex in &examples {
            if !seen.insert(ex.id.as_str()) {
                return Err(format!("duplicate id `{}`", ex.id));
            }
            if !ex.choices.is_empty() && !ex.choices.contains(&ex.answer) {
                return Err(format!(
                    "example `{}`: answer `{}` is not one of its choices",
                    ex.id, ex.answer
                ));
            }
            if ex.question.trim().is_empty() || ex.answer.trim().is_empty() {
                return Err(format!("example `{}`: empty question or answer", ex.id));
            }
        }
        Ok(Self { examples })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// Writes the table to `path` as parquet, atomically.
    pub fn write_parquet(&self, path: &Path) -> Result<(), DataError> {
        let text = |name: &str, f: fn(&MathExample) -> String| {
            Column::new(
                name.into(),
                self.examples.iter().map(f).collect::<Vec<String>>(),
            )
        };
        let columns = vec![
            text("id", |e| e.id.clone()),
            text("question", |e| e.question.clone()),
            text("solution", |e| e.solution.clone()),
            text("answer", |e| e.answer.clone()),
            text("choices", |e| {
                serde_json::to_string(&e.choices).expect("strings serialise")
            }),
            text("source", |e| e.source.clone()),
            text("group", |e| e.group.clone()),
            Column::new(
                "difficulty".into(),
                self.examples
                    .iter()
                    .map(|e| e.difficulty)
                    .collect::<Vec<u32>>(),
            ),
            text("split", |e| e.split.clone()),
        ];
        write_frame(path, self.len(), columns)
    }

    /// Reads a math parquet table, naming the file, column and row on any mismatch.
    pub fn read_parquet(path: &Path) -> Result<Self, DataError> {
        let table_err = |message: String| DataError::Table {
            path: path.into(),
            message,
        };
        let df = read_frame(path)?;
        let strings = |name: &str| string_column(path, &df, name, &COLUMNS);
        let (ids, questions, solutions, answers) = (
            strings("id")?,
            strings("question")?,
            strings("solution")?,
            strings("answer")?,
        );
        let (choices, sources, groups, splits) = (
            strings("choices")?,
            strings("source")?,
            strings("group")?,
            strings("split")?,
        );
        let difficulty_col = df
            .column("difficulty")
            .map_err(|_| table_err("missing column `difficulty`".into()))?;
        let difficulties = difficulty_col
            .u32()
            .map_err(|_| {
                table_err(format!(
                    "column `difficulty` must be u32, found {}",
                    difficulty_col.dtype()
                ))
            })?
            .iter()
            .enumerate()
            .map(|(row, v)| {
                v.ok_or_else(|| table_err(format!("row {row}: column `difficulty` is null")))
            })
            .collect::<Result<Vec<u32>, _>>()?;
        let mut examples = Vec::with_capacity(df.height());
        for row in 0..df.height() {
            let options: Vec<String> = serde_json::from_str(&choices[row]).map_err(|e| {
                table_err(format!(
                    "row {row}: column `choices` is not a JSON list: {e}"
                ))
            })?;
            examples.push(MathExample {
                id: ids[row].clone(),
                question: questions[row].clone(),
                solution: solutions[row].clone(),
                answer: answers[row].clone(),
                choices: options,
                source: sources[row].clone(),
                group: groups[row].clone(),
                difficulty: difficulties[row],
                split: splits[row].clone(),
            });
        }
        MathTable::new(examples).map_err(table_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(id: &str, choices: &[&str]) -> MathExample {
        MathExample {
            id: id.into(),
            question: "What is 2 plus 2?".into(),
            solution: "2+2=4\n#### 4".into(),
            answer: "4".into(),
            choices: choices.iter().map(|c| c.to_string()).collect(),
            source: "test".into(),
            group: "add".into(),
            difficulty: 1,
            split: "eval".into(),
        }
    }

    #[test]
    fn parquet_round_trip_keeps_choices_and_difficulty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.parquet");
        let table =
            MathTable::new(vec![example("a", &[]), example("b", &["3", "4", "5"])]).unwrap();
        table.write_parquet(&path).unwrap();
        assert_eq!(MathTable::read_parquet(&path).unwrap(), table);
    }

    #[test]
    fn rejects_duplicate_ids_and_answers_outside_the_choices() {
        assert!(MathTable::new(vec![example("a", &[]), example("a", &[])]).is_err());
        assert!(MathTable::new(vec![example("a", &["1", "2"])]).is_err());
    }

    #[test]
    fn steps_count_the_lines_before_the_answer() {
        assert_eq!(solution_steps("a=1\nb=2\n\nc=3\n#### 3"), 3);
        assert_eq!(solution_steps(""), 1);
    }
}
