//! prism's models. Today: [`static_embed::StaticEmbedder`], mean-pooled static word vectors
//! (wordllama) for the static-embedding baselines. The BERT student and the causal-LM proxy in
//! burn arrive with the models issue.

pub mod static_embed;

pub use static_embed::{StaticEmbedError, StaticEmbedder};
