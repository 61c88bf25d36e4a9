//! Prismatic Synthesis wired to the tasks (issue 28): the experiment's `[synth]` section, the
//! starting pool and the evaluation texts of its task, the proxy's gradient features from the
//! feature store, the generator it names, and the arms of the equal-size comparison.
//!
//! `prism synth <experiment>` runs each arm (`sparse`: Prismatic Synthesis; `all`: naive
//! few-shot synthesis with the same generator and filters) into `results/<experiment>/synth/
//! <arm>/`, resumable per round, and compares the arms at equal size.

use crate::math::{math_pool, seeded_sample};
use anyhow::{Context, Result, bail};
use prism_core::Session;
use prism_data::dataset_path;
use prism_data::math::{MathTable, math_dataset};
use prism_features::GradientExample;
use prism_features::experiment::featurize;
use prism_models::{Backend, LanguageModel};
use prism_synth::formats::math::{MathFormat, math_example};
use prism_synth::formats::nli::{NliFormat, NliSynth, NliTriple, nli_example};
use prism_synth::rounds::{
    Featurize, LoopConfig, SeedSource, Selection, SynthExample, SynthRun, SynthState,
};
use prism_synth::{Generator, OpenAiClient, OpenAiConfig};
use prism_vendi::Features;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::str::FromStr;

/// Which generator a run uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GeneratorKind {
    /// The local burn decoder (the embedded default).
    #[default]
    Local,
    /// An OpenAI-compatible chat-completions server.
    Openai,
}

/// Where the text comes from: `kind`, and the settings of each kind in its own table, so that
/// a layer or `--set synth.generator.kind=openai` switches generator without the other kind's
/// keys getting in the way.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorConfig {
    /// `local` or `openai`.
    #[serde(default)]
    pub kind: GeneratorKind,
    /// `[synth.generator.local]`.
    #[serde(default)]
    pub local: LocalGenerator,
    /// `[synth.generator.openai]`: needed when `kind = "openai"`.
    #[serde(default)]
    pub openai: Option<OpenAiConfig>,
}

/// The local burn decoder's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalGenerator {
    /// A model name in the cache, a `.gguf` file or a HF folder.
    #[serde(default = "default_local_model")]
    pub model: String,
    /// Replies generated together over one KV cache.
    #[serde(default = "default_local_batch")]
    pub batch: usize,
    /// flex, tch, cuda or auto.
    #[serde(default = "default_backend")]
    pub backend: String,
}

fn default_local_model() -> String {
    "smollm2-135m-instruct".into()
}
fn default_local_batch() -> usize {
    16
}
fn default_backend() -> String {
    "flex".into()
}

impl Default for LocalGenerator {
    fn default() -> Self {
        Self {
            model: default_local_model(),
            batch: default_local_batch(),
            backend: default_backend(),
        }
    }
}

/// The experiment's `[synth]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynthConfig {
    /// The arms run, in order: `sparse` (Prismatic Synthesis) and/or `all` (naive). Default
    /// both, for the equal-size comparison.
    #[serde(default = "default_arms")]
    pub arms: Vec<Selection>,
    /// Starting pool: a seeded sample of this many examples of the experiment's pool
    /// (`data.split_seed`; 0 = `data.pool_size`'s sample as it is).
    #[serde(default)]
    pub pool_size: usize,
    /// Rounds, requests per round, target size, clustering and filters (the arm sets the
    /// selection).
    #[serde(default, rename = "loop")]
    pub rounds: LoopConfig,
    /// The text source.
    #[serde(default)]
    pub generator: GeneratorConfig,
    /// The math format (task = "math").
    #[serde(default)]
    pub math: MathFormat,
    /// The NLI format (task = "nli").
    #[serde(default)]
    pub nli: NliFormat,
    /// The equal-size comparison of the arms.
    #[serde(default)]
    pub compare: CompareConfig,
}

/// `[synth.compare]`: what the equal-size comparison trains besides its metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareConfig {
    /// Sizes N at which a student is trained on each arm's first N kept examples and on a
    /// seeded N-sample of the starting pool, and scored like a sweep's runs
    /// ([`crate::equal_size`]); an arm that kept fewer than N has no student at N. Empty: no
    /// students.
    #[serde(default)]
    pub students: Vec<usize>,
    /// How many seeded N-samples of the starting pool are trained at each N (default 1). A
    /// student on N examples moves with which N it gets; with several draws the comparison
    /// gives the pool's spread at each N and where each arm falls in it
    /// ([`crate::equal_size::pool_band_markdown`]), so one arm's student is not read against
    /// one lucky or unlucky draw.
    #[serde(default = "one")]
    pub pool_draws: usize,
}

