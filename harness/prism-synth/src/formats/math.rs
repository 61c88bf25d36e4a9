//! The math format: k few-shot problems from the pool (drawn with probability proportional
//! to their difficulty, as the released code weights by level) → a request for new problems
//! between `<problem>` tags → n solutions per problem at a solving temperature (0.75 in the
//! paper) → the plurality of their normalised final answers (`prism_data::math::answer`),
//! kept when it has at least `min_votes` votes.

use super::{Drop, Parsed, plurality, tagged_blocks};
use crate::generator::{ChatRequest, Finish, GenerationError, Message, Reply, Sampling};
use crate::rounds::{SynthExample, SynthTask};
use prism_data::math::answer::{Answer, final_answer};
use prism_data::math::table::solution_steps;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A pool problem shown as a few-shot example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MathSeed {
    /// The problem text.
    pub question: String,
    /// Reasoning steps (the draw weight).
    pub difficulty: u32,
}

/// A new problem that passed self-consistency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MathCandidate {
    /// The problem.
    pub question: String,
    /// One solution reaching the agreed answer, ending with `#### <answer>` as the pool's do.
    pub solution: String,
    /// The agreed answer, normalised.
    pub answer: String,
    /// Solutions that reached it, of those asked for.
    pub votes: usize,
}

/// Settings of the math format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MathFormat {
    /// Few-shot problems per request (5 in the released code).
    #[serde(default = "MathFormat::default_few_shot")]
    pub few_shot: usize,
    /// New problems asked for per request (2 in the released code; 1 here, which a small
    /// generator follows more often).
    #[serde(default = "MathFormat::default_per_request")]
    pub per_request: usize,
    /// Worked pool examples shown before each problem to solve, as earlier turns (they show
    /// the `#### <answer>` ending the vote reads).
    #[serde(default = "MathFormat::default_solution_shots")]
    pub solution_shots: usize,
    /// Solutions sampled per new problem (3 in the paper).
    #[serde(default = "MathFormat::default_solutions")]
    pub solutions: usize,
    /// Votes the plurality answer needs. The paper keeps a problem when a plurality agrees;
    /// the default, 2 of 3, asks for a majority, so one stray solution never makes an answer.
    #[serde(default = "MathFormat::default_min_votes")]
    pub min_votes: usize,
    /// Sampling of the problem requests (temperature 1.0, top-p 0.95 in the released code).
    #[serde(default = "MathFormat::default_problem_sampling")]
    pub problem_sampling: Sampling,
    /// Sampling of the solutions (temperature 0.75 in the paper).
    #[serde(default = "MathFormat::default_solution_sampling")]
    pub solution_sampling: Sampling,
}

impl MathFormat {
    fn default_few_shot() -> usize {
        5
    }
    fn default_per_request() -> usize {
        1
    }
    fn default_solution_shots() -> usize {
        2
    }
    fn default_solutions() -> usize {
        3
    }
    fn default_min_votes() -> usize {
        2
    }
    fn default_problem_sampling() -> Sampling {
        Sampling {
            temperature: 1.0,
            top_p: 0.95,
            max_tokens: 320,
            seed: 0,
        }
    }
    fn default_solution_sampling() -> Sampling {
        Sampling {
            temperature: 0.75,
            top_p: 0.95,
            max_tokens: 320,
            seed: 0,
        }
    }

    /// `few_shot` distinct seeds drawn with probability proportional to difficulty (at least
    /// 1), without replacement.
    pub fn pick_seeds(&self, seeds: &[MathSeed], rng: &mut impl Rng) -> Vec<usize> {
        let mut weights: Vec<f64> = seeds.iter().map(|s| s.difficulty.max(1) as f64).collect();
        let mut picked = Vec::new();
        while picked.len() < self.few_shot.min(seeds.len()) {
            let total: f64 = weights.iter().sum();
            let mut target = rng.random_range(0.0..total);
            let mut choice = weights
                .iter()
                .rposition(|w| *w > 0.0)
                .expect("weights left");
            for (i, w) in weights.iter().enumerate() {
                if target < *w {
                    choice = i;
                    break;
                }
                target -= w;
            }
            weights[choice] = 0.0;
            picked.push(choice);
        }
        picked
    }

