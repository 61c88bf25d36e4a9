//! The experiment schema: every key an experiment file may set.
//!
//! Sections are added as pipeline stages land; each struct denies unknown fields so that a typo
//! is an error, not a silently ignored setting.

use serde::{Deserialize, Serialize};

/// A whole experiment, as resolved from all config layers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Experiment name; names its results folder `results/<name>/`.
    pub name: String,
    /// Free text shown in reports.
    #[serde(default)]
    pub description: String,
    /// The task every run performs (a name `prism-tasks` registers, e.g. `nli`): what the
    /// examples are, what the student learns and what it is scored on.
    #[serde(default = "default_task")]
    pub task: String,
    /// Where things live.
    pub paths: PathsConfig,
    /// Which data, and how the pool is split.
    pub data: DataConfig,
    /// The subsets to build from the pool.
    pub subsets: SubsetsConfig,
    /// The student model fine-tuned on each subset, and where it runs.
    #[serde(default)]
    pub student: StudentConfig,
    /// How each student is fine-tuned.
    #[serde(default)]
    pub train: TrainConfig,
    /// G-Vendi: the proxy LM, how (prompt, completion) pairs are formed, and the projection.
    #[serde(default)]
    pub gvendi: GvendiConfig,
    /// How a sweep runs: evaluation sample, metrics, workers, retries.
    #[serde(default)]
    pub sweep: SweepConfig,
    /// What the report correlates with: the declared OOD aggregate. Not part of any run's
    /// identity (it changes no run's numbers, only how the report combines them).
    #[serde(default)]
    pub report: ReportConfig,
    /// The skill labels `skill-entropy` reads, and the model that assigns them.
    #[serde(default)]
    pub skills: SkillsConfig,
    /// Prismatic Synthesis (`prism synth`): the loop, the generator and the task format. Kept
    /// as a value here and read by `prism_tasks::synth` with its own strict schema (the types
    /// live in `prism-synth`, above this crate). Not part of any sweep run's identity.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub synth: serde_json::Value,
}

/// The paper's "skill-set entropy" baseline: an annotator model assigns each example one skill
/// from a fixed list, and the metric is the entropy of those labels. Part of a run's identity
/// only when it differs from the default (so the ids of earlier sweeps stay).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SkillsConfig {
    /// The skills an example can be labelled with, in the order the prompt lists them.
    pub list: Vec<String>,
    /// The annotator: a causal LM in the cache, a `.gguf` file or a HF folder. It picks, at
    /// temperature 0, the listed skill it finds most likely as its reply.
    pub annotator: String,
    /// Backend of the annotator: flex, tch, cuda or auto.
    pub backend: String,
}

impl Default for SkillsConfig {
    fn default() -> Self {
        Self {
            list: [
                "numbers",
                "dates and time",
                "negation",
                "comparison",
                "cause and effect",
                "people and places",
                "lexical overlap",
                "world knowledge",
            ]
            .map(String::from)
            .to_vec(),
            annotator: "smollm2-135m-instruct".into(),
            backend: "flex".into(),
        }
    }
}

fn default_task() -> String {
    "nli".into()
}

/// The report's declared analysis: fixed in the experiment file before any ρ is seen, so the
/// OOD aggregate cannot be chosen afterwards to suit a metric.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// The OOD benchmarks whose unweighted mean accuracy is `ood_mean`, the quantity every
    /// metric is correlated with (each benchmark is also reported alone). Empty (the default) =
    /// every benchmark of `data.benchmarks`.
    pub ood: Vec<String>,
}

/// Settings of `prism sweep` that shape runs (`eval_limit`, `metrics`) or only how they are
/// executed (`workers`, `max_attempts`, `stale_seconds`: not part of a run's identity).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SweepConfig {
    /// Examples per evaluation set (a sample seeded by `data.split_seed`, the same in every
    /// run); 0 = all.
    pub eval_limit: usize,
    /// Metrics computed on every subset (names from `prism metric list`); empty = all.
    pub metrics: Vec<String>,
    /// Whether runs fine-tune and evaluate a student (false: a metrics-only sweep).
    pub train: bool,
    /// Training seeds per subset: each subset's student is trained once per seed (one run
    /// each, `train.seed` replaced), and the report averages their accuracies per subset
    /// before it correlates, because a student's seed can move its OOD accuracy as much as
    /// its subset does (docs/findings.md). Empty (the default) = one run at
    /// `train.seed`; left out of the serialised config then.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub train_seeds: Vec<u64>,
    /// Runs executed at once (0 = one per 8 cores, at least 1).
    pub workers: usize,
    /// Attempts per run before it is recorded as failed (transient errors only are retried).
    pub max_attempts: usize,
    /// A running run whose heartbeat is older than this is reported as stale by `prism status`.
    pub stale_seconds: u64,
}

impl Default for SweepConfig {
    fn default() -> Self {
        Self {
            eval_limit: 0,
            metrics: Vec::new(),
            train: true,
            train_seeds: Vec::new(),
            workers: 0,
            max_attempts: 2,
            stale_seconds: 300,
        }
    }
}

