//! Diversity metrics: one trait ([`DiversityMetric`]), one registry ([`registry`]), one file
//! per metric under `metrics/`.
//!
//! A metric sees a [`MetricInput`]: the texts and labels of a data set, and, when it needs
//! them, feature matrices (sentence embeddings, gradient features) with one row per example.
//! Adding a metric is one new file in `metrics/` and one line in [`registry`]; see
//! `docs/adding-a-metric.md`.

pub mod metrics;

use prism_vendi::Features;
use serde::Serialize;

/// What kind of signal a metric reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Surface n-grams and compression.
    Lexical,
    /// Sentence-embedding geometry.
    Embedding,
    /// Gradient features of a proxy model (G-Vendi).
    Gradient,
    /// The label distribution.
    Label,
    /// A quality signal, not a diversity measure (e.g. the proxy's mean loss): reported next
    /// to the diversity metrics so that a correlation can be read against data quality.
    Quality,
}

/// An input a metric needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Need {
    /// The example texts.
    Texts,
    /// The labels.
    Labels,
    /// One embedding per example.
    Embeddings,
    /// One static (mean word vector) embedding per example.
    StaticEmbeddings,
    /// One gradient feature vector per example.
    GradientFeatures,
    /// The proxy model's loss on each example (stored with the gradient features).
    ProxyLosses,
    /// Embeddings of a reference set (the experiment's pool), in the same space as
    /// `Embeddings`: what a metric measures density against (NovelSum).
    ReferenceEmbeddings,
    /// One skill label per example, assigned by an annotator model.
    Skills,
}

/// How to read a metric's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// A larger value means a more diverse data set.
    HigherIsMoreDiverse,
    /// A smaller value means a more diverse data set (e.g. compression ratio).
    LowerIsMoreDiverse,
    /// Not a diversity measure (family `quality`): no direction of diversity to read.
    NotDiversity,
}

/// What a metric is computed on. Feature matrices, when present, have one row per text.
#[derive(Debug, Clone, Copy)]
pub struct MetricInput<'a> {
    /// One text per example (by default premise + hypothesis + label).
    pub texts: &'a [String],
    /// One label per example.
    pub labels: &'a [String],
    /// Sentence embeddings, if available.
    pub embeddings: Option<&'a Features>,
    /// Static word-vector embeddings (wordllama), if available.
    pub static_embeddings: Option<&'a Features>,
    /// Gradient features, if available.
    pub gradients: Option<&'a Features>,
    /// The proxy's per-example loss, if available.
    pub proxy_losses: Option<&'a [f32]>,
    /// Embeddings of the reference set (one row per reference example, not per text), if
    /// available.
    pub reference_embeddings: Option<&'a Features>,
    /// One skill label per example (from an annotator model), if available.
    pub skills: Option<&'a [String]>,
    /// Seed for metrics that sample or cluster.
    pub seed: u64,
}

/// Why a metric cannot be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricError {
    /// An input the metric needs is missing.
    #[error("metric `{metric}` needs {need:?}, which this input does not provide")]
    MissingInput {
        /// The metric.
        metric: &'static str,
        /// What is missing.
        need: Need,
    },
    /// Too few examples for the metric to be defined.
    #[error("metric `{metric}` needs at least {min} examples, got {n}")]
    TooFew {
        /// The metric.
        metric: &'static str,
        /// Minimum.
        min: usize,
        /// Given.
        n: usize,
    },
    /// The underlying computation failed.
    #[error("metric `{metric}`: {message}")]
    Failed {
        /// The metric.
        metric: &'static str,
        /// Why.
        message: String,
    },
}

/// What a metric is: its identity and how to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MetricInfo {
    /// Unique name, used on the command line and in reports (`distinct-2`).
    pub name: &'static str,
    /// One line saying what it measures.
    pub description: &'static str,
    /// What kind of signal it reads.
    pub family: Family,
    /// The inputs it needs.
    pub needs: &'static [Need],
    /// How to read its value.
    pub direction: Direction,
}

/// A diversity metric of a data set.
pub trait DiversityMetric: Send + Sync {
    /// Its identity and how to read it.
    fn info(&self) -> MetricInfo;
    /// The value on `input`.
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError>;