    /// The request for new problems, with `seeds` as the examples and `seed` as the
    /// sampler's seed. The examples are earlier turns of the conversation (the instruction,
    /// then `per_request` seed problems in the asked format, repeated), not a list inside one
    /// prompt: a small instruct model copies a demonstrated reply far more reliably than it
    /// follows a described one (SmolLM2-135M wrote tagged problems in 4 of 4 samples with
    /// turns and in 0 of 6 with a list, docs/synthesis.md).
    pub fn problem_request(&self, seeds: &[&MathSeed], seed: u64) -> ChatRequest {
        let per_request = self.per_request.max(1);
        let instruction = if per_request == 1 {
            "Write a new math word problem with a single numerical answer. Put it between \
             <problem> and </problem> and do not solve it."
                .to_string()
        } else {
            format!(
                "Write {per_request} new math word problems, each with a single numerical \
                 answer. Put each between <problem> and </problem> and do not solve them."
            )
        };
        let mut messages = Vec::new();
        for shot in seeds.chunks(per_request) {
            messages.push(Message::user(instruction.clone()));
            let reply: Vec<String> = shot
                .iter()
                .map(|s| format!("<problem>\n{}\n</problem>", s.question.trim()))
                .collect();
            messages.push(Message::assistant(reply.join("\n")));
        }
        messages.push(Message::user(instruction));
        ChatRequest {
            messages,
            sampling: Sampling {
                seed,
                ..self.problem_sampling
            },
        }
    }

    /// The new problems in a reply (at most `per_request`) and why the rest were dropped.
    pub fn parse_problems(&self, reply: &Reply) -> Parsed<String> {
        let mut parsed = tagged_blocks(reply, "<problem>", "</problem>");
        if parsed.drafts.len() > self.per_request {
            parsed.drops.extend(std::iter::repeat_n(
                Drop::Extra,
                parsed.drafts.len() - self.per_request,
            ));
            parsed.drafts.truncate(self.per_request);
        }
        parsed
    }

    /// The `solutions` requests for one problem, seeded `seed`, `seed + 1`, ..., with the
    /// worked `examples` (question, solution ending `#### <answer>`) as earlier turns.
    pub fn solution_requests(
        &self,
        problem: &str,
        examples: &[(&str, &str)],
        seed: u64,
    ) -> Vec<ChatRequest> {
        let ask = |q: &str| {
            Message::user(format!(
                "Solve the following math problem step by step. End your answer with a final \
                 line of the form \"#### <answer>\", where <answer> is a number.\n\n{}",
                q.trim()
            ))
        };
        let mut messages = Vec::new();
        for (q, solution) in examples {
            messages.push(ask(q));
            messages.push(Message::assistant(solution.trim()));
        }
        messages.push(ask(problem));
        (0..self.solutions as u64)
            .map(|i| ChatRequest {
                messages: messages.clone(),
                sampling: Sampling {
                    seed: seed.wrapping_add(i),
                    ..self.solution_sampling
                },
            })
            .collect()
    }

    /// The problem with its agreed answer, from its solutions' replies, or why not. A
    /// solution cut at the token limit does not vote: its last number is wherever the
    /// reasoning stopped, and even a `####` line in it may be cut mid-number or belong to the
    /// rambling that filled the limit (a small model often writes past its answer).
    pub fn vote(
        &self,
        problem: &str,
        replies: &[Result<Reply, GenerationError>],
    ) -> Result<MathCandidate, Drop> {
        let answered: Vec<(Answer, &String)> = replies
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter(|r| r.finish != Finish::TokenLimit)
            .filter_map(|r| final_answer(&r.text).map(|a| (Answer::parse(&a), &r.text)))
            .collect();
        let answers: Vec<Answer> = answered.iter().map(|(a, _)| a.clone()).collect();
        let (winner, votes) = plurality(&answers, self.min_votes)?;
        let solution = answered
            .iter()
            .find(|(a, _)| *a == winner)
            .map(|(_, s)| s.trim())
            .expect("the winner came from a solution");
        let answer = winner.to_string();
        let solution = if solution.contains("####") {
            solution.to_string()
        } else {
            format!("{solution}\n#### {answer}")
        };
        Ok(MathCandidate {
            question: problem.trim().to_string(),
            solution,
            answer,
            votes,
        })
    }
}

