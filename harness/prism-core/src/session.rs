//! Where a command works: the project root, the resolved experiment config, and the folders
//! derived from them (cache, results). Every stage takes a [`Session`] instead of re-deriving
//! paths, so a config key like `paths.cache` means the same thing in every crate.

use crate::cache::Cache;
use crate::config::schema::{DEFAULTS_TOML, ExperimentConfig, looks_like_path};
use crate::config::{ConfigLayers, Resolved};
use crate::error::ConfigError;
use std::path::{Path, PathBuf};

/// The resolved setting of one command.
pub struct Session {
    /// The project root: the folder holding `configs/defaults.toml`, else the working folder.
    pub root: PathBuf,
    /// The resolved, validated config.
    pub config: Resolved<ExperimentConfig>,
}

impl Session {
    /// Resolves defaults ← experiment ← env ← `overrides` (`KEY=VALUE`, as `--set` gives
    /// them) and validates the result. `experiment` is a name (`experiments/<name>.toml`) or
    /// a path.
    pub fn load(experiment: Option<&str>, overrides: &[String]) -> Result<Session, ConfigError> {
        let root = project_root();
        let defaults = root.join("configs/defaults.toml");
        let layers = ConfigLayers {
            defaults: defaults.is_file().then_some(defaults),
            embedded_defaults: Some(DEFAULTS_TOML),
            experiment: experiment.map(|e| experiment_path(&root, e)).transpose()?,
            env: true,
            overrides: overrides.to_vec(),
        };
        let config = layers.resolve::<ExperimentConfig>()?;
        config.validate(&root)?;
        Ok(Session { root, config })
    }

    /// The cache named by the config (`PRISM_CACHE` overrides `paths.cache`), with its
    /// packages in `paths.packages` when that is set (`PRISM_PACKAGES`).
    pub fn cache(&self) -> Cache {
        let paths = &self.config.value.paths;
        let cache = Cache::new(self.resolve_path(&paths.cache));
        if paths.packages.is_empty() {
            cache
        } else {
            cache.with_packages(self.resolve_path(&paths.packages))
        }
    }

    /// The results folder of this experiment.
    pub fn results(&self) -> PathBuf {
        self.resolve_path(&self.config.value.paths.results)
            .join(&self.config.value.name)
    }

    /// A model named in the config: a folder in the cache (`all-minilm-l6-v2`) or, when the
    /// name holds a slash, a path relative to the project root.
    pub fn model_dir(&self, name: &str) -> PathBuf {
        if name.contains('/') {
            self.resolve_path(name)
        } else {
            self.cache().model(name)
        }
    }

    /// A dataset named in the config: its table in the cache (`vitaminc`) or a path (see
    /// [`looks_like_path`]). Whether it exists and is intact is the data crate's to check.
    pub fn dataset_location(&self, name: &str) -> PathBuf {
        if looks_like_path(name) {
            self.resolve_path(name)
        } else {
            self.cache().dataset(name)
        }
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
fn experiment_path(root: &Path, name: &str) -> Result<PathBuf, ConfigError> {
    if name.contains('/') || name.ends_with(".toml") {
        return Ok(PathBuf::from(name));
    }
    let path = root.join("experiments").join(format!("{name}.toml"));
    if !path.is_file() {
        let mut known: Vec<String> = fs_err::read_dir(root.join("experiments"))
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
        known.sort();
        return Err(ConfigError::UnknownExperiment {
            name: name.into(),
            path,
            known,
        });
    }
    Ok(path)
}