    /// Shorthand for `info().name`.
    fn name(&self) -> &'static str {
        self.info().name
    }
    /// Shorthand for `info().description`.
    fn description(&self) -> &'static str {
        self.info().description
    }
    /// Shorthand for `info().family`.
    fn family(&self) -> Family {
        self.info().family
    }
    /// Shorthand for `info().needs`.
    fn needs(&self) -> &'static [Need] {
        self.info().needs
    }
    /// Shorthand for `info().direction`.
    fn direction(&self) -> Direction {
        self.info().direction
    }
}

/// Every registered metric, in a stable order. Adding a metric: one line here.
pub fn registry() -> Vec<Box<dyn DiversityMetric>> {
    use metrics::*;
    vec![
        Box::new(distinct_n::DistinctN(1)),
        Box::new(distinct_n::DistinctN(2)),
        Box::new(distinct_n::DistinctN(3)),
        Box::new(ngram_entropy::NgramEntropy(1)),
        Box::new(ngram_entropy::NgramEntropy(2)),
        Box::new(ngram_entropy::NgramEntropy(3)),
        Box::new(ngram_entropy::NgramEntropy(4)),
        Box::new(compression_ratio::CompressionRatio),
        Box::new(self_bleu::SelfBleu::default()),
        Box::new(ngram_diversity::NgramDiversity),
        Box::new(self_repetition::SelfRepetition),
        Box::new(homogenization::Homogenization),
        Box::new(lexical_richness::LexicalRichness::MTLD),
        Box::new(lexical_richness::LexicalRichness::HDD),
        Box::new(lexical_richness::LexicalRichness::MATTR),
        Box::new(ngram_vendi::NgramVendi),
        Box::new(label_entropy::LabelEntropy),
        Box::new(skill_entropy::SkillEntropy),
        Box::new(embedding_vendi::EmbeddingVendi::Q1),
        Box::new(embedding_vendi::EmbeddingVendi::Q2),
        Box::new(embedding_vendi::EmbeddingVendi::QINF),
        Box::new(static_vendi::StaticEmbeddingVendi),
        Box::new(pairwise_distance::MeanPairwiseDistance),
        Box::new(remote_clique::RemoteClique),
        Box::new(chamfer::Chamfer),
        Box::new(kmeans::ClusterEntropy),
        Box::new(kmeans::ClusterInertia),
        Box::new(logdet::LogDet),
        Box::new(dcscore::DcScore::default()),
        Box::new(novelsum::NovelSum::default()),
        Box::new(gvendi::GVendi),
        Box::new(proxy_loss::ProxyMeanLoss),
    ]
}

/// Looks a metric up by name.
pub fn find(name: &str) -> Option<Box<dyn DiversityMetric>> {
    registry().into_iter().find(|m| m.name() == name)
}

/// The feature matrix `need` names, or the error saying it is missing.
pub(crate) fn require<'a>(
    input: &MetricInput<'a>,
    metric: &'static str,
    need: Need,
) -> Result<&'a Features, MetricError> {
    let f = match need {
        Need::Embeddings => input.embeddings,
        Need::StaticEmbeddings => input.static_embeddings,
        Need::GradientFeatures => input.gradients,
        Need::ReferenceEmbeddings => input.reference_embeddings,
        _ => None,
    };
    f.ok_or(MetricError::MissingInput { metric, need })
}

/// The per-example values `need` names (proxy losses, skill labels), or the error saying they
/// are missing: [`require`] for inputs that are not matrices.
pub(crate) fn require_values<'a, T>(
    values: Option<&'a [T]>,
    metric: &'static str,
    need: Need,
) -> Result<&'a [T], MetricError> {
    values.ok_or(MetricError::MissingInput { metric, need })
}

/// Like [`require`], and the matrix must have at least `min` rows.
pub(crate) fn require_rows<'a>(
    input: &MetricInput<'a>,
    metric: &'static str,
    need: Need,
    min: usize,
) -> Result<&'a Features, MetricError> {
    let f = require(input, metric, need)?;
    if f.n() < min {
        return Err(MetricError::TooFew {
            metric,
            min,
            n: f.n(),
        });
    }
    Ok(f)
}