/// How per-example gradient features are computed (method.md §1).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GvendiConfig {
    /// The proxy causal LM: a model in the cache, a `.gguf` file or a HF folder.
    pub proxy: String,
    /// `factored` (fast, default), `dense` (paper-exact) or `exact` (n × n kernel, small n).
    pub mode: String,
    /// Projected dimension d.
    pub dim: usize,
    /// Seed of the projection.
    pub seed: u64,
    /// Per-layer side k of the factored projection (k × k values per weight matrix). 32 by
    /// default: at 16 the per-block projection was the dominant noise (G-Vendi's ranking of 20
    /// subsets moved as much between two projection seeds as between factored and dense).
    pub factor_dim: usize,
    /// Examples per forward+backward in factored mode; gradients per projection block in
    /// dense mode. At 1 an example's feature is a function of that example alone, and its
    /// store is kept apart from batched ones. In larger batches (8 by default: 1.7× faster on
    /// NLI pairs, 1.1× on worked solutions) a feature's last bits depend on which examples
    /// share its batch (the backward pass; about 1e-7 relative in G-Vendi), so a store warmed
    /// by another experiment can move G-Vendi in the seventh digit (docs/performance.md,
    /// "Batch-independent features").
    pub batch_size: usize,
    /// Padded tokens (examples × the longest one's tokens) per forward+backward; a batch of
    /// long examples is cut shorter so memory stays flat (eight of VitaminC's longest pairs at
    /// batch 8 took 16.8 GB). In dense mode, where each backward runs alone, it only shortens
    /// the projection blocks of long examples. 0 = no bound.
    pub max_batch_tokens: usize,
    /// Examples per store shard (the unit of resumption).
    pub shard_size: usize,
    /// Batches featurised at once, each on its own thread (1: one at a time). One batch keeps
    /// the 2 cores of a small machine only about 1.3 busy. A batch's features do not depend
    /// on what runs beside it and shards are committed in order, so this changes wall time
    /// and memory, never the stored bits; it is never serialised, so no identity holds it.
    #[serde(skip_serializing)]
    pub workers: usize,
    /// What the proxy's loss is taken on: `hypothesis` (the default: the prompt holds the
    /// premise and the label as an instruction, the completion is the hypothesis, so the
    /// gradient sees content) or `label` (the paper's: the prompt holds the pair, the
    /// completion is the label word). Left out of the serialised config at `label`, so the
    /// label-format run ids from before the option existed stay valid.
    #[serde(skip_serializing_if = "GvendiFormat::is_label")]
    pub format: GvendiFormat,
    /// The user turn for an NLI pair in the `label` format; `{premise}` and `{hypothesis}`
    /// are replaced.
    pub prompt_template: String,
    /// The user turn in the `hypothesis` format; `{premise}` and `{relation}` are replaced,
    /// the relation from the label ([`GvendiConfig::relation`]).
    #[serde(skip_serializing_if = "is_default_hypothesis_template")]
    pub hypothesis_template: String,
    /// Where this backend runs: flex, tch, cuda or auto.
    pub backend: String,
    /// Share of the pool whose gradient features a sweep computes (0 < sample ≤ 1; 1, the
    /// default, is every example a subset holds). Below 1, a seeded, order-free draw of the
    /// pool's examples (each kept with this probability, [`GvendiConfig::samples`]) is
    /// featurised, and each subset's gradient metrics read a fixed number of its members in
    /// the draw ([`GvendiConfig::draw_size`], those of smallest [`GvendiConfig::draw_key`]):
    /// a uniform sample of the subset, independent of how the subset was built. The
    /// featurisation is the cost of a large pool on a CPU (about 0.5 s per NLI pair on 2
    /// cores), so a 24,000-pair pool at 0.25 costs a quarter. Left out of the serialised
    /// config at 1, so run ids from before the option existed stay valid.
    #[serde(skip_serializing_if = "is_whole")]
    pub sample: f64,
}

fn is_whole(share: &f64) -> bool {
    *share == 1.0
}

/// How an NLI pair becomes the proxy's (prompt, completion) pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GvendiFormat {
    /// Completion = the label word (the paper's format for classification data). Measured on
    /// 180 VitaminC pairs, the three labels' gradients form three tight clusters that hold 86%
    /// of the spectrum, so G-Vendi mostly counts labels (docs/signal.md).
    Label,
    /// Completion = the hypothesis, written for the premise and the label: the loss falls on
    /// the example's content, as it does on a worked solution in math. The default: on the
    /// same pairs the top three eigenvalues hold 23%, and it separates 4 pages from 60 by 46%
    /// against the label format's 16% (docs/signal.md).
    #[default]
    Hypothesis,
}

impl GvendiFormat {
    /// True for the default (left out of serialised configs).
    pub fn is_label(&self) -> bool {
        *self == GvendiFormat::Label
    }
}

impl std::fmt::Display for GvendiFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GvendiFormat::Label => "label",
            GvendiFormat::Hypothesis => "hypothesis",
        })
    }
}

/// The default user turn of the `hypothesis` format.
pub const HYPOTHESIS_TEMPLATE: &str =
    "Premise: {premise}\nWrite a claim that {relation} the premise.";

