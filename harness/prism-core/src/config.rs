//! Layered configuration: `configs/defaults.toml` ← `experiments/<name>.toml` ← env `PRISM_*`
//! ← `--set key=value`.
//!
//! Every layer is checked against one typed schema ([`schema::ExperimentConfig`]) with
//! `deny_unknown_fields`, so a misspelled key is an error naming the file and the key instead of
//! a silently ignored setting. [`Resolved::provenance`] tells, for every value, which layer it
//! came from (`prism config show`).

pub mod schema;

use crate::error::ConfigError;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// Short env names for config keys: `PRISM_CACHE` sets `paths.cache`, `PRISM_PACKAGES`
/// `paths.packages` (read, and named as a value's source, from this one table).
const ENV_ALIASES: &[(&str, &str)] = &[("cache", "paths.cache"), ("packages", "paths.packages")];

/// Env variables with the `PRISM_` prefix that are not config keys: logging, and the knobs of
/// the benches and tests (`PRISM_PYTHON` names the Python with torch for `just bench models`),
/// and `PRISM_MALLOC=system` (keep glibc's malloc defaults, `prism_models::allocator`).
const NON_CONFIG_ENV: &[&str] = &[
    "log",
    "log_style",
    "workers_hint",
    "python",
    "bench_n",
    "bench_examples",
    "test_backend",
    "malloc",
];

/// The layers to merge, lowest priority first.
#[derive(Debug, Clone, Default)]
pub struct ConfigLayers {
    /// `configs/defaults.toml`; must exist if given.
    pub defaults: Option<PathBuf>,
    /// Defaults compiled into the binary, used when `defaults` is `None` (prism run outside a
    /// checkout still has every default).
    pub embedded_defaults: Option<&'static str>,
    /// The experiment file; must exist if given.
    pub experiment: Option<PathBuf>,
    /// Whether to read `PRISM_*` environment variables (`PRISM_A__B=1` sets `a.b`;
    /// `PRISM_CACHE` sets `paths.cache`, `PRISM_PACKAGES` `paths.packages`).
    pub env: bool,
    /// `--set key=value` overrides, in order; the value is parsed as TOML, else taken as a string.
    pub overrides: Vec<String>,
}

/// A config extracted from its layers, with the layering kept for provenance.
#[derive(Debug)]
pub struct Resolved<T> {
    /// The typed config.
    pub value: T,
    figment: Figment,
}

/// One resolved value and the layer it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// Dotted key, e.g. `subsets.sizes`.
    pub key: String,
    /// The value rendered as TOML.
    pub value: String,
    /// The layer: a file path, an env variable, `--set`, or `built-in default`.
    pub source: String,
}

