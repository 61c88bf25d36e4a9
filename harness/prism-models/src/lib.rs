//! prism's models, in burn 0.22 (one code path; the backend is picked at run time through the
//! [`Device`](burn::prelude::Device)):
//! - [`encoder`]: the BERT student (all-MiniLM-L6-v2) with a classification head, and the
//!   sentence-embedding API the baselines use;
//! - [`causal_lm`], [`language_model`]: the Llama/Qwen2 proxy from GGUF or safetensors, with
//!   completion-only loss and sampling;
//! - [`prefix`]: a last-k student's frozen lower blocks, run once per example;
//! - [`lm_student`], [`lm_protocol`]: the math track's causal-LM student and how it is scored;
//! - [`activation`]: GELU and SiLU as a backend extension, with vectorised kernels on flex;
//! - [`static_embed`]: mean-pooled static word vectors (wordllama);
//! - [`protocol`]: fine-tune a student on a subset and score it on the ID test and benchmarks;
//! - [`embedders`]: the cached MiniLM and wordllama embedders the baseline metrics read;
//! - [`annotate`]: labelling examples with a model (skill labels), cached by content;
//! - [`weights`]: safetensors loading behind the [`WeightSource`] trait.

// burn-tch is deprecated upstream; the `tch` feature still routes the activations and the
// target log-probability to it.
#[cfg_attr(feature = "tch", allow(deprecated))]
pub mod activation;
pub mod align;
pub mod allocator;
pub mod annotate;
mod avx2;
pub mod bert;
pub mod causal_lm;
pub mod device;
pub mod dropout;
pub mod embedders;
pub mod encoder;
pub mod error;
pub mod eval;
pub mod gguf;
pub mod grad_tap;
pub mod language_model;
pub mod lm_protocol;
pub mod lm_student;
pub mod lm_tokenizer;
#[cfg_attr(feature = "tch", allow(deprecated))]
pub mod log_prob;
pub mod nli_lm;
pub mod prefix;
pub mod protocol;
pub mod static_embed;
pub mod tokenize;
pub mod train;
pub mod weights;

pub use device::Backend;
pub use encoder::{Classifier, EncoderFiles, SentenceEncoder};
pub use error::ModelError;
pub use language_model::{Generated, LanguageModel, Sampling};
pub use static_embed::{StaticEmbedError, StaticEmbedder};
pub use train::{LabeledPair, TrainConfig, TrainLayers};
pub use weights::{HostTensor, SafetensorsFile, WeightSource};
