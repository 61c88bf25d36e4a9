//! How a math student is scored (issue 27: scores that move at 135M parameters):
//!
//! - every set: the mean per-token negative log-likelihood of the gold completion (the worked
//!   solution, the gold option, or the short answer; lower is better), averaged over problems;
//! - multiple choice ([`Scoring::Choice`]): accuracy of picking the option with the highest
//!   length-normalised log-likelihood;
//! - short answers ([`Scoring::Short`]): exact-match accuracy of greedy decoding of the answer
//!   after a given `#### ` (the line a worked solution ends with), read off one teacher-forced
//!   pass ([`CompletionScore::greedy`]); the NLL covers the answer and the end of turn;
//! - worked solutions ([`Scoring::Solution`]): NLL only (a 135M model's greedy solutions are
//!   almost never right, so their accuracy would not vary between students).
//!
//! A set's sequences go through the student's frozen blocks once ([`ScoredSet::new`]); each
//! evaluation then runs only the trainable top.

use crate::error::ModelError;
use crate::lm_student::{CompletionScore, LmStudent, LowerStates, StudentTop};
use crate::lm_tokenizer::ChatTokens;
use prism_data::math::{MathExample, Scoring};
use serde::Serialize;

/// One problem's sequences: `options` consecutive ones from `first`, the gold at `gold`.
#[derive(Debug, Clone)]
struct Problem {
    first: usize,
    options: usize,
    gold: usize,
}

/// An evaluation set, tokenised and run through the student's frozen blocks.
pub struct ScoredSet {
    /// Dataset name.
    pub name: String,
    /// How it is scored.
    pub scoring: Scoring,
    problems: Vec<Problem>,
    sequences: Vec<ChatTokens>,
    states: LowerStates,
}

/// A student's figures on one set.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SetResult {
    /// Dataset name.
    pub name: String,
    /// How it was scored.
    pub scoring: Scoring,
    /// Problems scored.
    pub n: usize,
    /// Mean over problems of the gold completion's mean per-token NLL (nats; lower is better).
    pub nll: f64,
    /// Multiple-choice or greedy exact-match accuracy; `None` for worked solutions.
    pub accuracy: Option<f64>,
}

/// The user turn and the completion the student is trained on and scored by.
pub fn training_pair(e: &MathExample) -> (String, String) {
    (e.question.clone(), e.completion().into_owned())
}

impl ScoredSet {
    /// Tokenises `examples` (each option of a multiple-choice problem as its own completion)
    /// and gets their frozen-block states from `lower_states` (the student's
    /// [`LmStudent::lower_states`], or a cache of them).
    pub fn new(
        student: &LmStudent,
        name: &str,
        scoring: Scoring,
        examples: &[MathExample],
        max_len: usize,
        lower_states: &mut dyn FnMut(&[ChatTokens]) -> Result<LowerStates, ModelError>,
    ) -> Result<Self, ModelError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut problems = Vec::with_capacity(examples.len());
        for e in examples {
            let first = pairs.len();
            if scoring == Scoring::Choice {
                let gold = e
                    .choices
                    .iter()
                    .position(|c| *c == e.answer)
                    .ok_or_else(|| {
                        ModelError::Invalid(format!(
                            "`{name}` problem `{}`: its answer is not one of its choices",
                            e.id
                        ))
                    })?;
                pairs.extend(e.choices.iter().map(|c| (e.question.clone(), c.clone())));
                problems.push(Problem {
                    first,
                    options: e.choices.len(),
                    gold,
                });
            } else {
                pairs.push(training_pair(e));
                problems.push(Problem {
                    first,
                    options: 1,
                    gold: 0,
                });
            }
        }
        let mut sequences = student.encode(&pairs, max_len)?;
        if scoring == Scoring::Short {
            // The answer line's marker is given: greedy decoding is scored on the answer
            // after `#### `, not on whether the reply opens with the marker (a student
            // trained on worked solutions opens with reasoning).
            let marker = student.encode(&[("", "####")], max_len)?.remove(0);
            let marker_tokens = marker.ids.len() - marker.completion_start;
            for s in &mut sequences {
                let given = common_prefix_after(
                    &s.ids,
                    s.completion_start,
                    &marker.ids[marker.completion_start..],
                    marker_tokens,
                );
                s.completion_start += given;
            }
        }
        let states = lower_states(&sequences)?;
        Ok(Self {
            name: name.to_string(),
            scoring,
            problems,
            sequences,
            states,
        })
    }

    /// Number of problems.
    pub fn len(&self) -> usize {
        self.problems.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// Scores `student` with the trainable top `top` on the set.
    pub fn evaluate(
        &self,
        student: &LmStudent,
        top: &StudentTop,
        max_batch_tokens: usize,
    ) -> Result<SetResult, ModelError> {
        let scores = student.score(top, &self.sequences, &self.states, max_batch_tokens)?;
        Ok(summarise(&self.name, self.scoring, &self.problems, &scores))
    }
}

