//! The math format: k few-shot problems from the pool (drawn with probability proportional
//! to their difficulty, as the released code weights by level) → a request for new problems
//! between `<problem>` tags → n solutions per problem at a solving temperature (0.75 in the
//! paper) → the plurality of their normalised final answers (`prism_data::math::answer`),
//! kept when it has at least `min_votes` votes.

use super::{Drop, plurality, tagged_blocks};
use crate::generator::{ChatRequest, GenerationError, Message, Sampling};
use prism_data::math::answer::{Answer, final_answer};
use rand::Rng;
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
    /// New problems asked for per request (2 in the released code).
    #[serde(default = "MathFormat::default_per_request")]
    pub per_request: usize,
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
    /// sampler's seed.
    pub fn problem_request(&self, seeds: &[&MathSeed], seed: u64) -> ChatRequest {
        let mut prompt = String::from("Here are some math word problems.\n\n");
        for s in seeds {
            prompt.push_str(&format!("<problem>\n{}\n</problem>\n\n", s.question.trim()));
        }
        prompt.push_str(&format!(
            "Write {} new math word problems that are different from the examples above. Each \
             must have a single numerical answer. Put each new problem between <problem> and \
             </problem> and write nothing else.",
            self.per_request
        ));
        ChatRequest {
            messages: vec![Message::user(prompt)],
            sampling: Sampling {
                seed,
                ..self.problem_sampling
            },
        }
    }

    /// The new problems in a reply (at most `per_request`) and why the rest were dropped.
    pub fn parse_problems(&self, reply: &str) -> (Vec<String>, Vec<Drop>) {
        let (mut blocks, mut drops) = tagged_blocks(reply, "<problem>", "</problem>");
        if blocks.len() > self.per_request {
            drops.extend(std::iter::repeat_n(
                Drop::Extra,
                blocks.len() - self.per_request,
            ));
            blocks.truncate(self.per_request);
        }
        (blocks, drops)
    }

    /// The `solutions` requests for one problem, seeded `seed`, `seed + 1`, ...
    pub fn solution_requests(&self, problem: &str, seed: u64) -> Vec<ChatRequest> {
        let prompt = format!(
            "Solve the following math problem step by step. End your answer with a final line \
             of the form \"#### <answer>\", where <answer> is a number.\n\n{}",
            problem.trim()
        );
        (0..self.solutions as u64)
            .map(|i| ChatRequest {
                messages: vec![Message::user(prompt.clone())],
                sampling: Sampling {
                    seed: seed.wrapping_add(i),
                    ..self.solution_sampling
                },
            })
            .collect()
    }

    /// The problem with its agreed answer, from its solutions' replies, or why not.
    pub fn vote(
        &self,
        problem: &str,
        replies: &[Result<String, GenerationError>],
    ) -> Result<MathCandidate, Drop> {
        let answered: Vec<(Answer, &String)> = replies
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter_map(|s| final_answer(s).map(|a| (Answer::parse(&a), s)))
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

impl Default for MathFormat {
    fn default() -> Self {
        Self {
            few_shot: Self::default_few_shot(),
            per_request: Self::default_per_request(),
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
        let f = MathFormat::default();
        let (p, d) = f.parse_problems(
            "Sure!\n<problem>\nA has 3.\n</problem>\n<problem>B has 4.</problem><problem>C</problem>",
        );
        assert_eq!(p, ["A has 3.", "B has 4."]);
        assert_eq!(d, [Drop::Extra]);
        let req = f.problem_request(
            &[&MathSeed {
                question: "Tom has 2 apples.".into(),
                difficulty: 2,
            }],
            9,
        );
        assert!(
            req.messages[0]
                .content
                .contains("<problem>\nTom has 2 apples.\n</problem>")
        );
        assert!(req.messages[0].content.contains("Write 2 new"));
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
            f.vote("Q", &[Ok("no number here".into()), failed]),
            Err(Drop::NoAnswer)
        );
        let reqs = f.solution_requests("Q?", 100);
        assert_eq!(reqs.len(), 3);
        assert_eq!(
            reqs.iter().map(|r| r.sampling.seed).collect::<Vec<_>>(),
            [100, 101, 102]
        );
        assert_eq!(reqs[0].sampling.temperature, 0.75);
    }
}
