//! Resolving the project root, the layered config and the cache for a command.

use crate::exit::UsageError;
use anyhow::Result;
use prism_core::cache::Cache;
use prism_core::config::schema::{DEFAULTS_TOML, ExperimentConfig, looks_like_path};
use prism_core::config::{ConfigLayers, Resolved};
use std::path::{Path, PathBuf};

/// Arguments every config-reading command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Override a config key, e.g. `--set subsets.sizes=[500,1000]` (repeatable; the value is
    /// TOML, or a plain string).
    #[arg(long = "set", value_name = "KEY=VALUE", global = true)]
    pub overrides: Vec<String>,
}

/// The resolved setting of one command.
pub struct Session {
    /// The project root: the folder holding `configs/defaults.toml`, else the working folder.
    pub root: PathBuf,
    /// The resolved, validated config.
    pub config: Resolved<ExperimentConfig>,
}

impl Session {
    /// Resolves defaults ← experiment ← env ← `--set` and validates the result.
    pub fn load(experiment: Option<&str>, args: &ConfigArgs) -> Result<Session> {
        let root = project_root();
        let defaults = root.join("configs/defaults.toml");
        let layers = ConfigLayers {
            defaults: defaults.is_file().then_some(defaults),
            embedded_defaults: Some(DEFAULTS_TOML),
            experiment: experiment.map(|e| experiment_path(&root, e)).transpose()?,
            env: true,
            overrides: args.overrides.clone(),
        };
        let config = layers.resolve::<ExperimentConfig>()?;
        config.validate(&root)?;
        Ok(Session { root, config })
    }

    /// The cache named by the config (`PRISM_CACHE` overrides `paths.cache`).
    pub fn cache(&self) -> Cache {
        Cache::new(self.resolve_path(&self.config.value.paths.cache))
    }

    /// The results folder of this experiment.
    pub fn results(&self) -> PathBuf {
        self.resolve_path(&self.config.value.paths.results)
            .join(&self.config.value.name)
    }

    /// The parquet file of a dataset named in the config: a name in the cache (`vitaminc`)
    /// or a path (see [`looks_like_path`]); an error naming both when it is missing, and one
    /// naming the file and both hashes when a cached table no longer matches the hash `prism
    /// data fetch` recorded.
    pub fn dataset_path(&self, name: &str) -> Result<PathBuf> {
        let path = if looks_like_path(name) {
            self.resolve_path(name)
        } else {
            self.cache().dataset(name)
        };
        if !path.is_file() {
            return Err(prism_data::DataError::MissingDataset {
                name: name.into(),
                path,
            }
            .into());
        }
        if !looks_like_path(name) {
            prism_data::fetch::check_dataset(&self.cache(), name)?;
        }
        Ok(path)
    }

    /// A path from the config, relative to the project root unless absolute.
    pub fn resolve_path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        }
    }
}

fn project_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors()
        .find(|dir| dir.join("configs/defaults.toml").is_file())
        .map(Path::to_path_buf)
        .unwrap_or(cwd)
}

/// `nli` → `experiments/nli.toml`; anything with a slash or `.toml` is a path.
fn experiment_path(root: &Path, name: &str) -> Result<PathBuf> {
    if name.contains('/') || name.ends_with(".toml") {
        return Ok(PathBuf::from(name));
    }
    let path = root.join("experiments").join(format!("{name}.toml"));
    if !path.is_file() {
        let known: Vec<String> = fs_err::read_dir(root.join("experiments"))
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter_map(|e| {
                        e.path()
                            .file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        return Err(UsageError(format!(
            "no experiment `{name}`: `{}` does not exist (known: {})",
            path.display(),
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        ))
        .into());
    }
    Ok(path)
}
