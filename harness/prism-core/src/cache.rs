//! Where prism keeps downloaded packages, normalised data and model files.
//!
//! One root, `$PRISM_CACHE` (default `.cache/prism` inside the repository), git-ignored and
//! shared by every stage, so a warm cache makes every command offline.

use std::path::{Path, PathBuf};

/// Environment variable that overrides the cache root.
pub const CACHE_ENV: &str = "PRISM_CACHE";
/// Cache root used when neither the environment nor a config names one.
pub const DEFAULT_CACHE: &str = ".cache/prism";

/// The cache layout: one method per kind of content.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    /// The packages folder, when it is not `<root>/packages`.
    packages: Option<PathBuf>,
}

impl Cache {
    /// A cache rooted at `root` (not created until something is written).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            packages: None,
        }
    }

    /// The same cache with its registry packages in `dir` (`paths.packages`): a folder
    /// outside the checkout that several checkouts, and CI's fresh clones, share.
    pub fn with_packages(self, dir: impl Into<PathBuf>) -> Self {
        Self {
            packages: Some(dir.into()),
            ..self
        }
    }

    /// The cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Downloaded registry packages (wheels, sdists), verified by sha256: `<root>/packages`
    /// unless [`Cache::with_packages`] names another folder.
    pub fn packages(&self) -> PathBuf {
        self.packages
            .clone()
            .unwrap_or_else(|| self.root.join("packages"))
    }

    /// Normalised data tables (`<name>.parquet`).
    pub fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The normalised parquet table of dataset `name`.
    pub fn dataset(&self, name: &str) -> PathBuf {
        self.data().join(format!("{name}.parquet"))
    }

    /// Model files (weights, tokenizers), one folder per model.
    pub fn models(&self) -> PathBuf {
        self.root.join("models")
    }

    /// The folder of model `name`.
    pub fn model(&self, name: &str) -> PathBuf {
        self.models().join(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_live_in_the_cache_unless_a_folder_is_named() {
        let cache = Cache::new("/c");
        assert_eq!(cache.packages(), PathBuf::from("/c/packages"));
        let shared = cache.with_packages("/shared/packages");
        assert_eq!(shared.packages(), PathBuf::from("/shared/packages"));
        // Everything else stays under the root.
        assert_eq!(shared.data(), PathBuf::from("/c/data"));
        assert_eq!(shared.model("m"), PathBuf::from("/c/models/m"));
    }
}
