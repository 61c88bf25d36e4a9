//! The local burn decoder as a [`Generator`]: the embedded default of Prismatic Synthesis
//! (SmolLM2-135M-Instruct from the cache), so synthesis runs with no server at all.

use prism_models::{LanguageModel, Sampling};
use prism_synth::{ChatRequest, FailureKind, GenerationError, Generator, Tally};
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

/// The user turn of a request the local decoder can serve: exactly one user message (its
/// chat template supplies the rest).
fn user_turn(request: &ChatRequest) -> Result<&str, GenerationError> {
    match request.messages.as_slice() {
        [m] if m.role == "user" => Ok(&m.content),
        _ => Err(GenerationError {
            kind: FailureKind::Decoder,
            attempts: 1,
            detail: "the local decoder serves one user turn per request".into(),
        }),
    }
}

impl Generator for LocalDecoder {
    fn settings(&self) -> serde_json::Value {
        serde_json::json!({ "generator": "local", "model": self.name, "batch": self.batch })
    }

    fn generate(&self, requests: &[ChatRequest]) -> Vec<Result<String, GenerationError>> {
        self.count(|t| t.requests += requests.len());
        let mut results: Vec<Result<String, GenerationError>> = requests
            .iter()
            .map(|r| user_turn(r).map(str::to_string))
            .collect();
        let servable: Vec<usize> = (0..requests.len())
            .filter(|&i| results[i].is_ok())
            .collect();
        let lm = self.lm.lock().expect("model lock");
        for chunk in servable.chunks(self.batch) {
            let prompts: Vec<String> = chunk
                .iter()
                .map(|&i| results[i].clone().expect("servable"))
                .collect();
            let prompts: Vec<&str> = prompts.iter().map(String::as_str).collect();
            let samplings: Vec<Sampling> = chunk
                .iter()
                .map(|&i| {
                    let s = requests[i].sampling;
                    Sampling {
                        temperature: s.temperature,
                        top_p: s.top_p,
                        seed: s.seed,
                        max_new_tokens: s.max_tokens,
                    }
                })
                .collect();
            match lm.generate_batch(&prompts, &samplings) {
                Ok(replies) => {
                    for (&i, reply) in chunk.iter().zip(replies) {
                        results[i] = Ok(reply);
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