fn one() -> usize {
    1
}

impl Default for CompareConfig {
    fn default() -> Self {
        Self {
            students: Vec::new(),
            pool_draws: one(),
        }
    }
}

fn default_arms() -> Vec<Selection> {
    vec![Selection::Sparse, Selection::All]
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            arms: default_arms(),
            pool_size: 0,
            rounds: LoopConfig::default(),
            generator: GeneratorConfig::default(),
            math: MathFormat::default(),
            nli: NliFormat::default(),
            compare: CompareConfig::default(),
        }
    }
}

impl SynthConfig {
    /// The experiment's `[synth]` section, read strictly (an unknown key is an error naming
    /// it).
    pub fn from_session(session: &Session) -> Result<Self> {
        let value = &session.config.value.synth;
        if value.is_null() {
            return Ok(Self::default());
        }
        let cfg: SynthConfig = serde_json::from_value(value.clone()).with_context(|| {
            format!(
                "experiment `{}`, section [synth]",
                session.config.value.name
            )
        })?;
        if cfg.arms.is_empty() {
            bail!("[synth] arms: name at least one of \"sparse\", \"all\"");
        }
        if cfg.compare.pool_draws == 0 {
            bail!(
                "[synth.compare] pool_draws = 0: give at least 1 (the pool's reference students)"
            );
        }
        Ok(cfg)
    }

    /// The arm's loop settings.
    pub fn loop_for(&self, arm: Selection) -> LoopConfig {
        // The naive arm shows the whole pool whatever `seeds_from` says, so its fingerprint
        // does not carry the key.
        let seeds_from = match arm {
            Selection::Sparse => self.rounds.seeds_from,
            Selection::All => SeedSource::Pool,
        };
        LoopConfig {
            selection: arm,
            seeds_from,
            ..self.rounds.clone()
        }
    }
}

/// The folder name of an arm.
pub fn arm_name(arm: Selection) -> &'static str {
    match arm {
        Selection::Sparse => "prismatic",
        Selection::All => "naive",
    }
}

/// The generator `[synth.generator]` names.
pub fn make_generator(session: &Session, cfg: &GeneratorConfig) -> Result<Box<dyn Generator>> {
    Ok(match cfg.kind {
        GeneratorKind::Local => {
            let local = &cfg.local;
            let backend = Backend::from_str(&local.backend)?;
            let lm = LanguageModel::load(&local.model, &session.cache().model(""), backend)
                .with_context(|| format!("[synth.generator.local] model `{}`", local.model))?;
            Box::new(crate::local_decoder::LocalDecoder::new(lm, local.batch))
        }
        GeneratorKind::Openai => {
            let Some(c) = &cfg.openai else {
                bail!(
                    "[synth.generator] kind = \"openai\" needs a [synth.generator.openai] table \
                     with at least base_url and model"
                );
            };
            Box::new(OpenAiClient::new(c.clone())?)
        }
    })
}

/// Gradient features from the experiment's feature store: every example featurised once
/// (by content), unit rows.
pub struct StoreFeaturizer<'a> {
    session: &'a Session,
}

impl<'a> StoreFeaturizer<'a> {
    /// Features of the experiment's proxy (`[gvendi]`), in its store.
    pub fn new(session: &'a Session) -> Self {
        Self { session }
    }
}

impl Featurize for StoreFeaturizer<'_> {
    fn features(&mut self, examples: &[&SynthExample]) -> Result<Features> {
        let cfg = &self.session.config.value;
        if examples.is_empty() {
            return Ok(Features::new(Vec::new(), 0, cfg.gvendi.dim));
        }
        let examples: Vec<GradientExample> = examples
            .iter()
            .map(|e| GradientExample {
                id: e.id.clone(),
                prompt: e.prompt.clone(),
                completion: e.completion.clone(),
            })
            .collect();
        let bar = prism_core::progress::bar(0, "gradients");
        let featurised = featurize(
            self.session,
            &cfg.gvendi,
            &examples,
            &self.session.cache().root().join("features"),
            &mut prism_core::progress::counter(&bar),
        )?;
        bar.finish_and_clear();
        let hashes: Vec<String> = examples.iter().map(|e| e.content_hash()).collect();
        let (mut features, _) = featurised.store.load(&hashes)?;
        features.l2_normalize();
        Ok(features)
    }
}

