//! Feature matrices over a pool, for the clustering and greedy strategies.
//!
//! The built-in [`lexical`] features need no model; embedding or gradient features from later
//! stages plug in as `.npy` files with one row per pool example.

use super::Pool;
use prism_core::config::schema::FeatureSpec;
use prism_vendi::Features;
use std::path::Path;

/// Dimension of the hashed lexical features.
pub const LEXICAL_DIM: usize = 256;

/// Hashed bag of lower-cased word unigrams and bigrams of premise + hypothesis, signed
/// feature hashing (Weinberger et al., 2009), L2-normalised.
pub fn lexical(pool: &Pool) -> Features {
    let texts: Vec<String> = pool
        .examples
        .iter()
        .map(|e| format!("{} {}", e.premise, e.hypothesis))
        .collect();
    crate::text::hashed_ngram_features(&texts, &[1, 2], LEXICAL_DIM)
}

/// Loads the features `spec` names for `pool`, L2-normalised.
pub fn load(pool: &Pool, spec: &FeatureSpec) -> Result<Features, String> {
    match spec {
        FeatureSpec::Lexical => Ok(lexical(pool)),
        FeatureSpec::Npy(path) => {
            let mut f = prism_vendi::npy::read_npy(Path::new(path)).map_err(|e| e.to_string())?;
            if f.n() != pool.len() {
                return Err(format!(
                    "`{path}` has {} rows but the deduplicated pool has {} examples (one row per pool example, in table order)",
                    f.n(),
                    pool.len()
                ));
            }
            f.l2_normalize();
            Ok(f)
        }
    }
}
