//! prism's models, in burn 0.22 (one code path; the backend is picked at run time through the
//! [`Device`](burn::prelude::Device)):
//! - [`encoder`]: the BERT student (all-MiniLM-L6-v2) with a classification head, and the
//!   sentence-embedding API the baselines use;
//! - [`static_embed`]: mean-pooled static word vectors (wordllama);
//! - [`weights`]: safetensors loading behind the [`WeightSource`] trait.

pub mod bert;
pub mod device;
pub mod encoder;
pub mod error;
pub mod static_embed;
pub mod tokenize;
pub mod weights;

pub use device::Backend;
pub use encoder::{Classifier, EncoderFiles, SentenceEncoder};
pub use error::ModelError;
pub use static_embed::{StaticEmbedError, StaticEmbedder};
pub use weights::{HostTensor, SafetensorsFile, WeightSource};