/// How many tokens of `marker` (the tokenised `####` reply, end-of-turn included) open the
/// completion of `ids` at `start`: the common prefix, at most the marker without its end of
/// turn, and always leaving at least one completion token to score.
fn common_prefix_after(ids: &[u32], start: usize, marker: &[u32], marker_tokens: usize) -> usize {
    let limit = marker_tokens
        .saturating_sub(1)
        .min(ids.len().saturating_sub(start + 1));
    ids[start..]
        .iter()
        .zip(marker)
        .take(limit)
        .take_while(|(a, b)| a == b)
        .count()
}

fn summarise(
    name: &str,
    scoring: Scoring,
    problems: &[Problem],
    scores: &[CompletionScore],
) -> SetResult {
    let n = problems.len();
    let mut nll = 0.0;
    let mut right = 0usize;
    for p in problems {
        let options = &scores[p.first..p.first + p.options];
        nll += options[p.gold].mean_nll();
        right += usize::from(match scoring {
            Scoring::Choice => {
                // Highest length-normalised log-likelihood = lowest mean NLL; ties go to the
                // first option, so a tie is never counted right by luck of the gold's place.
                let best = options
                    .iter()
                    .enumerate()
                    .fold((0, f64::INFINITY), |(bi, bv), (i, s)| {
                        if s.mean_nll() < bv {
                            (i, s.mean_nll())
                        } else {
                            (bi, bv)
                        }
                    })
                    .0;
                best == p.gold
            }
            Scoring::Short => options[p.gold].greedy,
            Scoring::Solution => false,
        });
    }
    let per = |x: f64| if n == 0 { 0.0 } else { x / n as f64 };
    SetResult {
        name: name.to_string(),
        scoring,
        n,
        nll: per(nll),
        accuracy: (scoring != Scoring::Solution).then(|| per(right as f64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(nll: f64, tokens: usize, greedy: bool) -> CompletionScore {
        CompletionScore {
            nll,
            tokens,
            greedy,
        }
    }

    #[test]
    fn choice_picks_the_lowest_mean_nll_and_ties_go_to_the_first_option() {
        let problems = [
            Problem {
                first: 0,
                options: 3,
                gold: 1,
            },
            Problem {
                first: 3,
                options: 2,
                gold: 1,
            },
        ];
        // Problem 1: per-token NLLs 2.0, 0.5 (gold), 1.0 -> right. Problem 2: a tie -> wrong.
        let scores = [
            score(4.0, 2, false),
            score(2.0, 4, false),
            score(3.0, 3, false),
            score(1.0, 1, false),
            score(2.0, 2, false),
        ];
        let r = summarise("mc", Scoring::Choice, &problems, &scores);
        assert_eq!(r.accuracy, Some(0.5));
        assert!((r.nll - (0.5 + 1.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn the_answer_marker_is_given_up_to_where_the_tokens_differ() {
        // Reply tokens [7, 7, 9, 2] after a 3-token prompt; marker "####" + end = [7, 7, 2].
        assert_eq!(
            common_prefix_after(&[1, 1, 1, 7, 7, 9, 2], 3, &[7, 7, 2], 3),
            2
        );
        // A reply that merges the marker with the answer keeps the whole reply scored.
        assert_eq!(common_prefix_after(&[1, 5, 2], 1, &[7, 7, 2], 3), 0);
        // At least one token stays scored.
        assert_eq!(common_prefix_after(&[1, 7, 7], 1, &[7, 7, 2], 3), 1);
    }

    #[test]
    fn short_answers_count_greedy_matches_and_solutions_have_no_accuracy() {
        let problems: Vec<Problem> = (0..4)
            .map(|i| Problem {
                first: i,
                options: 1,
                gold: 0,
            })
            .collect();
        let scores = [
            score(1.0, 2, true),
            score(1.0, 2, false),
            score(1.0, 2, true),
            score(3.0, 2, true),
        ];
        let r = summarise("s", Scoring::Short, &problems, &scores);
        assert_eq!(r.accuracy, Some(0.75));
        assert!((r.nll - 0.75).abs() < 1e-12);
        assert_eq!(
            summarise("w", Scoring::Solution, &problems, &scores).accuracy,
            None
        );
    }
}