/// The math format as a task of the loop: drafts are problem texts; an agreed problem becomes
/// an example whose proxy loss falls on its worked solution, as the pool's does.
impl SynthTask for MathFormat {
    type Draft = String;

    fn draft_requests(
        &self,
        seeds: &[&SynthExample],
        count: usize,
        seed: u64,
        rng: &mut ChaCha8Rng,
    ) -> Vec<ChatRequest> {
        let math_seeds: Vec<MathSeed> = seeds.iter().map(|e| seed_of(e)).collect();
        (0..count as u64)
            .map(|i| {
                let picked = self.pick_seeds(&math_seeds, rng);
                let shown: Vec<&MathSeed> = picked.iter().map(|&p| &math_seeds[p]).collect();
                self.problem_request(&shown, seed.wrapping_add(i))
            })
            .collect()
    }

    fn parse(&self, reply: &Reply) -> Parsed<String> {
        self.parse_problems(reply)
    }

    fn check_requests(
        &self,
        draft: &String,
        examples: &[&SynthExample],
        seed: u64,
    ) -> Vec<ChatRequest> {
        let worked: Vec<(&str, &str)> = examples
            .iter()
            .map(|e| (e.prompt.as_str(), e.completion.as_str()))
            .collect();
        self.solution_requests(draft, &worked, seed)
    }

    fn check_shots(&self) -> usize {
        self.solution_shots
    }

    fn vote(
        &self,
        draft: &String,
        replies: &[Result<Reply, GenerationError>],
    ) -> Result<SynthExample, Drop> {
        let c = MathFormat::vote(self, draft, replies)?;
        Ok(math_example(
            String::new(),
            &c.question,
            &c.solution,
            &c.answer,
            solution_steps(&c.solution),
            serde_json::json!({ "votes": c.votes }),
        ))
    }

    fn agreed(&self, example: &SynthExample) -> Option<serde_json::Value> {
        example.fields.get("answer").cloned()
    }
}

/// A math example of the loop: the proxy's loss falls on `solution` given `question`, and the
/// filters compare the question (a problem restated with another solution is a duplicate).
/// `extra` fields (votes; the template) are added to the task fields.
pub fn math_example(
    id: String,
    question: &str,
    solution: &str,
    answer: &str,
    difficulty: u32,
    extra: serde_json::Value,
) -> SynthExample {
    let mut fields = serde_json::json!({
        "question": question,
        "solution": solution,
        "answer": answer,
        "difficulty": difficulty,
    });
    if let (Some(f), serde_json::Value::Object(more)) = (fields.as_object_mut(), extra) {
        f.extend(more);
    }
    SynthExample {
        id,
        prompt: question.to_string(),
        completion: solution.to_string(),
        text: question.to_string(),
        fields,
        round: 0,
        cluster: None,
    }
}

/// The few-shot view of an example: its question and difficulty (1 when unknown).
fn seed_of(e: &SynthExample) -> MathSeed {
    MathSeed {
        question: e.prompt.clone(),
        difficulty: e
            .fields
            .get("difficulty")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(1) as u32,
    }
}

