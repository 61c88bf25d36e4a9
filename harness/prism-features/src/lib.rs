//! Per-example gradient features of a causal-LM proxy, the input of G-Vendi (method.md §1):
//! seeded Rademacher projections (`dense`, paper-exact), Kronecker-factored projections from
//! batched backward passes (`factored`, fast), the exact gradient kernel as a test oracle, and a
//! resumable on-disk store; [`experiment`] fills the store as an experiment's `[gvendi]` asks.

pub mod bench;
pub mod dense;
pub mod error;
pub mod experiment;
pub mod factored;
pub mod featurize;
pub mod pipeline;
pub mod signs;
pub mod store;

pub use dense::DenseProjector;
pub use error::FeatureError;
pub use experiment::{Featurised, featurize, model_fingerprint, store_notes, table_examples};
pub use factored::FactoredProjector;
pub use featurize::{
    DenseFeatures, ExactKernel, ExampleGradient, FactoredFeatures, GradientExample,
    GradientProjection, Mode, exact_kernel, flat_gradient, load_proxy,
};
pub use pipeline::{Batching, FeaturizeSummary, featurize_into_store, plan_batches};
pub use store::{FeatureStore, IndexRow, StoreCheck, StoreMeta, StoredExample};

/// The projection of `mode` for `lm` (exact mode has no projection: use [`exact_kernel`]).
pub fn projection(
    mode: Mode,
    lm: &prism_models::LanguageModel,
    dim: usize,
    factor_dim: usize,
    seed: u64,
) -> Result<Box<dyn GradientProjection>, FeatureError> {
    match mode {
        Mode::Factored => Ok(Box::new(FactoredFeatures::new(lm, factor_dim, dim, seed))),
        Mode::Dense => Ok(Box::new(DenseFeatures::new(dim, seed))),
        Mode::Exact => Err(FeatureError::Invalid(
            "exact mode computes a kernel, not features; use exact_kernel".into(),
        )),
    }
}
