//! The NLI format: few-shot premise / hypothesis / label triples → a request for new triples
//! between `<example>` tags → n labelling requests per new pair → the plurality label (the
//! label plays the answer's role: self-consistency), kept when it has at least `min_votes`.

use super::{Drop, plurality, tagged_blocks};
use crate::generator::{ChatRequest, GenerationError, Message, Sampling};
use serde::{Deserialize, Serialize};

/// The three NLI labels.
pub const LABELS: [&str; 3] = ["entailment", "neutral", "contradiction"];

/// A labelled pair: a pool seed or a new candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NliTriple {
    /// The premise.
    pub premise: String,
    /// The hypothesis.
    pub hypothesis: String,
    /// One of [`LABELS`].
    pub label: String,
}

/// A new pair after self-consistency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NliCandidate {
    /// The pair, labelled by the plurality of the labellings.
    pub triple: NliTriple,
    /// The label the generator wrote with it.
    pub generated_label: String,
    /// Labellings that agreed, of those asked for.
    pub votes: usize,
}

/// Settings of the NLI format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NliFormat {
    /// Few-shot triples per request.
    #[serde(default = "NliFormat::default_few_shot")]
    pub few_shot: usize,
    /// New triples asked for per request.
    #[serde(default = "NliFormat::default_per_request")]
    pub per_request: usize,
    /// Labelling samples per new pair.
    #[serde(default = "NliFormat::default_labelings")]
    pub labelings: usize,
    /// Votes the plurality label needs (default 2 of 3: a majority).
    #[serde(default = "NliFormat::default_min_votes")]
    pub min_votes: usize,
    /// Sampling of the triple requests.
    #[serde(default = "NliFormat::default_triple_sampling")]
    pub triple_sampling: Sampling,
    /// Sampling of the labellings.
    #[serde(default = "NliFormat::default_label_sampling")]
    pub label_sampling: Sampling,
}

impl NliFormat {
    fn default_few_shot() -> usize {
        5
    }
    fn default_per_request() -> usize {
        2
    }
    fn default_labelings() -> usize {
        3
    }
    fn default_min_votes() -> usize {
        2
    }
    fn default_triple_sampling() -> Sampling {
        Sampling {
            temperature: 1.0,
            top_p: 0.95,
            max_tokens: 256,
            seed: 0,
        }
    }
    fn default_label_sampling() -> Sampling {
        Sampling {
            temperature: 0.75,
            top_p: 0.95,
            max_tokens: 8,
            seed: 0,
        }
    }

    /// The request for new triples with `seeds` as the examples.
    pub fn triple_request(&self, seeds: &[&NliTriple], seed: u64) -> ChatRequest {
        let mut prompt = String::from(
            "Here are examples of natural language inference: a premise, a hypothesis, and \
             whether the premise entails the hypothesis, contradicts it, or neither (neutral).\n\n",
        );
        for s in seeds {
            prompt.push_str(&format!(
                "<example>\nPremise: {}\nHypothesis: {}\nLabel: {}\n</example>\n\n",
                s.premise.trim(),
                s.hypothesis.trim(),
                s.label
            ));
        }
        prompt.push_str(&format!(
            "Write {} new examples on different topics, in exactly the same format, each between \
             <example> and </example>, with the label one of: entailment, neutral, \
             contradiction. Write nothing else.",
            self.per_request
        ));
        ChatRequest {
            messages: vec![Message::user(prompt)],
            sampling: Sampling {
                seed,
                ..self.triple_sampling
            },
        }
    }

    /// The triples in a reply (at most `per_request`) and why the rest were dropped.
    pub fn parse_triples(&self, reply: &str) -> (Vec<NliTriple>, Vec<Drop>) {
        let (blocks, mut drops) = tagged_blocks(reply, "<example>", "</example>");
        let mut triples = Vec::new();
        for block in blocks {
            let field = |name: &str| {
                block.lines().find_map(|l| {
                    l.trim()
                        .strip_prefix(name)
                        .map(|v| v.trim().to_string())
                        .filter(|v| !v.is_empty())
                })
            };
            let (Some(premise), Some(hypothesis), Some(label)) =
                (field("Premise:"), field("Hypothesis:"), field("Label:"))
            else {
                drops.push(Drop::Incomplete);
                continue;
            };
            let Some(label) = parse_label(&label) else {
                drops.push(Drop::BadLabel);
                continue;
            };
            if triples.len() == self.per_request {
                drops.push(Drop::Extra);
                continue;
            }
            triples.push(NliTriple {
                premise,
                hypothesis,
                label: label.to_string(),
            });
        }
        (triples, drops)
    }

