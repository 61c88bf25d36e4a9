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
    let mut data = vec![0f32; pool.len() * LEXICAL_DIM];
    for (i, ex) in pool.examples.iter().enumerate() {
        let row = &mut data[i * LEXICAL_DIM..(i + 1) * LEXICAL_DIM];
        let tokens: Vec<String> = format!("{} {}", ex.premise, ex.hypothesis)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
            .collect();
        let mut add = |key: &str| {
            let h = fnv1a(key.as_bytes());
            let sign = if h >> 63 == 1 { -1.0 } else { 1.0 };
            row[(h % LEXICAL_DIM as u64) as usize] += sign;
        };
        for t in &tokens {
            add(t);
        }
        for w in tokens.windows(2) {
            add(&format!("{} {}", w[0], w[1]));
        }
    }
    let mut f = Features::new(data, pool.len(), LEXICAL_DIM);
    f.l2_normalize();
    f
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
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