impl Default for MathFormat {
    fn default() -> Self {
        Self {
            few_shot: Self::default_few_shot(),
            per_request: Self::default_per_request(),
            solution_shots: Self::default_solution_shots(),
            solutions: Self::default_solutions(),
            min_votes: Self::default_min_votes(),
            problem_sampling: Self::default_problem_sampling(),
            solution_sampling: Self::default_solution_sampling(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::FailureKind;
    use rand::SeedableRng;

    #[test]
    fn seeds_are_distinct_and_drawn_by_difficulty() {
        let seeds: Vec<MathSeed> = (0..4)
            .map(|i| MathSeed {
                question: format!("q{i}"),
                difficulty: [1, 1, 1, 7][i],
            })
            .collect();
        let format = MathFormat {
            few_shot: 1,
            ..Default::default()
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let hard = (0..2000)
            .filter(|_| format.pick_seeds(&seeds, &mut rng) == [3])
            .count();
        // P(hardest) = 7 / 10.
        assert!((1250..1550).contains(&hard), "{hard}");
        let all = MathFormat::default().pick_seeds(&seeds, &mut rng);
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2, 3], "few_shot > pool: each seed once");
    }

    #[test]
    fn problems_are_parsed_and_capped() {
        let f = MathFormat {
            per_request: 2,
            ..Default::default()
        };
        let parsed = f.parse_problems(
            &"Sure!\n<problem>\nA has 3.\n</problem>\n<problem>B has 4.</problem><problem>C</problem>"
                .into(),
        );
        assert_eq!(parsed.drafts, ["A has 3.", "B has 4."]);
        assert_eq!(parsed.drops, [Drop::Extra]);
        let req = f.problem_request(
            &[&MathSeed {
                question: "Tom has 2 apples.".into(),
                difficulty: 2,
            }],
            9,
        );
        let roles: Vec<&str> = req.messages.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(
            roles,
            ["user", "assistant", "user"],
            "one shot, then the ask"
        );
        assert_eq!(
            req.messages[1].content,
            "<problem>\nTom has 2 apples.\n</problem>"
        );
        assert!(req.messages[2].content.contains("Write 2 new"));
        assert_eq!(req.sampling.seed, 9);
        assert_eq!(req.sampling.temperature, 1.0);
    }

    #[test]
    fn the_majority_answer_is_kept_with_a_solution_reaching_it() {
        let f = MathFormat::default();
        let failed = Err(GenerationError {
            kind: FailureKind::Timeout,
            attempts: 3,
            detail: String::new(),
        });
        let c = f
            .vote(
                "How many?",
                &[
                    Ok("2 + 2 = 4, and half of 9 is 4.5 so the answer is 4.50".into()),
                    Ok("It is 9/2.\n#### 4.5".into()),
                    failed.clone(),
                ],
            )
            .unwrap();
        assert_eq!((c.answer.as_str(), c.votes), ("9/2", 2));
        assert!(c.solution.ends_with("#### 9/2"), "{}", c.solution);
        let c = f
            .vote(
                "Q",
                &[
                    Ok("#### 1,000".into()),
                    Ok("so 1000".into()),
                    Ok("#### 7".into()),
                ],
            )
            .unwrap();
        assert_eq!(
            (c.answer.as_str(), c.solution.as_str()),
            ("1000", "#### 1,000")
        );
        assert_eq!(
            f.vote(
                "Q",
                &[Ok("#### 1".into()), Ok("#### 2".into()), failed.clone()]
            ),
            Err(Drop::NoAgreement)
        );
        assert_eq!(
            f.vote("Q", &[Ok("no number here".into()), failed.clone()]),
            Err(Drop::NoAnswer)
        );
        // A solution cut at the token limit does not vote, whatever it ends with; one whose
        // model ended its turn (or whose finish is unknown) does.
        let cut = |text: &str| Ok(Reply::new(text, Finish::TokenLimit));
        let ended = |text: &str| Ok(Reply::new(text, Finish::EndOfTurn));
        assert_eq!(
            f.vote(
                "Q",
                &[ended("#### 3"), cut("so we have 3"), cut("#### 3\nNext, 4")]
            ),
            Err(Drop::NoAgreement),
            "one vote is below min_votes"
        );
        assert_eq!(
            f.vote("Q", &[cut("#### 3"), cut("there were 3")]),
            Err(Drop::NoAnswer)
        );
        let c = f
            .vote("Q", &[ended("#### 3"), Ok("it is 3".into()), cut("#### 5")])
            .unwrap();
        assert_eq!((c.answer.as_str(), c.votes), ("3", 2));
        // As a loop task, what the checks agreed on is the normalised answer.
        let e = SynthTask::vote(
            &f,
            &"Q".to_string(),
            &[Ok("#### 1,000".into()), Ok("so 1000".into()), failed],
        )
        .unwrap();
        assert_eq!(f.agreed(&e), Some(serde_json::json!("1000")));
        let reqs = f.solution_requests("Q?", &[("1+1?", "2\n#### 2")], 100);
        assert_eq!(reqs.len(), 3);
        let roles: Vec<&str> = reqs[0].messages.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["user", "assistant", "user"]);
        assert_eq!(reqs[0].messages[1].content, "2\n#### 2");
        assert!(reqs[0].messages[2].content.ends_with("Q?"));
        assert_eq!(
            reqs.iter().map(|r| r.sampling.seed).collect::<Vec<_>>(),
            [100, 101, 102]
        );
        assert_eq!(reqs[0].sampling.temperature, 0.75);
    }
}