    /// The `labelings` requests for one pair, seeded `seed`, `seed + 1`, ...
    pub fn label_requests(&self, premise: &str, hypothesis: &str, seed: u64) -> Vec<ChatRequest> {
        let prompt = format!(
            "Premise: {}\nHypothesis: {}\n\nDoes the premise entail the hypothesis, contradict \
             it, or neither? Answer with one word: entailment, neutral or contradiction.",
            premise.trim(),
            hypothesis.trim()
        );
        (0..self.labelings as u64)
            .map(|i| ChatRequest {
                messages: vec![Message::user(prompt.clone())],
                sampling: Sampling {
                    seed: seed.wrapping_add(i),
                    ..self.label_sampling
                },
            })
            .collect()
    }

    /// The pair with its plurality label, from its labellings' replies, or why not.
    pub fn vote(
        &self,
        triple: &NliTriple,
        replies: &[Result<String, GenerationError>],
    ) -> Result<NliCandidate, Drop> {
        let labels: Vec<&str> = replies
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter_map(|r| parse_label(r))
            .collect();
        let (label, votes) = plurality(&labels, self.min_votes)?;
        Ok(NliCandidate {
            triple: NliTriple {
                label: label.to_string(),
                ..triple.clone()
            },
            generated_label: triple.label.clone(),
            votes,
        })
    }
}

impl Default for NliFormat {
    fn default() -> Self {
        Self {
            few_shot: Self::default_few_shot(),
            per_request: Self::default_per_request(),
            labelings: Self::default_labelings(),
            min_votes: Self::default_min_votes(),
            triple_sampling: Self::default_triple_sampling(),
            label_sampling: Self::default_label_sampling(),
        }
    }
}

/// The label a reply gives: its first word that is one of [`LABELS`] (case-insensitive,
/// punctuation ignored), or `None`.
pub fn parse_label(reply: &str) -> Option<&'static str> {
    reply
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .find_map(|w| LABELS.iter().find(|l| l.eq_ignore_ascii_case(w)).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triples_are_parsed_strictly() {
        let f = NliFormat::default();
        let reply = "<example>\nPremise: A dog runs.\nHypothesis: An animal moves.\nLabel: Entailment\n</example>\n\
                     <example>\nPremise: A cat sleeps.\nLabel: neutral\n</example>\n\
                     <example>\nPremise: Rain.\nHypothesis: Sun.\nLabel: maybe\n</example>";
        let (t, d) = f.parse_triples(reply);
        assert_eq!(
            t,
            [NliTriple {
                premise: "A dog runs.".into(),
                hypothesis: "An animal moves.".into(),
                label: "entailment".into()
            }]
        );
        assert_eq!(d, [Drop::Incomplete, Drop::BadLabel]);
    }

    #[test]
    fn the_plurality_label_wins_and_is_recorded_against_the_generated_one() {
        let f = NliFormat::default();
        let t = NliTriple {
            premise: "p".into(),
            hypothesis: "h".into(),
            label: "entailment".into(),
        };
        let c = f
            .vote(
                &t,
                &[
                    Ok("Neutral.".into()),
                    Ok("The answer is neutral".into()),
                    Ok("entailment".into()),
                ],
            )
            .unwrap();
        assert_eq!(
            (c.triple.label.as_str(), c.generated_label.as_str(), c.votes),
            ("neutral", "entailment", 2)
        );
        assert_eq!(
            f.vote(&t, &[Ok("yes".into()), Ok("no".into())]),
            Err(Drop::NoAnswer)
        );
        assert_eq!(parse_label("CONTRADICTION!"), Some("contradiction"));
        assert_eq!(f.label_requests("p", "h", 5).len(), 3);
    }
}