fn is_default_hypothesis_template(t: &String) -> bool {
    t == HYPOTHESIS_TEMPLATE
}

/// The default bound on a featurisation batch's padded tokens (see docs/performance.md, "Memory").
pub const MAX_BATCH_TOKENS: usize = 1024;

impl Default for GvendiConfig {
    fn default() -> Self {
        Self {
            proxy: "smollm2-135m-instruct".into(),
            mode: "factored".into(),
            dim: 1024,
            seed: 0,
            factor_dim: 32,
            batch_size: 8,
            max_batch_tokens: MAX_BATCH_TOKENS,
            shard_size: 256,
            workers: 1,
            format: GvendiFormat::Hypothesis,
            prompt_template: "Premise: {premise}\nHypothesis: {hypothesis}\nDoes the premise entail the hypothesis? Answer with one word: entailment, neutral or contradiction.".into(),
            hypothesis_template: HYPOTHESIS_TEMPLATE.into(),
            backend: "flex".into(),
            sample: 1.0,
        }
    }
}

impl GvendiConfig {
    /// Checks modes and sizes; returns the offending key and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |key: &str, msg: String| Err((format!("gvendi.{key}"), msg));
        if !["factored", "dense", "exact"].contains(&self.mode.as_str()) {
            return bad(
                "mode",
                format!(
                    "unknown mode `{}`; expected factored, dense or exact",
                    self.mode
                ),
            );
        }
        for (key, v) in [
            ("dim", self.dim),
            ("factor_dim", self.factor_dim),
            ("batch_size", self.batch_size),
            ("shard_size", self.shard_size),
            ("workers", self.workers),
        ] {
            if v == 0 {
                return bad(key, "must be at least 1".into());
            }
        }
        if !(self.sample > 0.0 && self.sample <= 1.0) {
            return bad(
                "sample",
                format!(
                    "{} is not a share of the pool; expected 0 < sample ≤ 1",
                    self.sample
                ),
            );
        }
        if !self.prompt_template.contains("{premise}")
            || !self.prompt_template.contains("{hypothesis}")
        {
            return bad(
                "prompt_template",
                "must contain {premise} and {hypothesis}".into(),
            );
        }
        if !self.hypothesis_template.contains("{premise}")
            || !self.hypothesis_template.contains("{relation}")
        {
            return bad(
                "hypothesis_template",
                "must contain {premise} and {relation}".into(),
            );
        }
        Ok(())
    }

    /// Whether the pool example `id` is in the featurised draw (`gvendi.sample`): always at
    /// 1; otherwise kept with probability `sample`, from a hash of the projection seed and the
    /// id alone, so the draw does not depend on the pool's order or on any subset, and a
    /// smaller share's draw lies inside a larger one's.
    pub fn samples(&self, id: &str) -> bool {
        !self.is_sampled() || self.draw_key(id) < self.sample
    }

    /// Whether a sweep featurises only a draw of the pool (`sample` < 1).
    pub fn is_sampled(&self) -> bool {
        self.sample < 1.0
    }

    /// The example's place in the draw, uniform in [0, 1): the draw holds the examples whose
    /// key is below `sample`, and a subset's gradient metrics read its members of smallest key
    /// ([`GvendiConfig::draw_size`] of them).
    pub fn draw_key(&self, id: &str) -> f64 {
        let u = crate::hash::keyed_u64(self.seed, &["gvendi-sample", id]);
        (u as f64) / 2f64.powi(64)
    }

    /// How many members of a subset of `n` examples its gradient metrics read under a draw:
    /// the same number for every subset of that size, because a Vendi score grows with the
    /// number of vectors it is taken on (at 8,000 pairs and a quarter, G-Vendi rose by about
    /// 0.07 per member across the 1,997–2,091 members the subsets' draws happened to hold,
    /// docs/signal.md). Three binomial standard deviations below the draw's expected count, so
    /// a subset has that many members in the draw with probability 0.9987; one with fewer uses
    /// all it has, and `gradient_rows` records it. `n` itself when nothing is sampled.
    pub fn draw_size(&self, n: usize) -> usize {
        if !self.is_sampled() {
            return n;
        }
        let expected = n as f64 * self.sample;
        let sd = (expected * (1.0 - self.sample)).sqrt();
        ((expected - 3.0 * sd).floor() as usize).max(1)
    }

    /// The user turn for one NLI pair in the `label` format.
    pub fn prompt(&self, premise: &str, hypothesis: &str) -> String {
        self.prompt_template
            .replace("{premise}", premise)
            .replace("{hypothesis}", hypothesis)
    }

    /// How the hypothesis format words a label as the claim's relation to the premise, or
    /// `None` for a label it does not know.
    pub fn relation(label: &str) -> Option<&'static str> {
        Some(match label {
            "entailment" => "is entailed by",
            "contradiction" => "contradicts",
            "neutral" => "is neither entailed nor contradicted by",
            "non-entailment" => "is not entailed by",
            _ => return None,
        })
    }

    /// The proxy's (prompt, completion) pair for one labelled NLI example in this format; an
    /// unknown label in the hypothesis format is an error naming it.
    pub fn example(
        &self,
        premise: &str,
        hypothesis: &str,
        label: &str,
    ) -> Result<(String, String), String> {
        match self.format {
            GvendiFormat::Label => Ok((self.prompt(premise, hypothesis), label.to_string())),
            GvendiFormat::Hypothesis => {
                let relation = Self::relation(label).ok_or_else(|| {
                    format!(
                        "gvendi.format = \"hypothesis\" has no wording for the label `{label}` \
                         (known: entailment, neutral, contradiction, non-entailment)"
                    )
                })?;
                Ok((
                    self.hypothesis_template
                        .replace("{premise}", premise)
                        .replace("{relation}", relation),
                    hypothesis.to_string(),
                ))
            }
        }
    }
}