/// The starting pool of the experiment's task and every evaluation text (ID test and
/// benchmarks) the candidates are decontaminated against.
pub struct StartingPool {
    /// The pool, as the loop sees it.
    pub examples: Vec<SynthExample>,
    /// Every evaluation text, whole sets.
    pub eval_texts: Vec<String>,
}

/// The starting pool: a seeded sample of `pool_size` of the data pool's `examples` (0 = all).
/// A `synth.pool_size` above the data pool's size is an error naming both keys, not a quietly
/// smaller pool.
pub fn starting_sample<T>(examples: Vec<T>, pool_size: usize, seed: u64) -> Result<Vec<T>> {
    if pool_size > examples.len() {
        bail!(
            "synth.pool_size = {pool_size} exceeds the {} examples of the data pool; raise \
             data.pool_size (or set synth.pool_size = 0 for all of them)",
            examples.len()
        );
    }
    Ok(seeded_sample(examples, pool_size, seed))
}

/// The math pool (`data.pool`, sampled) and the math evaluation questions.
pub fn math_start(session: &Session, pool_size: usize) -> Result<StartingPool> {
    let cfg = &session.config.value;
    let pool = starting_sample(math_pool(session)?, pool_size, cfg.data.split_seed)?;
    let examples = pool
        .iter()
        .map(|e| {
            math_example(
                e.id.clone(),
                &e.question,
                &e.solution,
                &e.answer,
                e.difficulty,
                serde_json::json!({ "template": e.group }),
            )
        })
        .collect();
    let mut eval_texts = Vec::new();
    let mut names = vec![crate::math::MATH_ID_TEST.to_string()];
    names.extend(cfg.data.benchmarks.iter().cloned());
    for name in &names {
        math_dataset(name)
            .with_context(|| format!("data.benchmarks: `{name}` is not a math dataset"))?;
        let table = MathTable::read_parquet(&dataset_path(session, name)?)?;
        eval_texts.extend(table.examples.into_iter().map(|e| e.question));
    }
    Ok(StartingPool {
        examples,
        eval_texts,
    })
}

/// What one arm produced.
pub struct ArmOutcome {
    /// The arm.
    pub arm: Selection,
    /// Its folder.
    pub dir: PathBuf,
    /// Its state after the last round.
    pub state: SynthState,
}

/// What a resumed arm must match (its `state.json` holds it): everything that changes what a
/// round does — the task and its own format, the loop's version and settings, the starting
/// pool, the generator and G-Vendi's settings — and not how many rounds are run or how far the
/// pool grows, so a finished run can be extended with more.
pub fn arm_fingerprint(
    task: &str,
    pool: &[SynthExample],
    loop_cfg: &LoopConfig,
    generator: &serde_json::Value,
    cfg: &SynthConfig,
    gvendi: &serde_json::Value,
) -> Result<String> {
    let round_settings = LoopConfig {
        rounds: 0,
        grow_to: 0,
        ..loop_cfg.clone()
    };
    // Only the task's own format: the other task's section does not shape these rounds.
    let format = match task {
        "math" => serde_json::to_value(&cfg.math)?,
        _ => serde_json::to_value(&cfg.nli)?,
    };
    let identity = serde_json::json!({
        "task": task,
        "loop_version": prism_synth::rounds::LOOP_VERSION,
        "pool": pool.iter().map(|e| &e.id).collect::<Vec<_>>(),
        "loop": round_settings,
        "generator": generator,
        "format": format,
        "gvendi": gvendi,
    });
    Ok(prism_core::hash::sha256_hex(identity.to_string().as_bytes())[..16].to_string())
}

/// The folder of the synthesis runs of an experiment.
pub fn synth_dir(session: &Session) -> PathBuf {
    session.results().join("synth")
}