impl ConfigLayers {
    /// Merges the layers and extracts `T`, naming file and key on any error.
    pub fn resolve<T: DeserializeOwned + serde::Serialize>(
        &self,
    ) -> Result<Resolved<T>, ConfigError> {
        let mut figment = Figment::new();
        if let (None, Some(text)) = (&self.defaults, self.embedded_defaults) {
            figment = figment.merge(Named {
                name: "built-in defaults",
                inner: Toml::string(text),
            });
        }
        for path in [&self.defaults, &self.experiment].into_iter().flatten() {
            if !path.is_file() {
                return Err(ConfigError::MissingFile {
                    path: path.clone(),
                    key: None,
                });
            }
            // Parse errors are reported here with the file name; figment would otherwise
            // report them without a key.
            let text = fs_err::read_to_string(path).map_err(|e| ConfigError::Invalid {
                source_name: display_path(path),
                key: "<file>".into(),
                message: e.to_string(),
            })?;
            if let Err(e) = text.parse::<toml::Table>() {
                return Err(ConfigError::Invalid {
                    source_name: display_path(path),
                    key: "<syntax>".into(),
                    message: e.message().to_string(),
                });
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        if self.env {
            figment = figment.merge(
                Env::prefixed("PRISM_")
                    // Keys keep the case of the environment (`BENCH_N`), so compare uncased.
                    .filter(|k| {
                        !NON_CONFIG_ENV
                            .iter()
                            .any(|n| k.as_str().eq_ignore_ascii_case(n))
                    })
                    .map(
                        |k| match ENV_ALIASES.iter().find(|(short, _)| k == *short) {
                            Some((_, key)) => (*key).into(),
                            None => k.into(),
                        },
                    )
                    .split("__"),
            );
        }
        if !self.overrides.is_empty() {
            figment = figment.merge(SetOverrides::parse(&self.overrides)?);
        }
        let value = figment
            .extract::<T>()
            .map_err(|e| figment_error(&figment, e))?;
        Ok(Resolved { value, figment })
    }
}

impl<T: serde::Serialize> Resolved<T> {
    /// Every leaf value of the resolved config with the layer it came from, in key order.
    pub fn provenance(&self) -> Vec<Provenance> {
        let resolved = Value::serialize(&self.value).expect("configs serialize");
        let mut leaves = Vec::new();
        flatten("", &resolved, &mut leaves);
        leaves
            .into_iter()
            .map(|(key, value)| {
                let source = self
                    .figment
                    .find_metadata(&key)
                    .map(|md| describe_source(md, &key))
                    .unwrap_or_else(|| "built-in default".to_string());
                Provenance {
                    key,
                    value: render_toml(&value),
                    source,
                }
            })
            .collect()
    }

    /// The layer that set `key`, for error messages about values that parse but are wrong
    /// (e.g. a path that does not exist).
    pub fn source_of(&self, key: &str) -> String {
        self.figment
            .find_metadata(key)
            .map(|md| describe_source(md, key))
            .unwrap_or_else(|| "built-in default".to_string())
    }
}

/// A provider with a name of our choosing, so provenance reads well.
struct Named<P> {
    name: &'static str,
    inner: P,
}

impl<P: Provider> Provider for Named<P> {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        self.inner.data()
    }
}

/// `--set` overrides as a figment provider, so provenance says `--set`.
struct SetOverrides(Dict);

impl SetOverrides {
    fn parse(items: &[String]) -> Result<Self, ConfigError> {
        let mut text = String::new();
        for item in items {
            let (key, raw) = item
                .split_once('=')
                .filter(|(k, _)| !k.trim().is_empty())
                .ok_or_else(|| ConfigError::BadOverride {
                    item: item.clone(),
                    why: "expected KEY=VALUE, e.g. `--set subsets.sizes=[500,1000]`".into(),
                })?;
            let key = key.trim();
            let is_toml_value = format!("v = {raw}").parse::<toml::Table>().is_ok();
            let value = if is_toml_value {
                raw.to_string()
            } else {
                toml_quote(raw)
            };
            text.push_str(&format!("{key} = {value}\n"));
        }
        // Each override is one line of `text`, so the parser's position names the override
        // at fault (for a key given twice, the second).
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map(|span| text[..span.start].matches('\n').count());
            ConfigError::BadOverride {
                item: line
                    .and_then(|line| items.get(line))
                    .map_or_else(|| items.join(" "), Clone::clone),
                why: e.message().to_string(),
            }
        })?;
        let value = Value::serialize(&table).map_err(|e| ConfigError::BadOverride {
            item: items.join(" "),
            why: e.to_string(),
        })?;
        let dict = value.into_dict().unwrap_or_default();
        Ok(Self(dict))
    }
}

impl Provider for SetOverrides {
    fn metadata(&self) -> Metadata {
        Metadata::named("--set")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Serialized::defaults(&self.0).data()
    }
}

fn toml_quote(raw: &str) -> String {
    toml::Value::String(raw.to_string()).to_string()
}

fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd
        .as_deref()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path);
    format!("`{}`", shown.display())
}

fn describe_source(md: &Metadata, key: &str) -> String {
    match &md.source {
        Some(figment::Source::File(path)) => display_path(path),
        _ if md.name.contains("environment") => {
            match ENV_ALIASES.iter().find(|(_, long)| key == *long) {
                Some((short, _)) => format!("env PRISM_{}", short.to_uppercase()),
                None => format!("env PRISM_{}", key.to_uppercase().replace('.', "__")),
            }
        }
        _ => md.name.to_string(),
    }
}

