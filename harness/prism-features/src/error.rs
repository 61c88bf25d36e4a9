//! Typed errors of featurisation and of the feature store.

use std::path::PathBuf;

/// What can go wrong computing or storing gradient features.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// The proxy model failed (loading, tokenising).
    #[error(transparent)]
    Model(#[from] prism_models::ModelError),
    /// A store file could not be read or written.
    #[error("{path}: {message}")]
    Store {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An example's loss or gradient is not finite.
    #[error("example `{id}`: {what} is not finite")]
    NonFinite {
        /// The example.
        id: String,
        /// `loss` or `gradient`.
        what: &'static str,
    },
    /// A stored file does not match its recorded checksum (or cannot be checked).
    #[error(
        "{0}\nhint: `prism doctor --repair` moves damaged feature shards aside; the next featurisation computes their examples again"
    )]
    Integrity(prism_core::IntegrityError),
    /// An example that `gvendi.format` cannot lay out as a prompt and a completion.
    #[error("example `{id}`: {why}")]
    Format {
        /// The example.
        id: String,
        /// Why not.
        why: String,
    },
    /// A request that cannot be served (bad option, missing example, ...).
    #[error("{0}")]
    Invalid(String),
}

// Not `#[from]`: the message already holds the integrity error's, and a `source` would make
// the CLI print it twice.
impl From<prism_core::IntegrityError> for FeatureError {
    fn from(e: prism_core::IntegrityError) -> Self {
        Self::Integrity(e)
    }
}

impl FeatureError {
    /// Exit class: an example the format cannot express and a bad model file are the user's
    /// to fix (2); everything else is a failed computation (1).
    pub fn exit_class(&self) -> prism_core::ExitClass {
        match self {
            FeatureError::Model(e) => e.exit_class(),
            FeatureError::Format { .. } => prism_core::ExitClass::BadInput,
            _ => prism_core::ExitClass::Failure,
        }
    }

    /// A store error on `path`.
    pub fn store(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Self::Store {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