/// The student model and its compute backend.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StudentConfig {
    /// A model name in the cache (`all-minilm-l6-v2`) or a folder with a HF BERT checkpoint
    /// (`config.json`, `model.safetensors`, `tokenizer.json`).
    pub model: String,
    /// `flex` (pure-Rust CPU, default), `tch` (libtorch), `cuda`, or `auto` (the fastest
    /// compiled in).
    pub backend: String,
    /// How a pair reaches the encoder: `cross` (default) or `siamese`. Left out of the
    /// serialised config at its default, so the cache keys of cross-encoder runs stay as they
    /// were before the option existed.
    #[serde(skip_serializing_if = "Pairing::is_cross")]
    pub pairing: Pairing,
    /// With `pairing = "aligned"`: the comparator reads the token states after the encoder's
    /// first `align_blocks` blocks (0 = after all of them), and the blocks above never run.
    /// The last block of a sentence-embedding model blurs each token's identity (a number, a
    /// date), which is what an alignment compares (docs/signal.md, 2026-12-04 sixth session:
    /// ID accuracy 0.600-0.663 at 8,000 VitaminC pairs after 1-5 of MiniLM's 6 blocks, 0.525
    /// after all 6).
    #[serde(skip_serializing_if = "is_zero")]
    pub align_blocks: usize,
}

impl Default for StudentConfig {
    fn default() -> Self {
        Self {
            model: "all-minilm-l6-v2".into(),
            backend: "flex".into(),
            pairing: Pairing::Cross,
            align_blocks: 0,
        }
    }
}

/// How the student sees a (premise, hypothesis) pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pairing {
    /// One sequence `[CLS] premise [SEP] hypothesis [SEP]`, mean-pooled, into the head: the
    /// cross-encoder every fine-tuning recipe for BERT-style NLI uses.
    #[default]
    Cross,
    /// Premise and hypothesis encoded separately into u and v; the head reads
    /// `[u, v, |u − v|, u ⊙ v]`, standardised per dimension with the training set's mean and
    /// standard deviation under the pretrained encoder (Sentence-BERT's NLI classifier). A
    /// sentence-embedding model such as all-MiniLM-L6-v2 was pretrained on exactly these
    /// single-text embeddings, so a frozen encoder with this head already transfers to
    /// MNLI, while a frozen cross-encoder does not: the cheap setting for small sweeps.
    /// Train its top blocks with `layers = last-k` and a small `encoder_learning_rate`.
    Siamese,
    /// Premise and hypothesis encoded separately, and a trainable soft-alignment comparator
    /// (decomposable attention, ESIM's comparison features) reads their token states: each
    /// token is compared with its attention-weighted counterpart on the other side, so the
    /// head can see a changed number or date that mean pooling averages away. With
    /// `layers = head-only` the encoder's token states are computed once per pair and only
    /// the comparator and the head train.
    Aligned,
}

impl Pairing {
    /// The name the config file uses.
    pub fn name(&self) -> &'static str {
        match self {
            Pairing::Cross => "cross",
            Pairing::Siamese => "siamese",
            Pairing::Aligned => "aligned",
        }
    }

    /// True for the default (used to leave it out of serialised configs).
    pub fn is_cross(&self) -> bool {
        *self == Pairing::Cross
    }
}

/// Which parameters a fine-tuning run updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum TrainLayers {
    /// Every encoder parameter and the head (the default).
    All,
    /// The last `k` encoder blocks and the head.
    LastK {
        /// How many blocks, counted from the top.
        k: usize,
    },
    /// The head only: a linear probe on frozen features.
    HeadOnly,
}

