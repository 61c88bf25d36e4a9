//! The NLI format: few-shot premise / hypothesis / label triples → a request for new triples
//! between `<example>` tags → n labelling requests per new pair → the plurality label (the
//! label plays the answer's role: self-consistency), kept when it has at least `min_votes`.

use super::{Drop, Parsed, plurality, tagged_blocks};
use crate::generator::{ChatRequest, GenerationError, Message, Reply, Sampling};
use crate::rounds::{SynthExample, SynthTask};
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
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
    /// New triples asked for per request (1: a small generator copies one demonstrated
    /// triple per turn more reliably than it writes several).
    #[serde(default = "NliFormat::default_per_request")]
    pub per_request: usize,
    /// Labelled pool pairs shown before each pair to label, as earlier turns answered by the
    /// label alone (SmolLM2-135M asked cold answered "Yes, the premise entails the
    /// hypothesis." or "No", never a label word, in 15 of 15 labellings).
    #[serde(default = "NliFormat::default_label_shots")]
    pub label_shots: usize,
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
        1
    }
    fn default_label_shots() -> usize {
        3
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

    /// The request for new triples with `seeds` as the examples, shown as earlier turns
    /// (the instruction, then `per_request` seed triples in the asked format, repeated), as
    /// the math format does.
    pub fn triple_request(&self, seeds: &[&NliTriple], seed: u64) -> ChatRequest {
        let per_request = self.per_request.max(1);
        let instruction = format!(
            "Write {per_request} new example(s) of natural language inference on a new topic: a \
             premise, a hypothesis, and whether the premise entails the hypothesis, contradicts \
             it, or neither (neutral). Put each between <example> and </example> as \
             \"Premise: ...\", \"Hypothesis: ...\" and \"Label: entailment | neutral | \
             contradiction\" lines."
        );
        let mut messages = Vec::new();
        for shot in seeds.chunks(per_request) {
            messages.push(Message::user(instruction.clone()));
            let reply: Vec<String> = shot
                .iter()
                .map(|s| {
                    format!(
                        "<example>\nPremise: {}\nHypothesis: {}\nLabel: {}\n</example>",
                        s.premise.trim(),
                        s.hypothesis.trim(),
                        s.label
                    )
                })
                .collect();
            messages.push(Message::assistant(reply.join("\n")));
        }
        messages.push(Message::user(instruction));
        ChatRequest {
            messages,
            sampling: Sampling {
                seed,
                ..self.triple_sampling
            },
        }
    }

    /// The triples in a reply (at most `per_request`) and why the rest were dropped.
    pub fn parse_triples(&self, reply: &Reply) -> Parsed<NliTriple> {
        let blocks = tagged_blocks(reply, "<example>", "</example>");
        let mut drops = blocks.drops;
        let mut triples = Vec::new();
        for block in blocks.drafts {
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
        Parsed {
            drafts: triples,
            drops,
            closed_at_end_of_turn: blocks.closed_at_end_of_turn,
        }
    }

    /// The `labelings` requests for one pair, seeded `seed`, `seed + 1`, ..., with the
    /// labelled `examples` (pool triples) as earlier turns answered by their label alone.
    pub fn label_requests(
        &self,
        premise: &str,
        hypothesis: &str,
        examples: &[NliTriple],
        seed: u64,
    ) -> Vec<ChatRequest> {
        let ask = |p: &str, h: &str| {
            Message::user(format!(
                "Premise: {}\nHypothesis: {}\n\nDoes the premise entail the hypothesis, contradict \
                 it, or neither? Answer with one word: entailment, neutral or contradiction.",
                p.trim(),
                h.trim()
            ))
        };
        let mut messages = Vec::new();
        for e in examples {
            messages.push(ask(&e.premise, &e.hypothesis));
            messages.push(Message::assistant(e.label.clone()));
        }
        messages.push(ask(premise, hypothesis));
        (0..self.labelings as u64)
            .map(|i| ChatRequest {
                messages: messages.clone(),
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
        replies: &[Result<Reply, GenerationError>],
    ) -> Result<NliCandidate, Drop> {
        let labels: Vec<&str> = replies
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter_map(|r| parse_label(&r.text))
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

/// How an NLI triple is laid out for the proxy: `(prompt, completion)`. G-Vendi's input
/// format is a setting of the experiment (`gvendi.format`), so the loop is given it.
pub type NliLayout = dyn Fn(&NliTriple) -> (String, String) + Sync;

/// The NLI format as a task of the loop, with the experiment's proxy layout.
pub struct NliSynth<'a> {
    /// Prompts, parsing and votes.
    pub format: NliFormat,
    /// The proxy's `(prompt, completion)` of a triple.
    pub layout: &'a NliLayout,
}

/// An NLI example of the loop: the proxy sees `layout(triple)`, the filters compare premise
/// and hypothesis. `extra` fields (votes, the generated label) are added to the triple's.
pub fn nli_example(
    id: String,
    triple: &NliTriple,
    layout: &NliLayout,
    extra: serde_json::Value,
) -> SynthExample {
    let (prompt, completion) = layout(triple);
    let mut fields = serde_json::json!({
        "premise": triple.premise,
        "hypothesis": triple.hypothesis,
        "label": triple.label,
    });
    if let (Some(f), serde_json::Value::Object(more)) = (fields.as_object_mut(), extra) {
        f.extend(more);
    }
    SynthExample {
        id,
        prompt,
        completion,
        text: format!("{} {}", triple.premise, triple.hypothesis),
        fields,
        round: 0,
        cluster: None,
    }
}

fn triple_of(e: &SynthExample) -> NliTriple {
    let field = |k: &str| {
        e.fields
            .get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    NliTriple {
        premise: field("premise"),
        hypothesis: field("hypothesis"),
        label: field("label"),
    }
}

impl SynthTask for NliSynth<'_> {
    type Draft = NliTriple;

    fn draft_requests(
        &self,
        seeds: &[&SynthExample],
        count: usize,
        seed: u64,
        rng: &mut ChaCha8Rng,
    ) -> Vec<ChatRequest> {
        (0..count as u64)
            .map(|i| {
                let shown: Vec<NliTriple> = seeds
                    .choose_multiple(rng, self.format.few_shot)
                    .map(|e| triple_of(e))
                    .collect();
                let refs: Vec<&NliTriple> = shown.iter().collect();
                self.format.triple_request(&refs, seed.wrapping_add(i))
            })
            .collect()
    }

    fn parse(&self, reply: &Reply) -> Parsed<NliTriple> {
        self.format.parse_triples(reply)
    }

    fn check_requests(
        &self,
        draft: &NliTriple,
        examples: &[&SynthExample],
        seed: u64,
    ) -> Vec<ChatRequest> {
        let shown: Vec<NliTriple> = examples.iter().map(|e| triple_of(e)).collect();
        self.format
            .label_requests(&draft.premise, &draft.hypothesis, &shown, seed)
    }

    fn check_shots(&self) -> usize {
        self.format.label_shots
    }

    fn vote(
        &self,
        draft: &NliTriple,
        replies: &[Result<Reply, GenerationError>],
    ) -> Result<SynthExample, Drop> {
        let c = self.format.vote(draft, replies)?;
        Ok(nli_example(
            String::new(),
            &c.triple,
            self.layout,
            serde_json::json!({ "votes": c.votes, "generated_label": c.generated_label }),
        ))
    }

    fn agreed(&self, example: &SynthExample) -> Option<serde_json::Value> {
        example.fields.get("label").cloned()
    }
}

impl Default for NliFormat {
    fn default() -> Self {
        Self {
            few_shot: Self::default_few_shot(),
            per_request: Self::default_per_request(),
            label_shots: Self::default_label_shots(),
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
    use crate::generator::Finish;

    #[test]
    fn triples_are_parsed_strictly() {
        let f = NliFormat::default();
        let reply = "<example>\nPremise: A dog runs.\nHypothesis: An animal moves.\nLabel: Entailment\n</example>\n\
                     <example>\nPremise: A cat sleeps.\nLabel: neutral\n</example>\n\
                     <example>\nPremise: Rain.\nHypothesis: Sun.\nLabel: maybe\n</example>";
        let parsed = f.parse_triples(&reply.into());
        assert_eq!(
            parsed.drafts,
            [NliTriple {
                premise: "A dog runs.".into(),
                hypothesis: "An animal moves.".into(),
                label: "entailment".into()
            }]
        );
        assert_eq!(parsed.drops, [Drop::Incomplete, Drop::BadLabel]);
        // What SmolLM2-135M writes most often: the three lines, then the end of its turn.
        let open =
            "<example>\nPremise: A dog runs.\nHypothesis: An animal moves.\nLabel: entailment";
        for (finish, triples, closed) in [
            (Finish::EndOfTurn, 1, 1),
            (Finish::TokenLimit, 0, 0),
            (Finish::Unknown, 0, 0),
        ] {
            let parsed = f.parse_triples(&Reply::new(open, finish));
            assert_eq!(parsed.drafts.len(), triples, "{finish:?}");
            assert_eq!(parsed.closed_at_end_of_turn, closed, "{finish:?}");
            assert_eq!(parsed.drops.len(), 1 - triples, "{finish:?}");
        }
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
        let shown = [NliTriple {
            premise: "A dog runs.".into(),
            hypothesis: "An animal moves.".into(),
            label: "entailment".into(),
        }];
        let reqs = f.label_requests("p", "h", &shown, 5);
        assert_eq!(reqs.len(), 3);
        assert_eq!(
            reqs[0].messages.len(),
            3,
            "one labelled turn, then the pair"
        );
        assert_eq!(reqs[0].messages[1].content, "entailment");
    }

    #[test]
    fn as_a_loop_task_seeds_are_turns_and_the_voted_label_is_laid_out_for_the_proxy() {
        use rand::SeedableRng;
        let layout = |t: &NliTriple| {
            (
                format!("P: {} | {}", t.premise, t.label),
                t.hypothesis.clone(),
            )
        };
        let task = NliSynth {
            format: NliFormat {
                few_shot: 2,
                per_request: 1,
                ..Default::default()
            },
            layout: &layout,
        };
        let pool: Vec<SynthExample> = (0..4)
            .map(|i| {
                nli_example(
                    format!("p{i}"),
                    &NliTriple {
                        premise: format!("premise {i}"),
                        hypothesis: format!("hypothesis {i}"),
                        label: LABELS[i % 3].into(),
                    },
                    &layout,
                    serde_json::json!({}),
                )
            })
            .collect();
        let seeds: Vec<&SynthExample> = pool.iter().collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let requests = task.draft_requests(&seeds, 3, 40, &mut rng);
        assert_eq!(requests.len(), 3);
        assert_eq!(
            requests.iter().map(|r| r.sampling.seed).collect::<Vec<_>>(),
            [40, 41, 42]
        );
        let roles: Vec<&str> = requests[0]
            .messages
            .iter()
            .map(|m| m.role.as_str())
            .collect();
        assert_eq!(roles, ["user", "assistant", "user", "assistant", "user"]);
        assert!(
            requests[0].messages[1]
                .content
                .starts_with("<example>\nPremise: premise")
        );
        let draft = NliTriple {
            premise: "A dog runs.".into(),
            hypothesis: "An animal moves.".into(),
            label: "neutral".into(),
        };
        let e = SynthTask::vote(
            &task,
            &draft,
            &[
                Ok("entailment".into()),
                Ok("Entailment.".into()),
                Ok("neutral".into()),
            ],
        )
        .unwrap();
        assert_eq!(e.prompt, "P: A dog runs. | entailment");
        assert_eq!(e.completion, "An animal moves.");
        assert_eq!(e.text, "A dog runs. An animal moves.");
        assert_eq!(e.fields["generated_label"], "neutral");
        assert_eq!(e.fields["votes"], 2);
        assert_eq!(task.agreed(&e), Some(serde_json::json!("entailment")));
    }
}