fn figment_error(figment: &Figment, err: figment::Error) -> ConfigError {
    let err = err
        .into_iter()
        .next()
        .expect("figment errors are non-empty");
    let key = err.path.join(".");
    let source_name = err
        .metadata
        .as_ref()
        .map(|md| describe_source(md, &key))
        .or_else(|| {
            figment
                .find_metadata(&key)
                .map(|md| describe_source(md, &key))
        })
        .unwrap_or_else(|| "config".to_string());
    let key = match &err.kind {
        figment::error::Kind::UnknownField(field, _) if !key.ends_with(field.as_str()) => {
            if key.is_empty() {
                field.clone()
            } else {
                format!("{key}.{field}")
            }
        }
        figment::error::Kind::MissingField(field) if !key.ends_with(field.as_ref()) => {
            if key.is_empty() {
                field.to_string()
            } else {
                format!("{key}.{field}")
            }
        }
        _ => key,
    };
    let message = match &err.kind {
        figment::error::Kind::UnknownField(field, expected) => format!(
            "unknown key `{field}`; expected one of: {}",
            expected.join(", ")
        ),
        kind => kind.to_string(),
    };
    ConfigError::Invalid {
        source_name,
        key,
        message,
    }
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Dict(_, dict) if !dict.is_empty() => {
            for (k, v) in dict {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        _ => out.push((prefix.to_string(), value.clone())),
    }
}

fn render_toml(value: &Value) -> String {
    match toml::Value::try_from(value) {
        Ok(v) => v.to_string(),
        Err(_) => "<none>".to_string(),
    }
}

impl Resolved<schema::ExperimentConfig> {
    /// Runs [`schema::ExperimentConfig::validate`] and names the layer that set the bad key.
    pub fn validate(&self, root: &Path) -> Result<(), ConfigError> {
        self.value.validate(root).map_err(|(key, message)| {
            let lookup = key.split('[').next().unwrap_or(&key).to_string();
            ConfigError::Invalid {
                source_name: self.source_of(&lookup),
                key,
                message,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::schema::ExperimentConfig;
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn defaults() -> &'static str {
        schema::DEFAULTS_TOML
    }

    /// The message of the validation error the layers resolve to (they must parse).
    fn validation_error(l: &ConfigLayers, root: &Path) -> String {
        l.resolve::<ExperimentConfig>()
            .unwrap()
            .validate(root)
            .unwrap_err()
            .to_string()
    }

    fn layers(dir: &Path, experiment: &str) -> ConfigLayers {
        ConfigLayers {
            defaults: Some(write(dir, "defaults.toml", defaults())),
            experiment: Some(write(dir, "exp.toml", experiment)),
            ..Default::default()
        }
    }

    #[test]
    fn later_layers_win_and_provenance_names_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = layers(dir.path(), "name = \"exp\"\n[subsets]\nsizes = [10, 20]\n");
        l.overrides = vec!["subsets.seeds=[3]".into(), "description=hello world".into()];
        let r = l.resolve::<ExperimentConfig>().unwrap();
        assert_eq!(r.value.name, "exp");
        assert_eq!(r.value.subsets.sizes, vec![10, 20]);
        assert_eq!(r.value.subsets.seeds, vec![3]);
        assert_eq!(r.value.description, "hello world");
        let prov = r.provenance();
        let find = |k: &str| prov.iter().find(|p| p.key == k).unwrap().source.clone();
        assert!(find("subsets.sizes").contains("exp.toml"), "{prov:?}");
        assert!(
            find("subsets.length_bins").contains("defaults.toml"),
            "{prov:?}"
        );
        assert_eq!(find("subsets.seeds"), "--set");
    }

    #[test]
    fn min_example_passes_raises_epochs_of_small_sets_only() {
        let dir = tempfile::tempdir().unwrap();
        let l = layers(
            dir.path(),
            "[train]\nepochs = 2\nmin_example_passes = 10000\n",
        );
        let train = l.resolve::<ExperimentConfig>().unwrap().value.train;
        assert_eq!(train.epochs_for(2000), 5);
        assert_eq!(train.epochs_for(3000), 4); // ⌈10000 / 3000⌉
        assert_eq!(train.epochs_for(8000), 2); // `epochs` is the floor
        assert_eq!(train.epochs_for(0), 10000);
        // Off by default, and then absent from the serialised config (cache keys unchanged).
        let default = crate::config::schema::TrainConfig::default();
        assert_eq!(default.epochs_for(64), 1);
        let json = serde_json::to_string(&default).unwrap();
        assert!(!json.contains("min_example_passes"), "{json}");
        assert!(
            serde_json::to_string(&train)
                .unwrap()
                .contains("\"min_example_passes\":10000")
        );
    }

    #[test]
    fn student_pairing_parses_and_stays_out_of_keys_at_its_default() {
        use crate::config::schema::{Pairing, StudentConfig};
        let dir = tempfile::tempdir().unwrap();
        let siamese =
            "[student]\npairing = \"siamese\"\n[train]\nlayers = { kind = \"head-only\" }\n";
        let l = layers(dir.path(), siamese);
        let student = l.resolve::<ExperimentConfig>().unwrap().value.student;
        assert_eq!(student.pairing, Pairing::Siamese);
        assert!(
            serde_json::to_string(&student)
                .unwrap()
                .contains("\"pairing\":\"siamese\"")
        );
        // The default is absent from the serialised config: cross-encoder cache keys are
        // those from before the option existed.
        let json = serde_json::to_string(&StudentConfig::default()).unwrap();
        assert_eq!(json, r#"{"model":"all-minilm-l6-v2","backend":"flex"}"#);
        let err = layers(dir.path(), "[student]\npairing = \"bi\"\n")
            .resolve::<ExperimentConfig>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("student.pairing"), "{err}");
        // An aligned student names the blocks below its comparator; the setting belongs to it
        // alone, it trains on a frozen encoder, and at 0 it stays out of the serialised config.
        let aligned = "[student]\npairing = \"aligned\"\nalign_blocks = 3\n[train]\n\
                       layers = { kind = \"head-only\" }\n";
        let student = layers(dir.path(), aligned)
            .resolve::<ExperimentConfig>()
            .unwrap()
            .value
            .student;
        assert_eq!(
            (student.pairing, student.align_blocks),
            (Pairing::Aligned, 3)
        );
        assert!(!json.contains("align_blocks"), "{json}");
        for (experiment, key) in [
            (
                "[student]\npairing = \"siamese\"\nalign_blocks = 3\n",
                "student.align_blocks",
            ),
            ("[student]\npairing = \"aligned\"\n", "train.layers"),
        ] {
            let err = validation_error(&layers(dir.path(), experiment), dir.path());
            assert!(err.contains(key), "{err}");
        }
        // A siamese student may fine-tune its top blocks at their own rate; the rate is
        // checked and, unset, stays out of the serialised config (run identities of before).
        let last_k = "[student]\npairing = \"siamese\"\n[train]\nlayers = { kind = \"last-k\", \
                      k = 1 }\nencoder_learning_rate = 5e-5\n";
        let train = layers(dir.path(), last_k)
            .resolve::<ExperimentConfig>()
            .unwrap()
            .value
            .train;
        assert_eq!(train.encoder_peak_rate(), 5e-5);
        let json = serde_json::to_string(&crate::config::schema::TrainConfig::default()).unwrap();
        assert!(!json.contains("encoder_learning_rate"), "{json}");
        let err = validation_error(
            &layers(dir.path(), "[train]\nencoder_learning_rate = -1.0\n"),
            dir.path(),
        );
        assert!(err.contains("train.encoder_learning_rate"), "{err}");
    }

    #[test]
    fn unknown_key_names_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let err = layers(dir.path(), "[subsets]\nsizez = [10]\n")
            .resolve::<ExperimentConfig>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("exp.toml"), "{err}");
        assert!(err.contains("subsets.sizez"), "{err}");
    }

    #[test]
    fn wrong_type_names_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let err = layers(dir.path(), "[subsets]\nsizes = \"many\"\n")
            .resolve::<ExperimentConfig>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("exp.toml"), "{err}");
        assert!(err.contains("subsets.sizes"), "{err}");
    }

    #[test]
    fn syntax_error_and_missing_file_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let err = layers(dir.path(), "[subsets\n")
            .resolve::<ExperimentConfig>()
            .unwrap_err();
        assert!(err.to_string().contains("exp.toml"), "{err}");
        let missing = ConfigLayers {
            experiment: Some(dir.path().join("nope.toml")),
            ..Default::default()
        };
        let err = missing
            .resolve::<ExperimentConfig>()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("nope.toml") && err.contains("not found"),
            "{err}"
        );
    }

    #[test]
    fn gvendi_sample_draws_a_nested_seeded_share_and_stays_out_of_keys_at_one() {
        use crate::config::schema::GvendiConfig;
        let at = |sample: f64, seed: u64| GvendiConfig {
            sample,
            seed,
            ..GvendiConfig::default()
        };
        let ids: Vec<String> = (0..20_000).map(|i| format!("vitaminc-{i:05}")).collect();
        let drawn =
            |g: &GvendiConfig| -> Vec<bool> { ids.iter().map(|id| g.samples(id)).collect() };
        let quarter = drawn(&at(0.25, 0));
        let kept = quarter.iter().filter(|&&k| k).count();
        // Binomial(20,000, 0.25): sd 61, so ±300 is about 5 sd.
        assert!((4_700..=5_300).contains(&kept), "{kept}");
        // The same draw again; a smaller share's draw inside a larger one's; another seed
        // draws other examples.
        assert_eq!(quarter, drawn(&at(0.25, 0)));
        let half = drawn(&at(0.5, 0));
        assert!(quarter.iter().zip(&half).all(|(q, h)| !q || *h));
        assert_ne!(quarter, drawn(&at(0.25, 1)));
        assert!(drawn(&at(1.0, 0)).iter().all(|&k| k));
        // A subset's gradient metrics read the same number of members at every subset of a
        // size: 3 sd below the draw's expected count.
        assert_eq!(at(0.25, 0).draw_size(8000), 1883); // 2000 - 3 * 38.7
        assert_eq!(at(0.25, 0).draw_size(100), 12); // 25 - 3 * 4.33
        assert_eq!(at(0.25, 0).draw_size(1), 1);
        assert_eq!(at(1.0, 0).draw_size(8000), 8000);
        // Left out of the serialised config at 1 (old run ids hold), kept below it.
        let key = |g: &GvendiConfig| serde_json::to_value(g).unwrap();
        assert!(key(&at(1.0, 0)).get("sample").is_none());
        assert_eq!(key(&at(0.25, 0))["sample"], 0.25);
        for bad in [0.0, -0.5, 1.5, f64::NAN] {
            let (k, why) = at(bad, 0).validate().unwrap_err();
            assert_eq!(k, "gvendi.sample");
            assert!(why.contains("share of the pool"), "{why}");
        }
    }

    #[test]
    fn gvendi_format_lays_out_pairs_and_stays_out_of_keys_at_its_default() {
        use crate::config::schema::{GvendiConfig, GvendiFormat};
        let dir = tempfile::tempdir().unwrap();
        let g = layers(dir.path(), "[gvendi]\nformat = \"hypothesis\"\n")
            .resolve::<ExperimentConfig>()
            .unwrap()
            .value
            .gvendi;
        assert_eq!(g.format, GvendiFormat::Hypothesis);
        let (prompt, completion) = g.example("P.", "H.", "contradiction").unwrap();
        assert_eq!(
            prompt,
            "Premise: P.\nWrite a claim that contradicts the premise."
        );
        assert_eq!(completion, "H.");
        let (prompt, _) = g.example("P.", "H.", "neutral").unwrap();
        assert!(prompt.ends_with("is neither entailed nor contradicted by the premise."));
        let err = g.example("P.", "H.", "SUPPORTS").unwrap_err();
        assert!(err.contains("`SUPPORTS`"), "{err}");
        // The label format: the completion is the label word, the prompt holds both texts.
        assert_eq!(GvendiConfig::default().format, GvendiFormat::Hypothesis);
        let label = GvendiConfig {
            format: GvendiFormat::Label,
            ..GvendiConfig::default()
        };
        let (prompt, completion) = label.example("P.", "H.", "entailment").unwrap();
        assert!(prompt.starts_with("Premise: P.\nHypothesis: H.\n"));
        assert_eq!(completion, "entailment");
        // The label format and the default hypothesis template are absent from the serialised
        // config (run ids of before stay); the hypothesis format is present.
        let json = serde_json::to_string(&label).unwrap();
        assert!(
            !json.contains("format") && !json.contains("hypothesis_template"),
            "{json}"
        );
        assert!(
            serde_json::to_string(&g)
                .unwrap()
                .contains("\"format\":\"hypothesis\"")
        );
        let err = validation_error(
            &layers(
                dir.path(),
                "[gvendi]\nhypothesis_template = \"{premise}\"\n",
            ),
            dir.path(),
        );
        assert!(err.contains("gvendi.hypothesis_template"), "{err}");
    }

    #[test]
    fn the_ood_aggregate_is_declared_from_the_benchmarks() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = layers(dir.path(), "[report]\nood = [\"hans\"]\n")
            .resolve::<ExperimentConfig>()
            .unwrap()
            .value;
        assert_eq!(cfg.ood_aggregate(), ["hans"]);
        let all = layers(dir.path(), "")
            .resolve::<ExperimentConfig>()
            .unwrap()
            .value;
        assert_eq!(all.ood_aggregate(), all.data.benchmarks);
        let err = validation_error(
            &layers(dir.path(), "[report]\nood = [\"hans\", \"snli\"]\n"),
            dir.path(),
        );
        assert!(
            err.contains("report.ood") && err.contains("`snli`"),
            "{err}"
        );
    }

    #[test]
    fn embedded_defaults_and_validation_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let l = ConfigLayers {
            embedded_defaults: Some(schema::DEFAULTS_TOML),
            experiment: Some(write(
                dir.path(),
                "exp.toml",
                "[data]\npool = \"missing/pool.parquet\"\n",
            )),
            ..Default::default()
        };
        let r = l.resolve::<ExperimentConfig>().unwrap();
        assert_eq!(r.source_of("paths.cache"), "built-in defaults");
        let err = r.validate(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("exp.toml") && err.contains("data.pool") && err.contains("not found"),
            "{err}"
        );
        let mut l2 = layers(dir.path(), "");
        l2.overrides = vec!["subsets.sizes=[]".into()];
        let err = validation_error(&l2, dir.path());
        assert!(
            err.contains("--set") && err.contains("subsets.sizes") && err.contains("empty"),
            "{err}"
        );
        let mut l3 = layers(dir.path(), "");
        l3.overrides = vec!["sweep.train_seeds=[0, 3, 0]".into()];
        let err = validation_error(&l3, dir.path());
        assert!(
            err.contains("sweep.train_seeds") && err.contains("seed 0 is listed twice"),
            "{err}"
        );
    }

    #[test]
    fn bad_override_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = layers(dir.path(), "");
        l.overrides = vec!["no-equals-sign".into()];
        assert!(matches!(
            l.resolve::<ExperimentConfig>(),
            Err(ConfigError::BadOverride { .. })
        ));
    }

    #[test]
    fn a_key_set_twice_names_the_second_override() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = layers(dir.path(), "");
        l.overrides = vec![
            "subsets.sizes=[32]".into(),
            "synth.loop.rounds=40".into(),
            "name=x".into(),
            "synth.loop.rounds=1".into(),
        ];
        let err = l.resolve::<ExperimentConfig>().unwrap_err().to_string();
        assert!(
            err.starts_with("--set `synth.loop.rounds=1`: duplicate key"),
            "{err}"
        );
    }
}