/// Hyper-parameters of one fine-tuning run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// At least this many example passes (0 = off): a subset of n examples is trained for
    /// ⌈min_example_passes / n⌉ epochs when that exceeds `epochs`, so that the small scales of
    /// a sweep get the optimiser steps the student needs to learn at all (MiniLM needs about
    /// 10,000 on VitaminC; docs/performance.md, Models). The learning-rate schedule spans the actual steps.
    /// Left out of the serialised config at 0, so caches keyed before it existed stay valid.
    #[serde(skip_serializing_if = "is_zero")]
    pub min_example_passes: usize,
    /// Examples per optimiser step.
    pub batch_size: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Peak learning rate of the encoder's trainable blocks when it differs from the head's
    /// `learning_rate` (same schedule): a randomly initialised head on standardised features
    /// needs ~1e-3, pretrained blocks ~1e-5 to 1e-4. Unset (the default) = `learning_rate`;
    /// left out of the serialised config then, so existing run identities stay valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoder_learning_rate: Option<f64>,
    /// Decoupled weight decay (AdamW).
    pub weight_decay: f64,
    /// Fraction of the steps spent warming the learning rate up from 0.
    pub warmup_ratio: f64,
    /// Global gradient-norm clip; `0` turns clipping off.
    pub max_grad_norm: f64,
    /// Tokens per sequence, special tokens included; longer pairs are truncated longest-first.
    pub max_len: usize,
    /// Which parameters train.
    pub layers: TrainLayers,
    /// Seed of the head's initialisation, the shuffle and dropout.
    pub seed: u64,
    /// Examples per forward pass at evaluation.
    pub eval_batch_size: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 1,
            min_example_passes: 0,
            batch_size: 32,
            learning_rate: 5e-5,
            encoder_learning_rate: None,
            weight_decay: 0.01,
            warmup_ratio: 0.1,
            max_grad_norm: 1.0,
            max_len: 128,
            layers: TrainLayers::All,
            seed: 0,
            eval_batch_size: 128,
        }
    }
}

fn is_zero(v: &usize) -> bool {
    *v == 0
}

impl TrainConfig {
    /// Epochs for a training set of `n` examples: `epochs`, raised to
    /// ⌈min_example_passes / n⌉ when that is more.
    pub fn epochs_for(&self, n: usize) -> usize {
        self.epochs.max(self.min_example_passes.div_ceil(n.max(1)))
    }

    /// Checks ranges; returns the offending key (under `train.`) and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |key: &str, msg: &str| Err((format!("train.{key}"), msg.to_string()));
        if self.epochs == 0 {
            return bad("epochs", "must be at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        if self.eval_batch_size == 0 {
            return bad("eval_batch_size", "must be at least 1");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate", "must be a positive number");
        }
        if let Some(rate) = self.encoder_learning_rate
            && !(rate > 0.0 && rate.is_finite())
        {
            return bad("encoder_learning_rate", "must be a positive number");
        }
        if !(0.0..1.0).contains(&self.warmup_ratio) {
            return bad("warmup_ratio", "must be in [0, 1)");
        }
        if self.max_grad_norm.is_nan() || self.max_grad_norm < 0.0 {
            return bad("max_grad_norm", "must be 0 (off) or positive");
        }
        if self.max_len < 8 {
            return bad("max_len", "must be at least 8 tokens");
        }
        Ok(())
    }

    /// The encoder's peak learning rate ([`Self::encoder_learning_rate`], else the head's).
    pub fn encoder_peak_rate(&self) -> f64 {
        self.encoder_learning_rate.unwrap_or(self.learning_rate)
    }

    /// Learning rate at optimiser step `step` (0-based) of `total`: linear warm-up to the
    /// peak, then linear decay to 0 (HF `get_linear_schedule_with_warmup`, shifted by one
    /// step so the first update does not have a zero rate).
    pub fn learning_rate_at(&self, step: usize, total: usize) -> f64 {
        let warmup = ((total as f64) * self.warmup_ratio).round() as usize;
        if step < warmup {
            self.learning_rate * (step + 1) as f64 / warmup as f64
        } else {
            let left = total.saturating_sub(step) as f64;
            self.learning_rate * left / (total - warmup).max(1) as f64
        }
    }
}

/// Filesystem locations.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PathsConfig {
    /// Cache root for packages, data and models (`PRISM_CACHE` overrides it).
    pub cache: String,
    /// Where the downloaded registry packages live, when not in `<cache>/packages`
    /// (`PRISM_PACKAGES` overrides it; empty: inside the cache). One folder outside the clone
    /// lets every checkout and CI run on a machine share the ~600 MiB of packages, as they
    /// share cargo's target folder, and keeps a package a registry no longer serves.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub packages: String,
    /// Root of run outputs.
    pub results: String,
}

/// Data sources and the pool / in-distribution test split.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// The training pool: a dataset name in the cache (`vitaminc`) or a path to a parquet file
    /// with the normalised schema.
    pub pool: String,
    /// Fraction of VitaminC examples whose pages are held out as the in-distribution test.
    pub id_test_fraction: f64,
    /// Seed of the page-level pool / ID-test split, and of the evaluation sample drawn when
    /// `sweep.eval_limit` is set (so it does not move with `train.seed`).
    pub split_seed: u64,
    /// Seed of the regenerated HANS set.
    pub hans_seed: u64,
    /// OOD benchmarks evaluated by later stages (dataset names in the cache).
    pub benchmarks: Vec<String>,
    /// Use a seeded sample of whole pool pages (groups) of about this many examples; 0 = the
    /// whole pool. Bounds featurisation cost on small machines.
    #[serde(default)]
    pub pool_size: usize,
}

/// Subsets controlled for scale and quality.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SubsetsConfig {
    /// How strategies, sizes and seeds combine into runs: `grid` (every combination, the
    /// default) or `zip` (the i-th strategy with the i-th size and i-th seed; a list of one is
    /// repeated).
    #[serde(default)]
    pub matrix: Matrix,
    /// Subset sizes (scales).
    pub sizes: Vec<usize>,
    /// Seeds; each (strategy, size, seed) is one subset.
    pub seeds: Vec<u64>,
    /// Number of length-quantile bins whose proportions every subset matches.
    pub length_bins: usize,
    /// The strategies, each with its parameters.
    pub strategies: Vec<StrategySpec>,
}