/// Runs every arm of the experiment's `[synth]` (or only `only`), each resumable per round;
/// `on_round` sees each arm's state after every round.
pub fn run_arms(
    session: &Session,
    only: Option<Selection>,
    on_round: &mut dyn FnMut(Selection, &std::path::Path, &SynthState),
) -> Result<(StartingPool, Vec<ArmOutcome>)> {
    let cfg = SynthConfig::from_session(session)?;
    let task = session.config.value.task.as_str();
    let start = match task {
        "math" => math_start(session, cfg.pool_size)?,
        "nli" => nli_start(session, cfg.pool_size)?,
        other => bail!("task = `{other}`: synthesis knows math and nli"),
    };
    eprintln!(
        "synthesis: {} pool examples, {} evaluation texts to decontaminate against",
        start.examples.len(),
        start.eval_texts.len()
    );
    let generator = prism_synth::reply_cache::CachedGenerator::new(
        make_generator(session, &cfg.generator)?,
        synth_dir(session).join("replies"),
    );
    let mut featurizer = StoreFeaturizer::new(session);
    let gvendi = serde_json::to_value(&session.config.value.gvendi)?;
    let mut outcomes = Vec::new();
    for &arm in &cfg.arms {
        if only.is_some_and(|o| o != arm) {
            continue;
        }
        let loop_cfg = cfg.loop_for(arm);
        let dir = synth_dir(session).join(arm_name(arm));
        let fingerprint = arm_fingerprint(
            task,
            &start.examples,
            &loop_cfg,
            &generator.settings(),
            &cfg,
            &gvendi,
        )?;
        let run = SynthRun {
            pool: &start.examples,
            eval_texts: &start.eval_texts,
            dir: &dir,
            name: arm_name(arm),
            fingerprint,
        };
        let mut report = |s: &SynthState| on_round(arm, &dir, s);
        let state = match task {
            "math" => run.run(
                &loop_cfg,
                &cfg.math,
                &generator,
                &mut featurizer,
                &mut report,
            ),
            _ => {
                let layout = nli_layout(session);
                let nli = NliSynth {
                    format: cfg.nli.clone(),
                    layout: &layout,
                };
                run.run(&loop_cfg, &nli, &generator, &mut featurizer, &mut report)
            }
        }
        .with_context(|| format!("synthesis arm `{}`", arm_name(arm)))?;
        outcomes.push(ArmOutcome { arm, dir, state });
    }
    Ok((start, outcomes))
}

/// The experiment's G-Vendi layout of an NLI triple (`gvendi.format`).
fn nli_layout(session: &Session) -> impl Fn(&NliTriple) -> (String, String) + Sync + use<> {
    let gvendi = session.config.value.gvendi.clone();
    move |t: &NliTriple| {
        gvendi
            .example(&t.premise, &t.hypothesis, &t.label)
            .unwrap_or_else(|_| (gvendi.prompt(&t.premise, &t.hypothesis), t.label.clone()))
    }
}

