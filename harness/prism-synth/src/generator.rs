//! The one trait every text source implements, so the loop, the task formats and the filters
//! never know whether text came from a server or from the local decoder.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One chat turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The turn's text.
    pub content: String,
}

impl Message {
    /// A user turn.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: "user".into(),
            content: content.into(),
        }
    }

    /// An assistant turn (a few-shot example of the reply wanted).
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: "assistant".into(),
            content: content.into(),
        }
    }

    /// A system turn.
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: "system".into(),
            content: content.into(),
        }
    }
}

/// How one reply is sampled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Softmax temperature; 0 is greedy.
    pub temperature: f32,
    /// Nucleus mass (1 keeps every token).
    pub top_p: f32,
    /// Most tokens in the reply.
    pub max_tokens: usize,
    /// Seed of the sampler (servers that honour `seed` reproduce the reply).
    pub seed: u64,
}

/// One request: the conversation so far and how to sample the reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The turns, oldest first.
    pub messages: Vec<Message>,
    /// How to sample.
    pub sampling: Sampling,
}

/// Why a reply ended. A block the model left open is read as closed only when the model itself
/// ended its turn: small chat models often write the last field of a demonstrated block and
/// stop without its closing tag, while a reply cut at the token limit is truncated text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Finish {
    /// The model ended its turn: an end-of-turn token (the local decoder) or a server's
    /// `finish_reason: "stop"`.
    EndOfTurn,
    /// The reply reached `max_tokens` (a server's `finish_reason: "length"`).
    TokenLimit,
    /// Not reported: a server that does not say, or a reply cached before prism kept it.
    #[default]
    Unknown,
}

impl Finish {
    /// The finish a server's `finish_reason` names: `stop` (and `eos`, which some servers
    /// send for the end-of-sequence token) is the end of the turn, `length` the token limit,
    /// anything else unknown.
    pub fn from_finish_reason(reason: Option<&str>) -> Self {
        match reason {
            Some("stop") | Some("eos") => Self::EndOfTurn,
            Some("length") => Self::TokenLimit,
            _ => Self::Unknown,
        }
    }
}

/// A generator's reply: its text and why it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The assistant turn's text.
    pub text: String,
    /// Why the turn ended.
    #[serde(default)]
    pub finish: Finish,
}

impl Reply {
    /// A reply that ended as `finish` says.
    pub fn new(text: impl Into<String>, finish: Finish) -> Self {
        Self {
            text: text.into(),
            finish,
        }
    }
}

/// Text whose finish is not known (as a reply cached before prism kept the finish).
impl From<&str> for Reply {
    fn from(text: &str) -> Self {
        Self::new(text, Finish::Unknown)
    }
}

/// Why an attempt produced no text: each kind is counted, and the retryable ones
/// ([`FailureKind::retryable`]) are tried again after a backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// HTTP 429.
    RateLimited,
    /// HTTP 5xx.
    ServerError,
    /// No complete reply within the timeout.
    Timeout,
    /// Refused, reset or unreachable.
    Connection,
    /// HTTP 4xx other than 429: the request itself is wrong (model name, key, size).
    ClientError,
    /// A 200 reply whose body is not a chat completion with text.
    Malformed,
    /// The local decoder failed.
    Decoder,
}

impl FailureKind {
    /// Whether the same request may succeed if sent again: rate limits, server errors,
    /// timeouts and dropped connections.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            Self::RateLimited | Self::ServerError | Self::Timeout | Self::Connection
        )
    }
}

/// A request that produced no text, after its last attempt.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind:?} after {attempts} attempt(s): {detail}")]
pub struct GenerationError {
    /// The last attempt's failure.
    pub kind: FailureKind,
    /// Attempts made.
    pub attempts: u32,
    /// What the server or decoder said (truncated).
    pub detail: String,
}

/// Counts over every request a generator served: what a round reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// Requests received.
    pub requests: usize,
    /// Requests that returned text.
    pub succeeded: usize,
    /// Requests that returned none after their last attempt.
    pub failed: usize,
    /// Attempts repeated after a retryable failure.
    pub retries: usize,
    /// Failed attempts by kind (a request retried after two 429s counts two).
    pub failed_attempts: BTreeMap<FailureKind, usize>,
    /// Requests answered from the reply cache (not counted above).
    #[serde(default)]
    pub cached: usize,
}

impl Tally {
    /// The counts added since `before` (an earlier tally of the same generator).
    pub fn since(&self, before: &Tally) -> Tally {
        Tally {
            requests: self.requests - before.requests,
            succeeded: self.succeeded - before.succeeded,
            failed: self.failed - before.failed,
            retries: self.retries - before.retries,
            failed_attempts: self
                .failed_attempts
                .iter()
                .map(|(k, n)| (*k, n - before.failed_attempts.get(k).copied().unwrap_or(0)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            cached: self.cached - before.cached,
        }
    }

    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &Tally) {
        self.requests += other.requests;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.retries += other.retries;
        for (k, n) in &other.failed_attempts {
            *self.failed_attempts.entry(*k).or_default() += n;
        }
        self.cached += other.cached;
    }
}

/// A source of chat replies.
pub trait Generator: Sync {
    /// The settings recorded with every example it generated (model, endpoint or weights;
    /// never a key).
    fn settings(&self) -> serde_json::Value;

    /// The replies to `requests`, in order; a failed request does not fail the others.
    fn generate(&self, requests: &[ChatRequest]) -> Vec<Result<Reply, GenerationError>>;

    /// Counts since the generator was made.
    fn tally(&self) -> Tally;
}