impl SubsetsConfig {
    /// The (strategy, size, seed) triples of the matrix, in run order: strategy-major for a
    /// grid, list order for a zip (validated lists: equal lengths, or length 1). The one
    /// definition that `prism subsets` and a sweep's plan both use.
    pub fn combinations(&self) -> Vec<(&StrategySpec, usize, u64)> {
        match self.matrix {
            Matrix::Grid => self
                .strategies
                .iter()
                .flat_map(|spec| {
                    self.sizes.iter().flat_map(move |&size| {
                        self.seeds.iter().map(move |&seed| (spec, size, seed))
                    })
                })
                .collect(),
            Matrix::Zip => {
                let n = self
                    .strategies
                    .len()
                    .max(self.sizes.len())
                    .max(self.seeds.len());
                let at = |len: usize, i: usize| if len == 1 { 0 } else { i };
                (0..n)
                    .map(|i| {
                        (
                            &self.strategies[at(self.strategies.len(), i)],
                            self.sizes[at(self.sizes.len(), i)],
                            self.seeds[at(self.seeds.len(), i)],
                        )
                    })
                    .collect()
            }
        }
    }
}

/// How the lists of a [`SubsetsConfig`] combine into runs.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Matrix {
    /// The Cartesian product strategies × sizes × seeds.
    #[default]
    Grid,
    /// Element-wise: run i takes entry i of each list (lists of length 1 are repeated), for
    /// hand-picked combinations that a grid would multiply out.
    Zip,
}

/// One way of choosing a subset; see `prism_data::subset` for what each does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum StrategySpec {
    /// Uniform within each (label, length-bin) cell.
    Random,
    /// Only `k` of the pool's groups (VitaminC pages, or claims with `by = "claim"`).
    Groups {
        /// How many groups to draw from.
        k: usize,
        /// What a group is.
        #[serde(default)]
        by: GroupKey,
    },
    /// Cluster a feature matrix into `clusters` clusters, keep `take` of them.
    Clusters {
        /// Number of k-means clusters over the pool.
        clusters: usize,
        /// Number of clusters the subset is drawn from.
        take: usize,
        /// The feature matrix.
        #[serde(default)]
        features: FeatureSpec,
    },
    /// Greedy selection that adds, at each step, the example that raises `objective` most:
    /// as spread out as possible (farthest-point traversal by default).
    MaxDiversity {
        /// The feature matrix distances are taken in.
        #[serde(default)]
        features: FeatureSpec,
        /// Size of the stratified random candidate set (at least 3 n; bounds the cost).
        #[serde(default = "default_candidates")]
        candidates: usize,
        /// The diversity measure the greedy pass optimises.
        #[serde(default = "GreedyObjective::min_distance")]
        objective: GreedyObjective,
    },
    /// Greedy selection that adds, at each step, the example that raises `objective` least:
    /// as concentrated as possible (nearest to the running centroid by default).
    MinDiversity {
        /// The feature matrix distances are taken in.
        #[serde(default)]
        features: FeatureSpec,
        /// Size of the stratified random candidate set (at least 3 n; bounds the cost).
        #[serde(default = "default_candidates")]
        candidates: usize,
        /// The diversity measure the greedy pass optimises.
        #[serde(default = "GreedyObjective::mean_distance")]
        objective: GreedyObjective,
    },
    /// NovelSelect (Yang et al., ACL 2025): greedy selection that adds, at each step, the
    /// candidate whose density-weighted, proximity-weighted mean distance to the chosen set is
    /// largest (the selection that maximises NovelSum), within the same size, label and
    /// length controls as every strategy.
    #[serde(rename = "novelselect")]
    NovelSelect {
        /// The feature matrix distances and densities are taken in.
        #[serde(default)]
        features: FeatureSpec,
        /// Size of the stratified random candidate set (at least 3 n; bounds the cost).
        #[serde(default = "default_candidates")]
        candidates: usize,
        /// Neighbours K of the local density (in the whole pool).
        #[serde(default = "default_novel_neighbors")]
        neighbors: usize,
        /// Density power β.
        #[serde(default = "default_density_power")]
        density_power: f64,
        /// Proximity-weight power α.
        #[serde(default = "default_distance_power")]
        distance_power: f64,
    },
    /// A fraction `alpha` from a narrow `k`-group subset, the rest random.
    Mixture {
        /// Fraction of the subset drawn from the narrow part, in [0, 1].
        alpha: f64,
        /// Number of groups of the narrow part.
        k: usize,
        /// What a group is.
        #[serde(default)]
        by: GroupKey,
    },
}

fn default_candidates() -> usize {
    4_000
}

fn default_novel_neighbors() -> usize {
    10
}

fn default_density_power() -> f64 {
    0.5
}

fn default_distance_power() -> f64 {
    1.0
}

