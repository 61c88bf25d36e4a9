//! The local burn decoder as a [`Generator`]: the embedded default of Prismatic Synthesis
//! (SmolLM2-135M-Instruct from the cache), so synthesis runs with no server at all.

use prism_models::{LanguageModel, Sampling};
use prism_synth::{ChatRequest, FailureKind, Finish, GenerationError, Generator, Reply, Tally};
use std::sync::Mutex;

/// A causal LM from the cache, sampling `batch` requests at a time over one KV cache.
pub struct LocalDecoder {
    lm: Mutex<LanguageModel>,
    batch: usize,
    name: String,
    tally: Mutex<Tally>,
}

impl LocalDecoder {
    /// Wraps `lm` (its file or folder name is recorded as the model), generating up to
    /// `batch` replies together.
    pub fn new(lm: LanguageModel, batch: usize) -> Self {
        let name = lm
            .source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self {
            lm: Mutex::new(lm),
            batch: batch.max(1),
            name,
            tally: Mutex::new(Tally::default()),
        }
    }

    fn count(&self, f: impl FnOnce(&mut Tally)) {
        f(&mut self.tally.lock().expect("tally lock"));
    }
}

/// The decoder's sampling settings for a request's (the same fields, the decoder's names).
pub fn decoder_sampling(s: prism_synth::Sampling) -> Sampling {
    Sampling {
        temperature: s.temperature,
        top_p: s.top_p,
        seed: s.seed,
        max_new_tokens: s.max_tokens,
    }
}

/// A request's turns as the chat template renders them; a conversation must end with a user
/// turn (the reply is the next assistant turn).
fn turns(request: &ChatRequest) -> Result<Vec<(String, String)>, GenerationError> {
    match request.messages.last() {
        Some(m) if m.role == "user" => Ok(request
            .messages
            .iter()
            .map(|m| (m.role.clone(), m.content.clone()))
            .collect()),
        _ => Err(GenerationError {
            kind: FailureKind::Decoder,
            attempts: 1,
            detail: "a request to the local decoder must end with a user turn".into(),
        }),
    }
}

impl Generator for LocalDecoder {
    fn settings(&self) -> serde_json::Value {
        serde_json::json!({ "generator": "local", "model": self.name, "batch": self.batch })
    }

    fn generate(&self, requests: &[ChatRequest]) -> Vec<Result<Reply, GenerationError>> {
        self.count(|t| t.requests += requests.len());
        let conversations: Vec<Result<Vec<(String, String)>, GenerationError>> =
            requests.iter().map(turns).collect();
        let mut results: Vec<Result<Reply, GenerationError>> = conversations
            .iter()
            .map(|c| {
                c.as_ref()
                    .map(|_| Reply::new("", Finish::Unknown))
                    .map_err(Clone::clone)
            })
            .collect();
        let servable: Vec<usize> = (0..requests.len())
            .filter(|&i| conversations[i].is_ok())
            .collect();
        let lm = self.lm.lock().expect("model lock");
        for chunk in servable.chunks(self.batch) {
            let prompts: Vec<Vec<(&str, &str)>> = chunk
                .iter()
                .map(|&i| {
                    conversations[i]
                        .as_ref()
                        .expect("servable")
                        .iter()
                        .map(|(r, c)| (r.as_str(), c.as_str()))
                        .collect()
                })
                .collect();
            let samplings: Vec<Sampling> = chunk
                .iter()
                .map(|&i| decoder_sampling(requests[i].sampling))
                .collect();
            match lm.generate_conversations(&prompts, &samplings) {
                Ok(replies) => {
                    for (&i, reply) in chunk.iter().zip(replies) {
                        let finish = if reply.ended_turn {
                            Finish::EndOfTurn
                        } else {
                            Finish::TokenLimit
                        };
                        results[i] = Ok(Reply::new(reply.text, finish));
                    }
                }
                Err(e) => {
                    for &i in chunk {
                        results[i] = Err(GenerationError {
                            kind: FailureKind::Decoder,
                            attempts: 1,
                            detail: e.to_string(),
                        });
                    }
                }
            }
        }
        for r in &results {
            match r {
                Ok(_) => self.count(|t| t.succeeded += 1),
                Err(e) => self.count(|t| {
                    t.failed += 1;
                    *t.failed_attempts.entry(e.kind).or_default() += 1;
                }),
            }
        }
        results
    }

    fn tally(&self) -> Tally {
        self.tally.lock().expect("tally lock").clone()
    }
}
