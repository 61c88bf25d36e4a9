//! Prismatic Synthesis (issue 28): grow a pool by rejection sampling in gradient space.
//! Cluster the pool's gradient features, generate candidates from seeds, keep the ones that
//! pass the quality filters and land in sparse clusters, repeat.
//!
//! - [`sparse`]: cosine k-means of the pool and the sparse-cluster rule;
//! - [`generator`]: the [`Generator`] trait every text source implements (an
//!   OpenAI-compatible server, the local burn decoder), with failures counted by kind;
//! - [`filters`]: length bounds, exact and near duplicates, n-gram decontamination;
//! - [`formats`]: the math and NLI prompts, strict parsing and self-consistency votes;
//! - [`rounds`]: the loop itself, resumable per round, knowing no task and no model;
//! - [`reply_cache`]: replies kept on disk by request (resumes and the arms' shared rounds);
//! - [`openai`]: the OpenAI-compatible chat-completions client (vLLM, llama.cpp's server,
//!   TGI, hosted APIs).
//!
//! This crate holds no model code (no burn): the local decoder is wired in by `prism-tasks`.

pub mod filters;
pub mod formats;
pub mod generator;
pub mod openai;
pub mod reply_cache;
pub mod rounds;
pub mod sparse;

pub use filters::{FilterConfig, Hygiene, Rejection};
pub use formats::Parsed;
pub use generator::{
    ChatRequest, FailureKind, Finish, GenerationError, Generator, Message, Reply, Sampling, Tally,
};
pub use openai::{OpenAiClient, OpenAiConfig};
pub use rounds::{
    Featurize, LoopConfig, RoundRecord, Selection, SynthExample, SynthRun, SynthState, SynthTask,
};
pub use sparse::{ClusterConfig, PoolClusters, sparse_clusters};

/// What can go wrong in synthesis before any text is generated.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The sparse rule needs a smaller half.
    #[error("the sparse-cluster rule needs at least 2 clusters (or pool rows), got {0}")]
    TooFewClusters(usize),
    /// The API key's environment variable is named but not set (its value is never shown).
    #[error("environment variable `{0}` (generator `api_key_env`) is not set")]
    MissingKey(String),
    /// A generator setting is out of range.
    #[error("generator `{field}`: {message}")]
    Config {
        /// The setting.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
}