/// The diversity measure of a greedy pass, as a candidate's contribution to the chosen set.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum GreedyObjective {
    /// Cosine distance to the nearest chosen example (max → farthest-point traversal).
    MinDistance,
    /// Mean cosine distance to the chosen examples (min → nearest to the running centroid).
    MeanDistance,
}

impl GreedyObjective {
    fn min_distance() -> Self {
        GreedyObjective::MinDistance
    }

    fn mean_distance() -> Self {
        GreedyObjective::MeanDistance
    }

    fn label(self) -> &'static str {
        match self {
            GreedyObjective::MinDistance => "mind",
            GreedyObjective::MeanDistance => "meand",
        }
    }
}

/// What counts as a group of related examples.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum GroupKey {
    /// The `group` column (the Wikipedia page for VitaminC).
    #[default]
    Page,
    /// The hypothesis (VitaminC's contrastive pairs share a claim).
    Claim,
}

/// A feature matrix for clustering and greedy strategies.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureSpec {
    /// Hashed, L2-normalised bag of word uni- and bigrams (no model needed).
    #[default]
    Lexical,
    /// A `.npy` matrix (f32/f64, one row per pool example in table order), e.g. embeddings or
    /// gradient features from later stages.
    Npy(String),
}

impl StrategySpec {
    /// The name of this strategy's subset of size `n` drawn with `seed`:
    /// `<label>-n<n>-s<seed>`, e.g. `groups-k20-page-n400-s0`.
    pub fn subset_name(&self, n: usize, seed: u64) -> String {
        format!("{}-n{n}-s{seed}", self.label())
    }

    /// A short, stable, file-name-safe label, e.g. `groups-k20-page`.
    pub fn label(&self) -> String {
        match self {
            StrategySpec::Random => "random".into(),
            StrategySpec::Groups { k, by } => format!("groups-k{k}-{}", by.label()),
            StrategySpec::Clusters {
                clusters,
                take,
                features,
            } => {
                format!("clusters-{take}of{clusters}-{}", features.label())
            }
            StrategySpec::MaxDiversity {
                features,
                objective,
                ..
            } => greedy_label("maxdiv", features, *objective, GreedyObjective::MinDistance),
            StrategySpec::MinDiversity {
                features,
                objective,
                ..
            } => greedy_label(
                "mindiv",
                features,
                *objective,
                GreedyObjective::MeanDistance,
            ),
            StrategySpec::NovelSelect {
                features,
                neighbors,
                density_power,
                distance_power,
                ..
            } => {
                // The paper's defaults give the short name; other settings are spelled out.
                let defaults = *neighbors == 10 && *density_power == 0.5 && *distance_power == 1.0;
                if defaults {
                    format!("novelselect-{}", features.label())
                } else {
                    format!(
                        "novelselect-k{neighbors}-b{:03}-a{:03}-{}",
                        (density_power * 100.0).round() as i64,
                        (distance_power * 100.0).round() as i64,
                        features.label()
                    )
                }
            }
            StrategySpec::Mixture { alpha, k, by } => {
                format!(
                    "mixture-a{:02}-k{k}-{}",
                    (alpha * 100.0).round() as i64,
                    by.label()
                )
            }
        }
    }
}

/// `maxdiv-lexical`, with the objective appended only when it is not the default, so labels
/// stay short and stable.
fn greedy_label(
    prefix: &str,
    features: &FeatureSpec,
    objective: GreedyObjective,
    default: GreedyObjective,
) -> String {
    if objective == default {
        format!("{prefix}-{}", features.label())
    } else {
        format!("{prefix}-{}-{}", features.label(), objective.label())
    }
}

impl GroupKey {
    fn label(self) -> &'static str {
        match self {
            GroupKey::Page => "page",
            GroupKey::Claim => "claim",
        }
    }
}

impl FeatureSpec {
    fn label(&self) -> String {
        match self {
            FeatureSpec::Lexical => "lexical".into(),
            FeatureSpec::Npy(path) => {
                let stem = std::path::Path::new(path)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "npy".into());
                stem.chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect()
            }
        }
    }
}

/// The embedded copy of `configs/defaults.toml`.
pub const DEFAULTS_TOML: &str = include_str!("../../../../configs/defaults.toml");

impl ExperimentConfig {
    /// The declared OOD aggregate: `report.ood`, or every benchmark when it is empty.
    pub fn ood_aggregate(&self) -> Vec<String> {
        if self.report.ood.is_empty() {
            self.data.benchmarks.clone()
        } else {
            self.report.ood.clone()
        }
    }

    /// The training seeds of each subset's students: `sweep.train_seeds`, or `train.seed`
    /// alone when that list is empty.
    pub fn train_seeds(&self) -> Vec<u64> {
        if self.sweep.train_seeds.is_empty() {
            vec![self.train.seed]
        } else {
            self.sweep.train_seeds.clone()
        }
    }

    /// The training settings of the student with seed `seed`: `train` with its seed replaced.
    pub fn train_with_seed(&self, seed: u64) -> TrainConfig {
        TrainConfig {
            seed,
            ..self.train.clone()
        }
    }

