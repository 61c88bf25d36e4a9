//! The pretrained embedders the baseline metrics read, found in the cache by the names
//! `prism data fetch` gives them: MiniLM sentence embeddings of (premise, hypothesis) pairs and
//! wordllama static vectors. A metric that needs one the cache lacks is either skipped
//! (`optional`) or an error saying how to fetch it.

use crate::{Backend, ModelError, SentenceEncoder, StaticEmbedder};
use prism_core::cache::Cache;
use prism_vendi::Features;
use std::path::PathBuf;

/// Folder of the wordllama table and tokenizer in the cache.
pub const WORDLLAMA: &str = "wordllama-l2-supercat-256";

/// Folder of the MiniLM sentence encoder in the cache.
pub const MINILM: &str = "all-minilm-l6-v2";

/// `dir` when it holds every file in `files`; otherwise `None` if `optional`, else an error
/// naming what needs it, where it was looked for and `instead` (another way to give it).
fn cached_model(
    dir: PathBuf,
    files: &[&str],
    optional: bool,
    need: &str,
    instead: &str,
) -> Result<Option<PathBuf>, ModelError> {
    if files.iter().all(|f| dir.join(f).is_file()) {
        return Ok(Some(dir));
    }
    if optional {
        return Ok(None);
    }
    Err(ModelError::NotInCache {
        need: need.into(),
        dir,
        instead: instead.into(),
    })
}

/// Mean-pooled wordllama vectors of `texts`. When the model is not in the cache: `None` if
/// `optional` (the metric is skipped), else an error saying how to get it.
pub fn static_embeddings(
    cache: &Cache,
    texts: &[String],
    optional: bool,
) -> Result<Option<Features>, ModelError> {
    let (weights, tokenizer) = (
        "l2_supercat_256.safetensors",
        "l2_supercat_tokenizer_config.json",
    );
    let Some(dir) = cached_model(
        cache.model(WORDLLAMA),
        &[weights, tokenizer],
        optional,
        "the static embeddings need wordllama",
        "",
    )?
    else {
        return Ok(None);
    };
    let (weights, tokenizer) = (dir.join(weights), dir.join(tokenizer));
    let embedder =
        StaticEmbedder::load(&weights, "embedding.weight", &tokenizer).map_err(Box::new)?;
    Ok(Some(embedder.embed(texts).map_err(Box::new)?))
}

/// MiniLM sentence embeddings (mean-pooled, L2-normalised) of each (premise, hypothesis) pair,
/// encoded jointly, computed in-process. When the model is not in the cache: `None` if
/// `optional`, else an error saying how to get it (or to pass `--embeddings`).
pub fn minilm_embeddings(
    cache: &Cache,
    pairs: &[(&str, &str)],
    optional: bool,
) -> Result<Option<Features>, ModelError> {
    let Some(dir) = cached_model(
        cache.model(MINILM),
        &["model.safetensors"],
        optional,
        "the embedding metrics need MiniLM",
        " or --embeddings X.npy",
    )?
    else {
        return Ok(None);
    };
    let encoder = SentenceEncoder::load(&dir, Backend::Flex, 128)?;
    Ok(Some(encoder.embed_pairs(pairs)?))
}
