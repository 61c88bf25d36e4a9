//! Typed errors shared by every stage, and the exit-code classes of the CLI.

use std::path::PathBuf;

/// How a failure maps onto the `prism` process exit code.
///
/// Researchers script around prism, so the exit code must tell "fix your input" apart from
/// "the computation failed": 2 means bad input or config, 1 means a run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitClass {
    /// A run or computation failed (exit code 1).
    Failure,
    /// The input or configuration is wrong (exit code 2).
    BadInput,
}

impl ExitClass {
    /// The process exit code of this class.
    pub fn code(self) -> u8 {
        match self {
            ExitClass::Failure => 1,
            ExitClass::BadInput => 2,
        }
    }
}

/// An error in a configuration or experiment file, always naming where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file the user named does not exist.
    #[error("`{path}`: file not found{}", key.as_ref().map(|k| format!(" (named by key `{k}`)")).unwrap_or_default())]
    MissingFile {
        /// The missing path, as the user wrote it.
        path: PathBuf,
        /// The config key that named it, if any.
        key: Option<String>,
    },
    /// An unknown key, a wrong type or a malformed value.
    #[error("{source_name}: key `{key}`: {message}")]
    Invalid {
        /// Where the offending value came from: a file path, `env PRISM_*` or `--set`.
        source_name: String,
        /// The dotted key path, e.g. `subsets.sizes`.
        key: String,
        /// What is wrong, in words.
        message: String,
    },
    /// A `--set key=value` override that cannot be parsed, named as the user typed it.
    #[error("--set `{item}`: {why}")]
    BadOverride {
        /// The offending `--set` argument.
        item: String,
        /// What is wrong with it, in words.
        why: String,
    },
    /// An experiment name with no file under `experiments/`.
    #[error("no experiment `{name}`: `{}` does not exist (known: {})", path.display(), if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    UnknownExperiment {
        /// The name as given.
        name: String,
        /// Where it was looked for.
        path: PathBuf,
        /// The experiments that exist.
        known: Vec<String>,
    },
}

impl ConfigError {
    /// Config errors are always the user's input to fix.
    pub fn exit_class(&self) -> ExitClass {
        ExitClass::BadInput
    }
}