    /// Checks what types cannot: non-empty grids, ranges, and that named files exist
    /// (relative paths are taken from `root`). Returns the offending key and why.
    pub fn validate(&self, root: &std::path::Path) -> Result<(), (String, String)> {
        let bad = |key: &str, msg: String| Err((key.to_string(), msg));
        if self.name.trim().is_empty() || self.name.contains(['/', '\\']) {
            return bad(
                "name",
                format!("`{}` must be a non-empty name without slashes", self.name),
            );
        }
        if !(0.0..0.5).contains(&self.data.id_test_fraction) {
            return bad(
                "data.id_test_fraction",
                format!("{} must be in [0, 0.5)", self.data.id_test_fraction),
            );
        }
        if looks_like_path(&self.data.pool) && !root.join(&self.data.pool).is_file() {
            return bad("data.pool", format!("file `{}` not found", self.data.pool));
        }
        if self.student.align_blocks > 0 && self.student.pairing != Pairing::Aligned {
            return bad(
                "student.align_blocks",
                format!(
                    "{} applies to pairing = \"aligned\" only (this student's pairing is \"{}\")",
                    self.student.align_blocks,
                    self.student.pairing.name()
                ),
            );
        }
        if self.student.pairing == Pairing::Aligned && self.train.layers != TrainLayers::HeadOnly {
            return bad(
                "train.layers",
                "pairing = \"aligned\" trains its comparator on a frozen encoder: set \
                 train.layers = { kind = \"head-only\" }"
                    .into(),
            );
        }
        if self.subsets.sizes.is_empty() {
            return bad(
                "subsets.sizes",
                "the grid is empty: give at least one size".into(),
            );
        }
        if let Some(s) = self.subsets.sizes.iter().find(|s| **s == 0) {
            return bad("subsets.sizes", format!("size {s} must be at least 1"));
        }
        if self.subsets.seeds.is_empty() {
            return bad(
                "subsets.seeds",
                "the grid is empty: give at least one seed".into(),
            );
        }
        if self.subsets.strategies.is_empty() {
            return bad(
                "subsets.strategies",
                "the grid is empty: give at least one strategy".into(),
            );
        }
        if self.subsets.matrix == Matrix::Zip {
            let lens = [
                ("subsets.strategies", self.subsets.strategies.len()),
                ("subsets.sizes", self.subsets.sizes.len()),
                ("subsets.seeds", self.subsets.seeds.len()),
            ];
            let (long_key, longest) = lens
                .iter()
                .max_by_key(|(_, n)| *n)
                .copied()
                .unwrap_or(("", 1));
            if let Some((key, n)) = lens.iter().find(|(_, n)| *n != 1 && *n != longest) {
                return bad(
                    key,
                    format!(
                        "matrix = \"zip\" pairs the lists element-wise: {key} has {n} entries, \
                         {long_key} has {longest} (give {longest}, or 1 to repeat it)"
                    ),
                );
            }
        }
        let mut seeds = self.sweep.train_seeds.clone();
        seeds.sort_unstable();
        if let Some(w) = seeds.windows(2).find(|w| w[0] == w[1]) {
            return bad(
                "sweep.train_seeds",
                format!("seed {} is listed twice (each seed is one student)", w[0]),
            );
        }
        if !self.sweep.train_seeds.is_empty() && !self.sweep.train {
            return bad(
                "sweep.train_seeds",
                "a metrics-only sweep (sweep.train = false) trains no student to seed".into(),
            );
        }
        self.train.validate()?;
        self.gvendi.validate()?;
        if let Some(b) = self
            .report
            .ood
            .iter()
            .find(|b| !self.data.benchmarks.contains(b))
        {
            return bad(
                "report.ood",
                format!(
                    "`{b}` is not one of data.benchmarks ({})",
                    self.data.benchmarks.join(", ")
                ),
            );
        }
        if !["flex", "tch", "libtorch", "cuda", "auto"].contains(&self.student.backend.as_str()) {
            return bad(
                "student.backend",
                format!(
                    "unknown backend `{}`; expected one of: flex, tch, cuda, auto",
                    self.student.backend
                ),
            );
        }
        if self.subsets.length_bins == 0 {
            return bad("subsets.length_bins", "must be at least 1".into());
        }
        for (i, s) in self.subsets.strategies.iter().enumerate() {
            let key = format!("subsets.strategies[{i}]");
            let features = match s {
                StrategySpec::Clusters { features, .. }
                | StrategySpec::MaxDiversity { features, .. }
                | StrategySpec::MinDiversity { features, .. }
                | StrategySpec::NovelSelect { features, .. } => Some(features),
                _ => None,
            };
            if let Some(FeatureSpec::Npy(path)) = features
                && !root.join(path).is_file()
            {
                return bad(
                    &format!("{key}.features"),
                    format!("file `{path}` not found"),
                );
            }
            if let StrategySpec::Mixture { alpha, .. } = s
                && !(0.0..=1.0).contains(alpha)
            {
                return bad(
                    &format!("{key}.alpha"),
                    format!("{alpha} must be in [0, 1]"),
                );
            }
        }
        Ok(())
    }
}

/// Whether a pool value names a file rather than a cached dataset.
pub fn looks_like_path(value: &str) -> bool {
    value.contains('/') || value.ends_with(".parquet")
}
