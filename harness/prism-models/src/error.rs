//! Typed errors of the model layer: every variant names the file, tensor or step it is about,
//! so the CLI can print one line a researcher can act on.

use std::path::PathBuf;

/// Why a model could not be loaded, run or trained.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A model file is missing, unreadable or malformed.
    #[error("`{path}`: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A tensor the architecture needs is not in the weight file.
    #[error("`{path}`: tensor `{name}` not found")]
    MissingTensor {
        /// The weight file.
        path: PathBuf,
        /// The tensor's name in that file.
        name: String,
    },
    /// A tensor has a shape the configuration does not allow.
    #[error("`{path}`: tensor `{name}` has shape {found:?}, expected {expected:?}")]
    Shape {
        /// The weight file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// Its shape in the file.
        found: Vec<usize>,
        /// The shape the configuration implies.
        expected: Vec<usize>,
    },
    /// The tokenizer rejected a text.
    #[error("tokenizing text {index}: {message}")]
    Tokenize {
        /// Which text of the batch.
        index: usize,
        /// The tokenizer's message.
        message: String,
    },
    /// Training diverged: the loss became NaN or infinite.
    #[error("training diverged at step {step}: loss is {loss}")]
    NonFiniteLoss {
        /// The optimiser step (0-based) whose loss was not finite.
        step: usize,
        /// The loss value.
        loss: f32,
    },
    /// A request the model cannot serve (bad option, empty input, unsupported backend).
    #[error("{0}")]
    Invalid(String),
    /// A pretrained model a stage needs is not in the cache.
    #[error("{need} in the cache (`{}`){instead}\nhint: run `prism data fetch`", dir.display())]
    NotInCache {
        /// What needs it, in words.
        need: String,
        /// Where it was looked for.
        dir: PathBuf,
        /// Another way to give what it provides, if any (` or --embeddings X.npy`).
        instead: String,
    },
    /// The static embedder failed.
    #[error(transparent)]
    StaticEmbed(#[from] Box<crate::StaticEmbedError>),
    /// A table the protocol reads is missing, damaged or has an unknown label.
    #[error(transparent)]
    Data(#[from] prism_data::DataError),
}

impl ModelError {
    /// A [`ModelError::File`] for `path`.
    pub fn file(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Self::File {
            path: path.into(),
            message: message.to_string(),
        }
    }
}

impl ModelError {
    /// Exit class: bad files and options are the user's to fix (2); a diverged run or a
    /// tokenizer failure is a failed computation (1).
    pub fn exit_class(&self) -> prism_core::ExitClass {
        match self {
            ModelError::File { .. }
            | ModelError::MissingTensor { .. }
            | ModelError::Shape { .. }
            | ModelError::Invalid(_)
            | ModelError::NotInCache { .. } => prism_core::ExitClass::BadInput,
            ModelError::Data(e) => e.exit_class(),
            ModelError::StaticEmbed(_) => prism_core::ExitClass::Failure,
            ModelError::Tokenize { .. } | ModelError::NonFiniteLoss { .. } => {
                prism_core::ExitClass::Failure
            }
        }
    }
}