/// The NLI pool (`data.pool`, sampled as the sweeps do, then to `pool_size`) and every NLI
/// evaluation text (ID test and benchmarks).
pub fn nli_start(session: &Session, pool_size: usize) -> Result<StartingPool> {
    let cfg = &session.config.value;
    let pool = starting_sample(
        prism_data::pool_table(session)?.table.examples,
        pool_size,
        cfg.data.split_seed,
    )?;
    let layout = nli_layout(session);
    let examples = pool
        .iter()
        .map(|e| {
            nli_example(
                e.id.clone(),
                &NliTriple {
                    premise: e.premise.clone(),
                    hypothesis: e.hypothesis.clone(),
                    label: e.label.clone(),
                },
                &layout,
                serde_json::json!({ "page": e.group }),
            )
        })
        .collect();
    let mut eval_texts = Vec::new();
    let mut names = vec![prism_data::catalog::id_test().to_string()];
    names.extend(cfg.data.benchmarks.iter().cloned());
    for name in &names {
        let table = prism_data::dataset_table(session, name)?.table;
        eval_texts.extend(
            table
                .examples
                .iter()
                .map(|e| format!("{} {}", e.premise, e.hypothesis)),
        );
    }
    Ok(StartingPool {
        examples,
        eval_texts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_starting_pool_larger_than_the_data_pool_is_an_error_naming_both_keys() {
        let err = starting_sample(vec![1, 2, 3], 4, 0)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("synth.pool_size = 4") && err.contains("data.pool_size"),
            "{err}"
        );
        assert_eq!(starting_sample(vec![1, 2, 3], 3, 0).unwrap(), vec![1, 2, 3]);
        assert_eq!(starting_sample(vec![1, 2, 3], 0, 0).unwrap(), vec![1, 2, 3]);
        assert_eq!(starting_sample(vec![1, 2, 3], 2, 0).unwrap().len(), 2);
    }

    #[test]
    fn the_synth_section_is_read_strictly() {
        let session = Session::load(Some("synth-math"), &[]).unwrap();
        let cfg = SynthConfig::from_session(&session).unwrap();
        assert_eq!(cfg.arms, [Selection::Sparse, Selection::All]);
        assert_eq!(cfg.loop_for(Selection::All).selection, Selection::All);
        assert_eq!(cfg.rounds.clusters.fraction, 0.05);
        assert_eq!(cfg.generator.kind, GeneratorKind::Local);
        assert_eq!(cfg.generator.local.batch, 16);

        let server = Session::load(
            Some("synth-math"),
            &[
                "synth.generator.kind=openai".into(),
                "synth.generator.openai={ base_url = \"http://127.0.0.1:1/v1\", model = \"m\", concurrency = 2 }".into(),
            ],
        )
        .unwrap();
        let generator = SynthConfig::from_session(&server).unwrap().generator;
        assert_eq!(generator.kind, GeneratorKind::Openai);
        let openai = generator.openai.unwrap();
        assert_eq!((openai.concurrency, openai.model.as_str()), (2, "m"));
        let missing =
            Session::load(Some("synth-math"), &["synth.generator.kind=openai".into()]).unwrap();
        let cfg = SynthConfig::from_session(&missing).unwrap();
        let err = make_generator(&missing, &cfg.generator).err().unwrap();
        assert!(
            err.to_string().contains("[synth.generator.openai]"),
            "{err}"
        );

        let typo = Session::load(Some("synth-math"), &["synth.loop.roundz=2".into()]).unwrap();
        let err = format!("{:#}", SynthConfig::from_session(&typo).unwrap_err());
        assert!(err.contains("[synth]") && err.contains("roundz"), "{err}");
        let none = Session::load(Some("synth-math"), &["synth.arms=[]".into()]).unwrap();
        assert!(SynthConfig::from_session(&none).is_err());
        assert_eq!(cfg.compare.pool_draws, 5);
        assert_eq!(CompareConfig::default().pool_draws, 1);
        let draws = |v: &str| {
            let s = Session::load(
                Some("synth-math"),
                &[format!("synth.compare.pool_draws={v}")],
            )
            .unwrap();
            SynthConfig::from_session(&s).map(|c| c.compare.pool_draws)
        };
        assert_eq!(draws("5").unwrap(), 5);
        let err = draws("0").unwrap_err().to_string();
        assert!(err.contains("pool_draws"), "{err}");
    }

    #[test]
    fn an_arm_fingerprint_holds_what_shapes_its_rounds_and_only_that() {
        let pool = vec![SynthExample {
            id: "p0".into(),
            prompt: "q".into(),
            completion: "a".into(),
            text: "q".into(),
            fields: serde_json::json!({}),
            round: 0,
            cluster: None,
        }];
        let cfg = SynthConfig::default();
        let generator = serde_json::json!({"kind": "local"});
        let gvendi = serde_json::json!({"d": 1024});
        let print = |task: &str, cfg: &SynthConfig, loop_cfg: &LoopConfig| {
            arm_fingerprint(task, &pool, loop_cfg, &generator, cfg, &gvendi).unwrap()
        };
        let loop_cfg = cfg.loop_for(Selection::Sparse);
        let base = |task| print(task, &cfg, &loop_cfg);
        assert_ne!(base("math"), base("nli"));

        let mut other_nli = cfg.clone();
        other_nli.nli.labelings += 2;
        assert_eq!(print("math", &other_nli, &loop_cfg), base("math"));
        assert_ne!(print("nli", &other_nli, &loop_cfg), base("nli"));
        let mut other_math = cfg.clone();
        other_math.math.solutions += 2;
        assert_ne!(print("math", &other_math, &loop_cfg), base("math"));
        assert_eq!(print("nli", &other_math, &loop_cfg), base("nli"));

        let longer = LoopConfig {
            rounds: loop_cfg.rounds + 5,
            grow_to: 100,
            ..loop_cfg.clone()
        };
        assert_eq!(
            print("math", &cfg, &longer),
            base("math"),
            "a run can be extended"
        );
        let naive = cfg.loop_for(Selection::All);
        assert_ne!(print("math", &cfg, &naive), base("math"));
    }
}
